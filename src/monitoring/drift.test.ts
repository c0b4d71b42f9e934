import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec, featureColumns } from "../data/index.js";
import {
  columnDrift,
  defaultTest,
  detectDrift,
  resolveTest,
  type ColumnSchema,
  type DriftFrame,
} from "./drift.js";
import {
  expectRelClose,
  largeNumericCurrent,
  largeNumericReference,
  range,
} from "./drift-test-support.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

const num = (name: string): ColumnSchema => ({ name, kind: "numeric" });
const cat = (name: string): ColumnSchema => ({ name, kind: "categorical" });

describe("defaultTest: the spec's choice table", () => {
  it.each([
    ["numeric", 1000, 6, "ks"],
    ["numeric", 1000, 5, "chisquare"],
    ["numeric", 1000, 3, "chisquare"],
    ["numeric", 1000, 2, "z"],
    ["numeric", 10, 1, "z"],
    ["categorical", 1000, 3, "chisquare"],
    ["categorical", 1000, 2, "z"],
    ["numeric", 1001, 6, "wasserstein"],
    ["numeric", 1001, 5, "jensenshannon"],
    ["categorical", 1001, 2, "jensenshannon"],
    ["categorical", 50_000, 40, "jensenshannon"],
  ] as const)("%s, N = %d, u = %d → %s", (kind, n, u, expected) => {
    expect(defaultTest(kind, n, u)).toBe(expected);
  });
});

describe("German credit (reference of 1000 rows)", () => {
  let schema: ColumnSchema[];
  let frame: Record<string, Float64Array | (string | null)[]>;

  beforeAll(async () => {
    const { table } = await readDataset(DEFAULT_DATA_PATH);
    schema = table.features.map((f) => ({ name: f.name, kind: f.kind }));
    frame = {};
    table.features.forEach((f, j) => {
      const column = GERMAN_COLUMNS.find((c) => c.name === f.name);
      // The ML table stores a category as its index into the schema's values.
      frame[f.name] =
        column?.kind === "categorical"
          ? Array.from(table.columns[j], (v) => (Number.isNaN(v) ? null : column.values[v].value))
          : table.columns[j];
    });
  });

  it("chooses KS, chi-square and Z as the spec lists", () => {
    const current = Object.fromEntries(Object.entries(frame).map(([k, v]) => [k, v.slice(0, 300)]));
    const result = detectDrift(schema, frame, current);
    const tests = Object.fromEntries(result.columns.map((c) => [c.column, c.test]));
    expect(tests).toEqual({
      checking_status: "chisquare",
      duration: "ks",
      credit_history: "chisquare",
      purpose: "chisquare",
      credit_amount: "ks",
      savings_status: "chisquare",
      employment: "chisquare",
      installment_commitment: "chisquare",
      personal_status: "chisquare",
      other_parties: "chisquare",
      residence_since: "chisquare",
      property_magnitude: "chisquare",
      age: "ks",
      other_payment_plans: "chisquare",
      housing: "chisquare",
      existing_credits: "chisquare",
      job: "chisquare",
      num_dependents: "z",
      own_telephone: "z",
      foreign_worker: "z",
    });
    for (const c of result.columns) {
      expect(c.threshold).toBe(0.05);
      expect(c.effectSize?.value).toBeGreaterThanOrEqual(0);
      expect(c.missing).toEqual({ reference: 0, current: 0, drift: false });
    }
  });

  it("finds no drift between the data and itself", () => {
    const result = detectDrift(schema, frame, frame);
    expect(result.datasetDrift).toBe(false);
    expect(result.driftShare).toBe(0);
    expect(result.countedColumns).toBe(20);
    for (const c of result.columns) expect(c.pValue).toBe(1);
  });
});

describe("detectDrift: dataset verdict", () => {
  const schema = [num("x"), num("y")];
  const reference = { x: range(1, 10), y: range(1, 10) };

  it("drifts when the share of drifted columns reaches 0.5", () => {
    const current = { x: range(1, 10), y: range(30, 39) };
    const result = detectDrift(schema, reference, current);
    expect(result).toMatchObject({
      datasetDrift: true,
      driftShare: 0.5,
      driftedColumns: 1,
      countedColumns: 2,
    });
    expect(result.shareThreshold).toBe(0.5);
  });

  it("takes the share threshold as an option", () => {
    const current = { x: range(1, 10), y: range(30, 39) };
    expect(detectDrift(schema, reference, current, { datasetDriftShare: 0.6 }).datasetDrift).toBe(
      false,
    );
  });

  it("matches the documented example", () => {
    const result = detectDrift([num("age")], { age: [30, 40, 50, 60] }, { age: [31, 41, null] });
    const [age] = result.columns;
    expect(age.test).toBe("ks");
    expectRelClose(age.pValue, 0.9333333333333332);
    expect(age.missing).toEqual({ reference: 0, current: 1 / 3, drift: true });
    expect(result.datasetDrift).toBe(false);
  });

  it("uses distances above 1000 reference values (spec's large numeric vector)", () => {
    const result = detectDrift(
      [num("v")],
      { v: largeNumericReference() },
      { v: largeNumericCurrent() },
    );
    const [v] = result.columns;
    expect(v).toMatchObject({
      test: "wasserstein",
      threshold: 0.1,
      pValue: null,
      drift: true,
      effectSize: null,
    });
    expectRelClose(v.statistic, 0.3049243673104683);
  });
});

