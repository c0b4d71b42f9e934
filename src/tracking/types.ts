/** The tracking vocabulary: experiments, runs, params, metrics, dataset inputs, artifacts. */

export const RUN_STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ["FINISHED", "FAILED", "KILLED"];

export interface Experiment {
  readonly id: string;
  readonly name: string;
  /** A deleted experiment keeps its name until it is purged (hard delete). */
  readonly lifecycle: "active" | "deleted";
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface RunInfo {
  readonly id: string;
  readonly experimentId: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly parentRunId: string | null;
  /** Git commit of the code that ran, when known. */
  readonly codeVersion: string | null;
  readonly packageVersion: string;
  /** Why the run FAILED or was KILLED, when known. */
  readonly statusReason: string | null;
}

export interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

export interface DatasetInput {
  readonly name: string;
  /** Content digest (SHA-256 hex) of exactly the rows used. */
  readonly digest: string;
  /** train, test, reference, … */
  readonly role: string;
  readonly rows: number | null;
}

export interface ArtifactEntry {
  /** Path under the run, e.g. `model/model.json`. */
  readonly path: string;
  readonly size: number;
  readonly mediaType: string;
}

/** A run with its data: params, tags, the latest value of each metric, inputs, artifacts. */
export interface Run {
  readonly info: RunInfo;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, MetricPoint>>;
  readonly inputs: readonly DatasetInput[];
  readonly artifacts: readonly ArtifactEntry[];
}

export interface NewRun {
  readonly experimentId: string;
  readonly name: string;
  readonly parentRunId?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly codeVersion: string | null;
  readonly packageVersion: string;
  readonly owner: string;
  readonly startTime: number;
}

export interface LogBatch {
  readonly metrics?: readonly MetricPoint[];
  readonly params?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface RunSearch {
  /**
   * Experiments to search (deleted ones too, when named); every active experiment when absent,
   * so runs of several experiments compare alike.
   */
  readonly experimentIds?: readonly string[];
  /** e.g. `metrics.test_auc > 0.78 AND (params.kind IN ('gbdt', 'forest') OR tags.stage = 'x')`. */
  readonly filter?: string;
  /** e.g. `["metrics.cv_cost ASC", "start_time DESC"]`; default newest first. */
  readonly orderBy?: readonly string[];
  /** Page size, 1–1000 (default 100). */
  readonly maxResults?: number;
  readonly pageToken?: string;
  /** Also count every matching run. */
  readonly withTotal?: boolean;
}

export interface RunPage {
  readonly runs: readonly Run[];
  readonly nextPageToken: string | null;
  readonly total?: number;
}

/** A run ended by the reaper because its process died or stopped sending heartbeats. */
export interface ReapedRun {
  readonly id: string;
  readonly status: "FAILED" | "KILLED";
  readonly reason: string;
}
