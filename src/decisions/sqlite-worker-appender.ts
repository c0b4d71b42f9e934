import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { AppError } from "../core/errors.js";
import { DECISION_COLUMNS, decisionValues } from "./decision-rows.js";
import type { DecisionAppender, DecisionRow, DecisionTuple } from "./types.js";

// better-sqlite3 is synchronous: a commit on the main thread holds the event loop for the whole
// fsync (synchronous=FULL), and a group-commit writer that commits back to back would hold it
// most of the time. This appender commits from a worker thread with its own connection to the
// same file (WAL lets the server's connection read meanwhile), so the main thread only copies
// rows into a message. The worker is plain JavaScript evaluated from a string so it runs the
// same from the compiled package and from the TypeScript sources under the test runner.
const WORKER_SOURCE = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
let db;
let insert;
let appendAll;
try {
  db = new Database(workerData.file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = " + workerData.synchronous);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
  const cols = workerData.columns;
  insert = db.prepare(
    "INSERT INTO decisions (" + cols.join(", ") + ") VALUES (" + cols.map(() => "?").join(", ") + ")",
  );
  // One prepared single-row statement, reused: as fast as multi-row inserts in better-sqlite3.
  appendAll = db.transaction((rows) => {
    for (const row of rows) insert.run(row);
  });
  parentPort.postMessage({ type: "ready" });
} catch (e) {
  parentPort.postMessage({ type: "ready", error: { message: String(e && e.message), code: e && e.code } });
}
// A streamed transaction (begin, rows…, commit or abort) keeps its first error and rolls back at
// once; the rest of its rows are then ignored and its commit answers with that error.
let open = null;
function reply(id, e) {
  parentPort.postMessage(
    e ? { type: "done", id, error: { message: String(e && e.message), code: e && e.code } } : { type: "done", id },
  );
}
// A streamed upload's commit would run SQLite's automatic checkpoint inside COMMIT, copying the
// whole upload from the write-ahead log into the database before the commit returns, and the
// upload's answer would wait for it. So that commit runs without it, and the checkpoint follows
// once the commit has been acknowledged. (Small group commits keep SQLite's own checkpoints:
// they are cheap and frequent.)
function commitThenCheckpoint() {
  db.pragma("wal_autocheckpoint = 0");
  try {
    db.prepare("COMMIT").run();
  } finally {
    db.pragma("wal_autocheckpoint = 1000");
  }
  setImmediate(() => {
    if (!db || !db.open || open) return;
    try {
      // PASSIVE: copies what no reader still needs; never waits for or blocks readers.
      db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // A busy database: SQLite's automatic checkpoint after a later commit catches up.
    }
  });
}
parentPort.on("message", (m) => {
  if (m.type === "close") {
    if (db) db.close();
    parentPort.close();
    return;
  }
  if (m.type === "append") {
    try {
      // IMMEDIATE takes the write lock up front, so a busy database waits (busy_timeout)
      // instead of failing when a reader's lock would have to be upgraded.
      appendAll.immediate(m.rows);
      reply(m.id);
    } catch (e) {
      reply(m.id, e);
    }
    return;
  }
  if (m.type === "begin") {
    open = { id: m.id, error: null };
    try {
      db.prepare("BEGIN IMMEDIATE").run();
    } catch (e) {
      open.error = e;
    }
    return;
  }
  if (!open || open.id !== m.id) return;
  if (m.type === "rows") {
    if (open.error) return;
    try {
      for (const row of m.rows) insert.run(row);
    } catch (e) {
      open.error = e;
      if (db.inTransaction) db.prepare("ROLLBACK").run();
    }
    return;
  }
  const { error } = open;
  open = null;
  if (error) return reply(m.id, m.type === "abort" ? null : error);
  try {
    if (m.type === "commit") commitThenCheckpoint();
    else db.prepare("ROLLBACK").run();
    reply(m.id);
  } catch (e) {
    if (db.inTransaction) db.prepare("ROLLBACK").run();
    reply(m.id, e);
  }
});
`;

interface WorkerReply {
  readonly type: "ready" | "done";
  readonly id?: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

interface Waiting {
  resolve(): void;
  reject(e: unknown): void;
}

export interface SqliteWorkerAppenderOptions {
  /** How long a commit waits for another writer's lock (default 10 s, as the main connection). */
  readonly busyTimeoutMs?: number;
  /**
   * `full` (default): each commit is fsynced before it is acknowledged, so it survives a power
   * loss; a commit then costs one disk flush (about 6 ms on the development machine).
   * `normal`: each commit is written to the write-ahead log before it is acknowledged but
   * flushed to disk only at checkpoints, so it survives the server process being killed
   * (`kill -9`) but not the machine losing power. SQLite's documented WAL semantics.
   */
  readonly synchronous?: "full" | "normal";
}

function driverError(error: NonNullable<WorkerReply["error"]>): Error {
  return Object.assign(new Error(error.message), { code: error.code });
}

/**
 * Commits decision batches to a SQLite file from a worker thread (see above for why). Each
 * `appendRows` is one IMMEDIATE transaction; with `synchronous: "full"` it has been fsynced when
 * the promise resolves, with `"normal"` written to the write-ahead log (see the option). The worker keeps the process alive only while a
 * batch is in flight.
 */
export class SqliteWorkerAppender implements DecisionAppender {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private failure: AppError | null = null;
  private exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (reply: WorkerReply) => this.onReply(reply));
    worker.on("error", (e) => this.fail(e));
    worker.on("exit", (code) => this.fail(new Error(`the decision-log worker exited (${code})`)));
  }

  /** Starts the worker on `file` (an existing, migrated database); resolves when it is ready. */
  static async open(
    file: string,
    options: SqliteWorkerAppenderOptions = {},
  ): Promise<SqliteWorkerAppender> {
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: require.resolve("better-sqlite3"),
        file,
        columns: DECISION_COLUMNS,
        busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
        synchronous: (options.synchronous ?? "full").toUpperCase(),
      },
    });
    const ready = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    }).catch((e: unknown) => ({ type: "ready" as const, error: { message: String(e) } }));
    if (ready.error) {
      await worker.terminate();
      throw new AppError(
        "STORE_UNAVAILABLE",
        `cannot open the decision log on ${file}: ${ready.error.message}`,
        { cause: driverError(ready.error) },
      );
    }
    worker.unref();
    return new SqliteWorkerAppender(worker);
  }

  appendRows(rows: readonly DecisionRow[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (rows.length === 0) return Promise.resolve();
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: "append", id, rows: rows.map(decisionValues) });
    });
  }

  /**
   * One transaction fed from `chunks`: each chunk is posted as soon as it is made, so the
   * worker inserts while the caller goes on producing (scoring the rest of a file). The worker
   * runs messages in order, so appends posted meanwhile by others wait for this commit; the
   * `DecisionLog` never interleaves them anyway.
   */
  async appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<void> {
    if (this.failure) throw this.failure;
    const id = ++this.nextId;
    const done = new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
    });
    // A failure of the worker settles `done` early; it is awaited (or dropped) below.
    done.catch(() => {});
    this.worker.postMessage({ type: "begin", id });
    try {
      for await (const rows of chunks) {
        if (this.failure) throw this.failure;
        if (rows.length > 0) this.worker.postMessage({ type: "rows", id, rows });
      }
    } catch (e) {
      this.worker.postMessage({ type: "abort", id });
      await done.catch(() => {});
      throw e;
    }
    this.worker.postMessage({ type: "commit", id });
    await done;
  }

  /** Lets the worker finish what it was sent, then closes its connection and stops it. */
  async close(): Promise<void> {
    if (!this.failure) {
      this.worker.postMessage({ type: "close" });
      this.worker.ref();
    }
    await this.exited;
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== "done" || reply.id === undefined) return;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.error) waiting.reject(driverError(reply.error));
    else waiting.resolve();
  }

  /** The worker is gone: whatever it had not confirmed is not known to be committed. */
  private fail(cause: unknown): void {
    this.failure ??= new AppError("STORE_UNAVAILABLE", "the decision-log worker has stopped", {
      cause,
    });
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}
