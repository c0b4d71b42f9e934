import { randomUUID } from "node:crypto";
import { type ExpressionBuilder, type Kysely, type SelectQueryBuilder, sql } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema } from "../storage/index.js";
import { type Field, type FilterNode, parseOrderBy, parseRunFilter } from "./search-filter.js";
import type {
  ArtifactEntry,
  DatasetInput,
  Experiment,
  LogBatch,
  MetricPoint,
  NewRun,
  ReapedRun,
  Run,
  RunInfo,
  RunPage,
  RunSearch,
  RunStatus,
} from "./types.js";
import { TERMINAL_STATUSES } from "./types.js";

type Db = Kysely<DatabaseSchema>;
type RunsQuery = SelectQueryBuilder<DatabaseSchema, "runs", object>;
type Eb = ExpressionBuilder<DatabaseSchema, "runs">;

const MAX_PAGE = 1000;

/** Random, URL-safe, sortable-enough ids (32 hex digits). */
export function newId(): string {
  return randomUUID().replaceAll("-", "");
}

/**
 * The tracking store on a SQL database. SQLite and Postgres run the same queries (Kysely
 * compiles them per dialect); what differs is data in `DialectProfile`. The store holds only
 * primitives; derived operations (heartbeats, reaping by process liveness, the run lifecycle)
 * live in `TrackingService`.
 */
export class SqlTrackingStore {
  private readonly db: Db;

  constructor(database: Database) {
    this.db = database.db;
  }

  // ---- experiments ------------------------------------------------------------------------

  async createExperiment(
    name: string,
    tags: Record<string, string> = {},
    now = Date.now(),
  ): Promise<Experiment> {
    checkName("experiment name", name);
    const id = newId();
    try {
      await this.db
        .insertInto("experiments")
        .values({
          id,
          name,
          lifecycle: "active",
          tags: JSON.stringify(tags),
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError(
          "CONFLICT",
          `experiment name "${name}" is taken (a deleted experiment keeps its name until it is purged)`,
        );
      }
      throw e;
    }
    return this.getExperiment(id);
  }

  /** By id or by name. */
  async getExperiment(idOrName: string): Promise<Experiment> {
    const row = await this.db
      .selectFrom("experiments")
      .selectAll()
      .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
      .orderBy(sql`CASE WHEN id = ${idOrName} THEN 0 ELSE 1 END`)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no experiment "${idOrName}"`);
    return toExperiment(row);
  }

  async findExperiment(idOrName: string): Promise<Experiment | null> {
    try {
      return await this.getExperiment(idOrName);
    } catch (e) {
      if (e instanceof AppError && e.code === "NOT_FOUND") return null;
      throw e;
    }
  }

  async listExperiments(includeDeleted = false): Promise<Experiment[]> {
    let q = this.db.selectFrom("experiments").selectAll().orderBy("created_at").orderBy("id");
    if (!includeDeleted) q = q.where("lifecycle", "=", "active");
    return (await q.execute()).map(toExperiment);
  }

  async setExperimentLifecycle(
    id: string,
    lifecycle: "active" | "deleted",
    now = Date.now(),
  ): Promise<Experiment> {
    const res = await this.db
      .updateTable("experiments")
      .set({ lifecycle, updated_at: now })
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new AppError("NOT_FOUND", `no experiment "${id}"`);
    return this.getExperiment(id);
  }

  async setExperimentTags(
    id: string,
    tags: Record<string, string>,
    now = Date.now(),
  ): Promise<Experiment> {
    const current = await this.getExperiment(id);
    await this.db
      .updateTable("experiments")
      .set({ tags: JSON.stringify({ ...current.tags, ...tags }), updated_at: now })
      .where("id", "=", current.id)
      .execute();
    return this.getExperiment(current.id);
  }

  /** Hard delete: the experiment, its runs and their data; the name becomes free. */
  async purgeExperiment(id: string): Promise<{ runIds: string[] }> {
    return this.db.transaction().execute(async (tx) => {
      const exp = await tx
        .selectFrom("experiments")
        .select("id")
        .where("id", "=", id)
        .executeTakeFirst();
      if (!exp) throw new AppError("NOT_FOUND", `no experiment "${id}"`);
      const registered = await tx
        .selectFrom("model_versions")
        .innerJoin("runs", "runs.id", "model_versions.run_id")
        .select(["model_versions.model_name", "model_versions.version"])
        .where("runs.experiment_id", "=", id)
        .execute();
      if (registered.length > 0) {
        throw new AppError(
          "CONFLICT",
          `experiment ${id} has runs behind registered model versions (${registered.map((r) => `${r.model_name}/${r.version}`).join(", ")}); it can be deleted, not purged`,
        );
      }
      const runIds = (
        await tx.selectFrom("runs").select("id").where("experiment_id", "=", id).execute()
      ).map((r) => r.id);
      await tx.deleteFrom("experiments").where("id", "=", id).execute();
      return { runIds };
    });
  }

  // ---- runs -------------------------------------------------------------------------------

  async createRun(run: NewRun): Promise<RunInfo> {
    checkName("run name", run.name);
    const experiment = await this.getExperiment(run.experimentId);
    if (experiment.lifecycle !== "active") {
      throw new AppError(
        "CONFLICT",
        `experiment "${experiment.name}" is deleted; restore it first`,
      );
    }
    if (run.parentRunId) {
      const parent = await this.getRunInfo(run.parentRunId);
      if (parent.experimentId !== experiment.id) {
        throw new AppError("CONFLICT", `parent run ${parent.id} belongs to another experiment`);
      }
    }
    const id = newId();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("runs")
        .values({
          id,
          experiment_id: experiment.id,
          name: run.name,
          status: "RUNNING",
          start_time: run.startTime,
          end_time: null,
          parent_run_id: run.parentRunId ?? null,
          code_version: run.codeVersion,
          package_version: run.packageVersion,
          owner: run.owner,
          heartbeat_at: run.startTime,
          status_reason: null,
        })
        .execute();
      const tags = Object.entries(run.tags ?? {});
      if (tags.length > 0) {
        await tx
          .insertInto("run_tags")
          .values(tags.map(([key, value]) => ({ run_id: id, key, value })))
          .execute();
      }
    });
    return this.getRunInfo(id);
  }

  async getRunInfo(id: string): Promise<RunInfo> {
    const row = await this.db
      .selectFrom("runs")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no run "${id}"`);
    return toRunInfo(row);
  }

