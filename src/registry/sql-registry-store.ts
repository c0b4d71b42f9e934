import type { Kysely, Selectable, Transaction } from "kysely";
import { AppError } from "../core/errors.js";
import type { AliasAuditTable, Database, DatabaseSchema } from "../storage/index.js";
import type {
  AliasAuditRecord,
  AliasMove,
  ModelSignature,
  ModelVersion,
  NewModelVersion,
  RegisteredModel,
} from "./types.js";

type Db = Kysely<DatabaseSchema>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS = /^[a-z][a-z0-9_-]{0,63}$/;

/** Model names appear in `name@alias` and `name/version` references, so they avoid `@` and `/`. */
export function checkModelName(name: string): void {
  if (!NAME.test(name)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `model name "${name}" must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || /^v\d+$/.test(alias)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `alias "${alias}" must be lower-case letters, digits, "_" or "-", starting with a letter, and not look like a version (v1)`,
    );
  }
}

/**
 * The registry on the metadata database (SQLite or Postgres, same queries). Governance (who may
 * move which alias) is the service's; the store guarantees that a version appears whole or not
 * at all, and that an alias moves together with its audit record.
 */
export class SqlRegistryStore {
  private readonly db: Db;

  constructor(database: Database) {
    this.db = database.db;
  }

  async createRegisteredModel(
    name: string,
    opts: { description?: string; tags?: Record<string, string>; createdBy: string; now: number },
  ): Promise<RegisteredModel> {
    checkModelName(name);
    const exists = await this.db
      .selectFrom("registered_models")
      .select("name")
      .where("name", "=", name)
      .executeTakeFirst();
    if (exists) throw new AppError("CONFLICT", `model "${name}" is already registered`);
    await insertModel(this.db, name, opts);
    return this.getRegisteredModel(name);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const row = await this.db
      .selectFrom("registered_models")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no registered model "${name}"`);
    const [aliases, latest] = await Promise.all([
      this.getAliases(name),
      this.db
        .selectFrom("model_versions")
        .select((eb) => eb.fn.max("version").as("v"))
        .where("model_name", "=", name)
        .executeTakeFirst(),
    ]);
    return {
      name: row.name,
      description: row.description,
      tags: JSON.parse(row.tags) as Record<string, string>,
      createdBy: row.created_by,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      aliases,
      latestVersion: latest?.v == null ? null : Number(latest.v),
    };
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const names = await this.db
      .selectFrom("registered_models")
      .select("name")
      .orderBy("name")
      .execute();
    return Promise.all(names.map((r) => this.getRegisteredModel(r.name)));
  }

  /**
   * Registers the next version number in one transaction (creating the registered model on its
   * first version). Two concurrent registrations both succeed with distinct numbers.
   */
  async createModelVersion(v: NewModelVersion): Promise<ModelVersion> {
    checkModelName(v.name);
    for (let attempt = 0; ; attempt++) {
      try {
        const version = await this.db.transaction().execute(async (tx) => {
          const run = await tx
            .selectFrom("runs")
            .select("id")
            .where("id", "=", v.runId)
            .executeTakeFirst();
          if (!run)
            throw new AppError("NOT_FOUND", `no run "${v.runId}" to register a version from`);
          const model = await tx
            .selectFrom("registered_models")
            .select("name")
            .where("name", "=", v.name)
            .executeTakeFirst();
          if (!model) await insertModel(tx, v.name, { createdBy: v.createdBy, now: v.createdAt });
          const max = await tx
            .selectFrom("model_versions")
            .select((eb) => eb.fn.max("version").as("v"))
            .where("model_name", "=", v.name)
            .executeTakeFirst();
          const next = (max?.v == null ? 0 : Number(max.v)) + 1;
          await tx
            .insertInto("model_versions")
            .values({
              model_name: v.name,
              version: next,
              run_id: v.runId,
              artifact_path: v.artifactPath,
              sha256: v.sha256,
              status: "READY",
              description: v.description ?? "",
              tags: JSON.stringify(v.tags ?? {}),
              signature: JSON.stringify(v.signature),
              input_example: JSON.stringify(v.inputExample),
              created_by: v.createdBy,
              created_at: v.createdAt,
            })
            .execute();
          await tx
            .updateTable("registered_models")
            .set({ updated_at: v.createdAt })
            .where("name", "=", v.name)
            .execute();
          return next;
        });
        return this.getModelVersion(v.name, version);
      } catch (e) {
        // Another writer took the same number (Postgres, concurrent registrations): try again.
        const code = (e as { code?: string }).code;
        if ((code === "23505" || code === "40001") && attempt < 5) continue;
        throw e;
      }
    }
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    const row = await this.db
      .selectFrom("model_versions")
      .selectAll()
      .where("model_name", "=", name)
      .where("version", "=", version)
      .executeTakeFirst();
    if (!row) {
      await this.getRegisteredModel(name);
      throw new AppError("NOT_FOUND", `model "${name}" has no version ${version}`);
    }
    const aliases = await this.db
      .selectFrom("model_aliases")
      .select("alias")
      .where("model_name", "=", name)
      .where("version", "=", version)
      .orderBy("alias")
      .execute();
    return toVersion(
      row,
      aliases.map((a) => a.alias),
    );
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    await this.getRegisteredModel(name);
    const [rows, aliases] = await Promise.all([
      this.db
        .selectFrom("model_versions")
        .selectAll()
        .where("model_name", "=", name)
        .orderBy("version", "desc")
        .execute(),
      this.db.selectFrom("model_aliases").selectAll().where("model_name", "=", name).execute(),
    ]);
    return rows.map((r) =>
      toVersion(
        r,
        aliases
          .filter((a) => a.version === r.version)
          .map((a) => a.alias)
          .sort(),
      ),
    );
  }

  async getAliases(name: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom("model_aliases")
      .select(["alias", "version"])
      .where("model_name", "=", name)
      .orderBy("alias")
      .execute();
    return Object.fromEntries(rows.map((r) => [r.alias, Number(r.version)]));
  }

  /**
   * Moves (or removes) an alias and appends its audit record in one transaction: either both
   * happen or neither. Returns null when `onlyIfNeverSet` found the alias set before, for any
   * model.
   */
  async moveAlias(move: AliasMove): Promise<AliasAuditRecord | null> {
    checkAlias(move.alias);
    return this.db.transaction().execute(async (tx) => {
      if (move.toVersion !== null) {
        const exists = await tx
          .selectFrom("model_versions")
          .select("version")
          .where("model_name", "=", move.name)
          .where("version", "=", move.toVersion)
          .executeTakeFirst();
        if (!exists)
          throw new AppError("NOT_FOUND", `model "${move.name}" has no version ${move.toVersion}`);
      }
      const current = await tx
        .selectFrom("model_aliases")
        .select("version")
        .where("model_name", "=", move.name)
        .where("alias", "=", move.alias)
        .executeTakeFirst();
      const from = current ? Number(current.version) : null;
      if (move.onlyIfNeverSet) {
        const before = await tx
          .selectFrom("alias_audit")
          .select("model_name")
          .where("alias", "=", move.alias)
          .limit(1)
          .executeTakeFirst();
        if (before || from !== null) return null;
      }
      if (move.toVersion === null) {
        if (from === null)
          throw new AppError("NOT_FOUND", `model "${move.name}" has no alias "${move.alias}"`);
        await tx
          .deleteFrom("model_aliases")
          .where("model_name", "=", move.name)
          .where("alias", "=", move.alias)
          .execute();
      } else {
        await tx
          .insertInto("model_aliases")
          .values({
            model_name: move.name,
            alias: move.alias,
            version: move.toVersion,
            updated_at: move.at,
          })
          .onConflict((oc) =>
            oc
              .columns(["model_name", "alias"])
              .doUpdateSet({ version: move.toVersion as number, updated_at: move.at }),
          )
          .execute();
      }
      const inserted = await tx
        .insertInto("alias_audit")
        .values({
          model_name: move.name,
          alias: move.alias,
          from_version: from,
          to_version: move.toVersion,
          actor: move.actor,
          actor_role: move.actorRole,
          note: move.note,
          self_approved: move.selfApproved ? 1 : 0,
          bootstrap: move.bootstrap ? 1 : 0,
          at: move.at,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const row = await tx
        .selectFrom("alias_audit")
        .selectAll()
        .where("id", "=", Number(inserted.id))
        .executeTakeFirstOrThrow();
      return toAudit(row);
    });
  }

  async listAudit(
    filter: { name?: string; alias?: string; limit?: number } = {},
  ): Promise<AliasAuditRecord[]> {
    let q = this.db.selectFrom("alias_audit").selectAll().orderBy("id", "desc");
    if (filter.name !== undefined) q = q.where("model_name", "=", filter.name);
    if (filter.alias !== undefined) q = q.where("alias", "=", filter.alias);
    return (await q.limit(filter.limit ?? 1000).execute()).map(toAudit);
  }
}

async function insertModel(
  db: Db | Transaction<DatabaseSchema>,
  name: string,
  opts: { description?: string; tags?: Record<string, string>; createdBy: string; now: number },
): Promise<void> {
  await db
    .insertInto("registered_models")
    .values({
      name,
      description: opts.description ?? "",
      tags: JSON.stringify(opts.tags ?? {}),
      created_by: opts.createdBy,
      created_at: opts.now,
      updated_at: opts.now,
    })
    .execute();
}

function toVersion(row: DatabaseSchema["model_versions"], aliases: string[]): ModelVersion {
  return {
    name: row.model_name,
    version: Number(row.version),
    runId: row.run_id,
    artifactPath: row.artifact_path,
    sha256: row.sha256,
    status: row.status as "READY",
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    signature: JSON.parse(row.signature) as ModelSignature,
    inputExample: JSON.parse(row.input_example) as Record<string, string | number>,
    createdBy: row.created_by,
    createdAt: row.created_at,
    aliases,
  };
}

function toAudit(row: Selectable<AliasAuditTable>): AliasAuditRecord {
  return {
    id: Number(row.id),
    name: row.model_name,
    alias: row.alias,
    fromVersion: row.from_version === null ? null : Number(row.from_version),
    toVersion: row.to_version === null ? null : Number(row.to_version),
    actor: row.actor,
    actorRole: row.actor_role,
    note: row.note,
    selfApproved: Number(row.self_approved) === 1,
    bootstrap: Number(row.bootstrap) === 1,
    at: row.at,
  };
}
