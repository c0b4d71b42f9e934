/**
 * In-place Cholesky factorisation A = L Lᵀ of a symmetric positive definite `m×m` matrix stored
 * row-major (only the lower triangle is read and then holds L). Returns false, leaving `a`
 * partly overwritten, when A is not numerically positive definite.
 */
export function choleskyFactor(a: Float64Array, m: number): boolean {
  for (let j = 0; j < m; j++) {
    const rj = j * m;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    a[rj + j] = l;
    for (let i = j + 1; i < m; i++) {
      const ri = i * m;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / l;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b for a factor from `choleskyFactor`; `b` becomes x. */
export function choleskySolveFactored(l: Float64Array, b: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= l[k * m + i] * b[k];
    b[i] = s / l[i * m + i];
  }
}

/** Solves A x = b (A symmetric positive definite, overwritten); false when A is not. */
export function choleskySolve(a: Float64Array, b: Float64Array, m: number): boolean {
  if (!choleskyFactor(a, m)) return false;
  choleskySolveFactored(a, b, m);
  return true;
}
