import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { AppError } from "../core/errors.js";
import { DECISION_COLUMNS, decisionValues } from "./decision-rows.js";
import type { DecisionAppender, DecisionRow } from "./types.js";

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
let appendAll;
try {
  db = new Database(workerData.file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = " + workerData.synchronous);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
  const cols = workerData.columns;
  const insert = db.prepare(
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
parentPort.on("message", (m) => {
  if (m.type === "close") {
    if (db) db.close();
    parentPort.close();
    return;
  }
  try {
    // IMMEDIATE takes the write lock up front, so a busy database waits (busy_timeout) instead
    // of failing when a reader's lock would have to be upgraded.
    appendAll.immediate(m.rows);
    parentPort.postMessage({ type: "done", id: m.id });
  } catch (e) {
    parentPort.postMessage({ type: "done", id: m.id, error: { message: String(e && e.message), code: e && e.code } });
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
