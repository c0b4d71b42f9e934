/**
 * The exploratory profile credit teams start from: per column its distribution, missing share
 * and, when the data carries a good/bad label, the bad rate by category or bin with counts, the
 * weight of evidence of each and the column's information value.
 *
 * Conventions (the usual scorecard ones): WoE = ln(share of goods ÷ share of bads) in a bin, so
 * a bin riskier than average has a negative WoE; IV = Σ (share of goods − share of bads) · WoE.
 * A bin with no good or no bad would have an infinite WoE: 0.5 is added to both counts of every
 * bin of that column (Laplace-style smoothing), and the profile says so.
 */

import type { DriftColumn } from "./columns.js";

export interface ProfileBin {
  /** A category, or a numeric range `[low, high)` (the last one closed). */
  readonly label: string;
  readonly low?: number;
  readonly high?: number;
  readonly count: number;
  readonly share: number;
  /** With a label: bads in the bin, their rate, and the bin's weight of evidence. */
  readonly bad?: number;
  readonly badRate?: number | null;
  readonly woe?: number;
}

export interface ColumnProfile {
  readonly column: string;
  readonly kind: "numeric" | "categorical";
  readonly count: number;
  readonly missing: number;
  readonly missingShare: number;
  readonly distinct: number;
  /** Numeric columns. */
  readonly stats?: {
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly std: number;
    readonly quantiles: Readonly<Record<"p5" | "p25" | "p50" | "p75" | "p95", number>>;
  };
  readonly bins: readonly ProfileBin[];
  /** With a label: the column's information value, and whether smoothing was needed. */
  readonly informationValue?: number;
  readonly smoothed?: boolean;
}

export interface DataProfile {
  readonly rows: number;
  /** The label column, if the data has one, with its bad count and rate. */
  readonly label: {
    readonly column: string;
    readonly bad: number;
    readonly badRate: number;
  } | null;
  readonly columns: readonly ColumnProfile[];
}

/** Numeric columns are cut into at most this many bins of about equal counts. */
export const NUMERIC_BINS = 10;

/** The usual reading of an information value (Siddiqi). */
export function ivStrength(iv: number): string {
  if (iv < 0.02) return "not predictive";
  if (iv < 0.1) return "weak";
  if (iv < 0.3) return "medium";
  if (iv < 0.5) return "strong";
  return "suspiciously strong";
}

