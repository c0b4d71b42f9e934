/**
 * Gauss–Legendre quadrature on [0, 1]: with n points it integrates every polynomial of degree
 * ≤ 2n − 1 exactly (up to rounding). TreeSHAP uses it to turn the Shapley weights of a leaf into
 * an integral of a polynomial (see tree-shap.ts).
 */
export interface Quadrature {
  /** Nodes t_q in (0, 1), ascending. */
  readonly t: Float64Array;
  /** 1 − t_q, computed without cancellation. */
  readonly u: Float64Array;
  /** Weights, summing to 1. */
  readonly w: Float64Array;
}

const cache = new Map<number, Quadrature>();

/** The n-point rule (n ≥ 1), computed once per n. */
export function gaussLegendre(n: number): Quadrature {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`quadrature needs n ≥ 1, got ${n}`);
  const hit = cache.get(n);
  if (hit) return hit;
  const t = new Float64Array(n);
  const u = new Float64Array(n);
  const w = new Float64Array(n);
  // Roots of the Legendre polynomial P_n on [−1, 1] by Newton's method from the classical
  // asymptotic guess; x ↦ t = (1 + x)/2 maps them to [0, 1] and halves the weights.
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pm = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pm)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    // Recompute P_n' at the converged root for the weight.
    let p0 = 1;
    let p1 = x;
    for (let k = 2; k <= n; k++) {
      const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = n === 1 ? 1 : (n * (x * p1 - p0)) / (x * x - 1);
    // Roots come out descending in x; store ascending in t.
    const j = n - 1 - i;
    t[j] = (1 + x) / 2;
    u[j] = (1 - x) / 2;
    w[j] = 1 / ((1 - x * x) * dp * dp);
  }
  const rule = { t, u, w };
  cache.set(n, rule);
  return rule;
}
