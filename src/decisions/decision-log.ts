import { AppError } from "../core/errors.js";
import { fromDecisionValues, toDecisionRow } from "./decision-rows.js";
import type { DecisionAppender, DecisionRow, DecisionTuple, NewDecision } from "./types.js";

export interface DecisionLogOptions {
  /**
   * Most decisions in one commit (default 1,000). A single `appendMany` larger than this still
   * commits alone in one transaction: an upload is never split across commits.
   */
  readonly maxBatchRows?: number;
}

/** Counters for diagnostics (tests, /metrics); not part of the logging contract. */
export interface DecisionLogStats {
  /** Transactions committed, and decisions in them. */
  readonly commits: number;
  readonly committedDecisions: number;
  /** Transactions that failed, and decisions whose `append` was rejected by them. */
  readonly failedCommits: number;
  readonly failedDecisions: number;
  /** Decisions waiting for the next commit, and in the commit under way. */
  readonly queuedDecisions: number;
  readonly inFlightDecisions: number;
  readonly largestCommit: number;
}

interface Pending {
  /** Rows of `append`/`appendMany`; empty for a stream, which commits alone. */
  readonly rows: DecisionRow[];
  readonly stream?: AsyncIterable<readonly DecisionTuple[]>;
  readonly seq: number;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * The group-commit writer in front of the decision table. `append` resolves only once the
 * transaction holding the decision has committed (durably: SQLite with synchronous=FULL,
 * Postgres with synchronous_commit on), so a response sent after it can never name a decision
 * that a crash loses. While one commit is under way, new decisions queue and all go together in
 * the next one: under load each commit carries many decisions, at rest each goes alone at once,
 * and no timer adds latency. Commits run one at a time, in arrival order.
 *
 * @example
 * const log = await openDecisionLog(database);
 * await log.append({ id: newDecisionId(), createdAt: Date.now(), … });
 * // now durable: answer the request
 */
export class DecisionLog {
  private readonly maxBatchRows: number;
  private queue: Pending[] = [];
  private queuedRows = 0;
  private inFlightRows = 0;
  private writing = false;
  private closing: Promise<void> | null = null;
  private nextSeq = 0;
  /** Decisions of the stream being committed, so far. */
  private streamed = 0;
  /** Every entry with `seq` up to this has been committed or rejected. */
  private settledSeq = 0;
  private flushWaiters: { seq: number; resolve(): void }[] = [];
  private counters = {
    commits: 0,
    committedDecisions: 0,
    failedCommits: 0,
    failedDecisions: 0,
    largestCommit: 0,
  };

  constructor(
    private readonly appender: DecisionAppender,
    options: DecisionLogOptions = {},
  ) {
    const max = options.maxBatchRows ?? 1000;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new AppError("INVALID_ARGUMENT", "maxBatchRows must be a positive integer");
    }
    this.maxBatchRows = max;
  }

  /**
   * Logs one decision; resolves once it is committed. Rejects with INVALID_ARGUMENT (a
   * malformed decision, refused alone before it is queued) or STORE_UNAVAILABLE (its commit
   * failed: nothing of that commit is stored, so the caller must not answer as if it were).
   */
  append(decision: NewDecision): Promise<void> {
    return this.enqueue([decision]);
  }

  /**
   * Logs the decisions of one upload together: they commit in the same transaction (with other
   * queued decisions when they fit in one batch), all or none.
   */
  appendMany(decisions: readonly NewDecision[]): Promise<void> {
    if (decisions.length === 0) return this.closing ? this.closedError() : Promise.resolve();
    return this.enqueue(decisions);
  }

  /**
   * `appendMany` for decisions already encoded as rows (`decisionValues` tuples, as the scoring
   * path's encoder makes them, which a test holds equal to `toDecisionRow`'s).
   */
  appendEncoded(rows: readonly DecisionTuple[]): Promise<void> {
    if (rows.length === 0) return this.closing ? this.closedError() : Promise.resolve();
    return this.enqueueRows(rows.map(fromDecisionValues));
  }

  /**
   * Logs decisions that are still being made (a large file, scored batch by batch in worker
   * threads) in one transaction, all or none. `chunks` yields encoded rows (`decisionValues`
   * tuples, as for `appendEncoded`); each chunk is written as it arrives, so writing overlaps
   * making the rest. The stream takes the writer for itself from
   * its first chunk to its commit; decisions appended meanwhile go in the next commit. An error
   * thrown by `chunks` rolls the transaction back and is rethrown as it is; a failed commit
   * rejects with STORE_UNAVAILABLE. Resolves with the number of decisions committed.
   */
  appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<number> {
    if (this.closing) return this.closedError();
    return new Promise<number>((resolve, reject) => {
      this.queue.push({
        rows: [],
        stream: chunks,
        seq: ++this.nextSeq,
        resolve: () => resolve(this.streamed),
        reject,
      });
      this.schedule();
    });
  }

