// The decision log's group commit: DecisionLog.append from 16, 64 and 256 concurrent producers
// (each appends, waits for the commit, appends again) for a few seconds each, on SQLite (the
// worker-thread appender `openDecisionLog` picks, and the in-thread SqlDecisionStore for
// comparison) and on the local Postgres; then an open loop at a fixed arrival rate, as a server
// sees it. Prints decisions/s, commits/s, mean decisions per commit, append latency (p50, p99),
// the main thread's busy share (event-loop utilisation) and the process's CPU.
// Usage: node bench/decision-log.bench.mjs [seconds per case] [open-loop rate/s]
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";

const { openDatabase } = await import("../dist/storage/index.js");
const { DecisionLog, SqlDecisionStore, newDecisionId, openDecisionLog } =
  await import("../dist/decisions/index.js");

const SECONDS = Number(process.argv[2] ?? 5);
const RATE = Number(process.argv[3] ?? 8000);
const PRODUCERS = [16, 64, 256];
const PG_ADMIN = process.env.RISKOMETER_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

// A realistic row: the 20 credit-g fields and three reasons (about 900 bytes of JSON).
const INPUT = {
  checking_status: "<0",
  duration: 6,
  credit_history: "critical/other existing credit",
  purpose: "radio/tv",
  credit_amount: 1169,
  savings_status: "no known savings",
  employment: ">=7",
  installment_commitment: 4,
  personal_status: "male single",
  other_parties: "none",
  residence_since: 4,
  property_magnitude: "real estate",
  age: 67,
  other_payment_plans: "none",
  housing: "own",
  existing_credits: 2,
  job: "skilled",
  num_dependents: 1,
  own_telephone: "yes",
  foreign_worker: "yes",
};
const REASONS = [
  { feature: "checking_status", text: "Checking account below 0 DM raises the risk" },
  { feature: "duration", text: "A short duration (6 months) lowers the risk" },
  { feature: "age", text: "Age 67 lowers the risk" },
];

let request = 0;
function decision() {
  return {
    id: newDecisionId(),
    createdAt: Date.now(),
    requestId: `req-${++request}`,
    batchId: null,
    rowNumber: null,
    source: "api",
    modelName: "credit",
    modelVersion: 3,
    input: INPUT,
    risk: "good",
    probabilityBad: 0.2317,
    confidence: 0.7683,
    threshold: 0.5,
    reasons: REASONS,
  };
}

function quantile(sorted, q) {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(log, run) {
  const latencies = [];
  const s0 = log.stats();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(latencies);
  const seconds = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  const s1 = log.stats();
  const commits = s1.commits - s0.commits;
  const decisions = s1.committedDecisions - s0.committedDecisions;
  latencies.sort((a, b) => a - b);
  return {
    "decisions/s": Math.round(decisions / seconds),
    "commits/s": Math.round(commits / seconds),
    "per commit": +(decisions / commits).toFixed(1),
    "p50 ms": +quantile(latencies, 0.5).toFixed(2),
    "p99 ms": +quantile(latencies, 0.99).toFixed(2),
    "main busy %": Math.round(elu * 100),
    "cpu % of a core": Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100),
    "main µs/decision": +((elu * seconds * 1e6) / decisions).toFixed(1),
  };
}

/** Closed loop: each producer appends, waits for its commit, appends again. */
function closedLoop(log, producers) {
  return async (latencies) => {
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          await log.append(decision());
          latencies.push(performance.now() - t);
        }
      }),
    );
  };
}

/** Open loop: decisions arrive at `rate`/s whatever the commits do (a server under load). */
function openLoop(log, rate) {
  return async (latencies) => {
    const start = performance.now();
    const end = start + SECONDS * 1000;
    const pending = [];
    let sent = 0;
    await new Promise((resolve) => {
      const tick = setInterval(() => {
        const now = performance.now();
        const due = Math.min(rate * SECONDS, Math.floor(((now - start) / 1000) * rate));
        for (; sent < due; sent++) {
          const t = performance.now();
          pending.push(log.append(decision()).then(() => latencies.push(performance.now() - t)));
        }
        if (now >= end) {
          clearInterval(tick);
          resolve();
        }
      }, 1);
    });
    await Promise.all(pending);
  };
}

async function bench(label, url, makeLog) {
  const database = await openDatabase(url);
  const log = await makeLog(database);
  try {
    // Warm up (JIT, statement caches, the first checkpoint).
    await closedLoop(log, 16)([]);
    const rows = {};
    for (const p of PRODUCERS) rows[`${p} producers`] = await measure(log, closedLoop(log, p));
    rows[`open loop ${RATE}/s`] = await measure(log, openLoop(log, RATE));
    console.log(`\n${label}`);
    console.table(rows);
  } finally {
    await log.close();
    await database.close();
  }
}

console.log(
  `DecisionLog.append, ${SECONDS} s per case (${process.version}, ${(await import("node:os")).cpus().length} cpus)`,
);
const dir = await mkdtemp(join(tmpdir(), "riskometer-bench-"));
try {
  await bench(
    "sqlite, worker-thread appender (openDecisionLog)",
    `sqlite:${join(dir, "worker.db")}`,
    (d) => openDecisionLog(d),
  );
  await bench("sqlite, in-thread SqlDecisionStore", `sqlite:${join(dir, "inline.db")}`, (d) =>
    Promise.resolve(new DecisionLog(new SqlDecisionStore(d))),
  );
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
  await bench("postgres (SqlDecisionStore over the pool)", url.toString(), (d) =>
    openDecisionLog(d),
  );
} finally {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await c.end();
}
