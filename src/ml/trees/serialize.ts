import { AppError } from "../../core/errors.js";
import type { FeatureSpec } from "../types.js";
import { Tree } from "./tree.js";

/**
 * JSON form of a tree: parallel arrays of the internal nodes and of the leaves, the layout of
 * `Tree`. Whether a node is categorical follows from its feature's kind, so it is not stored;
 * a categorical node's `threshold` is the index of its category set in `cats`. `missingLeft`
 * (1 where a numeric node sends NaN left, else 0) is written only when some node has a 1, so
 * trees that send NaN right everywhere keep the older form, which reads as all zeros.
 */
export interface TreeJSON {
  readonly leaves: number;
  readonly feature: number[];
  readonly threshold: number[];
  readonly left: number[];
  readonly right: number[];
  readonly gain: number[];
  readonly cover: number[];
  readonly value: number[];
  readonly valueCover: number[];
  readonly cats: number[][];
  readonly missingLeft?: number[];
}

export function treeToJSON(t: Tree): TreeJSON {
  const json: TreeJSON = {
    leaves: t.nLeaves,
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold),
    left: Array.from(t.left),
    right: Array.from(t.right),
    gain: Array.from(t.gain),
    cover: Array.from(t.cover),
    value: Array.from(t.leafValue),
    valueCover: Array.from(t.leafCover),
    cats: Array.from({ length: t.nCatSets }, (_, s) => Array.from(t.catSet(s))),
  };
  return t.hasMissingLeft ? { ...json, missingLeft: Array.from(t.missingLeft) } : json;
}

function invalid(path: string, what: string): never {
  throw new AppError("MODEL_FILE_INVALID", `${path}: ${what}`);
}

/** A plain (non-null, non-array) object, or a clear error naming where it was expected. */
export function expectObject(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) invalid(path, "expected an object");
  return v as Record<string, unknown>;
}

export function expectFinite(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    invalid(path, `expected a finite number, got ${JSON.stringify(v)}`);
  return v;
}

export function expectInt(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    invalid(path, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function finiteArray(v: unknown, path: string, len: number): Float64Array {
  if (!Array.isArray(v)) invalid(path, "expected an array");
  if (v.length !== len) invalid(path, `expected ${len} entries, got ${v.length}`);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = expectFinite(v[i], `${path}[${i}]`);
  return out;
}

function intArray(v: unknown, path: string, len: number, min: number, max: number): Int32Array {
  if (!Array.isArray(v)) invalid(path, "expected an array");
  if (v.length !== len) invalid(path, `expected ${len} entries, got ${v.length}`);
  const out = new Int32Array(len);
  for (let i = 0; i < len; i++) out[i] = expectInt(v[i], `${path}[${i}]`, min, max);
  return out;
}

/** Largest tree accepted: far beyond any fitted here, small enough to refuse absurd input. */
const MAX_LEAVES = 1 << 24;

/**
 * Reads a tree back, checking that it is a well-formed binary tree over `features`: indices in
 * range, every node and leaf reached exactly once, children after their parent (no cycles), split
 * kinds matching the feature kinds, category sets within the feature's categories.
 * @throws AppError MODEL_FILE_INVALID naming the offending field.
 */
export function treeFromJSON(json: unknown, features: readonly FeatureSpec[], path: string): Tree {
  const o = expectObject(json, path);
  const L = expectInt(o.leaves, `${path}.leaves`, 1, MAX_LEAVES);
  const I = L - 1;
  const feature = intArray(o.feature, `${path}.feature`, I, 0, features.length - 1);
  const thresholdRaw = finiteArray(o.threshold, `${path}.threshold`, I);
  const left = intArray(o.left, `${path}.left`, I, -L, I - 1);
  const right = intArray(o.right, `${path}.right`, I, -L, I - 1);
  const gain = finiteArray(o.gain, `${path}.gain`, I);
  const cover = finiteArray(o.cover, `${path}.cover`, I);
  const value = finiteArray(o.value, `${path}.value`, L);
  const valueCover = finiteArray(o.valueCover, `${path}.valueCover`, L);
  if (!Array.isArray(o.cats)) invalid(`${path}.cats`, "expected an array");
  const catsRaw = o.cats as unknown[];
  const catOffsets = new Int32Array(catsRaw.length + 1);
  const catValues: number[] = [];
  const categorical = new Uint8Array(I);
  const catUsedBy = new Int32Array(catsRaw.length).fill(-1);
  for (let k = 0; k < I; k++) {
    const spec = features[feature[k]];
    if (spec.kind !== "categorical") continue;
    categorical[k] = 1;
    const s = thresholdRaw[k];
    if (!Number.isInteger(s) || s < 0 || s >= catsRaw.length) {
      invalid(`${path}.threshold[${k}]`, `categorical split needs an index into cats, got ${s}`);
    }
    if (catUsedBy[s] >= 0)
      invalid(`${path}.threshold[${k}]`, `category set ${s} is shared with node ${catUsedBy[s]}`);
    catUsedBy[s] = k;
  }
  for (let s = 0; s < catsRaw.length; s++) {
    const p = `${path}.cats[${s}]`;
    const k = catUsedBy[s];
    if (k < 0) invalid(p, "category set used by no categorical split");
    const raw = catsRaw[s];
    if (!Array.isArray(raw) || raw.length === 0)
      invalid(p, "expected a non-empty array of categories");
    const nCat = features[feature[k]].nCategories ?? 0;
    const set = intArray(raw, p, raw.length, 0, nCat - 1);
    for (let i = 1; i < set.length; i++)
      if (set[i] <= set[i - 1]) invalid(p, "categories must be strictly ascending");
    catValues.push(...set);
    catOffsets[s + 1] = catValues.length;
  }
  // Children: internal ones after their parent, each internal node (but the root) and each leaf
  // reached exactly once.
  const seenNode = new Uint8Array(I);
  const seenLeaf = new Uint8Array(L);
  for (let k = 0; k < I; k++) {
    for (const [side, c] of [
      ["left", left[k]],
      ["right", right[k]],
    ] as const) {
      const p = `${path}.${side}[${k}]`;
      if (c >= 0) {
        if (c <= k) invalid(p, `child node ${c} must come after its parent ${k}`);
        if (seenNode[c]) invalid(p, `node ${c} has two parents`);
        seenNode[c] = 1;
      } else {
        const leaf = ~c;
        if (seenLeaf[leaf]) invalid(p, `leaf ${leaf} has two parents`);
        seenLeaf[leaf] = 1;
      }
    }
  }
  const missingLeft =
    o.missingLeft === undefined
      ? new Uint8Array(I)
      : Uint8Array.from(intArray(o.missingLeft, `${path}.missingLeft`, I, 0, 1));
  for (let k = 0; k < I; k++) {
    if (missingLeft[k] && categorical[k])
      invalid(`${path}.missingLeft[${k}]`, "a categorical split sends missing values right");
  }
  for (let k = 1; k < I; k++) if (!seenNode[k]) invalid(path, `node ${k} is unreachable`);
  if (I > 0)
    for (let l = 0; l < L; l++) if (!seenLeaf[l]) invalid(path, `leaf ${l} is unreachable`);
  return new Tree(
    L,
    feature,
    thresholdRaw,
    categorical,
    left,
    right,
    gain,
    cover,
    value,
    valueCover,
    catOffsets,
    Int32Array.from(catValues),
    missingLeft,
  );
}