describe("overrides", () => {
  const schema = [num("x"), num("y"), cat("c")];
  const reference: DriftFrame = { x: range(1, 10), y: range(1, 10), c: ["a", "b", "a", "b"] };
  const current: DriftFrame = { x: range(3, 12), y: range(3, 12), c: ["a", "a", "b", "c"] };

  it("resolve test and threshold separately, column before kind before all", () => {
    const overrides = {
      all: { test: "psi" as const, threshold: 0.3 },
      byKind: { numeric: { test: "jensenshannon" as const, threshold: 0.2 } },
      byColumn: { x: { test: "ks" as const } },
    };
    expect(resolveTest(num("x"), "z", overrides)).toEqual({ test: "ks", threshold: 0.2 });
    expect(resolveTest(num("y"), "z", overrides)).toEqual({
      test: "jensenshannon",
      threshold: 0.2,
    });
    expect(resolveTest(cat("c"), "z", overrides)).toEqual({ test: "psi", threshold: 0.3 });
  });

  it("fall back to the chosen test's default threshold", () => {
    expect(resolveTest(num("x"), "wasserstein")).toEqual({ test: "wasserstein", threshold: 0.1 });
    expect(resolveTest(num("x"), "z", { all: { test: "kl_div" } })).toEqual({
      test: "kl_div",
      threshold: 0.1,
    });
    expect(resolveTest(num("x"), "ks", { all: { threshold: 0.01 } })).toEqual({
      test: "ks",
      threshold: 0.01,
    });
  });

  it("are applied by detectDrift and reported in each column", () => {
    const result = detectDrift(schema, reference, current, {
      tests: {
        byColumn: { y: { test: "psi", threshold: 0.5 } },
        byKind: { categorical: { test: "jensenshannon" } },
      },
    });
    expect(result.columns.map((c) => [c.column, c.test, c.threshold])).toEqual([
      ["x", "ks", 0.05],
      ["y", "psi", 0.5],
      ["c", "jensenshannon", 0.1],
    ]);
  });

  it("are validated", () => {
    const run = (tests: object) => () => detectDrift(schema, reference, current, { tests });
    expect(run({ all: { test: "anderson" } })).toThrow(/unknown drift test "anderson"/);
    expect(run({ byKind: { numeric: { threshold: -1 } } })).toThrow(
      /threshold must be a finite number >= 0/,
    );
    expect(run({ byKind: { text: {} } })).toThrow(/unknown column kind "text"/);
    expect(run({ byColumn: { z: { test: "ks" } } })).toThrow(/no column "z"/);
    expect(run({ byColumn: { c: { test: "ks" } } })).toThrow(
      /column "c": drift test "ks" needs a numeric column/,
    );
    const single = () =>
      columnDrift(num("x"), [1], [2], { tests: { byColumn: { x: { test: "t" as "ks" } } } });
    expect(single).toThrow(/tests.byColumn.x.test: unknown drift test "t"/);
  });
});

