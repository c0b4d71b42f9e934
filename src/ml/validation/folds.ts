import type { Rng } from "../../core/rng.js";

export interface Fold {
  readonly train: Int32Array;
  readonly test: Int32Array;
  /** Which repetition (0-based) of a repeated k-fold this fold belongs to. */
  readonly repeat: number;
  /** Fold number (0-based) within its repetition. */
  readonly fold: number;
}

/**
 * Stratified k-fold: each class is shuffled and dealt round-robin over the folds, so every fold
 * holds the class ratio of the whole (±1 row). Deterministic for a given rng state.
 */
export function stratifiedKFold(y: Uint8Array, k: number, rng: Rng, repeat = 0): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer ≥ 2, got ${k}`);
  const byClass: number[][] = [[], []];
  for (let i = 0; i < y.length; i++) byClass[y[i] ? 1 : 0].push(i);
  for (const rows of byClass) {
    if (rows.length < k && rows.length > 0) {
      throw new RangeError(`a class has ${rows.length} rows, fewer than the ${k} folds`);
    }
  }
  const assign = new Int32Array(y.length);
  let offset = 0;
  for (const rows of byClass) {
    rng.shuffle(rows);
    // Continue dealing where the previous class stopped so fold sizes differ by at most one.
    rows.forEach((row, i) => (assign[row] = (offset + i) % k));
    offset = (offset + rows.length) % k;
  }
  const sizes = new Int32Array(k);
  for (let i = 0; i < y.length; i++) sizes[assign[i]]++;
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const test = new Int32Array(sizes[f]);
    const train = new Int32Array(y.length - sizes[f]);
    let a = 0;
    let b = 0;
    for (let i = 0; i < y.length; i++) {
      if (assign[i] === f) test[a++] = i;
      else train[b++] = i;
    }
    folds.push({ train, test, repeat, fold: f });
  }
  return folds;
}

/** `repeats` independent stratified k-fold splits, each from a fork of `rng`. */
export function repeatedStratifiedKFold(
  y: Uint8Array,
  k: number,
  repeats: number,
  rng: Rng,
): Fold[] {
  const out: Fold[] = [];
  for (let r = 0; r < repeats; r++) out.push(...stratifiedKFold(y, k, rng.fork(r), r));
  return out;
}
