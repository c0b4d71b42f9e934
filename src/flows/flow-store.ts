import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema, FlowRunsTable } from "../storage/index.js";
import { isUniqueViolation } from "../tracking/index.js";
import {
  FINAL_STATES,
  type FlowLogLine,
  type FlowParams,
  type FlowRun,
  type FlowState,
  type FlowStep,
  type FlowTrigger,
} from "./flow-types.js";

type Db = Kysely<DatabaseSchema>;

export interface NewFlowRun {
  readonly flow: string;
  readonly trigger: FlowTrigger;
  readonly scheduledFor: number;
  readonly params: FlowParams;
  readonly maxAttempts: number;
  readonly attempt?: number;
  readonly retryOf?: string | null;
  readonly requestedBy?: string | null;
  readonly createdAt: number;
}

/**
 * Flow runs and their logs in the metadata database (SQLite or Postgres, the same queries). A
 * scheduled run's slot is unique in the table, so however many schedulers see a slot come due,
 * one run is created for it. State changes are compare-and-set on the run's current state: a
 * run already finished, cancelled or declared crashed is never overwritten by a late writer.
 */
export class SqlFlowStore {
  private readonly db: Db;

  constructor(database: Database) {
    this.db = database.db;
  }

  /**
   * Creates a SCHEDULED run. A scheduled first attempt carries its slot; if that slot already
   * has a run, returns null (another scheduler was first).
   */
  async createRun(run: NewFlowRun): Promise<FlowRun | null> {
    const row: FlowRunsTable = {
      id: randomUUID(),
      flow: run.flow,
      state: "SCHEDULED",
      trigger: run.trigger,
      scheduled_for: run.scheduledFor,
      slot_key: run.trigger === "schedule" ? `${run.flow}@${run.scheduledFor}` : null,
      params: JSON.stringify(run.params),
      attempt: run.attempt ?? 1,
      max_attempts: run.maxAttempts,
      retry_of: run.retryOf ?? null,
      requested_by: run.requestedBy ?? null,
      created_at: run.createdAt,
      started_at: null,
      ended_at: null,
      heartbeat_at: null,
      worker: null,
      result: null,
      error: null,
      steps: "[]",
    };
    try {
      await this.db.insertInto("flow_runs").values(row).execute();
    } catch (e) {
      if (row.slot_key !== null && isUniqueViolation(e)) return null;
      throw e;
    }
    return fromRow(row);
  }