  async getRun(id: string): Promise<Run> {
    const info = await this.getRunInfo(id);
    const [full] = await this.hydrate([info], true);
    return full;
  }

  /** Ends a RUNNING run. Ending an ended run is a conflict (its outcome is already recorded). */
  async endRun(id: string, status: RunStatus, endTime: number, reason: string | null = null) {
    if (!TERMINAL_STATUSES.includes(status)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `a run ends as ${TERMINAL_STATUSES.join(", ")}, not ${status}`,
      );
    }
    const res = await this.db
      .updateTable("runs")
      .set({ status, end_time: endTime, status_reason: reason })
      .where("id", "=", id)
      .where("status", "=", "RUNNING")
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      const info = await this.getRunInfo(id);
      throw new AppError("CONFLICT", `run ${id} already ended as ${info.status}`);
    }
    return this.getRunInfo(id);
  }

  async heartbeat(id: string, at: number): Promise<void> {
    await this.db
      .updateTable("runs")
      .set({ heartbeat_at: at })
      .where("id", "=", id)
      .where("status", "=", "RUNNING")
      .execute();
  }

  /** RUNNING runs with their owner and last heartbeat, for the reaper. */
  async listRunningRuns(): Promise<{ id: string; owner: string; heartbeatAt: number }[]> {
    const rows = await this.db
      .selectFrom("runs")
      .select(["id", "owner", "heartbeat_at"])
      .where("status", "=", "RUNNING")
      .execute();
    return rows.map((r) => ({ id: r.id, owner: r.owner, heartbeatAt: r.heartbeat_at }));
  }

  /** Ends one RUNNING run as reaped; false when it ended meanwhile. */
  async reapRun(run: ReapedRun, at: number): Promise<boolean> {
    const res = await this.db
      .updateTable("runs")
      .set({ status: run.status, end_time: at, status_reason: run.reason })
      .where("id", "=", run.id)
      .where("status", "=", "RUNNING")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Logs metrics, params and tags in one transaction. Params are write-once: the same value
   * again is a no-op, another value a CONFLICT. Metrics and params go only to RUNNING runs.
   */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = Object.entries(batch.params ?? {});
    const tags = Object.entries(batch.tags ?? {});
    for (const m of metrics) {
      if (!Number.isFinite(m.value)) {
        throw new AppError(
          "INVALID_ARGUMENT",
          `metric ${m.key}: value ${m.value} is not a finite number`,
        );
      }
      if (!Number.isInteger(m.step)) {
        throw new AppError("INVALID_ARGUMENT", `metric ${m.key}: step ${m.step} is not an integer`);
      }
      checkName("metric name", m.key);
    }
    for (const [key] of [...params, ...tags]) checkName("param or tag name", key);
    await this.db.transaction().execute(async (tx) => {
      const run = await tx
        .selectFrom("runs")
        .select(["status"])
        .where("id", "=", runId)
        .executeTakeFirst();
      if (!run) throw new AppError("NOT_FOUND", `no run "${runId}"`);
      if ((metrics.length > 0 || params.length > 0) && run.status !== "RUNNING") {
        throw new AppError(
          "CONFLICT",
          `run ${runId} has ended (${run.status}); metrics and params are closed`,
        );
      }
      if (params.length > 0) {
        const existing = new Map(
          (
            await tx
              .selectFrom("run_params")
              .select(["key", "value"])
              .where("run_id", "=", runId)
              .where(
                "key",
                "in",
                params.map(([k]) => k),
              )
              .execute()
          ).map((r) => [r.key, r.value]),
        );
        for (const [key, value] of params) {
          const old = existing.get(key);
          if (old !== undefined && old !== value) {
            throw new AppError(
              "CONFLICT",
              `param ${key} of run ${runId} is already "${old}"; params are write-once (got "${value}")`,
            );
          }
        }
        const fresh = params.filter(([key]) => !existing.has(key));
        if (fresh.length > 0) {
          await tx
            .insertInto("run_params")
            .values(fresh.map(([key, value]) => ({ run_id: runId, key, value })))
            .execute();
        }
      }
      if (tags.length > 0) {
        await tx
          .insertInto("run_tags")
          .values(tags.map(([key, value]) => ({ run_id: runId, key, value })))
          .onConflict((oc) =>
            oc
              .columns(["run_id", "key"])
              .doUpdateSet((eb) => ({ value: eb.ref("excluded.value") })),
          )
          .execute();
      }
      for (let i = 0; i < metrics.length; i += 500) {
        const chunk = metrics.slice(i, i + 500).map((m) => ({
          run_id: runId,
          key: m.key,
          value: m.value,
          step: m.step,
          timestamp: m.timestamp,
        }));
        await tx.insertInto("metrics").values(chunk).execute();
        // The latest point per key: the highest step, then the newest timestamp.
        for (const point of latestPerKey(chunk)) {
          await tx
            .insertInto("latest_metrics")
            .values(point)
            .onConflict((oc) =>
              oc
                .columns(["run_id", "key"])
                .doUpdateSet((eb) => ({
                  value: eb.ref("excluded.value"),
                  step: eb.ref("excluded.step"),
                  timestamp: eb.ref("excluded.timestamp"),
                }))
                .where((eb) =>
                  eb.or([
                    eb("excluded.step", ">", eb.ref("latest_metrics.step")),
                    eb.and([
                      eb("excluded.step", "=", eb.ref("latest_metrics.step")),
                      eb("excluded.timestamp", ">=", eb.ref("latest_metrics.timestamp")),
                    ]),
                  ]),
                ),
            )
            .execute();
        }
      }
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.getRunInfo(runId);
    await this.db
      .deleteFrom("run_tags")
      .where("run_id", "=", runId)
      .where("key", "=", key)
      .execute();
  }

  async logInputs(runId: string, inputs: readonly DatasetInput[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.getRunInfo(runId);
    await this.db
      .insertInto("run_inputs")
      .values(
        inputs.map((i) => ({
          run_id: runId,
          name: i.name,
          digest: i.digest,
          role: i.role,
          rows: i.rows,
        })),
      )
      .onConflict((oc) =>
        oc.columns(["run_id", "name", "role"]).doUpdateSet((eb) => ({
          digest: eb.ref("excluded.digest"),
          rows: eb.ref("excluded.rows"),
        })),
      )
      .execute();
  }

  async recordArtifact(runId: string, entry: ArtifactEntry): Promise<void> {
    await this.getRunInfo(runId);
    await this.db
      .insertInto("run_artifacts")
      .values({ run_id: runId, path: entry.path, size: entry.size, media_type: entry.mediaType })
      .onConflict((oc) =>
        oc.columns(["run_id", "path"]).doUpdateSet((eb) => ({
          size: eb.ref("excluded.size"),
          media_type: eb.ref("excluded.media_type"),
        })),
      )
      .execute();
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    await this.getRunInfo(runId);
    const rows = await this.db
      .selectFrom("metrics")
      .select(["key", "value", "step", "timestamp"])
      .where("run_id", "=", runId)
      .where("key", "=", key)
      .orderBy("step")
      .orderBy("timestamp")
      .orderBy("id")
      .execute();
    return rows;
  }

  // ---- search -----------------------------------------------------------------------------

  async searchRuns(search: RunSearch = {}): Promise<RunPage> {
    const filter = parseRunFilter(search.filter);
    const order = parseOrderBy(search.orderBy);
    const limit = search.maxResults ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new AppError("INVALID_QUERY", `maxResults must be an integer from 1 to ${MAX_PAGE}`);
    }
    const offset = decodePageToken(search.pageToken);

    const where = (q: RunsQuery): RunsQuery => {
      let out = q;
      if (search.experimentIds !== undefined) {
        if (search.experimentIds.length === 0) return out.where(sql<boolean>`1 = 0`);
        out = out.where("runs.experiment_id", "in", [...search.experimentIds]);
      } else {
        // All experiments means the active ones: a deleted experiment's runs stay out of view.
        out = out.where("runs.experiment_id", "in", (eb) =>
          eb.selectFrom("experiments").select("id").where("lifecycle", "=", "active"),
        );
      }
      if (filter) out = out.where((eb) => compileFilter(eb, filter));
      return out;
    };

    let q = where(this.db.selectFrom("runs") as RunsQuery).selectAll("runs");
    for (const key of order) {
      const expr = orderExpression(key.field);
      q = q.orderBy(sql`${expr} ${sql.raw(key.direction === "asc" ? "ASC" : "DESC")} NULLS LAST`);
    }
    if (!order.some((k) => k.field.type === "attribute" && k.field.key === "start_time")) {
      q = q.orderBy("runs.start_time", "desc");
    }
    q = q.orderBy("runs.id");
    const rows = (await q
      .limit(limit + 1)
      .offset(offset)
      .execute()) as DatabaseSchema["runs"][];
    const page = rows.slice(0, limit).map(toRunInfo);
    const runs = await this.hydrate(page, false);
    let total: number | undefined;
    if (search.withTotal) {
      const counted = await where(this.db.selectFrom("runs") as RunsQuery)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirst();
      total = Number((counted as { n: number } | undefined)?.n ?? 0);
    }
    return {
      runs,
      nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null,
      ...(total === undefined ? {} : { total }),
    };
  }

  /** Adds params, tags, latest metrics, inputs (and artifacts) to run infos, in 3–5 queries. */
  private async hydrate(infos: RunInfo[], withArtifacts: boolean): Promise<Run[]> {
    if (infos.length === 0) return [];
    const ids = infos.map((r) => r.id);
    const [params, tags, metrics, inputs, artifacts] = await Promise.all([
      this.db.selectFrom("run_params").selectAll().where("run_id", "in", ids).execute(),
      this.db.selectFrom("run_tags").selectAll().where("run_id", "in", ids).execute(),
      this.db.selectFrom("latest_metrics").selectAll().where("run_id", "in", ids).execute(),
      this.db.selectFrom("run_inputs").selectAll().where("run_id", "in", ids).execute(),
      withArtifacts
        ? this.db
            .selectFrom("run_artifacts")
            .selectAll()
            .where("run_id", "in", ids)
            .orderBy("path")
            .execute()
        : Promise.resolve([]),
    ]);
    const group = <T extends { run_id: string }>(rows: T[]) => {
      const map = new Map<string, T[]>();
      for (const row of rows) {
        const list = map.get(row.run_id);
        if (list) list.push(row);
        else map.set(row.run_id, [row]);
      }
      return map;
    };
    const [p, t, m, inp, art] = [
      group(params),
      group(tags),
      group(metrics),
      group(inputs),
      group(artifacts),
    ];
    return infos.map((info) => ({
      info,
      params: Object.fromEntries(sortByKey(p.get(info.id) ?? []).map((r) => [r.key, r.value])),
      tags: Object.fromEntries(sortByKey(t.get(info.id) ?? []).map((r) => [r.key, r.value])),
      metrics: Object.fromEntries(
        sortByKey(m.get(info.id) ?? []).map((r) => [
          r.key,
          { key: r.key, value: r.value, step: r.step, timestamp: r.timestamp },
        ]),
      ),
      inputs: (inp.get(info.id) ?? []).map((r) => ({
        name: r.name,
        digest: r.digest,
        role: r.role,
        rows: r.rows,
      })),
      artifacts: (art.get(info.id) ?? []).map((r) => ({
        path: r.path,
        size: r.size,
        mediaType: r.media_type,
      })),
    }));
  }
}

function sortByKey<T extends { key: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function latestPerKey<T extends { key: string; step: number; timestamp: number }>(
  points: T[],
): T[] {
  const best = new Map<string, T>();
  for (const p of points) {
    const b = best.get(p.key);
    if (!b || p.step > b.step || (p.step === b.step && p.timestamp >= b.timestamp))
      best.set(p.key, p);
  }
  return [...best.values()];
}

const KEY_VALUE_TABLE = { param: "run_params", tag: "run_tags" } as const;

/** Each condition becomes an EXISTS on its key-value table, so AND, OR and NOT compose freely. */
function compileFilter(eb: Eb, node: FilterNode): ReturnType<Eb["and"]> {
  switch (node.kind) {
    case "and":
      return eb.and(node.items.map((n) => compileFilter(eb, n)));
    case "or":
      return eb.or(node.items.map((n) => compileFilter(eb, n)));
    default:
      return compileCondition(eb, node);
  }
}

function compileCondition(eb: Eb, node: Exclude<FilterNode, { kind: "and" | "or" }>) {
  const { field } = node;
  const test = (column: string) => {
    switch (node.kind) {
      case "compare":
        return sql`${sql.ref(column)} ${sql.raw(node.op)} ${node.value}`;
      case "in":
        return sql`${sql.ref(column)} ${sql.raw(node.negate ? "NOT IN" : "IN")} (${sql.join(node.values.map((v) => sql`${v}`))})`;
      case "like":
        return sql`${sql.ref(column)} ${sql.raw(node.negate ? "NOT LIKE" : "LIKE")} ${node.pattern}`;
      case "null":
        return sql`${sql.ref(column)} ${sql.raw(node.negate ? "IS NOT NULL" : "IS NULL")}`;
    }
  };
  if (field.type === "attribute") return eb.and([sql<boolean>`${test(`runs.${field.key}`)}`]);
  if (node.kind === "null") {
    const exists = sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(tableOf(field))} k WHERE k.run_id = runs.id AND k.key = ${field.key})`;
    return eb.and([node.negate ? exists : sql<boolean>`NOT ${exists}`]);
  }
  return eb.and([
    sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(tableOf(field))} k WHERE k.run_id = runs.id AND k.key = ${field.key} AND ${test("k.value")})`,
  ]);
}

