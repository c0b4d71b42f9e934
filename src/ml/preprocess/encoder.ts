import { AppError } from "../../core/errors.js";
import type { FeatureSpec, Table } from "../types.js";

export interface EncoderOptions {
  /** Original feature indices to encode (others produce no columns). Default: all. */
  readonly features?: readonly number[];
  /**
   * Apply log1p before standardising to every numeric feature that looks like a skewed amount
   * on the training rows: non-negative, at least `SKEW_MIN_DISTINCT` distinct values and sample
   * skewness above `SKEW_MIN`. Decided per feature at fit time and stored.
   */
  readonly logSkewed?: boolean;
}

export const SKEW_MIN = 0.5;
export const SKEW_MIN_DISTINCT = 10;

interface NumericBlock {
  readonly kind: "numeric";
  readonly feature: number;
  /** The encoded column. */
  readonly column: number;
  readonly log: boolean;
  readonly mean: number;
  readonly std: number;
  /**
   * The missing-indicator column (`column + 1`), present only when the training rows had missing
   * values: 1 when the value is missing (the value column then holds the mean, 0).
   */
  readonly missing?: number;
}

interface CategoricalBlock {
  readonly kind: "categorical";
  readonly feature: number;
  /** First encoded column; level k is column `start + k`. */
  readonly start: number;
  readonly levels: number;
  /**
   * The column of the "missing" level (`start + levels`), present only when the training rows
   * had missing values.
   */
  readonly missing?: number;
}

export type EncoderBlock = NumericBlock | CategoricalBlock;

export interface EncoderJson {
  readonly features: readonly { name: string; kind: FeatureSpec["kind"]; nCategories?: number }[];
  readonly blocks: readonly EncoderBlock[];
}

/**
 * Encoded rows in slot form: every row has exactly one slot per encoded feature (a one-hot block
 * has a single non-zero), so row i occupies `index/value[i*slots … (i+1)*slots)`. An unknown
 * category takes a slot with value 0.
 */
export interface EncodedRows {
  readonly n: number;
  readonly slots: number;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

/**
 * Turns a table into the design matrix of a linear model: categorical features one-hot encoded
 * with every level kept, numeric features standardised with the training mean and standard
 * deviation (optionally after a log1p of right-skewed ones).
 *
 * All levels are kept rather than dropping a reference level because the L2 penalty already
 * makes the model identifiable, and with a dropped level the penalty would shrink every other
 * level towards an arbitrary reference instead of towards the average.
 *
 * A feature with missing (NaN) values in the training rows gets one more column: a numeric
 * feature a missing indicator beside its value, which is imputed by the training mean
 * (standardised 0), and a categorical feature a "missing" level. Missingness is rarely random in
 * credit data (an income left blank says something), and the mean alone would score such a row
 * as an average applicant. The indicator's weight is penalised like any other, so a missing
 * value scores as the mean unless the training rows say otherwise. A feature complete in the
 * training rows gets no extra column, and a NaN met in it at scoring time gets the neutral
 * encoding: the mean for a numeric value, no indicator at all for a category (as for an unknown
 * category), so the row scores as the intercept plus its other features.
 */
export class Encoder {
  /** Number of encoded columns. */
  readonly width: number;
  /** Original feature index of each encoded column. */
  readonly columnFeature: Int32Array;

  private constructor(
    readonly features: readonly FeatureSpec[],
    readonly blocks: readonly EncoderBlock[],
  ) {
    let width = 0;
    for (const b of blocks) width += blockWidth(b);
    this.width = width;
    this.columnFeature = new Int32Array(width);
    for (const b of blocks) {
      const first = b.kind === "numeric" ? b.column : b.start;
      this.columnFeature.fill(b.feature, first, first + blockWidth(b));
    }
  }

  /** Learns levels, means and standard deviations from the rows of `table` (training rows). */
  static fit(table: Table, options: EncoderOptions = {}): Encoder {
    const selected = options.features
      ? [...new Set(options.features)].sort((a, b) => a - b)
      : table.features.map((_, j) => j);
    const blocks: EncoderBlock[] = [];
    let next = 0;
    for (const j of selected) {
      const spec = table.features[j];
      if (!spec) throw new RangeError(`no feature ${j}`);
      const col = table.columns[j];
      // A complete feature's block gets no `missing` field at all: its JSON, and so the model
      // file, stays the same as without indicators.
      const missing = hasMissing(col);
      if (spec.kind === "categorical") {
        const levels = spec.nCategories ?? maxCategory(col) + 1;
        const block: CategoricalBlock = { kind: "categorical", feature: j, start: next, levels };
        blocks.push(missing ? { ...block, missing: next + levels } : block);
        next += levels + (missing ? 1 : 0);
      } else {
        const log = options.logSkewed === true && isSkewedAmount(col);
        const { mean, std } = meanStd(col, log);
        const block: NumericBlock = { kind: "numeric", feature: j, column: next, log, mean, std };
        blocks.push(missing ? { ...block, missing: next + 1 } : block);
        next += missing ? 2 : 1;
      }
    }
    return new Encoder(table.features, blocks);
  }

