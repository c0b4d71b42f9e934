/** The model registry's vocabulary: registered models, numbered versions, aliases, audit. */

/** The alias serving loads. */
export const SERVING_ALIAS = "champion";

export interface RegisteredModel {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** alias → version */
  readonly aliases: Readonly<Record<string, number>>;
  readonly latestVersion: number | null;
}

/** One input column of a version's signature (the feature schema it accepts). */
export interface SignatureColumn {
  readonly name: string;
  readonly type: "numeric" | "categorical";
  readonly values?: readonly string[];
  readonly label?: string;
  /** May be missing (absent or a missing-value text); the model scores it as missing. */
  readonly optional?: boolean;
}

export interface ModelSignature {
  /** The dataset spec the version was trained on (absent for versions from before specs). */
  readonly dataset?: { readonly name: string; readonly version: number };
  readonly inputs: readonly SignatureColumn[];
  readonly output: {
    readonly name: string;
    readonly values: readonly string[];
    /** The target value that means default (absent for versions from before specs). */
    readonly riskClass?: string;
  };
}

export interface ModelVersion {
  readonly name: string;
  readonly version: number;
  readonly runId: string;
  /** Key of the model file in the artifact store. */
  readonly artifactPath: string;
  readonly sha256: string;
  /** READY: registered with its artifact in place (registration is one transaction). */
  readonly status: "READY";
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly signature: ModelSignature;
  readonly inputExample: Readonly<Record<string, string | number>>;
  readonly createdBy: string;
  readonly createdAt: number;
  /** Aliases pointing at this version. */
  readonly aliases: readonly string[];
}

export interface NewModelVersion {
  readonly name: string;
  readonly runId: string;
  readonly artifactPath: string;
  readonly sha256: string;
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly signature: ModelSignature;
  readonly inputExample: Readonly<Record<string, string | number>>;
  readonly createdBy: string;
  readonly createdAt: number;
}

/** One alias move, as the append-only audit log keeps it. */
export interface AliasAuditRecord {
  readonly id: number;
  readonly name: string;
  readonly alias: string;
  readonly fromVersion: number | null;
  readonly toVersion: number | null;
  readonly actor: string;
  readonly actorRole: string;
  readonly note: string;
  /** The approver registered this version themselves (allowed by the single-person setting). */
  readonly selfApproved: boolean;
  /** The first version of a new install, let serve by the bootstrap setting. */
  readonly bootstrap: boolean;
  readonly at: number;
}

export interface AliasMove {
  readonly name: string;
  readonly alias: string;
  /** null removes the alias. */
  readonly toVersion: number | null;
  readonly actor: string;
  readonly actorRole: string;
  readonly note: string;
  readonly selfApproved: boolean;
  readonly bootstrap: boolean;
  readonly at: number;
  /**
   * Move only if no model of the store has ever had this alias (the bootstrap: two first
   * trainings cannot both win, and removing the serving alias cannot reopen it).
   */
  readonly onlyIfNeverSet?: boolean;
}

/** `name@alias` or `name/version`, optionally prefixed `models:/`. */
export type ModelRef =
  | { readonly name: string; readonly alias: string; readonly version?: undefined }
  | { readonly name: string; readonly version: number; readonly alias?: undefined };
