import { createHash } from "node:crypto";
import { requireRole, type User } from "../auth/users.js";
import { AppError } from "../core/errors.js";
import { featureColumns, type DatasetSpec } from "../data/index.js";
import { parseModel, type LoadedModel } from "../ml/index.js";
import type { ArtifactStore } from "../storage/artifacts/index.js";
import { checkAlias, checkModelName, type SqlRegistryStore } from "./sql-registry-store.js";
import {
  SERVING_ALIAS,
  type AliasAuditRecord,
  type ModelRef,
  type ModelSignature,
  type ModelVersion,
  type NewModelVersion,
} from "./types.js";

export interface RegistryServiceOptions {
  /** Let an approver move the serving alias to a version they registered (audited). */
  readonly allowSelfApproval: boolean;
  readonly clock?: () => number;
}

/**
 * The rule every alias change follows: an approver moves aliases (which version serves, or is
 * challenger, is an approval), and the serving alias needs a note saying why. Returns the
 * trimmed note.
 */
function checkMove(actor: User, alias: string, note: string, verb: "move" | "remove"): string {
  checkAlias(alias);
  const serving = alias === SERVING_ALIAS;
  requireRole(actor, "approver", `${verb} "${alias}"`);
  const why = note.trim();
  if (serving && why === "") {
    throw new AppError(
      "INVALID_ARGUMENT",
      `${verb === "move" ? "moving" : "removing"} "${SERVING_ALIAS}" needs a note saying why`,
    );
  }
  return why;
}

/** The actor recorded for automatic moves (the first-version bootstrap). */
export const SYSTEM_ACTOR = "system";

/**
 * Parses `name@alias`, `name/version` (optionally `models:/…`).
 *
 * @example parseModelRef("credit-risk@champion") // { name: "credit-risk", alias: "champion" }
 */
export function parseModelRef(text: string): ModelRef {
  const ref = text.startsWith("models:/") ? text.slice("models:/".length) : text;
  const at = /^([^@/]+)@([^@/]+)$/.exec(ref);
  if (at) {
    checkModelName(at[1]);
    return { name: at[1], alias: at[2] };
  }
  const slash = /^([^@/]+)\/(\d+)$/.exec(ref);
  if (slash) {
    checkModelName(slash[1]);
    return { name: slash[1], version: Number(slash[2]) };
  }
  throw new AppError(
    "INVALID_ARGUMENT",
    `"${text}" is not a model reference; use name@alias (credit-risk@champion) or name/version (credit-risk/3)`,
  );
}

/** The feature schema a model version accepts, from the dataset spec it was trained on. */
export function signatureOf(spec: DatasetSpec): ModelSignature {
  return {
    dataset: { name: spec.name, version: spec.version },
    inputs: featureColumns(spec).map((c) =>
      c.kind === "categorical"
        ? {
            name: c.name,
            type: "categorical",
            label: c.label,
            values: c.values.map((v) => v.value),
            optional: c.allowMissing,
          }
        : { name: c.name, type: "numeric", label: c.label, optional: c.allowMissing },
    ),
    output: {
      name: spec.target.name,
      values: spec.target.values.map((v) => v.value),
      riskClass: spec.target.riskClass,
    },
  };
}

/**
 * Registry operations with the bank's governance: versions are registered whole; the serving
 * alias moves only by an approver with a note, never by the person who registered the version
 * (four-eyes) unless the single-person setting allows it; every move is audited.
 */
export class RegistryService {
  readonly store: SqlRegistryStore;
  private readonly artifacts: ArtifactStore;
  private readonly options: Required<RegistryServiceOptions>;

  constructor(store: SqlRegistryStore, artifacts: ArtifactStore, options: RegistryServiceOptions) {
    this.store = store;
    this.artifacts = artifacts;
    this.options = {
      allowSelfApproval: options.allowSelfApproval,
      clock: options.clock ?? Date.now,
    };
  }

  /**
   * Registers a version whose model file is already in the artifact store (so a crash before
   * this call leaves no version, and one after it leaves a complete one).
   */
  async registerVersion(v: Omit<NewModelVersion, "createdAt" | "sha256">): Promise<ModelVersion> {
    const bytes = await this.artifacts.get(v.artifactPath);
    return this.store.createModelVersion({
      ...v,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      createdAt: this.options.clock(),
    });
  }

