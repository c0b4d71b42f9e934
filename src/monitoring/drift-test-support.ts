/**
 * Test support for the drift tests (imported by `*.test.ts` files only): a relative-tolerance
 * check and the samples of the spec's test vectors (`/shared/specs/drift.md`).
 */
import { expect } from "vitest";

/** Tolerance the spec asks for when reproducing SciPy/NumPy reference values. */
export const SPEC_TOLERANCE = 1e-9;

/** |actual − expected| <= rel·|expected| (exact equality when expected is 0). */
export function expectRelClose(
  actual: number | null | undefined,
  expected: number,
  rel = SPEC_TOLERANCE,
): void {
  expect(typeof actual, `expected a number close to ${expected}`).toBe("number");
  const a = actual as number;
  const error = expected === 0 ? Math.abs(a) : Math.abs(a - expected) / Math.abs(expected);
  expect(error, `${a} vs ${expected}: relative error ${error}`).toBeLessThanOrEqual(rel);
}

/** Spec "Large numeric" reference: R_i = i mod 97, i < 2000. */
export function largeNumericReference(): Float64Array {
  return Float64Array.from({ length: 2000 }, (_, i) => i % 97);
}

/** Spec "Large numeric" current: C_i = 7i mod 113, i < 1500. */
export function largeNumericCurrent(): Float64Array {
  return Float64Array.from({ length: 1500 }, (_, i) => (7 * i) % 113);
}

/** Spec "Categorical with a new value": one character a row. */
export const NEW_VALUE_REFERENCE: readonly string[] = [..."aaaabbbccd"];
export const NEW_VALUE_CURRENT: readonly string[] = [..."aabbbcccce"];

/** 1, 2, …, n shifted by `from − 1`. */
export function range(from: number, to: number): Float64Array {
  return Float64Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