  static fromJSON(json: unknown, features: readonly FeatureSpec[]): Encoder {
    const bad = (why: string) => new AppError("MODEL_FILE_INVALID", `encoder: ${why}`);
    if (!json || typeof json !== "object") throw bad("not an object");
    const { features: names, blocks } = json as EncoderJson;
    if (!Array.isArray(names) || !Array.isArray(blocks)) throw bad("missing features or blocks");
    if (names.length !== features.length) {
      throw bad(`model has ${names.length} features, the data ${features.length}`);
    }
    names.forEach((f, j) => {
      const spec = features[j];
      if (f?.name !== spec.name || f.kind !== spec.kind) {
        throw bad(
          `feature ${j} is ${f?.name} (${f?.kind}) in the model, ${spec.name} (${spec.kind})`,
        );
      }
    });
    let next = 0;
    const seen = new Set<number>();
    for (const b of blocks as readonly EncoderBlock[]) {
      const spec = features[b?.feature];
      if (!spec || seen.has(b.feature) || spec.kind !== b.kind) throw bad("invalid block");
      seen.add(b.feature);
      if (b.kind === "numeric") {
        const ok =
          b.column === next &&
          typeof b.log === "boolean" &&
          Number.isFinite(b.mean) &&
          Number.isFinite(b.std) &&
          b.std > 0;
        if (!ok) throw bad(`invalid numeric block for ${spec.name}`);
        if (b.missing !== undefined && b.missing !== next + 1) {
          throw bad(
            `the missing indicator of ${spec.name} must be column ${next + 1}, got ${JSON.stringify(b.missing)}`,
          );
        }
      } else {
        if (b.start !== next || !Number.isInteger(b.levels) || b.levels < 1) {
          throw bad(`invalid categorical block for ${spec.name}`);
        }
        if (b.missing !== undefined && b.missing !== next + b.levels) {
          throw bad(
            `the missing level of ${spec.name} must be column ${next + b.levels}, got ${JSON.stringify(b.missing)}`,
          );
        }
      }
      next += blockWidth(b);
    }
    return new Encoder(
      features,
      blocks.map((b) => ({ ...b })),
    );
  }

  toJSON(): EncoderJson {
    return {
      features: this.features.map((f) =>
        f.kind === "categorical"
          ? { name: f.name, kind: f.kind, nCategories: f.nCategories }
          : { name: f.name, kind: f.kind },
      ),
      blocks: this.blocks.map((b) => ({ ...b })),
    };
  }

  /**
   * Readable name per encoded column, e.g. `purpose[3]` or `duration`; a missing indicator or
   * level is `income[missing]`.
   */
  columnNames(): string[] {
    const names = new Array<string>(this.width);
    for (const b of this.blocks) {
      const name = this.features[b.feature].name;
      if (b.kind === "numeric") names[b.column] = b.log ? `log1p(${name})` : name;
      else for (let k = 0; k < b.levels; k++) names[b.start + k] = `${name}[${k}]`;
      if (b.missing !== undefined) names[b.missing] = `${name}[missing]`;
    }
    return names;
  }

  /**
   * Encodes every row of `table` in slot form (for fitting). A missing value with an indicator
   * takes its feature's slot with the indicator: the value column is 0 then, so one slot still
   * holds the feature's only non-zero.
   */
  transform(table: Table): EncodedRows {
    const n = table.n;
    const slots = this.blocks.length;
    const index = new Int32Array(n * slots);
    const value = new Float64Array(n * slots);
    for (let s = 0; s < slots; s++) {
      const b = this.blocks[s];
      const col = table.columns[b.feature];
      if (b.kind === "numeric") {
        const { column, mean, std, log } = b;
        const missing = b.missing;
        for (let i = 0, o = s; i < n; i++, o += slots) {
          const v = col[i];
          if (v !== v && missing !== undefined) {
            index[o] = missing;
            value[o] = 1;
          } else {
            index[o] = column;
            value[o] = v !== v ? 0 : ((log ? Math.log1p(v > 0 ? v : 0) : v) - mean) / std;
          }
        }
      } else {
        for (let i = 0, o = s; i < n; i++, o += slots) {
          const c = hotLevel(b, col[i]);
          index[o] = c >= 0 ? c : b.start;
          value[o] = c >= 0 ? 1 : 0;
        }
      }
    }
    return { n, slots, index, value };
  }

