/** The vocabulary of flows: definitions, runs and their states. */

export const FLOW_STATES = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
] as const;
export type FlowState = (typeof FLOW_STATES)[number];

/** States a run does not leave. */
export const FINAL_STATES: readonly FlowState[] = ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"];

export const FLOW_TRIGGERS = ["schedule", "manual", "retry"] as const;
export type FlowTrigger = (typeof FLOW_TRIGGERS)[number];

/** A parameter a flow takes: its type, default and bounds, checked before a run is created. */
export interface FlowParam {
  readonly type: "integer" | "number" | "string" | "boolean";
  readonly description: string;
  readonly default: number | string | boolean;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of a string parameter. */
  readonly values?: readonly string[];
}

export type FlowParams = Record<string, number | string | boolean>;

export interface FlowStep {
  readonly name: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly state: "RUNNING" | "COMPLETED" | "FAILED";
}

export interface FlowRun {
  readonly id: string;
  readonly flow: string;
  readonly state: FlowState;
  readonly trigger: FlowTrigger;
  readonly scheduledFor: number;
  readonly params: FlowParams;
  /** 1 for the first attempt; a retry is a new run with the next attempt number. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly retryOf: string | null;
  readonly requestedBy: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly heartbeatAt: number | null;
  readonly worker: string | null;
  readonly result: unknown;
  readonly error: string | null;
  readonly steps: readonly FlowStep[];
}

export interface FlowLogLine {
  readonly seq: number;
  readonly at: number;
  readonly level: "info" | "warn" | "error";
  readonly message: string;
}
