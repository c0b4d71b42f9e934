import type { Rng } from "../../core/rng.js";
import type { ParamSpec, Params, SearchSpace } from "../types.js";

export type ParamValue = string | number | boolean;

/**
 * A numeric parameter in the space the samplers work in: `log` ranges are handled as their
 * logarithm, and an int range is widened by half a unit on each side so that every integer gets
 * an equal share of the interval (before the log transform, for log ints).
 */
export interface NumericDim {
  readonly kind: "numeric";
  readonly name: string;
  readonly spec: Extract<ParamSpec, { type: "float" | "int" }>;
  /** Internal bounds. */
  readonly lo: number;
  readonly hi: number;
  toInternal(value: number): number;
  /** Back to a valid parameter value: clamped to the bounds, rounded for ints. */
  fromInternal(t: number): number;
}

export interface ChoiceDim {
  readonly kind: "choice";
  readonly name: string;
  readonly values: readonly ParamValue[];
}

export type Dim = NumericDim | ChoiceDim;

/** Checks a space and prepares its parameters, in the space's key order. */
export function compileSpace(space: SearchSpace): Dim[] {
  const names = Object.keys(space);
  if (names.length === 0) throw new RangeError("search space has no parameters");
  return names.map((name) => compileParam(name, space[name]));
}

function compileParam(name: string, spec: ParamSpec): Dim {
  if (spec.type === "choice") {
    if (spec.values.length === 0) throw new RangeError(`parameter ${name}: no values to choose`);
    return { kind: "choice", name, values: spec.values };
  }
  const { low, high } = spec;
  if (!Number.isFinite(low) || !Number.isFinite(high) || low > high) {
    throw new RangeError(`parameter ${name}: invalid range [${low}, ${high}]`);
  }
  const isInt = spec.type === "int";
  if (isInt && (!Number.isInteger(low) || !Number.isInteger(high))) {
    throw new RangeError(`parameter ${name}: int bounds must be integers`);
  }
  if (spec.log && (isInt ? low < 1 : low <= 0)) {
    throw new RangeError(`parameter ${name}: a log range needs low ${isInt ? "≥ 1" : "> 0"}`);
  }
  const widen = isInt ? 0.5 : 0;
  const toInternal = spec.log ? Math.log : (v: number) => v;
  const fromRaw = spec.log ? Math.exp : (t: number) => t;
  const clamp = (v: number): number => Math.min(high, Math.max(low, v));
  return {
    kind: "numeric",
    name,
    spec,
    lo: toInternal(low - widen),
    hi: toInternal(high + widen),
    toInternal,
    fromInternal: isInt ? (t) => clamp(Math.round(fromRaw(t))) : (t) => clamp(fromRaw(t)),
  };
}

/** A uniform draw over the dimension (log-uniform for log ranges). */
export function sampleUniform(dim: Dim, rng: Rng): ParamValue {
  if (dim.kind === "choice") return dim.values[rng.int(dim.values.length)];
  const { spec } = dim;
  if (spec.type === "int" && !spec.log) return spec.low + rng.int(spec.high - spec.low + 1);
  return dim.fromInternal(dim.lo + rng.next() * (dim.hi - dim.lo));
}

export function sampleRandom(dims: readonly Dim[], rng: Rng): Params {
  const params: Params = {};
  for (const dim of dims) params[dim.name] = sampleUniform(dim, rng);
  return params;
}

/** Whether `value` is a valid value of the dimension. */
export function inSpace(dim: Dim, value: unknown): boolean {
  if (dim.kind === "choice") return dim.values.includes(value as ParamValue);
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  if (dim.spec.type === "int" && !Number.isInteger(value)) return false;
  return value >= dim.spec.low && value <= dim.spec.high;
}
