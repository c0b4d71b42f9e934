import { Rng } from "../../core/rng.js";
import type { Params, SearchSpace } from "../types.js";
import { compileSpace, inSpace, sampleUniform, sampleRandom, type Dim } from "./space.js";
import { suggestTpe, type TpeOptions } from "./tpe.js";

export type Direction = "maximize" | "minimize";
export type SamplerName = "random" | "tpe";

export interface Trial {
  /** 0-based trial number; trials are evaluated in batches of `concurrency` in index order. */
  readonly index: number;
  readonly params: Params;
  /** Objective value; NaN when the objective returned NaN (counted as the worst value). */
  readonly value: number;
}

export interface SearchOptions {
  readonly space: SearchSpace;
  /** Number of trials (the budget), including `initial` ones. */
  readonly trials: number;
  readonly seed: number;
  readonly objective: (
    params: Params,
    trial: { readonly index: number },
  ) => Promise<number> | number;
  readonly direction: Direction;
  /** Default "tpe". */
  readonly sampler?: SamplerName;
  /**
   * Trials evaluated at once. Each batch's parameters are all fixed, in index order, before any
   * of the batch runs, from the trials of the earlier batches only (plus, for TPE, the batch's
   * already-chosen points counted as bad), and trial i draws from the i-th fork of the seed.
   * So a search is reproducible from (seed, trials, concurrency, space) whatever the timing or
   * thread count; changing `concurrency` changes what TPE knows at each step, hence the result.
   * Default 1.
   */
  readonly concurrency?: number;
  /**
   * Parameters to evaluate first (e.g. an algorithm's defaults); missing parameters are drawn at
   * random and names outside the space are ignored. They count against `trials`.
   */
  readonly initial?: readonly Partial<Params>[];
  readonly tpe?: TpeOptions;
  /** Called once per finished trial, in index order. */
  readonly onTrial?: (trial: Trial, best: Trial) => void;
  /** Checked before each batch. */
  readonly signal?: AbortSignal;
}

export interface SearchResult {
  /** Best trial (the earliest among equals); trial 0 when every value is NaN. */
  readonly best: Trial;
  readonly trials: readonly Trial[];
}

/** Whether `a` beats `b` in the given direction; NaN never beats anything. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return direction === "maximize" ? a > b : a < b;
}

/** Hyperparameter search over `space` with a fixed trial budget. */
export async function search(opts: SearchOptions): Promise<SearchResult> {
  const { trials: budget, direction, objective } = opts;
  const sampler = opts.sampler ?? "tpe";
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(budget) || budget < 1) {
    throw new RangeError(`trials must be an integer ≥ 1, got ${budget}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  }
  if (direction !== "maximize" && direction !== "minimize") {
    throw new RangeError(`direction must be "maximize" or "minimize", got ${String(direction)}`);
  }
  if (sampler !== "random" && sampler !== "tpe") {
    throw new RangeError(`unknown sampler ${String(sampler)}`);
  }
  const dims = compileSpace(opts.space);
  const initial = opts.initial ?? [];
  initial.forEach((p) => checkInitial(dims, p));

  const root = new Rng(opts.seed);
  const trials: Trial[] = [];
  let best: Trial | undefined;
  for (let start = 0; start < budget; start += concurrency) {
    opts.signal?.throwIfAborted();
    const end = Math.min(budget, start + concurrency);
    const batch: Params[] = [];
    for (let i = start; i < end; i++) {
      const rng = root.fork(i);
      if (i < initial.length) batch.push(completeInitial(dims, initial[i], rng));
      else if (sampler === "tpe")
        batch.push(suggestTpe(dims, trials, batch, direction, rng, opts.tpe));
      else batch.push(sampleRandom(dims, rng));
    }
    const values = await Promise.all(
      batch.map(async (params, j) => {
        const value = await objective({ ...params }, { index: start + j });
        if (typeof value !== "number") {
          throw new TypeError(`objective returned ${typeof value} for trial ${start + j}`);
        }
        return value;
      }),
    );
    for (let j = 0; j < batch.length; j++) {
      const trial: Trial = { index: start + j, params: batch[j], value: values[j] };
      trials.push(trial);
      if (!best || isBetter(trial.value, best.value, direction)) best = trial;
      opts.onTrial?.(trial, best);
    }
  }
  return { best: best!, trials };
}

/** `search` with uniform (log-uniform for log ranges) sampling. */
export function randomSearch(opts: Omit<SearchOptions, "sampler" | "tpe">): Promise<SearchResult> {
  return search({ ...opts, sampler: "random" });
}

/** `search` with the TPE sampler. */
export function tpeSearch(opts: Omit<SearchOptions, "sampler">): Promise<SearchResult> {
  return search({ ...opts, sampler: "tpe" });
}

function checkInitial(dims: readonly Dim[], params: Partial<Params>): void {
  for (const dim of dims) {
    const v = params[dim.name];
    if (v !== undefined && !inSpace(dim, v)) {
      throw new RangeError(`initial value ${String(v)} of ${dim.name} is outside the search space`);
    }
  }
}

function completeInitial(dims: readonly Dim[], params: Partial<Params>, rng: Rng): Params {
  const out: Params = {};
  for (const dim of dims) {
    const v = params[dim.name];
    out[dim.name] = v !== undefined ? v : sampleUniform(dim, rng);
  }
  return out;
}