  /** Dense encoded vector of one row (values in original feature order). */
  transformRow(row: ArrayLike<number>, out = new Float64Array(this.width)): Float64Array {
    out.fill(0);
    for (const b of this.blocks) {
      const v = row[b.feature];
      if (b.kind === "numeric") {
        if (v !== v && b.missing !== undefined) out[b.missing] = 1;
        else out[b.column] = scale(b, v);
      } else {
        const c = hotLevel(b, v);
        if (c >= 0) out[c] = 1;
      }
    }
    return out;
  }

  /** `bias + Σ weights·x` for every row of `table`, without materialising the encoding. */
  linear(table: Table, weights: ArrayLike<number>, bias: number): Float64Array {
    const n = table.n;
    const out = new Float64Array(n).fill(bias);
    for (const b of this.blocks) {
      const col = table.columns[b.feature];
      if (b.kind === "numeric") {
        const w = weights[b.column];
        const wMissing = b.missing === undefined ? 0 : weights[b.missing];
        for (let i = 0; i < n; i++) {
          const v = col[i];
          out[i] += v !== v ? wMissing : w * scale(b, v);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const c = hotLevel(b, col[i]);
          if (c >= 0) out[i] += weights[c];
        }
      }
    }
    return out;
  }

  /** `bias + Σ weights·x` for one row: the serving fast path (no allocation). */
  linearRow(row: ArrayLike<number>, weights: ArrayLike<number>, bias: number): number {
    let z = bias;
    for (const b of this.blocks) z += term(b, row[b.feature], weights);
    return z;
  }

  /**
   * Per original feature, the sum of `weights·x` over its encoded columns (0 for features not
   * encoded); these add up to `linearRow(row, weights, 0)`. A missing indicator or level counts
   * for its feature, so a missing value's contribution is what the missingness itself adds.
   */
  contributionsRow(row: ArrayLike<number>, weights: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.features.length);
    for (const b of this.blocks) out[b.feature] = term(b, row[b.feature], weights);
    return out;
  }
}

/** Encoded columns of a block: its values or levels, plus the missing indicator or level. */
function blockWidth(b: EncoderBlock): number {
  return (b.kind === "numeric" ? 1 : b.levels) + (b.missing === undefined ? 0 : 1);
}

/**
 * The column set to 1 for category `k`: its level, the missing level for NaN when the block has
 * one, else −1 (an unknown category, or NaN without a missing level: all zeros).
 */
function hotLevel(b: CategoricalBlock, k: number): number {
  if (k >= 0 && k < b.levels && Number.isInteger(k)) return b.start + k;
  return k !== k && b.missing !== undefined ? b.missing : -1;
}

/** `weights·x` over one block's columns for value `v`. */
function term(b: EncoderBlock, v: number, weights: ArrayLike<number>): number {
  if (b.kind === "numeric") {
    return v !== v && b.missing !== undefined
      ? weights[b.missing]
      : weights[b.column] * scale(b, v);
  }
  const c = hotLevel(b, v);
  return c >= 0 ? weights[c] : 0;
}

function hasMissing(col: Float64Array): boolean {
  for (let i = 0; i < col.length; i++) if (col[i] !== col[i]) return true;
  return false;
}

/** Standardised value of a numeric block; NaN (missing) maps to the mean, i.e. 0. */
function scale(b: NumericBlock, v: number): number {
  if (Number.isNaN(v)) return 0;
  // The log is only chosen for features with no negative training value; clamping keeps a
  // negative input at serving time finite instead of NaN (or −∞ at −1).
  const x = b.log ? Math.log1p(v > 0 ? v : 0) : v;
  return (x - b.mean) / b.std;
}

function maxCategory(col: Float64Array): number {
  let m = -1;
  for (const v of col) if (v > m) m = v;
  return m;
}

/** Mean and population standard deviation over non-missing values; std 0 (constant) → 1. */
function meanStd(col: Float64Array, log: boolean): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (Number.isNaN(v)) continue;
    sum += log ? Math.log1p(v) : v;
    n++;
  }
  if (n === 0) return { mean: 0, std: 1 };
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (Number.isNaN(v)) continue;
    const d = (log ? Math.log1p(v) : v) - mean;
    ss += d * d;
  }
  const std = Math.sqrt(ss / n);
  return { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

/** Non-negative, many distinct values and right-skewed: an amount, a duration, an age. */
function isSkewedAmount(col: Float64Array): boolean {
  const values = col.filter((v) => !Number.isNaN(v));
  if (values.length < 3) return false;
  const distinct = new Set<number>();
  let sum = 0;
  for (const v of values) {
    if (v < 0) return false;
    if (distinct.size < SKEW_MIN_DISTINCT) distinct.add(v);
    sum += v;
  }
  if (distinct.size < SKEW_MIN_DISTINCT) return false;
  const n = values.length;
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  for (const v of values) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 && m3 / m2 ** 1.5 > SKEW_MIN;
}
