import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { AppError } from "../core/errors.js";

export type DialectName = "sqlite" | "postgres";

/**
 * What differs between the two databases, as data: the few column types and statements that
 * cannot be written once. Everything else (tables, indexes, queries) is shared.
 */
export interface DialectProfile {
  readonly name: DialectName;
  /** Integer milliseconds and counters (64-bit in Postgres). */
  readonly bigint: "integer" | "bigint";
  readonly double: "real" | "double precision";
  /** An auto-incrementing primary key column type. */
  readonly serial: "integer" | "bigserial";
  /** Statements that make a table refuse UPDATE and DELETE. */
  appendOnly(table: string): string[];
  /**
   * Statements that loosen a table made by `appendOnly` for one kind of update: setting
   * `erased_at` once (and the columns a caller erases), with every column in `kept` unchanged.
   * DELETE stays refused.
   */
  erasableOnce(table: string, kept: readonly string[]): string[];
  /**
   * SQL for the text at `array[index][key]` of a JSON array stored in a text column (NULL when
   * absent). `column`, `index` and `key` are the caller's constants, never user input.
   */
  jsonArrayText(column: string, index: number, key: string): string;
}

export const DIALECTS: Record<DialectName, DialectProfile> = {
  sqlite: {
    name: "sqlite",
    bigint: "integer",
    double: "real",
    serial: "integer",
    appendOnly: (t) => [
      `CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END`,
      `CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, '${t} is append-only'); END`,
    ],
    jsonArrayText: (column, index, key) => `json_extract(${column}, '$[${index}].${key}')`,
    erasableOnce: (t, kept) => [
      `DROP TRIGGER ${t}_no_update`,
      `CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} WHEN NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL${kept.map((c) => ` AND NEW.${c} IS OLD.${c}`).join("")}) BEGIN SELECT RAISE(ABORT, '${t} is append-only: only the erasure of personal fields may change a row, once'); END`,
    ],
  },
  postgres: {
    name: "postgres",
    bigint: "bigint",
    double: "double precision",
    serial: "bigserial",
    appendOnly: (t) => [
      `CREATE FUNCTION ${t}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${t} is append-only'; END $$`,
      `CREATE TRIGGER ${t}_no_change BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_refuse_change()`,
    ],
    jsonArrayText: (column, index, key) => `(${column}::jsonb -> ${index} ->> '${key}')`,
    erasableOnce: (t, kept) => [
      `CREATE OR REPLACE FUNCTION ${t}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL${kept.map((c) => ` AND NEW.${c} IS NOT DISTINCT FROM OLD.${c}`).join("")} THEN RETURN NEW; END IF; RAISE EXCEPTION '${t} is append-only: only the erasure of personal fields may change a row, once'; END $$`,
    ],
  },
};

/** What erasing a decision keeps: everything but `input`, `reasons` and `explanation`. */
export const DECISION_KEPT_COLUMNS = [
  "id",
  "created_at",
  "request_id",
  "batch_id",
  "row_number",
  "source",
  "model_name",
  "model_version",
  "risk",
  "probability_bad",
  "confidence",
  "threshold",
  "scored_by",
] as const;