  /** Resolves when everything appended before the call has been committed or rejected. */
  flush(): Promise<void> {
    const seq = this.nextSeq;
    if (seq <= this.settledSeq) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ seq, resolve }));
  }

  /**
   * Refuses new decisions, waits for the queued ones to commit, then closes the appender (a
   * worker it owns; never the database).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      await this.appender.close?.();
    })();
    return this.closing;
  }

  /** Diagnostics: commit and queue counters (how well commits are grouped, what is waiting). */
  stats(): DecisionLogStats {
    return {
      ...this.counters,
      queuedDecisions: this.queuedRows,
      inFlightDecisions: this.inFlightRows,
    };
  }

  private closedError(): Promise<never> {
    return Promise.reject(new AppError("STORE_UNAVAILABLE", "the decision log is closed"));
  }

  private enqueue(decisions: readonly NewDecision[]): Promise<void> {
    let rows: DecisionRow[];
    try {
      rows = decisions.map(toDecisionRow);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueueRows(rows);
  }

  private enqueueRows(rows: DecisionRow[]): Promise<void> {
    if (this.closing) return this.closedError();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rows, seq: ++this.nextSeq, resolve, reject });
      this.queuedRows += rows.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    // setImmediate, not a microtask: requests that arrived meanwhile (I/O callbacks) get to
    // queue their decisions first and join this commit.
    setImmediate(() => void this.commitNext());
  }

  private takeBatch(): Pending[] {
    if (this.queue[0].stream) return this.queue.splice(0, 1);
    let rows = 0;
    let n = 0;
    while (n < this.queue.length) {
      if (this.queue[n].stream) break;
      const next = this.queue[n].rows.length;
      if (n > 0 && rows + next > this.maxBatchRows) break;
      rows += next;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** A stream's rows, counted as they pass; `onError` sees the producer's failure. */
  private async *counted(
    source: AsyncIterable<readonly DecisionTuple[]>,
    onError: (e: unknown) => void,
  ): AsyncGenerator<readonly DecisionTuple[]> {
    try {
      for await (const rows of source) {
        this.streamed += rows.length;
        this.inFlightRows = this.streamed;
        yield rows;
      }
    } catch (e) {
      onError(e);
      throw e;
    }
  }

  private async commitNext(): Promise<void> {
    const batch = this.takeBatch();
    const stream = batch[0].stream;
    const rows = batch.length === 1 ? batch[0].rows : batch.flatMap((p) => p.rows);
    this.queuedRows -= rows.length;
    this.inFlightRows = rows.length;
    this.streamed = 0;
    /** An error of the stream's producer: rethrown as it is, not as a store failure. */
    let producerError: { error: unknown } | null = null;
    const counted = (source: AsyncIterable<readonly DecisionTuple[]>) =>
      this.counted(source, (e) => (producerError = { error: e }));
    try {
      if (stream) await this.appender.appendStream(counted(stream));
      else await this.appender.appendRows(rows);
      const committed = stream ? this.streamed : rows.length;
      this.counters.commits++;
      this.counters.committedDecisions += committed;
      this.counters.largestCommit = Math.max(this.counters.largestCommit, committed);
      for (const p of batch) p.resolve();
    } catch (e) {
      const failed = stream ? this.streamed : rows.length;
      if (producerError) {
        batch[0].reject((producerError as { error: unknown }).error);
      } else {
        this.counters.failedCommits++;
        this.counters.failedDecisions += failed;
        const error = new AppError(
          "STORE_UNAVAILABLE",
          `the decision log could not commit ${failed} decision(s): ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
        for (const p of batch) p.reject(error);
      }
    }
    this.inFlightRows = 0;
    this.settledSeq = batch[batch.length - 1].seq;
    if (this.flushWaiters.length > 0) {
      const done = this.flushWaiters.filter((w) => w.seq <= this.settledSeq);
      this.flushWaiters = this.flushWaiters.filter((w) => w.seq > this.settledSeq);
      for (const w of done) w.resolve();
    }
    this.writing = false;
    this.schedule();
  }
}
