// Run search at scale: 10,000 runs × 20 metrics (plus params and tags) in SQLite and in the local
// Postgres; times the first page of filtered, sorted searches through the tracking store (the
// query the Runs page and `runs list` send). Usage: node bench/run-search.bench.mjs [runs]
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pg from "pg";

const { openDatabase } = await import("../dist/storage/index.js");
const { SqlTrackingStore, newId } = await import("../dist/tracking/index.js");

const RUNS = Number(process.argv[2] ?? 10_000);
const METRICS = 20;
const PG_ADMIN = process.env.RISKOMETER_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const KINDS = ["logreg", "gbdt", "forest", "blend"];

const SEARCHES = [
  {
    name: "metric filter, metric order",
    search: { filter: "metrics.m03 > 0.5", orderBy: ["metrics.m07 DESC"], maxResults: 50 },
  },
  {
    name: "param IN + tag OR metric, metric order",
    search: {
      filter: "params.kind IN ('gbdt', 'forest') AND (tags.stage = 'prod' OR metrics.m01 < 0.2)",
      orderBy: ["metrics.m00 ASC"],
      maxResults: 50,
    },
  },
  {
    name: "status filter, newest first, with total",
    search: { filter: "attributes.status = 'FINISHED'", maxResults: 100, withTotal: true },
  },
];

async function seed(database, experimentId) {
  // Seeded with bulk inserts (the search is what is measured, not the logging path).
  let state = 12345;
  const rand = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const t0 = 1_700_000_000_000;
  const CHUNK = 500;
  await database.db.transaction().execute(async (tx) => {
    for (let start = 0; start < RUNS; start += CHUNK) {
      const runs = [];
      const params = [];
      const tags = [];
      const latest = [];
      for (let i = start; i < Math.min(RUNS, start + CHUNK); i++) {
        const id = newId();
        runs.push({
          id,
          experiment_id: experimentId,
          name: `run-${i}`,
          status: i % 10 === 0 ? "FAILED" : "FINISHED",
          start_time: t0 + i * 1000,
          end_time: t0 + i * 1000 + 500,
          parent_run_id: null,
          code_version: null,
          package_version: "0.1.0",
          owner: "bench/1",
          heartbeat_at: t0 + i * 1000,
          status_reason: null,
        });
        params.push({ run_id: id, key: "kind", value: KINDS[i % 4] });
        params.push({ run_id: id, key: "trials", value: String(10 + (i % 30)) });
        tags.push({ run_id: id, key: "stage", value: i % 7 === 0 ? "prod" : "dev" });
        for (let m = 0; m < METRICS; m++) {
          latest.push({
            run_id: id,
            key: `m${String(m).padStart(2, "0")}`,
            value: rand(),
            step: 0,
            timestamp: t0,
          });
        }
      }
      await tx.insertInto("runs").values(runs).execute();
      await tx.insertInto("run_params").values(params).execute();
      await tx.insertInto("run_tags").values(tags).execute();
      for (let k = 0; k < latest.length; k += 2000) {
        const part = latest.slice(k, k + 2000);
        await tx.insertInto("latest_metrics").values(part).execute();
        await tx
          .insertInto("metrics")
          .values(part.map((p) => ({ ...p })))
          .execute();
      }
    }
  });
}

async function measure(label, url) {
  const database = await openDatabase(url);
  try {
    const store = new SqlTrackingStore(database);
    const exp = await store.createExperiment("bench");
    const t = performance.now();
    await seed(database, exp.id);
    // Fresh statistics, as autovacuum (Postgres) or `PRAGMA optimize` (SQLite) would keep them.
    await sql`ANALYZE`.execute(database.db);
    console.log(
      `${label}: seeded ${RUNS} runs × ${METRICS} metrics in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    for (const { name, search } of SEARCHES) {
      const times = [];
      let rows = 0;
      let total;
      for (let i = 0; i < 7; i++) {
        const s = performance.now();
        const page = await store.searchRuns({ experimentIds: [exp.id], ...search });
        times.push(performance.now() - s);
        rows = page.runs.length;
        total = page.total;
      }
      times.sort((a, b) => a - b);
      console.log(
        `  ${name.padEnd(42)} first page ${String(rows).padStart(3)} runs${total === undefined ? "" : ` of ${total}`}: median ${times[3].toFixed(1)} ms, max ${times[6].toFixed(1)} ms (bar ≤ 100 ms)`,
      );
    }
  } finally {
    await database.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), "riskometer-bench-"));
try {
  await measure("sqlite", `sqlite:${join(dir, "bench.db")}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

const dbName = `riskometer_bench_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
await admin.end();
try {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${dbName}`;
  await measure("postgres", url.toString());
} finally {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await c.end();
}