  async getRun(id: string): Promise<FlowRun> {
    const row = await this.db
      .selectFrom("flow_runs")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no flow run "${id}"`);
    return fromRow(row);
  }

  /** Newest first; optionally one flow's, or only runs in `states`. */
  async listRuns(
    query: { flow?: string; states?: readonly FlowState[]; limit?: number } = {},
  ): Promise<FlowRun[]> {
    let q = this.db.selectFrom("flow_runs").selectAll();
    if (query.flow) q = q.where("flow", "=", query.flow);
    if (query.states) q = q.where("state", "in", [...query.states]);
    const rows = await q
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(query.limit ?? 100)
      .execute();
    return rows.map(fromRow);
  }

  /** The latest slot a schedule has created a run for, or null if it never has. */
  async lastSlot(flow: string): Promise<number | null> {
    const row = await this.db
      .selectFrom("flow_runs")
      .select((eb) => eb.fn.max("scheduled_for").as("slot"))
      .where("flow", "=", flow)
      .where("trigger", "=", "schedule")
      .executeTakeFirst();
    return row?.slot === null || row?.slot === undefined ? null : Number(row.slot);
  }

  /** SCHEDULED runs due by `now`, oldest first. */
  async dueRuns(now: number, limit = 100): Promise<FlowRun[]> {
    const rows = await this.db
      .selectFrom("flow_runs")
      .selectAll()
      .where("state", "=", "SCHEDULED")
      .where("scheduled_for", "<=", now)
      .orderBy("scheduled_for")
      .orderBy("created_at")
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  /** SCHEDULED → RUNNING for `worker`; false if the run was no longer SCHEDULED. */
  async claim(id: string, worker: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable("flow_runs")
      .set({ state: "RUNNING", worker, started_at: now, heartbeat_at: now })
      .where("id", "=", id)
      .where("state", "=", "SCHEDULED")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** A running run's sign of life; false when it is no longer RUNNING (e.g. declared crashed). */
  async heartbeat(id: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable("flow_runs")
      .set({ heartbeat_at: now })
      .where("id", "=", id)
      .where("state", "=", "RUNNING")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setSteps(id: string, steps: readonly FlowStep[]): Promise<void> {
    await this.db
      .updateTable("flow_runs")
      .set({ steps: JSON.stringify(steps) })
      .where("id", "=", id)
      .execute();
  }

  /**
   * Ends a run: `from` (default RUNNING) → a final state, with its result or error. False when
   * the run was not in `from` any more (a crash was declared meanwhile): nothing is changed.
   */
  async finish(
    id: string,
    end: { state: FlowState; at: number; result?: unknown; error?: string | null },
    from: FlowState = "RUNNING",
  ): Promise<boolean> {
    if (!FINAL_STATES.includes(end.state)) {
      throw new AppError("INVALID_ARGUMENT", `${end.state} is not a final state`);
    }
    const res = await this.db
      .updateTable("flow_runs")
      .set({
        state: end.state,
        ended_at: end.at,
        result: end.result === undefined ? null : JSON.stringify(end.result),
        error: end.error ?? null,
      })
      .where("id", "=", id)
      .where("state", "=", from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /**
   * Cancels a run that has not ended: SCHEDULED runs never start, a RUNNING run's worker sees
   * it at its next heartbeat and stops. False when the run had already ended.
   */
  async cancel(id: string, by: string, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("flow_runs")
      .set({ state: "CANCELLED", ended_at: at, error: `cancelled by ${by}` })
      .where("id", "=", id)
      .where("state", "in", ["SCHEDULED", "PENDING", "RUNNING"])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** RUNNING runs whose last heartbeat is older than `before`. */
  async staleRuns(before: number): Promise<FlowRun[]> {
    const rows = await this.db
      .selectFrom("flow_runs")
      .selectAll()
      .where("state", "=", "RUNNING")
      .where("heartbeat_at", "<", before)
      .execute();
    return rows.map(fromRow);
  }

  async appendLogs(id: string, lines: readonly FlowLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db
      .insertInto("flow_logs")
      .values(lines.map((l) => ({ run_id: id, ...l })))
      .execute();
  }

  async lastLogSeq(id: string): Promise<number> {
    const row = await this.db
      .selectFrom("flow_logs")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .where("run_id", "=", id)
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async logs(id: string): Promise<FlowLogLine[]> {
    const rows = await this.db
      .selectFrom("flow_logs")
      .select(["seq", "at", "level", "message"])
      .where("run_id", "=", id)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({
      seq: r.seq,
      at: Number(r.at),
      level: r.level as FlowLogLine["level"],
      message: r.message,
    }));
  }

  /** Retention: deletes finished runs (and their logs) that ended before `before`. */
  async purgeFinished(before: number): Promise<number> {
    const old = this.db
      .selectFrom("flow_runs")
      .select("id")
      .where("state", "in", [...FINAL_STATES])
      .where("ended_at", "<", before);
    await this.db.deleteFrom("flow_logs").where("run_id", "in", old).execute();
    const res = await this.db
      .deleteFrom("flow_runs")
      .where("state", "in", [...FINAL_STATES])
      .where("ended_at", "<", before)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function num(v: number | null): number | null {
  return v === null ? null : Number(v);
}

function fromRow(row: FlowRunsTable): FlowRun {
  return {
    id: row.id,
    flow: row.flow,
    state: row.state as FlowState,
    trigger: row.trigger as FlowTrigger,
    scheduledFor: Number(row.scheduled_for),
    params: JSON.parse(row.params) as FlowParams,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    retryOf: row.retry_of,
    requestedBy: row.requested_by,
    createdAt: Number(row.created_at),
    startedAt: num(row.started_at),
    endedAt: num(row.ended_at),
    heartbeatAt: num(row.heartbeat_at),
    worker: row.worker,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    error: row.error,
    steps: JSON.parse(row.steps) as FlowStep[],
  };
}