describe("edge cases", () => {
  it("a constant column (one identical value on both sides) does not drift", () => {
    const small = columnDrift(num("k"), [7, 7, 7], [7, 7]);
    expect(small).toMatchObject({ test: "z", pValue: 1, drift: false });
    const big = columnDrift(num("k"), new Float64Array(2000).fill(7), new Float64Array(10).fill(7));
    expect(big).toMatchObject({ test: "jensenshannon", statistic: 0, drift: false });
    const label = columnDrift(cat("k"), ["x", "x"], ["x"], {
      tests: { all: { test: "chisquare" } },
    });
    expect(label).toMatchObject({ test: "chisquare", pValue: null, drift: false });
  });

  it("a category only in current drifts (chi-square p = 0); one only in reference is counted", () => {
    const onlyCurrent = columnDrift(cat("c"), ["a", "b", "a", "b"], ["a", "b", "new"]);
    expect(onlyCurrent).toMatchObject({
      test: "chisquare",
      statistic: Infinity,
      pValue: 0,
      drift: true,
    });
    const onlyReference = columnDrift(
      cat("c"),
      ["a", "b", "gone", "a", "b", "gone"],
      ["a", "b", "a", "b"],
    );
    expect(onlyReference.test).toBe("chisquare");
    // expected 4/3 each, observed 2/2/0 → χ² = 2·(4/9)/(4/3) + 4/3 = 2 on 2 dof → p = e^−1
    expectRelClose(onlyReference.statistic, 2, 1e-15);
    expectRelClose(onlyReference.pValue, Math.exp(-1), 1e-14);
  });

  it("an empty current window is skipped, not tested and not counted", () => {
    const result = detectDrift([num("x"), cat("c")], { x: [1, 2, 3], c: ["a"] }, { x: [], c: [] });
    for (const c of result.columns) {
      expect(c).toMatchObject({
        test: null,
        statistic: null,
        pValue: null,
        drift: false,
        skipped: "no current values",
      });
      expect(c.missing).toEqual({ reference: 0, current: 0, drift: false });
    }
    expect(result).toMatchObject({ datasetDrift: false, driftShare: 0, countedColumns: 0 });
  });

  it("an empty reference is skipped", () => {
    const c = columnDrift(num("x"), [], [1, 2]);
    expect(c).toMatchObject({ test: null, drift: false, skipped: "no reference values" });
    expect(c.sizes).toEqual({ reference: 0, current: 2 });
  });

  it("a current window of only missing values is skipped but flags the missing share", () => {
    const schema = [num("x"), num("y")];
    const reference = { x: range(1, 10), y: range(1, 10) };
    const current = { x: [NaN, null, Infinity], y: range(1, 10) };
    const result = detectDrift(schema, reference, current);
    expect(result.columns[0]).toMatchObject({
      skipped: "no current values",
      missing: { current: 1, drift: true },
    });
    expect(result).toMatchObject({ datasetDrift: false, countedColumns: 1, driftedColumns: 0 });
    const counted = detectDrift(schema, reference, current, { countMissingDrift: true });
    expect(counted).toMatchObject({
      datasetDrift: true,
      countedColumns: 2,
      driftedColumns: 1,
      driftShare: 0.5,
    });
  });
});

describe("missing values", () => {
  it("are dropped before testing (NaN, ±Infinity, null, undefined)", () => {
    const clean = columnDrift(num("x"), range(1, 10), range(3, 12));
    const dirty = columnDrift(
      num("x"),
      [...range(1, 10), NaN, -Infinity],
      [null, ...range(3, 12), undefined, Infinity],
    );
    expect(dirty.pValue).toBe(clean.pValue);
    expect(dirty.sizes).toEqual({ reference: 10, current: 10 });
    expect(dirty.missing.reference).toBe(2 / 12);
    expect(dirty.missing.current).toBe(3 / 13);
    const labels = columnDrift(
      cat("c"),
      ["a", null, "b"],
      ["a", "b", undefined, NaN as unknown as string],
    );
    expect(labels.sizes).toEqual({ reference: 2, current: 2 });
  });

  it("flag drift when the current share rises by more than 0.05 (configurable)", () => {
    const ref = range(1, 20);
    const oneMissing = [...range(1, 19), NaN]; // 1/20 = 0.05: not more than 0.05
    const twoMissing = [...range(1, 18), NaN, NaN]; // 0.1
    expect(columnDrift(num("x"), ref, oneMissing).missing.drift).toBe(false);
    expect(columnDrift(num("x"), ref, twoMissing).missing.drift).toBe(true);
    expect(
      columnDrift(num("x"), ref, twoMissing, { missingShareIncrease: 0.2 }).missing.drift,
    ).toBe(false);
  });
});

describe("input checks", () => {
  it("rejects values of the wrong type, naming column, window and row", () => {
    expect(() => columnDrift(num("x"), [1, "2" as unknown as number], [1])).toThrow(
      /column "x" is numeric and needs numbers, but the reference data has "2" \(string\) at row 1/,
    );
    expect(() => columnDrift(cat("c"), ["a"], [3 as unknown as string])).toThrow(
      /the current data has 3/,
    );
  });

  it("rejects a schema column missing from the data, duplicate names and bad options", () => {
    expect(() => detectDrift([num("x")], { x: [1] }, {})).toThrow(
      /the current data has no column "x"/,
    );
    expect(() => detectDrift([num("x"), cat("x")], { x: [1] }, { x: [1] })).toThrow(
      /appears twice/,
    );
    expect(() => detectDrift([num("x")], { x: [1] }, { x: [1] }, { datasetDriftShare: 0 })).toThrow(
      AppError,
    );
    expect(() =>
      detectDrift([num("x")], { x: [1] }, { x: [1] }, { missingShareIncrease: 2 }),
    ).toThrow(/missingShareIncrease must be a share in \[0, 1\]/);
  });
});
