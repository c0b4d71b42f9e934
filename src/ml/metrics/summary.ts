export interface Summary {
  readonly mean: number;
  /** Sample standard deviation (n − 1 denominator); NaN for fewer than two values. */
  readonly std: number;
}

/** Mean and sample standard deviation of per-fold scores (two-pass for accuracy). */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { mean, std: NaN };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}
