/**
 * The drift tests against SciPy/NumPy on random data: 36 column cases (normal, rounded,
 * small-integer and categorical samples of 5–400 values) and 24 two-sample KS p-values from
 * sizes that take the exact and the asymptotic methods. The expected values were computed by
 * test/fixtures/make-scipy-drift.py with SciPy 1.17; every one must match to 1e-9 relative.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type DriftTestName, runDriftTest } from "../src/monitoring/drift-tests.js";
import { ksTwoSamplePValue } from "../src/monitoring/ks-distribution.js";

interface Fixture {
  scipy: string;
  cases: {
    kind: "numeric" | "categorical";
    reference: (number | string)[];
    current: (number | string)[];
    expected: Partial<Record<DriftTestName, number>>;
  }[];
  ks: { n1: number; n2: number; statistic: number; pValue: number }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/scipy-drift.json", import.meta.url), "utf8"),
) as Fixture;

function relative(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
}

describe(`drift tests against SciPy ${fixture.scipy}`, () => {
  it("match every test of every random case to 1e-9 relative", () => {
    let compared = 0;
    for (const [i, c] of fixture.cases.entries()) {
      const sample = (values: (number | string)[]) =>
        c.kind === "numeric"
          ? { kind: "numeric" as const, values: Float64Array.from(values as number[]) }
          : { kind: "categorical" as const, values: values as string[] };
      for (const [test, want] of Object.entries(c.expected) as [DriftTestName, number][]) {
        const r = runDriftTest(test, sample(c.reference), sample(c.current), 0.05);
        const got = r.pValue ?? r.statistic;
        expect(relative(got as number, want), `case ${i} ${test}: ${got} vs ${want}`).toBeLessThan(
          1e-9,
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(150);
  });

  it("give ks_2samp's p-value for exact and asymptotic sizes", () => {
    for (const k of fixture.ks) {
      const got = ksTwoSamplePValue(k.n1, k.n2, k.statistic).pValue;
      expect(relative(got, k.pValue), `${k.n1}×${k.n2} D=${k.statistic}`).toBeLessThan(1e-9);
    }
  });
});
