import { describe, expect, it } from "vitest";
import { choleskyFactor, choleskySolve, choleskySolveFactored } from "./cholesky.js";

describe("Cholesky", () => {
  it("solves a symmetric positive definite system", () => {
    // A = [[4, 2, 2], [2, 5, 3], [2, 3, 6]], x = [1, -2, 3] → b = A x.
    const a = Float64Array.of(4, 2, 2, 2, 5, 3, 2, 3, 6);
    const b = Float64Array.of(4 - 4 + 6, 2 - 10 + 9, 2 - 6 + 18);
    expect(choleskySolve(a, b, 3)).toBe(true);
    expect(b[0]).toBeCloseTo(1, 12);
    expect(b[1]).toBeCloseTo(-2, 12);
    expect(b[2]).toBeCloseTo(3, 12);
    // The factor is reusable for another right-hand side: A e₁ = first column.
    const e = Float64Array.of(4, 2, 2);
    choleskySolveFactored(a, e, 3);
    expect(Array.from(e).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([1, 0, 0]);
  });

  it("reports a matrix that is not positive definite", () => {
    expect(choleskyFactor(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
    expect(choleskyFactor(Float64Array.of(0, 0, 0, 1), 2)).toBe(false);
  });
});
