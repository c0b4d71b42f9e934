/** The decision log's vocabulary: a credit decision, its observed outcome, pages of both. */
import type { DecisionsTable } from "../storage/index.js";

export const DECISION_SOURCES = ["api", "file", "form"] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

export const RISKS = ["good", "bad"] as const;
export type Risk = (typeof RISKS)[number];

/** A decision as the server makes it, before it is stored. */
export interface NewDecision {
  /** From `newDecisionId()`: time-ordered, so it can be returned to the client before commit. */
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly requestId: string;
  /** The file upload the applicant came from; null for a single applicant. */
  readonly batchId: string | null;
  /** 1-based data row within the batch; null when `batchId` is null. */
  readonly rowNumber: number | null;
  readonly source: DecisionSource;
  /** The user who scored it (the API token's or the session's); null when not known. */
  readonly scoredBy?: string | null;
  readonly modelName: string;
  readonly modelVersion: number;
  /** The applicant as given, with canonical field names (stored as JSON). */
  readonly input: Readonly<Record<string, unknown>>;
  readonly risk: Risk;
  readonly probabilityBad: number;
  readonly confidence: number;
  readonly threshold: number;
  /** The reasons given to the applicant, most important first (a JSON array: text or objects). */
  readonly reasons: readonly unknown[];
  /** Any JSON explanation (e.g. feature contributions); absent or null when none was computed. */
  readonly explanation?: unknown;
}

/** What was later observed for an applicant: did the credit go good or bad. */
export interface Outcome {
  readonly decisionId: string;
  readonly outcome: Risk;
  readonly recordedAt: number;
  readonly recordedBy: string;
}

/** A stored decision with its outcome, when one has been recorded. */
export interface Decision extends NewDecision {
  readonly explanation: unknown;
  /**
   * When its personal fields were erased (retention or a request), or null: `input` then holds
   * only the fairness groups, as `{ $groups: { column: group } }`, and `reasons` is empty.
   */
  readonly erasedAt: number | null;
  readonly outcome: Outcome | null;
}

export interface ListDecisionsQuery {
  /** Inclusive lower bound on `createdAt` (ms). */
  readonly since?: number;
  /** Exclusive upper bound on `createdAt` (ms). */
  readonly until?: number;
  /** 1 to 1,000. */
  readonly limit: number;
  /** The `nextCursor` of the previous page: continue after that decision. */
  readonly after?: string;
  /** Only the decisions of this registered model. */
  readonly model?: string;
}

/** Decisions within [since, until) (either bound may be left open), of one model if given. */
export type DecisionRange = Pick<ListDecisionsQuery, "since" | "until" | "model">;

/** Newest first (by `createdAt`, then id). */
export interface DecisionPage {
  readonly decisions: Decision[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly nextCursor: string | null;
}

export interface BatchPage {
  /** Ordered by row number. */
  readonly decisions: Decision[];
  /** Decisions in the whole batch. */
  readonly total: number;
}

/** What a page of one batch's decisions can be sorted by. */
export const BATCH_SORT_KEYS = ["row", "risk", "probabilityBad", "confidence", "reason"] as const;
export type BatchSortKey = (typeof BATCH_SORT_KEYS)[number];

export interface BatchQuery {
  readonly offset: number;
  /** 1 to 1,000. */
  readonly limit: number;
  /** Default `row`; ties keep row order whichever way the key sorts. `risk` ascending: good first; `reason`: by the top reason's text. */
  readonly sort?: BatchSortKey;
  readonly direction?: "asc" | "desc";
  /** Only this risk class. */
  readonly risk?: Risk;
  /** Case-insensitive text of any reason, or the row number itself. */
  readonly search?: string;
}

export interface BatchQueryPage {
  readonly decisions: Decision[];
  /** Decisions matching the search and the risk filter. */
  readonly total: number;
  /** Decisions matching the search, by risk class (the risk filter not applied). */
  readonly counts: { readonly good: number; readonly bad: number };
}

/** A decision validated and serialised for the `decisions` table (`toDecisionRow`). */
export type DecisionRow = DecisionsTable;

/**
 * A `DecisionRow`'s values in `DECISION_COLUMNS` order (`decisionValues`): what crosses between
 * threads, as an array costs half what an object does to copy.
 */
export type DecisionTuple = readonly unknown[];

/**
 * Where the decision log commits its batches: one call is one transaction, all or nothing,
 * durable when the promise resolves. `SqlDecisionStore` is one; `SqliteWorkerAppender` is
 * another that keeps SQLite's fsync off the event loop. Rows arrive validated and serialised,
 * so a malformed decision is refused alone, at `append`, never inside someone else's batch.
 */
export interface DecisionAppender {
  appendRows(rows: readonly DecisionRow[]): Promise<void>;
  /**
   * One transaction fed chunk by chunk as `chunks` yields them, committed after the last one:
   * a large upload is written while the rest of it is still being scored. If `chunks` throws,
   * the transaction is rolled back and the error rethrown; nothing of it is stored.
   */
  appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<void>;
  /** Releases what the appender owns (never the database it was given). */
  close?(): Promise<void>;
}
