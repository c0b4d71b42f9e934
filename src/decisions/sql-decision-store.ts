import type { Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema } from "../storage/index.js";
import { isUniqueViolation } from "../tracking/index.js";
import { fromDecisionRow, toDecisionRow, toOutcome } from "./decision-rows.js";
import {
  type BatchPage,
  type Decision,
  type DecisionAppender,
  type DecisionPage,
  type DecisionRow,
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

  constructor(database: Database) {
    this.db = database.db;
  }

  /** Stores decisions in one transaction, all or nothing; a taken id is a CONFLICT. */
  async appendBatch(decisions: readonly NewDecision[]): Promise<void> {
    await this.appendRows(decisions.map(toDecisionRow));
  }

  /** `appendBatch` for rows already validated by `toDecisionRow` (the `DecisionLog` path). */
  async appendRows(rows: readonly DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      if (rows.length <= INSERT_CHUNK) {
        // One statement is its own transaction: no BEGIN/COMMIT round trips.
        await this.db.insertInto("decisions").values(rows).execute();
        return;
      }
      await this.db.transaction().execute(async (tx) => {
        for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
          await tx
            .insertInto("decisions")
            .values(rows.slice(at, at + INSERT_CHUNK))
            .execute();
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError("CONFLICT", "a decision with one of these ids is already logged", {
          cause: e,
        });
      }
      throw e;
    }
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

function checkLimit(limit: number, max = MAX_PAGE): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new AppError("INVALID_ARGUMENT", `limit must be an integer from 1 to ${max}`);
  }
}