  /** The version a reference names. */
  async resolve(ref: ModelRef | string): Promise<ModelVersion> {
    const r = typeof ref === "string" ? parseModelRef(ref) : ref;
    if (r.version !== undefined) return this.store.getModelVersion(r.name, r.version);
    const aliases = await this.store.getAliases(r.name);
    const version = aliases[r.alias];
    if (version === undefined) {
      await this.store.getRegisteredModel(r.name);
      throw new AppError(
        "NOT_FOUND",
        `model "${r.name}" has no alias "${r.alias}"${r.alias === SERVING_ALIAS ? " (no version has been promoted to serving yet)" : ""}`,
      );
    }
    return this.store.getModelVersion(r.name, version);
  }

  /** Fetches, verifies (SHA-256 as registered) and rebuilds the model a reference names. */
  async loadModel(ref: ModelRef | string): Promise<{ version: ModelVersion; model: LoadedModel }> {
    const version = await this.resolve(ref);
    const bytes = await this.artifacts.get(version.artifactPath);
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== version.sha256) {
      throw new AppError(
        "MODEL_FILE_INVALID",
        `the model file of ${version.name}/${version.version} (${version.artifactPath}) does not match its registered SHA-256`,
      );
    }
    const model = parseModel(bytes.toString("utf8"), `${version.name}/${version.version}`);
    return { version, model };
  }

  /**
   * Moves `alias` to `version` for `actor`. The serving alias needs the approver role, a note,
   * and (unless allowed) an approver other than the version's author. Refusals change nothing.
   */
  async promote(opts: {
    name: string;
    version: number;
    alias: string;
    note: string;
    actor: User;
  }): Promise<AliasAuditRecord> {
    const note = checkMove(opts.actor, opts.alias, opts.note, "move");
    const serving = opts.alias === SERVING_ALIAS;
    const target = await this.store.getModelVersion(opts.name, opts.version);
    const selfApproved = serving && target.createdBy === opts.actor.name;
    if (selfApproved && !this.options.allowSelfApproval) {
      throw new AppError(
        "FORBIDDEN",
        `${opts.actor.name} registered ${opts.name}/${opts.version} and may not also approve it into "${SERVING_ALIAS}" (four-eyes rule; a single-person install can set RISKOMETER_ALLOW_SELF_APPROVAL=true)`,
      );
    }
    const record = await this.store.moveAlias({
      name: opts.name,
      alias: opts.alias,
      toVersion: opts.version,
      actor: opts.actor.name,
      actorRole: opts.actor.role,
      note,
      selfApproved,
      bootstrap: false,
      at: this.options.clock(),
    });
    return record as AliasAuditRecord;
  }

  /**
   * Removes an alias (e.g. stop serving), with the same rules as moving it: for the serving
   * alias the approver role, a note, and (unless allowed) someone other than the author of the
   * version it takes out of service.
   */
  async removeAlias(opts: {
    name: string;
    alias: string;
    note: string;
    actor: User;
  }): Promise<AliasAuditRecord> {
    const note = checkMove(opts.actor, opts.alias, opts.note, "remove");
    if (opts.alias === SERVING_ALIAS && !this.options.allowSelfApproval) {
      const serving = (await this.store.getAliases(opts.name))[SERVING_ALIAS];
      const current =
        serving === undefined ? null : await this.store.getModelVersion(opts.name, serving);
      if (current && current.createdBy === opts.actor.name) {
        throw new AppError(
          "FORBIDDEN",
          `${opts.actor.name} registered ${opts.name}/${current.version} and may not also take it out of "${SERVING_ALIAS}" (four-eyes rule, as for moving it; a single-person install can set RISKOMETER_ALLOW_SELF_APPROVAL=true)`,
        );
      }
    }
    return (await this.store.moveAlias({
      name: opts.name,
      alias: opts.alias,
      toVersion: null,
      actor: opts.actor.name,
      actorRole: opts.actor.role,
      note,
      selfApproved: false,
      bootstrap: false,
      at: this.options.clock(),
    })) as AliasAuditRecord;
  }

  /**
   * On a new install (no version of any model has ever served), lets the first version serve,
   * audited as a bootstrap. Returns null otherwise: then a human must promote, so neither a
   * second model nor a version trained after the serving alias was removed serves unapproved.
   */
  async bootstrapServing(name: string, version: number): Promise<AliasAuditRecord | null> {
    return this.store.moveAlias({
      name,
      alias: SERVING_ALIAS,
      toVersion: version,
      actor: SYSTEM_ACTOR,
      actorRole: "system",
      note: "bootstrap: the first version of a new install serves until an approver promotes another",
      selfApproved: false,
      bootstrap: true,
      at: this.options.clock(),
      onlyIfNeverSet: true,
    });
  }
}
