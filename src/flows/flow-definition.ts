import { AppError } from "../core/errors.js";
import type { AppContext } from "../main.js";
import type { FlowParam, FlowParams, FlowRun } from "./flow-types.js";

/** What a flow's function gets besides its parameters. */
export interface FlowContext {
  readonly run: FlowRun;
  readonly app: AppContext;
  /** Aborted when the run times out or is declared crashed; long steps should check it. */
  readonly signal: AbortSignal;
  /** A line in the run's captured log. */
  log(message: string, level?: "info" | "warn" | "error"): void;
  /** Runs one named step, recording its start, end and outcome with the run. */
  step<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
}

/**
 * A flow: a named function with typed parameters, made of steps. Its policies (attempts,
 * back-off, timeout) travel with it; its schedule is configuration.
 */
export interface FlowDefinition {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, FlowParam>>;
  /** Attempts in all: 1 means no retry. */
  readonly maxAttempts: number;
  /** Delay before the first retry; each further retry waits twice as long. */
  readonly retryDelayMs: number;
  /** A run that takes longer fails (and may be retried). */
  readonly timeoutMs: number;
  run(ctx: FlowContext, params: FlowParams): Promise<unknown>;
}

/** Delay before attempt `attempt + 1`: exponential back-off from the flow's first delay. */
export function retryDelay(flow: FlowDefinition, attempt: number): number {
  return flow.retryDelayMs * 2 ** Math.max(0, attempt - 1);
}

/**
 * The flow's parameters from what a user gave (strings from the command line or a form, or
 * JSON values), with defaults filled in. Refuses an unknown name, a value of the wrong type or
 * out of bounds, naming the parameter and what is allowed.
 *
 * @example checkParams(retrain, { trials: "20" }) // { trials: 20, seed: 0, top: 5 }
 */
export function checkParams(
  flow: FlowDefinition,
  given: Readonly<Record<string, unknown>>,
): FlowParams {
  const out: FlowParams = {};
  for (const name of Object.keys(given)) {
    if (!(name in flow.params)) {
      const known = Object.keys(flow.params);
      throw new AppError(
        "INVALID_ARGUMENT",
        `flow "${flow.name}" has no parameter "${name}"${known.length ? ` (it takes ${known.join(", ")})` : " (it takes none)"}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(flow.params)) {
    const raw = given[name];
    out[name] = raw === undefined || raw === "" ? spec.default : coerce(flow, name, spec, raw);
  }
  return out;
}

function coerce(
  flow: FlowDefinition,
  name: string,
  spec: FlowParam,
  raw: unknown,
): number | string | boolean {
  const bad = (why: string): never => {
    throw new AppError(
      "INVALID_ARGUMENT",
      `parameter "${name}" of flow "${flow.name}" ${why} (got ${JSON.stringify(raw)})`,
    );
  };
  if (spec.type === "boolean") {
    if (typeof raw === "boolean") return raw;
    const v = String(raw).trim().toLowerCase();
    if (v === "true") return true;
    if (v === "false") return false;
    return bad("must be true or false");
  }
  if (spec.type === "string") {
    const v = String(raw);
    if (spec.values && !spec.values.includes(v)) bad(`must be one of ${spec.values.join(", ")}`);
    return v;
  }
  const v = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isFinite(v) || (typeof raw === "string" && raw.trim() === "")) {
    return bad("must be a number");
  }
  if (spec.type === "integer" && !Number.isInteger(v)) bad("must be a whole number");
  if (spec.min !== undefined && v < spec.min) bad(`must be at least ${spec.min}`);
  if (spec.max !== undefined && v > spec.max) bad(`must be at most ${spec.max}`);
  return v;
}