function quantile(sorted: Float64Array, q: number): number {
  // Linear interpolation between order statistics (numpy's default).
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Bin edges of about equal counts over the distinct values: cut points at the deciles, moved
 * to distinct values so no value is split across bins. Fewer bins when there are few values.
 */
function numericEdges(sorted: Float64Array): number[] {
  const distinct = [...new Set(sorted)];
  if (distinct.length <= NUMERIC_BINS) return [...distinct, Infinity];
  const cuts = new Set<number>([sorted[0]]);
  for (let k = 1; k < NUMERIC_BINS; k++) {
    const at = sorted[Math.floor((k * sorted.length) / NUMERIC_BINS)];
    if (at > sorted[0]) cuts.add(at);
  }
  return [...[...cuts].sort((a, b) => a - b), Infinity];
}

/** Which bin of `edges` (lower edges, then +Infinity) holds `x`. */
function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (x >= edges[mid]) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Bad rate and weight of evidence per bin from the labelled rows of each (`count` of them,
 * `bad` of those bad), and the column's information value.
 */
function evidence(bins: readonly { count: number; bad: number }[]): {
  badRate: (number | null)[];
  woe: number[];
  iv: number;
  smoothed: boolean;
} {
  const smoothed = bins.some((b) => b.bad === 0 || b.count - b.bad === 0);
  const add = smoothed ? 0.5 : 0;
  const goods = bins.reduce((a, b) => a + b.count - b.bad + add, 0);
  const bads = bins.reduce((a, b) => a + b.bad + add, 0);
  let iv = 0;
  const woe = bins.map((b) => {
    const goodShare = (b.count - b.bad + add) / goods;
    const badShare = (b.bad + add) / bads;
    const w = Math.log(goodShare / badShare);
    iv += (goodShare - badShare) * w;
    return w;
  });
  return { badRate: bins.map((b) => (b.count === 0 ? null : b.bad / b.count)), woe, iv, smoothed };
}

/**
 * The profile of a dataset. `label`: 1 = bad, 0 = good, NaN = unknown (that row is left out of
 * the bad rates and evidence, not of the distributions); omit it for unlabelled data.
 *
 * @example profileData(columns, { column: "class", values: labels }).columns[0].informationValue
 */
export function profileData(
  columns: readonly DriftColumn[],
  label?: { readonly column: string; readonly values: ArrayLike<number> },
): DataProfile {
  const rows = columns[0]?.values.length ?? 0;
  const y = label?.values;
  const known = (i: number) => y !== undefined && (y[i] === 0 || y[i] === 1);
  let bad = 0;
  let labelled = 0;
  if (y) {
    for (let i = 0; i < rows; i++) {
      if (known(i)) {
        labelled++;
        if (y[i] === 1) bad++;
      }
    }
  }
  const hasLabel = y !== undefined && labelled > 0;
  return {
    rows,
    label: hasLabel ? { column: label!.column, bad, badRate: bad / labelled } : null,
    columns: columns.map((column) =>
      column.kind === "numeric"
        ? numericProfile(column.name, column.values, y, hasLabel)
        : categoricalProfile(column.name, column.values, y, hasLabel),
    ),
  };
}

function numericProfile(
  name: string,
  values: Float64Array,
  y: ArrayLike<number> | undefined,
  hasLabel: boolean,
): ColumnProfile {
  const present = values.filter((v) => Number.isFinite(v)).sort();
  const missing = values.length - present.length;
  const base = {
    column: name,
    kind: "numeric" as const,
    count: values.length,
    missing,
    missingShare: values.length === 0 ? 0 : missing / values.length,
    distinct: new Set(present).size,
  };
  if (present.length === 0) return { ...base, bins: [] };
  const mean = present.reduce((a, v) => a + v, 0) / present.length;
  const variance = present.reduce((a, v) => a + (v - mean) ** 2, 0) / present.length;
  const edges = numericEdges(present);
  const max = present[present.length - 1];
  // Per bin: all present values (the distribution) and the labelled ones (the evidence).
  const all = new Float64Array(edges.length - 1);
  const labelled = edges.slice(0, -1).map(() => ({ count: 0, bad: 0 }));
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    const k = binOf(edges, v);
    all[k]++;
    if (hasLabel && (y![i] === 0 || y![i] === 1)) {
      labelled[k].count++;
      if (y![i] === 1) labelled[k].bad++;
    }
  });
  const ev = hasLabel ? evidence(labelled) : null;
  const bins: ProfileBin[] = edges.slice(0, -1).map((low, k) => {
    const high = edges[k + 1];
    return {
      label: Number.isFinite(high) ? `[${low}, ${high})` : `[${low}, ${max}]`,
      low,
      high: Number.isFinite(high) ? high : max,
      count: all[k],
      share: all[k] / present.length,
      ...(ev ? { bad: labelled[k].bad, badRate: ev.badRate[k], woe: ev.woe[k] } : {}),
    };
  });
  return {
    ...base,
    stats: {
      min: present[0],
      max: present[present.length - 1],
      mean,
      std: Math.sqrt(variance),
      quantiles: {
        p5: quantile(present, 0.05),
        p25: quantile(present, 0.25),
        p50: quantile(present, 0.5),
        p75: quantile(present, 0.75),
        p95: quantile(present, 0.95),
      },
    },
    bins,
    ...(ev ? { informationValue: ev.iv, smoothed: ev.smoothed } : {}),
  };
}

function categoricalProfile(
  name: string,
  values: readonly (string | null)[],
  y: ArrayLike<number> | undefined,
  hasLabel: boolean,
): ColumnProfile {
  const counts = new Map<string, { count: number; bad: number; labelled: number }>();
  let missing = 0;
  values.forEach((v, i) => {
    if (v === null) {
      missing++;
      return;
    }
    const c = counts.get(v) ?? { count: 0, bad: 0, labelled: 0 };
    c.count++;
    if (hasLabel && (y![i] === 0 || y![i] === 1)) {
      c.labelled++;
      if (y![i] === 1) c.bad++;
    }
    counts.set(v, c);
  });
  const present = values.length - missing;
  // Most frequent first: the order a reader scans.
  const sorted = [...counts].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1));
  const ev = hasLabel ? evidence(sorted.map(([, c]) => ({ count: c.labelled, bad: c.bad }))) : null;
  const bins: ProfileBin[] = sorted.map(([label, c], k) => ({
    label,
    count: c.count,
    share: present === 0 ? 0 : c.count / present,
    ...(ev ? { bad: c.bad, badRate: ev.badRate[k], woe: ev.woe[k] } : {}),
  }));
  return {
    column: name,
    kind: "categorical",
    count: values.length,
    missing,
    missingShare: values.length === 0 ? 0 : missing / values.length,
    distinct: counts.size,
    bins,
    ...(ev ? { informationValue: ev.iv, smoothed: ev.smoothed } : {}),
  };
}
