import type { Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema } from "../storage/index.js";
import { newId } from "../tracking/index.js";

/** One access to applicants' data: who, what, which, when, from where; never the data. */
export interface AccessEntry {
  readonly at: number;
  readonly user: string;
  readonly role: string;
  /** score, read-decision, read-batch, download-scored, record-outcome, erase, retention-erase, sign-in, sign-in-failed, read-access-log. */
  readonly action: string;
  readonly target: string | null;
  readonly status: number;
  readonly address: string;
  readonly detail: string | null;
}

/** One scoring request, counted into the access log's entry for its user and window. */
export interface ScoringAccess {
  readonly at: number;
  readonly user: string;
  readonly role: string;
  readonly status: number;
  readonly address: string;
  /** The batch (or, for one applicant, the decision) it made. */
  readonly target: string | null;
  readonly rows: number;
  readonly scored: number;
  readonly rejected: number;
}

export interface AccessQuery {
  readonly user?: string;
  readonly action?: string;
  /** From this time on (ms, inclusive). */
  readonly since?: number;
  /** Before this time (ms). */
  readonly until?: number;
  /** Newest first, at most this many (default 100, at most 10,000). */
  readonly limit?: number;
}

/** Entries are written together, at least this often, so a scoring request costs no write. */
const FLUSH_MS = 200;
const FLUSH_ROWS = 500;

/**
 * The access log (table `access_log`, append-only: the database refuses UPDATE and DELETE).
 * `record` queues an entry and returns at once; queued entries are written in one insert at
 * least every 200 ms, and on `close`. An entry is written after the answer is sent, so a process
 * killed in those 200 ms loses its last entries, never a decision.
 */
export class AccessLog {
  private readonly db: Kysely<DatabaseSchema>;
  private queue: AccessEntry[] = [];
  /** Scoring requests of the current window, by user, role, address and status. */
  private scoring = new Map<string, ScoringAccess & { requests: number }>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    database: Database,
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.db = database.db;
  }

  record(entry: AccessEntry): void {
    this.queue.push(entry);
    this.schedule();
  }

  /**
   * A scoring request. Scoring is the hot path (thousands of requests a second), and each
   * decision records who scored it (`scored_by`), so the log keeps one entry per user, address
   * and outcome for each 200 ms window: how many requests, rows, scored and rejected, and the
   * batch or decision when the window held one request.
   */
  recordScoring(s: ScoringAccess): void {
    const key = `${s.user}\u0000${s.role}\u0000${s.address}\u0000${s.status}`;
    const seen = this.scoring.get(key);
    if (seen === undefined) this.scoring.set(key, { ...s, requests: 1 });
    else {
      this.scoring.set(key, {
        ...seen,
        requests: seen.requests + 1,
        rows: seen.rows + s.rows,
        scored: seen.scored + s.scored,
        rejected: seen.rejected + s.rejected,
      });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.queue.length >= FLUSH_ROWS) void this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes what is queued (and waits for writes under way). */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.queue;
    this.queue = [];
    for (const s of this.scoring.values()) {
      const counts = `${s.rows} rows: ${s.scored} scored, ${s.rejected} rejected`;
      batch.push({
        at: s.at,
        user: s.user,
        role: s.role,
        action: "score",
        target: s.requests === 1 ? s.target : null,
        status: s.status,
        address: s.address,
        detail: s.requests === 1 ? counts : `${s.requests} requests, ${counts}`,
      });
    }
    this.scoring = new Map();
    const previous = this.writing;
    this.writing = (async () => {
      await previous;
      if (batch.length === 0) return;
      try {
        await this.db
          .insertInto("access_log")
          .values(
            batch.map((e) => ({
              id: newId(),
              at: e.at,
              user_name: e.user,
              role: e.role,
              action: e.action,
              target: e.target,
              status: e.status,
              address: e.address,
              detail: e.detail,
            })),
          )
          .execute();
      } catch (e) {
        this.onError(e);
      }
    })();
    await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  /** Entries matching `query`, newest first. */
  async list(query: AccessQuery = {}): Promise<AccessEntry[]> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new AppError("INVALID_ARGUMENT", `limit must be 1–10000, got ${limit}`);
    }
    let q = this.db.selectFrom("access_log").selectAll();
    if (query.user !== undefined) q = q.where("user_name", "=", query.user);
    if (query.action !== undefined) q = q.where("action", "=", query.action);
    if (query.since !== undefined) q = q.where("at", ">=", query.since);
    if (query.until !== undefined) q = q.where("at", "<", query.until);
    const rows = await q.orderBy("at", "desc").orderBy("id", "desc").limit(limit).execute();
    return rows.map((r) => ({
      at: Number(r.at),
      user: r.user_name,
      role: r.role,
      action: r.action,
      target: r.target,
      status: Number(r.status),
      address: r.address,
      detail: r.detail,
    }));
  }
}
