import { type Kysely, sql } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema, DialectProfile } from "../storage/index.js";
import { isUniqueViolation } from "../tracking/index.js";
import { fromDecisionRow, fromDecisionValues, toDecisionRow, toOutcome } from "./decision-rows.js";
import {
  BATCH_SORT_KEYS,
  type BatchPage,
  type BatchQuery,
  type BatchQueryPage,
  type Decision,
  type DecisionAppender,
  type DecisionPage,
  type DecisionRange,
  type DecisionRow,
  type DecisionTuple,
  type ListDecisionsQuery,
  type NewDecision,
  type Outcome,
  RISKS,
  type Risk,
} from "./types.js";

type Db = Kysely<DatabaseSchema>;

/**
 * Rows per INSERT: 15,000 bound values, under SQLite's 32,766 and Postgres's 65,535, so a whole
 * group commit (at most 1,000 by default) is one statement; Kysely compiles large inserts
 * cheaper per row than small ones.
 */
const INSERT_CHUNK = 1000;
const MAX_PAGE = 1000;
/** A scored file is exported page by page; larger pages keep that to few queries. */
const MAX_BATCH_PAGE = 10_000;

/**
 * The decision log on a SQL database (SQLite or Postgres, the same queries). Decisions and
 * outcomes are append-only: the database refuses UPDATE and DELETE with triggers, and this
 * store only ever inserts. Writes normally go through `DecisionLog`, which groups concurrent
 * decisions into one commit.
 */
export class SqlDecisionStore implements DecisionAppender {
  private readonly db: Db;
  private readonly dialect: DialectProfile;

  constructor(database: Database) {
    this.db = database.db;
    this.dialect = database.dialect;
  }

  /** Stores decisions in one transaction, all or nothing; a taken id is a CONFLICT. */
  async appendBatch(decisions: readonly NewDecision[]): Promise<void> {
    await this.appendRows(decisions.map(toDecisionRow));
  }

  /** `appendBatch` for rows already validated by `toDecisionRow` (the `DecisionLog` path). */
  async appendRows(rows: readonly DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (rows.length > INSERT_CHUNK) return this.insertChunks(once(rows));
    // One statement is its own transaction: no BEGIN/COMMIT round trips.
    await conflictIfTaken(this.db.insertInto("decisions").values(rows).execute());
  }

  /** `appendRows` of rows that arrive in chunks, all in one transaction. */
  async appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<void> {
    await this.insertChunks(asRows(chunks));
  }