/** Numbered migrations; a released migration is never edited, only followed by a new one. */
export function migrations(d: DialectProfile): Record<string, Migration> {
  return {
    "0001_tracking_and_registry": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("experiments")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("lifecycle", "text", (c) => c.notNull())
          .addColumn("tags", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("updated_at", d.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("runs")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("experiment_id", "text", (c) =>
            c.notNull().references("experiments.id").onDelete("cascade"),
          )
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("start_time", d.bigint, (c) => c.notNull())
          .addColumn("end_time", d.bigint)
          .addColumn("parent_run_id", "text")
          .addColumn("code_version", "text")
          .addColumn("package_version", "text", (c) => c.notNull())
          .addColumn("owner", "text", (c) => c.notNull())
          .addColumn("heartbeat_at", d.bigint, (c) => c.notNull())
          .addColumn("status_reason", "text")
          .execute();
        await db.schema
          .createIndex("runs_by_experiment")
          .on("runs")
          .columns(["experiment_id", "start_time"])
          .execute();
        await db.schema.createIndex("runs_by_status").on("runs").column("status").execute();
        await db.schema.createIndex("runs_by_parent").on("runs").column("parent_run_id").execute();
        for (const table of ["run_tags", "run_params"]) {
          await db.schema
            .createTable(table)
            .addColumn("run_id", "text", (c) =>
              c.notNull().references("runs.id").onDelete("cascade"),
            )
            .addColumn("key", "text", (c) => c.notNull())
            .addColumn("value", "text", (c) => c.notNull())
            .addPrimaryKeyConstraint(`${table}_pk`, ["run_id", "key"])
            .execute();
          await db.schema
            .createIndex(`${table}_by_key`)
            .on(table)
            .columns(["key", "value"])
            .execute();
        }
        await db.schema
          .createTable("metrics")
          .addColumn("id", d.serial, (c) =>
            d.name === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
          .addColumn("key", "text", (c) => c.notNull())
          .addColumn("value", d.double, (c) => c.notNull())
          .addColumn("step", d.bigint, (c) => c.notNull())
          .addColumn("timestamp", d.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("metrics_history")
          .on("metrics")
          .columns(["run_id", "key", "step"])
          .execute();
        await db.schema
          .createTable("latest_metrics")
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
          .addColumn("key", "text", (c) => c.notNull())
          .addColumn("value", d.double, (c) => c.notNull())
          .addColumn("step", d.bigint, (c) => c.notNull())
          .addColumn("timestamp", d.bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint("latest_metrics_pk", ["run_id", "key"])
          .execute();
        await db.schema
          .createIndex("latest_metrics_by_key")
          .on("latest_metrics")
          .columns(["key", "value"])
          .execute();
        await db.schema
          .createTable("run_inputs")
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("digest", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("rows", d.bigint)
          .addPrimaryKeyConstraint("run_inputs_pk", ["run_id", "name", "role"])
          .execute();
        await db.schema
          .createTable("run_artifacts")
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id").onDelete("cascade"))
          .addColumn("path", "text", (c) => c.notNull())
          .addColumn("size", d.bigint, (c) => c.notNull())
          .addColumn("media_type", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("run_artifacts_pk", ["run_id", "path"])
          .execute();

        await db.schema
          .createTable("registered_models")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("tags", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("updated_at", d.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("model_versions")
          .addColumn("model_name", "text", (c) =>
            c.notNull().references("registered_models.name").onDelete("cascade"),
          )
          .addColumn("version", "integer", (c) => c.notNull())
          // A version outlives neither its run nor its artifact: runs with versions cannot be
          // hard-deleted (no cascade here).
          .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
          .addColumn("artifact_path", "text", (c) => c.notNull())
          .addColumn("sha256", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("tags", "text", (c) => c.notNull())
          .addColumn("signature", "text", (c) => c.notNull())
          .addColumn("input_example", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint("model_versions_pk", ["model_name", "version"])
          .execute();
        await db.schema
          .createTable("model_aliases")
          .addColumn("model_name", "text", (c) =>
            c.notNull().references("registered_models.name").onDelete("cascade"),
          )
          .addColumn("alias", "text", (c) => c.notNull())
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("updated_at", d.bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint("model_aliases_pk", ["model_name", "alias"])
          .addForeignKeyConstraint(
            "model_aliases_version_fk",
            ["model_name", "version"],
            "model_versions",
            ["model_name", "version"],
          )
          .execute();
        await db.schema
          .createTable("alias_audit")
          .addColumn("id", d.serial, (c) =>
            d.name === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("model_name", "text", (c) => c.notNull())
          .addColumn("alias", "text", (c) => c.notNull())
          .addColumn("from_version", "integer")
          .addColumn("to_version", "integer")
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("actor_role", "text", (c) => c.notNull())
          .addColumn("note", "text", (c) => c.notNull())
          .addColumn("self_approved", "integer", (c) => c.notNull())
          .addColumn("bootstrap", "integer", (c) => c.notNull())
          .addColumn("at", d.bigint, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("alias_audit_by_model")
          .on("alias_audit")
          .columns(["model_name", "id"])
          .execute();
        for (const statement of d.appendOnly("alias_audit")) await sql.raw(statement).execute(db);

        await db.schema
          .createTable("users")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("disabled_at", d.bigint)
          .execute();
        await db.schema
          .createTable("api_tokens")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_name", "text", (c) =>
            c.notNull().references("users.name").onDelete("cascade"),
          )
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("label", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("revoked_at", d.bigint)
          .execute();
      },
    },
    "0002_decision_log": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("decisions")
          // NOT NULL spelled out: SQLite lets a non-integer primary key hold NULL.
          .addColumn("id", "text", (c) => c.primaryKey().notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("request_id", "text", (c) => c.notNull())
          .addColumn("batch_id", "text")
          .addColumn("row_number", "integer")
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("model_name", "text", (c) => c.notNull())
          .addColumn("model_version", "integer", (c) => c.notNull())
          .addColumn("input", "text", (c) => c.notNull())
          .addColumn("risk", "text", (c) => c.notNull())
          .addColumn("probability_bad", d.double, (c) => c.notNull())
          .addColumn("confidence", d.double, (c) => c.notNull())
          .addColumn("threshold", d.double, (c) => c.notNull())
          .addColumn("reasons", "text", (c) => c.notNull())
          .addColumn("explanation", "text")
          .execute();
        // (created_at, id): time-range listings, with the id as the tie-break of the cursor.
        await db.schema
          .createIndex("decisions_by_time")
          .on("decisions")
          .columns(["created_at", "id"])
          .execute();
        await db.schema
          .createIndex("decisions_by_batch")
          .on("decisions")
          .columns(["batch_id", "row_number"])
          .execute();
        for (const statement of d.appendOnly("decisions")) await sql.raw(statement).execute(db);

        await db.schema
          .createTable("outcomes")
          .addColumn("decision_id", "text", (c) =>
            c.primaryKey().notNull().references("decisions.id"),
          )
          .addColumn("outcome", "text", (c) => c.notNull())
          .addColumn("recorded_at", d.bigint, (c) => c.notNull())
          .addColumn("recorded_by", "text", (c) => c.notNull())
          .execute();
        for (const statement of d.appendOnly("outcomes")) await sql.raw(statement).execute(db);
      },
    },
    "0003_flow_runs": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("flow_runs")
          .addColumn("id", "text", (c) => c.primaryKey().notNull())
          .addColumn("flow", "text", (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("trigger", "text", (c) => c.notNull())
          .addColumn("scheduled_for", d.bigint, (c) => c.notNull())
          // One row per schedule slot, whoever schedules it: the database refuses a second.
          .addColumn("slot_key", "text", (c) => c.unique())
          .addColumn("params", "text", (c) => c.notNull())
          .addColumn("attempt", "integer", (c) => c.notNull())
          .addColumn("max_attempts", "integer", (c) => c.notNull())
          .addColumn("retry_of", "text")
          .addColumn("requested_by", "text")
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("started_at", d.bigint)
          .addColumn("ended_at", d.bigint)
          .addColumn("heartbeat_at", d.bigint)
          .addColumn("worker", "text")
          .addColumn("result", "text")
          .addColumn("error", "text")
          .addColumn("steps", "text", (c) => c.notNull())
          .execute();
        // Due runs by state and time (claiming), and each flow's history newest first.
        await db.schema
          .createIndex("flow_runs_due")
          .on("flow_runs")
          .columns(["state", "scheduled_for"])
          .execute();
        await db.schema
          .createIndex("flow_runs_by_flow")
          .on("flow_runs")
          .columns(["flow", "created_at"])
          .execute();
        await db.schema
          .createTable("flow_logs")
          .addColumn("run_id", "text", (c) =>
            c.notNull().references("flow_runs.id").onDelete("cascade"),
          )
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("at", d.bigint, (c) => c.notNull())
          .addColumn("level", "text", (c) => c.notNull())
          .addColumn("message", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("flow_logs_pk", ["run_id", "seq"])
          .execute();
      },
    },
    "0004_token_expiry": {
      async up(db: Kysely<unknown>) {
        // Tokens issued before this keep working until revoked (null: no expiry).
        await db.schema.alterTable("api_tokens").addColumn("expires_at", d.bigint).execute();
      },
    },
    "0005_sign_in": {
      async up(db: Kysely<unknown>) {
        // A user without one signs in only through a one-time link (the first admin) or SSO.
        await db.schema.alterTable("users").addColumn("password_hash", "text").execute();
        // Browser sessions and one-time sign-in links; only SHA-256 of their secrets is kept.
        await db.schema
          .createTable("sessions")
          .addColumn("id_hash", "text", (c) => c.primaryKey().notNull())
          .addColumn("user_name", "text", (c) => c.notNull().references("users.name"))
          .addColumn("csrf_token", "text", (c) => c.notNull())
          .addColumn("via", "text", (c) => c.notNull())
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("last_seen_at", d.bigint, (c) => c.notNull())
          .addColumn("ended_at", d.bigint)
          .execute();
        await db.schema
          .createTable("sign_in_links")
          .addColumn("id_hash", "text", (c) => c.primaryKey().notNull())
          .addColumn("user_name", "text", (c) => c.notNull().references("users.name"))
          .addColumn("created_at", d.bigint, (c) => c.notNull())
          .addColumn("expires_at", d.bigint, (c) => c.notNull())
          .addColumn("used_at", d.bigint)
          .execute();
      },
    },
    "0006_access_log_and_erasure": {
      async up(db: Kysely<unknown>) {
        // Who read or changed applicants' data, when and from where; never the data itself.
        await db.schema
          .createTable("access_log")
          .addColumn("id", "text", (c) => c.primaryKey().notNull())
          .addColumn("at", d.bigint, (c) => c.notNull())
          .addColumn("user_name", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("target", "text")
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("address", "text", (c) => c.notNull())
          .addColumn("detail", "text")
          .execute();
        await db.schema
          .createIndex("access_log_by_time")
          .on("access_log")
          .columns(["at", "id"])
          .execute();
        for (const statement of d.appendOnly("access_log")) await sql.raw(statement).execute(db);
        // Retention and erasure on request: a decision's personal fields may be erased, once;
        // what monitoring needs stays (scores, risk, model, time, and the fairness groups).
        await db.schema.alterTable("decisions").addColumn("erased_at", d.bigint).execute();
        // Who scored each decision, written with it (the access log counts scoring requests).
        await db.schema.alterTable("decisions").addColumn("scored_by", "text").execute();
        for (const statement of d.erasableOnce("decisions", DECISION_KEPT_COLUMNS)) {
          await sql.raw(statement).execute(db);
        }
      },
    },
  };
}

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly list: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.list;
  }
}

export interface MigrationReport {
  readonly applied: string[];
  readonly current: string[];
}

/**
 * Brings the database to the newest schema. Refuses a database migrated by a newer release
 * (a migration name this release does not know) rather than running against it.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: DialectProfile,
): Promise<MigrationReport> {
  const known = migrations(dialect);
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(known) });
  const before = await migrator.getMigrations();
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/corrupted migrations|missing/i.test(message)) {
      throw new AppError(
        "STORE_SCHEMA_TOO_NEW",
        `the database holds migrations this release does not know (${message}); upgrade riskometer`,
        { cause: error },
      );
    }
    throw new AppError("STORE_UNAVAILABLE", `database migration failed: ${message}`, {
      cause: error,
    });
  }
  return {
    applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName),
    current: before.map((m) => m.name),
  };
}
