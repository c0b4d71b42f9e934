/**
 * The decision log contract, run against SQLite and the real local Postgres (each in a database
 * of its own): the store (round trip, listings, outcomes, append-only), the group-commit writer
 * (durable before it resolves, fewer commits than decisions, failures reject exactly their
 * batch) and a SIGKILL of a process under load that must lose no acknowledged decision.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.js";
import {
  type DecisionAppender,
  DecisionLog,
  type DecisionRow,
  type DecisionTuple,
  type NewDecision,
  decisionValues,
  toDecisionRow,
  SqlDecisionStore,
  SqliteWorkerAppender,
  newDecisionId,
  openDecisionLog,
} from "../../src/decisions/index.js";
import { type Database, openDatabase } from "../../src/storage/index.js";
import { DecisionEraser } from "../../src/decisions/erasure.js";
import { TEST_DATABASES, type TestDatabase } from "../support/databases.js";
import { expectCode } from "../support/expect-code.js";

const CRASH_CHILD = fileURLToPath(new URL("./decision-log-crash-child.mjs", import.meta.url));
const COMPILED = fileURLToPath(new URL("../../dist/decisions/index.js", import.meta.url));

let clock = 1_700_000_000_000;

function decision(extra: Partial<NewDecision> = {}): NewDecision {
  return {
    id: newDecisionId(),
    createdAt: clock++,
    requestId: "req-1",
    batchId: null,
    rowNumber: null,
    source: "api",
    modelName: "credit",
    modelVersion: 3,
    input: { checking_status: "<0", duration: 6, credit_amount: 1169, age: 67 },
    risk: "good",
    probabilityBad: 0.23,
    confidence: 0.77,
    threshold: 0.5,
    reasons: [{ feature: "duration", text: "short duration" }],
    ...extra,
  };
}

/** Wraps a real appender: counts calls, can be told to fail, can be slowed down. */
class InstrumentedAppender implements DecisionAppender {
  calls: number[] = [];
  failNext = 0;
  delayMs = 0;
  constructor(private readonly inner: DecisionAppender) {}
  async appendRows(rows: readonly DecisionRow[]): Promise<void> {
    this.calls.push(rows.length);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("injected commit failure");
    }
    await this.inner.appendRows(rows);
  }
  async appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<void> {
    this.calls.push(-1);
    await this.inner.appendStream(chunks);
  }
}

describe("decision ids", () => {
  it("are lowercase UUIDv7 strings carrying the time, unique and increasing as made", () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newDecisionId());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const ms = parseInt(ids[0].replace("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 1);
    // The clock stepping back does not make an id sort before the previous one.
    expect(newDecisionId(before - 60_000) > ids[ids.length - 1]).toBe(true);
  });
});

