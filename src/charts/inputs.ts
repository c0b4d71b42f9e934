/**
 * Input handling shared by the charts: every chart tolerates missing and non-numeric values by
 * skipping them and saying so, never by drawing "NaN".
 */

export function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Joins the non-empty sentences with spaces (descriptions and footnotes). */
export function sentences(...parts: string[]): string {
  return parts.filter((p) => p !== "").join(" ");
}

/** [min, max] of the values; [Infinity, -Infinity] when there are none. */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Reads a 0/1/boolean label; anything else is not a label. */
function badLabel(v: number | boolean | undefined): 0 | 1 | undefined {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  return undefined;
}

/** Rows kept by {@link labelledRows}, as the arrays `ml/metrics` takes. */
export interface LabelledRows {
  readonly values: number[];
  readonly labels: (0 | 1)[];
}

/**
 * Pairs per-row values (scores, probabilities) with bad labels, keeping the rows whose value
 * passes `keep` (default: finite) and whose label is 0/1/true/false. Throws a RangeError when
 * the lengths differ; `noun` names the values in that message.
 */
export function labelledRows(
  values: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  noun: string,
  keep: (v: number) => boolean = finite,
): LabelledRows {
  const n = values.length;
  if (labels.length !== n) throw new RangeError(`${labels.length} labels but ${n} ${noun}`);
  const rows: LabelledRows = { values: [], labels: [] };
  for (let i = 0; i < n; i++) {
    const label = badLabel(labels[i]);
    if (finite(values[i]) && keep(values[i]) && label !== undefined) {
      rows.values.push(values[i]);
      rows.labels.push(label);
    }
  }
  return rows;
}