function tableOf(field: Field): string {
  return field.type === "metric"
    ? "latest_metrics"
    : KEY_VALUE_TABLE[field.type as "param" | "tag"];
}

function orderExpression(field: Field) {
  if (field.type === "attribute") return sql.ref(`runs.${field.key}`);
  return sql`(SELECT k.value FROM ${sql.table(tableOf(field))} k WHERE k.run_id = runs.id AND k.key = ${field.key})`;
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  try {
    const { o } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o: unknown };
    if (typeof o === "number" && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through to the error below
  }
  throw new AppError("INVALID_QUERY", `page token "${token}" is not one this server issued`);
}

function checkName(what: string, name: string): void {
  if (typeof name !== "string" || name.trim() === "" || name.length > 250) {
    throw new AppError("INVALID_ARGUMENT", `${what} must be 1–250 characters (got "${name}")`);
  }
}

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === "23505" ||
    err?.code === "SQLITE_CONSTRAINT_UNIQUE" ||
    err?.code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}

function toExperiment(row: DatabaseSchema["experiments"]): Experiment {
  return {
    id: row.id,
    name: row.name,
    lifecycle: row.lifecycle as Experiment["lifecycle"],
    tags: JSON.parse(row.tags) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRunInfo(row: DatabaseSchema["runs"]): RunInfo {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    name: row.name,
    status: row.status as RunStatus,
    startTime: row.start_time,
    endTime: row.end_time,
    parentRunId: row.parent_run_id,
    codeVersion: row.code_version,
    packageVersion: row.package_version,
    statusReason: row.status_reason,
  };
}
