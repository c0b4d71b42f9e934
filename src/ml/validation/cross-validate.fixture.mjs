// Fold jobs for cross-validate.test.ts. Plain JavaScript so that worker threads can import it
// while the tests run from TypeScript sources.

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Logistic score of one feature, centred between the two class means of the training rows,
 * plus seeded jitter of size `shared.jitter`. Params: `feature` (column, default
 * `shared.feature`), `k` (slope, default 1), `flip` (reverses the score), `threshold`.
 */
export function fitScore(shared, input) {
  const { data } = shared;
  const params = input.params ?? {};
  const col = data.columns[params.feature ?? shared.feature];
  const sums = [0, 0];
  const counts = [0, 0];
  for (const r of input.trainRows) {
    sums[data.y[r]] += col[r];
    counts[data.y[r]] += 1;
  }
  const mid = (sums[0] / counts[0] + sums[1] / counts[1]) / 2;
  const direction = sums[1] / counts[1] >= sums[0] / counts[0] ? 1 : -1;
  const k = (params.k ?? 1) * direction * (params.flip ? -1 : 1);
  const rand = mulberry32(input.seed);
  const proba = new Float64Array(input.testRows.length);
  input.testRows.forEach((r, i) => {
    const z = k * (col[r] - mid) + shared.jitter * (rand() - 0.5);
    proba[i] = 1 / (1 + Math.exp(-z));
  });
  const out = { proba, extra: { trainSize: input.trainRows.length, fold: input.fold } };
  return params.threshold === undefined ? out : { ...out, threshold: params.threshold };
}

/** Fails on fold 1. */
export function failing(shared, input) {
  if (input.fold === 1) throw new Error(`cannot fit fold ${input.fold}`);
  return fitScore(shared, input);
}

/** Returns one probability too few. */
export function shortProba(shared, input) {
  const out = fitScore(shared, input);
  return { proba: out.proba.subarray(1) };
}