  private async insertChunks(chunks: AsyncIterable<readonly DecisionRow[]>): Promise<void> {
    await conflictIfTaken(
      this.db.transaction().execute(async (tx) => {
        for await (const rows of chunks) {
          for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
            await tx
              .insertInto("decisions")
              .values(rows.slice(at, at + INSERT_CHUNK))
              .execute();
          }
        }
      }),
    );
  }

  /** A decision with its outcome, if one has been recorded. */
  async getDecision(id: string): Promise<Decision> {
    const row = await this.selectDecisions().where("decisions.id", "=", id).executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no decision "${id}"`);
    return fromDecisionRow(row);
  }

  /** Newest first (by `createdAt`, then id), optionally within [since, until). */
  async listDecisions(query: ListDecisionsQuery): Promise<DecisionPage> {
    checkLimit(query.limit);
    for (const key of ["since", "until"] as const) {
      const v = query[key];
      if (v !== undefined && !Number.isSafeInteger(v)) {
        throw new AppError("INVALID_ARGUMENT", `${key} must be integer milliseconds`);
      }
    }
    let q = this.selectDecisions();
    if (query.since !== undefined) q = q.where("decisions.created_at", ">=", query.since);
    if (query.until !== undefined) q = q.where("decisions.created_at", "<", query.until);
    if (query.model !== undefined) q = q.where("decisions.model_name", "=", query.model);
    if (query.after !== undefined) {
      const cursor = await this.db
        .selectFrom("decisions")
        .select(["created_at", "id"])
        .where("id", "=", query.after)
        .executeTakeFirst();
      if (!cursor) {
        throw new AppError("INVALID_ARGUMENT", `cursor "${query.after}" names no decision`);
      }
      const at = Number(cursor.created_at);
      q = q.where((eb) =>
        eb(eb.refTuple("decisions.created_at", "decisions.id"), "<", eb.tuple(at, cursor.id)),
      );
    }
    const rows = await q
      .orderBy("decisions.created_at", "desc")
      .orderBy("decisions.id", "desc")
      .limit(query.limit + 1)
      .execute();
    const decisions = rows.slice(0, query.limit).map(fromDecisionRow);
    return {
      decisions,
      nextCursor: rows.length > query.limit ? decisions[decisions.length - 1].id : null,
    };
  }

  /** Every decision of the range, newest first, at most `max`, a page at a time. */
  async *pagesOfRange(range: DecisionRange, max = Infinity): AsyncGenerator<Decision[]> {
    let left = max;
    let after: string | undefined;
    while (left > 0) {
      const page = await this.listDecisions({ ...range, limit: Math.min(MAX_PAGE, left), after });
      if (page.decisions.length > 0) yield page.decisions;
      left -= page.decisions.length;
      if (page.nextCursor === null) return;
      after = page.nextCursor;
    }
  }

  /** `pagesOfRange` collected (for windows known to be small). */
  async readRange(range: DecisionRange, max = Infinity): Promise<Decision[]> {
    const out: Decision[] = [];
    for await (const page of this.pagesOfRange(range, max)) out.push(...page);
    return out;
  }

  /** How many decisions the range holds. */
  async countRange(range: DecisionRange): Promise<number> {
    let q = this.db.selectFrom("decisions").select((eb) => eb.fn.countAll<number>().as("n"));
    if (range.since !== undefined) q = q.where("created_at", ">=", range.since);
    if (range.until !== undefined) q = q.where("created_at", "<", range.until);
    if (range.model !== undefined) q = q.where("model_name", "=", range.model);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** A page of one file upload's decisions in row order, and how many the upload has. */
  async listBatch(
    batchId: string,
    page: { readonly offset: number; readonly limit: number },
  ): Promise<BatchPage> {
    checkLimit(page.limit, MAX_BATCH_PAGE);
    if (!Number.isSafeInteger(page.offset) || page.offset < 0) {
      throw new AppError("INVALID_ARGUMENT", "offset must be a non-negative integer");
    }
    const [rows, count] = await Promise.all([
      this.selectDecisions()
        .where("decisions.batch_id", "=", batchId)
        .orderBy("decisions.row_number")
        .orderBy("decisions.id")
        .limit(page.limit)
        .offset(page.offset)
        .execute(),
      this.db
        .selectFrom("decisions")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("batch_id", "=", batchId)
        .executeTakeFirstOrThrow(),
    ]);
    return { decisions: rows.map(fromDecisionRow), total: Number(count.n) };
  }

  /**
   * A page of one batch's decisions, sorted and filtered in the database (the Risk-O-Meter's
   * results table over a file of any size), with how many match.
   */
  async queryBatch(batchId: string, query: BatchQuery): Promise<BatchQueryPage> {
    checkLimit(query.limit);
    if (!Number.isSafeInteger(query.offset) || query.offset < 0) {
      throw new AppError("INVALID_ARGUMENT", "offset must be a non-negative integer");
    }
    const sort = query.sort ?? "row";
    if (!BATCH_SORT_KEYS.includes(sort)) {
      throw new AppError("INVALID_ARGUMENT", `sort must be one of ${BATCH_SORT_KEYS.join(", ")}`);
    }
    if (query.risk !== undefined && !RISKS.includes(query.risk)) {
      throw new AppError("INVALID_ARGUMENT", `risk must be one of ${RISKS.join(", ")}`);
    }
    const direction = query.direction ?? "asc";
    if (direction !== "asc" && direction !== "desc") {
      throw new AppError("INVALID_ARGUMENT", "direction must be asc or desc");
    }
    const reason = (i: number) => this.dialect.jsonArrayText("decisions.reasons", i, "text");
    const search = query.search?.trim().toLowerCase() ?? "";
    const matches = () => {
      if (search === "") return null;
      // LIKE with the user's text taken literally: its own wildcards escaped.
      const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const texts = sql.raw(
        [0, 1, 2].map((i) => `coalesce(${reason(i)}, '')`).join(` || ' | ' || `),
      );
      const row = /^\d{1,9}$/.test(search) ? Number(search) : -1;
      return sql<boolean>`(lower(${texts}) LIKE ${pattern} ESCAPE '\\' OR decisions.row_number = ${row})`;
    };
    const filter = matches();
    // The page's ids first, sorting narrow rows; then those rows whole. Sorting whole rows (the
    // input and reasons JSON) to skip tens of thousands of them costs seconds on a large file.
    let ids = this.db
      .selectFrom("decisions")
      .select("decisions.id")
      .where("decisions.batch_id", "=", batchId);
    let counting = this.db
      .selectFrom("decisions")
      .select(["risk", (eb) => eb.fn.countAll<number>().as("n")])
      .where("batch_id", "=", batchId)
      .groupBy("risk");
    if (filter) {
      ids = ids.where(filter);
      counting = counting.where(filter);
    }
    if (query.risk) ids = ids.where("decisions.risk", "=", query.risk);
    const key =
      sort === "row"
        ? sql.ref("decisions.row_number")
        : sort === "risk"
          ? sql`CASE WHEN decisions.risk = 'bad' THEN 1 ELSE 0 END`
          : sort === "probabilityBad"
            ? sql.ref("decisions.probability_bad")
            : sort === "confidence"
              ? sql.ref("decisions.confidence")
              : sql`coalesce(${sql.raw(reason(0))}, '')`;
    const [pageIds, byRisk] = await Promise.all([
      ids
        .orderBy(key, direction)
        .orderBy("decisions.row_number")
        .orderBy("decisions.id")
        .limit(query.limit)
        .offset(query.offset)
        .execute(),
      counting.execute(),
    ]);
    const order = new Map(pageIds.map((r, i) => [r.id, i]));
    const rows =
      pageIds.length === 0
        ? []
        : await this.selectDecisions()
            .where(
              "decisions.id",
              "in",
              pageIds.map((r) => r.id),
            )
            .execute();
    rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    const counts = { good: 0, bad: 0 };
    for (const r of byRisk) counts[r.risk as Risk] = Number(r.n);
    return {
      decisions: rows.map(fromDecisionRow),
      total: query.risk ? counts[query.risk] : counts.good + counts.bad,
      counts,
    };
  }

  /**
   * Records what happened to the applicant. Write-once: a second outcome is a CONFLICT (the
   * table refuses updates anyway); an unknown decision is NOT_FOUND.
   */
  async recordOutcome(
    decisionId: string,
    outcome: Risk,
    recordedBy: string,
    recordedAt: number = Date.now(),
  ): Promise<Outcome> {
    if (!RISKS.includes(outcome)) {
      throw new AppError("INVALID_ARGUMENT", `outcome must be one of ${RISKS.join(", ")}`);
    }
    if (typeof recordedBy !== "string" || recordedBy.length === 0) {
      throw new AppError("INVALID_ARGUMENT", "recordedBy must name who recorded the outcome");
    }
    if (!Number.isSafeInteger(recordedAt) || recordedAt < 0) {
      throw new AppError("INVALID_ARGUMENT", "recordedAt must be integer milliseconds");
    }
    // Decisions are never deleted, so one that exists now still exists at the insert.
    const decision = await this.db
      .selectFrom("decisions")
      .select("id")
      .where("id", "=", decisionId)
      .executeTakeFirst();
    if (!decision) throw new AppError("NOT_FOUND", `no decision "${decisionId}"`);
    const row = {
      decision_id: decisionId,
      outcome,
      recorded_at: recordedAt,
      recorded_by: recordedBy,
    };
    try {
      await this.db.insertInto("outcomes").values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        const existing = await this.db
          .selectFrom("outcomes")
          .selectAll()
          .where("decision_id", "=", decisionId)
          .executeTakeFirst();
        throw new AppError(
          "CONFLICT",
          `decision ${decisionId} already has an outcome (${existing?.outcome ?? "?"}, recorded by ${existing?.recorded_by ?? "?"}); outcomes are write-once`,
        );
      }
      throw e;
    }
    return toOutcome(row);
  }

  async countDecisions(): Promise<number> {
    const row = await this.db
      .selectFrom("decisions")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private selectDecisions() {
    return this.db
      .selectFrom("decisions")
      .leftJoin("outcomes", "outcomes.decision_id", "decisions.id")
      .selectAll("decisions")
      .select(["outcomes.outcome", "outcomes.recorded_at", "outcomes.recorded_by"]);
  }
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

async function* asRows(
  chunks: AsyncIterable<readonly DecisionTuple[]>,
): AsyncGenerator<DecisionRow[]> {
  for await (const tuples of chunks) yield tuples.map(fromDecisionValues);
}

/** A taken decision id is the caller's CONFLICT, not a store failure. */
async function conflictIfTaken(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw new AppError("CONFLICT", "a decision with one of these ids is already logged", {
        cause: e,
      });
    }
    throw e;
  }
}

function checkLimit(limit: number, max = MAX_PAGE): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new AppError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${max}`);
  }
}