describe("SQLite worker appender", () => {
  it("refuses to open on a database without the decision log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-dl-"));
    try {
      await expectCode(
        SqliteWorkerAppender.open(join(dir, "empty.db")),
        "STORE_UNAVAILABLE",
        /no such table: decisions/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects appends once its worker has stopped, instead of waiting forever", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-dl-"));
    const database = await openDatabase(`sqlite:${join(dir, "db.sqlite")}`);
    try {
      const appender = await SqliteWorkerAppender.open(join(dir, "db.sqlite"));
      const log = new DecisionLog(appender);
      await log.append(decision());
      // Reaching into the appender: a worker that dies (out of memory, a driver crash) is not
      // something a test can provoke from outside.
      await (appender as unknown as { worker: Worker }).worker.terminate();
      await new Promise((r) => setImmediate(r));
      await expectCode(log.append(decision()), "STORE_UNAVAILABLE", /worker has stopped/);
      await log.close();
      expect(await new SqlDecisionStore(database).countDecisions()).toBe(1);
    } finally {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(TEST_DATABASES)("decision log contract: $name", ({ name, create }) => {
  let target: TestDatabase;
  let database: Database;
  let store: SqlDecisionStore;
  let log: DecisionLog;

  beforeAll(async () => {
    target = await create();
    database = await openDatabase(target.url);
    store = new SqlDecisionStore(database);
    log = await openDecisionLog(database);
  });

  afterAll(async () => {
    await log?.close();
    await database?.close();
    await target?.drop();
  });

  async function present(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let at = 0; at < ids.length; at += 500) {
      const rows = await database.db
        .selectFrom("decisions")
        .select("id")
        .where("id", "in", ids.slice(at, at + 500))
        .execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  describe("store", () => {
    it("round-trips a decision with every field, and finds none for an unknown id", async () => {
      const d = decision({
        source: "form",
        risk: "bad",
        probabilityBad: 0.81,
        confidence: 0.81,
        threshold: 0.42,
        input: { purpose: "radio/tv", age: 31, note: "naïve ✓" },
        explanation: { contributions: [{ feature: "age", value: -0.12 }] },
      });
      await log.append(d);
      expect(await store.getDecision(d.id)).toEqual({
        ...d,
        scoredBy: null,
        erasedAt: null,
        outcome: null,
      });
      const plain = decision();
      await store.appendBatch([plain]);
      expect(await store.getDecision(plain.id)).toEqual({
        ...plain,
        explanation: null,
        scoredBy: null,
        erasedAt: null,
        outcome: null,
      });
      await expectCode(store.getDecision(newDecisionId()), "NOT_FOUND");
    });

    it("refuses a malformed decision alone, before it is queued", async () => {
      const good = decision();
      const results = await Promise.allSettled([
        log.append(decision({ risk: "maybe" as never })),
        log.append(good),
        log.append(decision({ probabilityBad: Number.NaN })),
        log.append(decision({ id: "not-a-uuid" })),
        log.append(decision({ batchId: "b", rowNumber: null })),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        "rejected",
        "fulfilled",
        "rejected",
        "rejected",
        "rejected",
      ]);
      for (const r of results) {
        if (r.status === "rejected") expect((r.reason as AppError).code).toBe("INVALID_ARGUMENT");
      }
      expect((await store.getDecision(good.id)).id).toBe(good.id);
    });

    it("lists a batch in row order with its count, page by page", async () => {
      const batchId = newDecisionId();
      const rows = Array.from({ length: 25 }, (_, i) =>
        decision({ batchId, rowNumber: i + 1, source: "file", requestId: "upload" }),
      );
      const shuffled = [...rows].sort(
        (x, y) => (((x.rowNumber ?? 0) * 7) % 25) - (((y.rowNumber ?? 0) * 7) % 25),
      );
      await log.appendMany(shuffled);
      await log.appendMany([decision({ batchId: newDecisionId(), rowNumber: 1 })]);
      const first = await store.listBatch(batchId, { offset: 0, limit: 10 });
      expect(first.total).toBe(25);
      expect(first.decisions.map((d) => d.rowNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const last = await store.listBatch(batchId, { offset: 20, limit: 10 });
      expect(last.decisions.map((d) => d.id)).toEqual(rows.slice(20).map((d) => d.id));
      expect(await store.listBatch("no-such-batch", { offset: 0, limit: 10 })).toEqual({
        decisions: [],
        total: 0,
      });
      await expectCode(store.listBatch(batchId, { offset: -1, limit: 10 }), "INVALID_ARGUMENT");
    });

    it("pages through a batch sorted and filtered by the database, with counts", async () => {
      const batchId = newDecisionId();
      const reason = (text: string) => ({
        feature: "f",
        label: "L",
        value: 1,
        valueLabel: "v",
        contribution: 0.1,
        text,
      });
      const made = Array.from({ length: 30 }, (_, i) => {
        const bad = i % 3 === 0;
        const p = ((i * 37) % 30) / 30;
        return decision({
          batchId,
          rowNumber: i + 1,
          source: "file",
          risk: bad ? "bad" : "good",
          probabilityBad: p,
          confidence: bad ? p : 1 - p,
          reasons: bad
            ? [
                reason(i % 2 === 0 ? "Checking account: below 0 DM" : "Duration: 48 months"),
                reason("Age: 19 years"),
              ]
            : [],
        });
      });
      await log.appendMany(made);
      await log.appendMany([decision({ batchId: newDecisionId(), rowNumber: 1, risk: "bad" })]);

      const all = await store.queryBatch(batchId, { offset: 0, limit: 100 });
      expect(all.total).toBe(30);
      expect(all.counts).toEqual({ good: 20, bad: 10 });
      expect(all.decisions.map((d) => d.rowNumber)).toEqual(made.map((d) => d.rowNumber));

      const byP = await store.queryBatch(batchId, {
        offset: 0,
        limit: 100,
        sort: "probabilityBad",
        direction: "desc",
      });
      const ps = byP.decisions.map((d) => d.probabilityBad);
      expect(ps).toEqual([...ps].sort((a, b) => b - a));
      // A page continues where the last one stopped.
      const second = await store.queryBatch(batchId, {
        offset: 10,
        limit: 10,
        sort: "probabilityBad",
        direction: "desc",
      });
      expect(second.decisions.map((d) => d.id)).toEqual(
        byP.decisions.slice(10, 20).map((d) => d.id),
      );

      const bad = await store.queryBatch(batchId, { offset: 0, limit: 100, risk: "bad" });
      expect(bad.total).toBe(10);
      expect(bad.decisions.every((d) => d.risk === "bad")).toBe(true);
      expect(bad.counts).toEqual({ good: 20, bad: 10 });

      // Search: the text of any reason, case-insensitive, taken literally; or a row number.
      const checking = await store.queryBatch(batchId, {
        offset: 0,
        limit: 100,
        search: "CHECKING acc",
      });
      expect(checking.decisions.map((d) => d.rowNumber)).toEqual([1, 7, 13, 19, 25]);
      expect(checking.counts).toEqual({ good: 0, bad: 5 });
      expect(
        (await store.queryBatch(batchId, { offset: 0, limit: 100, search: "age: 19" })).total,
      ).toBe(10);
      expect((await store.queryBatch(batchId, { offset: 0, limit: 100, search: "%" })).total).toBe(
        0,
      );
      expect((await store.queryBatch(batchId, { offset: 0, limit: 100, search: "_" })).total).toBe(
        0,
      );
      expect(
        (await store.queryBatch(batchId, { offset: 0, limit: 100, search: "feature" })).total,
      ).toBe(0);
      const row = await store.queryBatch(batchId, { offset: 0, limit: 100, search: "12" });
      expect(row.decisions.map((d) => d.rowNumber)).toEqual([12]);

      // By the top reason's text; rows without reasons first when ascending, in row order.
      const byReason = await store.queryBatch(batchId, { offset: 0, limit: 100, sort: "reason" });
      const texts = byReason.decisions.map(
        (d) => (d.reasons[0] as { text?: string } | undefined)?.text ?? "",
      );
      expect(texts).toEqual([...texts].sort());
      expect(byReason.decisions.slice(0, 20).map((d) => d.rowNumber)).toEqual(
        made.filter((d) => d.risk === "good").map((d) => d.rowNumber),
      );
      const byRisk = await store.queryBatch(batchId, {
        offset: 0,
        limit: 5,
        sort: "risk",
        direction: "desc",
      });
      expect(byRisk.decisions.map((d) => d.rowNumber)).toEqual([1, 4, 7, 10, 13]);

      await expectCode(store.queryBatch(batchId, { offset: 0, limit: 0 }), "INVALID_ARGUMENT");
      await expectCode(
        store.queryBatch(batchId, { offset: 0, limit: 10, sort: "nope" as never }),
        "INVALID_ARGUMENT",
      );
    });

    it("lists decisions newest first within a time window, page by page with a cursor", async () => {
      const t0 = 1_800_000_000_000;
      // Two decisions share a millisecond: the id breaks the tie.
      const made = [0, 10, 10, 20, 30, 40, 50].map((dt) => decision({ createdAt: t0 + dt }));
      await log.appendMany(made);
      const expected = [...made]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((d) => d.id);
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.listDecisions({ since: t0, until: t0 + 100, limit: 3, after });
        seen.push(...page.decisions.map((d) => d.id));
        after = page.nextCursor ?? undefined;
        pages++;
      } while (after);
      expect(seen).toEqual(expected);
      expect(pages).toBe(3);
      const window = await store.listDecisions({ since: t0 + 10, until: t0 + 30, limit: 100 });
      expect(window.decisions.map((d) => d.createdAt)).toEqual([t0 + 20, t0 + 10, t0 + 10]);
      expect(window.nextCursor).toBeNull();
      await expectCode(
        store.listDecisions({ limit: 3, after: newDecisionId() }),
        "INVALID_ARGUMENT",
        /cursor/,
      );
      await expectCode(store.listDecisions({ limit: 0 }), "INVALID_ARGUMENT");
      await expectCode(store.listDecisions({ limit: 1001 }), "INVALID_ARGUMENT");
    });

    it("records one outcome per decision: unknown → NOT_FOUND, a second → CONFLICT", async () => {
      const d = decision();
      await log.append(d);
      await expectCode(store.recordOutcome(newDecisionId(), "bad", "clerk", clock), "NOT_FOUND");
      const outcome = await store.recordOutcome(d.id, "bad", "clerk-a", 1_750_000_000_000);
      expect(outcome).toEqual({
        decisionId: d.id,
        outcome: "bad",
        recordedAt: 1_750_000_000_000,
        recordedBy: "clerk-a",
      });
      expect((await store.getDecision(d.id)).outcome).toEqual(outcome);
      await expectCode(store.recordOutcome(d.id, "good", "clerk-b"), "CONFLICT", /write-once/);
      await expectCode(store.recordOutcome(d.id, "bad", "clerk-a"), "CONFLICT");
      expect((await store.getDecision(d.id)).outcome).toEqual(outcome);
      await expectCode(store.recordOutcome(d.id, "unknown" as never, "x"), "INVALID_ARGUMENT");
    });

    it("is append-only: the database refuses UPDATE and DELETE of decisions and outcomes", async () => {
      const d = decision();
      await log.append(d);
      await store.recordOutcome(d.id, "good", "clerk");
      const statements = [
        sql`UPDATE decisions SET risk = 'bad' WHERE id = ${d.id}`,
        sql`DELETE FROM decisions WHERE id = ${d.id}`,
        sql`UPDATE outcomes SET outcome = 'bad' WHERE decision_id = ${d.id}`,
        sql`DELETE FROM outcomes WHERE decision_id = ${d.id}`,
      ];
      for (const statement of statements) {
        await expect(statement.execute(database.db)).rejects.toThrow(/append-only/);
      }
      const kept = await store.getDecision(d.id);
      expect(kept.risk).toBe("good");
      expect(kept.outcome?.outcome).toBe("good");
    });

    it("lets a decision's personal fields be erased once, and nothing else change", async () => {
      const d = decision();
      await log.append(d);
      await store.recordOutcome(d.id, "bad", "clerk");
      const eraser = new DecisionEraser(
        database,
        async () =>
          ({
            fairness: [
              { column: "age", label: "Age", reference: "old", groups: [{ name: "old", min: 25 }] },
            ],
          }) as never,
      );
      expect(await eraser.erase({ ids: [d.id] }, 1_000)).toBe(1);
      const erased = await store.getDecision(d.id);
      expect(erased).toMatchObject({
        input: { $groups: { age: "old" } },
        reasons: [],
        explanation: null,
        erasedAt: 1_000,
        risk: d.risk,
        probabilityBad: d.probabilityBad,
        outcome: { outcome: "bad" },
      });
      expect(await eraser.erase({ ids: [d.id] }, 2_000)).toBe(0);
      for (const statement of [
        sql`UPDATE decisions SET erased_at = NULL, input = ${JSON.stringify(d.input)} WHERE id = ${d.id}`,
        sql`UPDATE decisions SET erased_at = 3000 WHERE id = ${d.id}`,
        sql`DELETE FROM decisions WHERE id = ${d.id}`,
      ]) {
        await expect(statement.execute(database.db)).rejects.toThrow(/append-only/);
      }
      // Erasure may not touch what monitoring keeps.
      const other = decision();
      await log.append(other);
      await expect(
        sql`UPDATE decisions SET erased_at = 5, probability_bad = 0.99 WHERE id = ${other.id}`.execute(
          database.db,
        ),
      ).rejects.toThrow(/append-only/);
    });

    it("counts decisions", async () => {
      const before = await store.countDecisions();
      await log.appendMany([decision(), decision(), decision()]);
      expect(await store.countDecisions()).toBe(before + 3);
    });
  });

  // synchronous_commit is a Postgres setting (SQLite's durability is the worker's `synchronous`
  // pragma, chosen by RISKOMETER_DECISION_SYNC), so this case exists only in the Postgres run.
  const postgresOnly = name === "postgres" ? it : null;
  postgresOnly?.(
    "refuses a Postgres database that acknowledges commits before they are durable",
    async () => {
      const dbName = new URL(target.url).pathname.slice(1);
      await sql.raw(`ALTER DATABASE ${dbName} SET synchronous_commit = off`).execute(database.db);
      try {
        const other = await openDatabase(target.url);
        try {
          await expectCode(openDecisionLog(other), "CONFIG_INVALID", /synchronous_commit/);
        } finally {
          await other.close();
        }
      } finally {
        await sql.raw(`ALTER DATABASE ${dbName} RESET synchronous_commit`).execute(database.db);
      }
    },
  );

  describe("group commit", () => {
    it("commits 2,000 concurrent appends in far fewer transactions, all durable when resolved", async () => {
      const groupLog = await openDecisionLog(database);
      try {
        const before = await store.countDecisions();
        const made = Array.from({ length: 2000 }, (_, i) => decision({ requestId: `gc-${i}` }));
        await Promise.all(made.map((d) => groupLog.append(d)));
        const stats = groupLog.stats();
        expect(stats.committedDecisions).toBe(2000);
        expect(stats.commits).toBeLessThan(2000);
        expect(stats.commits).toBeLessThanOrEqual(4);
        expect(stats.largestCommit).toBeLessThanOrEqual(1000);
        expect(stats.queuedDecisions).toBe(0);
        expect((await present(made.map((d) => d.id))).size).toBe(2000);
        expect(await store.countDecisions()).toBe(before + 2000);
      } finally {
        await groupLog.close();
      }
    });

    it("puts decisions that arrive during a commit together into the next one", async () => {
      const appender = new InstrumentedAppender(store);
      const slow = new DecisionLog(appender, { maxBatchRows: 100 });
      appender.delayMs = 30;
      const first = slow.append(decision());
      await new Promise((r) => setTimeout(r, 10)); // the first commit is now in flight
      const during = Array.from({ length: 250 }, () => slow.append(decision()));
      await Promise.all([first, ...during]);
      // One alone, then the 250 that queued meanwhile, capped at 100 a commit.
      expect(appender.calls).toEqual([1, 100, 100, 50]);
      expect(slow.stats()).toMatchObject({ commits: 4, committedDecisions: 251 });
      await slow.close();
    });

    it("commits an upload larger than a batch in one transaction, all or nothing", async () => {
      const small = await openDecisionLog(database, { maxBatchRows: 50 });
      const batchId = newDecisionId();
      const upload = Array.from({ length: 180 }, (_, i) =>
        decision({ batchId, rowNumber: i + 1, source: "file" }),
      );
      await small.appendMany(upload);
      expect(small.stats()).toMatchObject({ commits: 1, largestCommit: 180 });
      expect((await store.listBatch(batchId, { offset: 0, limit: 500 })).total).toBe(180);
      // A taken id fails the whole upload's transaction: none of its rows is stored.
      const failing = [decision({ batchId: "dup", rowNumber: 1 }), ...upload.slice(0, 1)];
      const fresh = Array.from({ length: 120 }, (_, i) =>
        decision({ batchId: "dup", rowNumber: i + 2 }),
      );
      await expectCode(small.appendMany([...failing, ...fresh]), "STORE_UNAVAILABLE");
      expect((await store.listBatch("dup", { offset: 0, limit: 500 })).total).toBe(0);
      await small.close();
    });

    it("streams an upload's chunks into one transaction: committed whole, or rolled back whole", async () => {
      const stream = await openDecisionLog(database);
      const batchId = newDecisionId();
      const chunk = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) =>
          decisionValues(toDecisionRow(decision({ batchId, rowNumber: from + i, source: "file" }))),
        );
      async function* chunks(fail: boolean) {
        yield chunk(1, 700);
        await new Promise((r) => setTimeout(r, 5));
        yield chunk(701, 700);
        if (fail) throw new AppError("INVALID_ARGUMENT", "the producer failed half-way");
        yield chunk(1401, 100);
      }
      // Decisions appended meanwhile wait for the stream's commit and are not part of it.
      const during = stream.append(decision());
      expect(await stream.appendStream(chunks(false))).toBe(1500);
      await during;
      expect((await store.listBatch(batchId, { offset: 0, limit: 10 })).total).toBe(1500);

      const failing = newDecisionId();
      async function* broken() {
        yield Array.from({ length: 50 }, (_, i) =>
          decisionValues(toDecisionRow(decision({ batchId: failing, rowNumber: i + 1 }))),
        );
        throw new AppError("INVALID_ARGUMENT", "the producer failed half-way");
      }
      await expectCode(stream.appendStream(broken()), "INVALID_ARGUMENT", /half-way/);
      expect((await store.listBatch(failing, { offset: 0, limit: 10 })).total).toBe(0);
      // A taken id fails the commit: STORE_UNAVAILABLE, and nothing of the stream is stored.
      const taken = newDecisionId();
      async function* duplicate() {
        const first = decision({ batchId: taken, rowNumber: 1 });
        yield [decisionValues(toDecisionRow(first))];
        yield [decisionValues(toDecisionRow({ ...first, rowNumber: 2 }))];
      }
      await expectCode(stream.appendStream(duplicate()), "STORE_UNAVAILABLE");
      expect((await store.listBatch(taken, { offset: 0, limit: 10 })).total).toBe(0);
      // The log goes on after a failed stream.
      await stream.append(decision());
      expect(stream.stats().failedCommits).toBe(1);
      await stream.close();
    });

    it("rejects exactly the appends of a failed commit, and loses none it acknowledged", async () => {
      const appender = new InstrumentedAppender(store);
      const flaky = new DecisionLog(appender);
      const ok1 = Array.from({ length: 20 }, () => decision());
      await Promise.all(ok1.map((d) => flaky.append(d)));
      appender.failNext = 1;
      const lost = Array.from({ length: 30 }, () => decision());
      const lostResults = await Promise.allSettled(lost.map((d) => flaky.append(d)));
      const ok2 = Array.from({ length: 20 }, () => decision());
      await Promise.all(ok2.map((d) => flaky.append(d)));
      expect(lostResults.every((r) => r.status === "rejected")).toBe(true);
      const reason = (lostResults[0] as PromiseRejectedResult).reason as AppError;
      expect(reason.code).toBe("STORE_UNAVAILABLE");
      expect(reason.message).toMatch(/injected commit failure/);
      expect((await present([...ok1, ...ok2].map((d) => d.id))).size).toBe(40);
      expect((await present(lost.map((d) => d.id))).size).toBe(0);
      expect(flaky.stats()).toMatchObject({ failedCommits: 1, failedDecisions: 30 });
      await flaky.close();
    });

    it("rejects appends when the database underneath is closed", async () => {
      const other = await openDatabase(target.url);
      const orphan = new DecisionLog(new SqlDecisionStore(other));
      const kept = decision();
      await orphan.append(kept);
      await other.close();
      await expectCode(orphan.append(decision()), "STORE_UNAVAILABLE");
      await orphan.close();
      expect((await store.getDecision(kept.id)).id).toBe(kept.id);
    });

    it("drains the queue on close, then refuses new decisions", async () => {
      const closing = await openDecisionLog(database);
      const made = Array.from({ length: 300 }, () => decision());
      const pending = made.map((d) => closing.append(d));
      await closing.close();
      await Promise.all(pending);
      expect((await present(made.map((d) => d.id))).size).toBe(300);
      await expectCode(closing.append(decision()), "STORE_UNAVAILABLE", /closed/);
      await closing.flush();
    });
  });

  describe("crash", () => {
    it("loses no acknowledged decision when the process is killed with SIGKILL under load", async () => {
      expect(existsSync(COMPILED), "the crash test runs dist/: run `npm run build` first").toBe(
        true,
      );
      const child: ChildProcess = spawn(process.execPath, [CRASH_CHILD, target.url], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
      child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_code, signal) => resolve(signal)),
      );
      const deadline = Date.now() + 20_000;
      while (!out.includes("ready\n") && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out, err).toContain("ready\n");
      await new Promise((r) => setTimeout(r, 1000));
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      // Only whole lines: a line cut by the kill names no acknowledged id.
      const acknowledged = out
        .split("\n")
        .slice(1, -1)
        .filter((line) => line !== "");
      expect(acknowledged.length).toBeGreaterThan(100);
      const reopened = await openDatabase(target.url);
      try {
        const found = new Set<string>();
        for (let at = 0; at < acknowledged.length; at += 500) {
          const rows = await reopened.db
            .selectFrom("decisions")
            .select("id")
            .where("id", "in", acknowledged.slice(at, at + 500))
            .execute();
          for (const r of rows) found.add(r.id);
        }
        const missing = acknowledged.filter((id) => !found.has(id));
        expect(
          missing,
          `${missing.length} of ${acknowledged.length} acknowledged ids lost`,
        ).toEqual([]);
      } finally {
        await reopened.close();
      }
    });
  });
});
