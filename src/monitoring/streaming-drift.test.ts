/**
 * The streaming engine against `detectDrift` on the same data. Every comparison is `toEqual` on
 * the whole report (numbers compared with Object.is, so bit for bit) plus the JSON text (same
 * field order): the streaming states replay the in-memory tests' floating-point operations in
 * their order, so no tolerance is needed anywhere.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec, featureColumns } from "../data/index.js";
import {
  detectDrift,
  type ColumnSchema,
  type DriftFrame,
  type NumericValues,
  type CategoricalValues,
} from "./drift.js";
import {
  expectRelClose,
  NEW_VALUE_CURRENT,
  NEW_VALUE_REFERENCE,
  largeNumericCurrent,
  largeNumericReference,
} from "./drift-test-support.js";
import type { DriftTestName } from "./drift-tests.js";
import { buildReferenceProfile, profileFrame, type ReferenceProfile } from "./reference-profile.js";
import { DriftAccumulator, SlotIndex, type StreamingDriftOptions } from "./streaming-drift.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

const num = (name: string): ColumnSchema => ({ name, kind: "numeric" });
const cat = (name: string): ColumnSchema => ({ name, kind: "categorical" });

type Column = NumericValues | CategoricalValues;

function slice(values: Column, from: number, to: number): Column {
  return values instanceof Float64Array ? values.subarray(from, to) : values.slice(from, to);
}

/** The report of `current` fed in chunks of `chunk` rows. */
function streamed(
  schema: readonly ColumnSchema[],
  reference: DriftFrame | ReferenceProfile,
  current: DriftFrame,
  chunk: number,
  options: StreamingDriftOptions = {},
) {
  const acc = new DriftAccumulator(schema, reference, options);
  const rows = schema.length === 0 ? 0 : current[schema[0].name].length;
  for (let from = 0; from < rows; from += chunk) {
    const part: Record<string, Column> = {};
    for (const c of schema) part[c.name] = slice(current[c.name], from, from + chunk);
    acc.add(part);
  }
  expect(acc.rows).toBe(rows);
  return acc.result();
}

/** Streaming equals detectDrift for chunks of 1, 7 and 1000 rows. */
function expectSame(
  schema: readonly ColumnSchema[],
  reference: DriftFrame,
  current: DriftFrame,
  options: StreamingDriftOptions = {},
  chunks: readonly number[] = [1, 7, 1000],
) {
  const expected = detectDrift(schema, reference, current, options);
  for (const chunk of chunks) {
    const actual = streamed(schema, reference, current, chunk, options);
    expect(actual, `chunks of ${chunk}`).toEqual(expected);
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  }
  return expected;
}

const testsOf = (report: ReturnType<typeof detectDrift>) =>
  Object.fromEntries(report.columns.map((c) => [c.column, c.test]));

/** n values drawn by `draw`. */
function draws<T>(n: number, draw: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => draw(i));
}

describe("streaming drift equals detectDrift", () => {
  it("continuous numbers with ties, values on and beside reference points, outside its range", () => {
    const rng = new Rng(1);
    // Rounded to one decimal: many current values equal reference points, many fall between.
    const round = (x: number) => Math.round(x * 10) / 10;
    const reference = { x: Float64Array.from(draws(300, () => round(rng.normal()))) };
    for (const shift of [0, 0.05, 0.3, 5]) {
      const current = {
        x: Float64Array.from(draws(2500, () => round(rng.normal() * 1.2 + shift))),
      };
      const report = expectSame([num("x")], reference, current);
      expect(report.columns[0].test).toBe("ks");
    }
  });

  it("KS with the current window only below, only above, or inside one gap of the reference", () => {
    const reference = { x: [1, 2, 2, 3, 5, 8, 13] };
    for (const current of [
      [-5, -4, -4, 0.5],
      [20, 21, 21, 14],
      [3.5, 4, 4.5, 4.5],
      [1, 2, 3, 5, 8, 13],
      [13, 13, 13, 1, 1],
    ]) {
      expectSame([num("x")], reference, { x: current });
    }
  });

  it("missing values on both sides (NaN, ±Infinity, null, undefined) and the missing-share check", () => {
    const rng = new Rng(2);
    const gappy = (n: number, missingShare: number) =>
      draws(n, () => {
        const u = rng.next();
        if (u < missingShare / 4) return null;
        if (u < missingShare / 2) return undefined;
        if (u < (3 * missingShare) / 4) return NaN;
        if (u < missingShare) return rng.next() < 0.5 ? Infinity : -Infinity;
        return Math.round(rng.normal() * 20) / 4;
      });
    const schema = [num("x"), cat("c")];
    const labels = (n: number, missingShare: number) =>
      draws(n, () =>
        rng.next() < missingShare ? (rng.next() < 0.5 ? null : undefined) : "abc"[rng.int(3)],
      );
    const reference = { x: gappy(400, 0.05), c: labels(400, 0.02) };
    const current = { x: gappy(1500, 0.2), c: labels(1500, 0.1) };
    const report = expectSame(schema, reference, current);
    expect(report.columns.every((c) => c.missing.drift)).toBe(true);
    expectSame(schema, reference, current, { countMissingDrift: true, missingShareIncrease: 0.01 });
    // NaN labels count as missing too.
    expectSame([cat("c")], { c: ["a", "b", "b"] }, { c: ["a", NaN as unknown as string, null] });
  });

  it("categorical columns: new categories, one-sided categories, two categories (Z), one category", () => {
    const rng = new Rng(3);
    const pick = (values: string, n: number) => draws(n, () => values[rng.int(values.length)]);
    const schema = [cat("many"), cat("two"), cat("one"), cat("new")];
    const reference = {
      many: pick("abcdef", 500),
      two: pick("xy", 500),
      one: pick("q", 500),
      new: [...NEW_VALUE_REFERENCE],
    };
    const current = {
      many: pick("bcdefgh", 1200),
      two: pick("xxy", 1200),
      one: pick("q", 1200),
      new: [...NEW_VALUE_CURRENT, ...pick("abcde", 1190)],
    };
    const report = expectSame(schema, reference, current);
    expect(testsOf(report)).toEqual({ many: "chisquare", two: "z", one: "z", new: "chisquare" });
    expect(report.columns[0].statistic).toBe(Infinity);
    // Categories ordered so the smallest under string order is first seen late.
    expectSame([cat("c")], { c: ["b", "b", "a"] }, { c: ["b", "a", "a", "a"] });
    expectSame([cat("c")], { c: ["b", "b"] }, { c: ["b", "a"] });
  });

  it("numeric columns with at most five distinct values: chi-square, Z, and the switch to KS", () => {
    const rng = new Rng(4);
    const pick = (values: readonly number[], n: number) =>
      Float64Array.from(draws(n, () => values[rng.int(values.length)]));
    const schema = [num("four"), num("two"), num("twoPlusNew"), num("below"), num("grows")];
    const reference = {
      four: pick([1, 2, 3, 4], 400),
      two: pick([0, 1], 400),
      twoPlusNew: pick([0, 1], 400),
      below: pick([5, 6], 400),
      grows: pick([1, 2, 3], 400),
    };
    const current = {
      four: pick([1, 2, 2, 3, 4], 1500),
      two: pick([0, 1, 1], 1500),
      twoPlusNew: pick([0, 1, 2.5], 1500),
      below: pick([-3, 5, 6], 1500),
      grows: pick([1, 2, 3, 2.5, 7, -1, 0], 1500),
    };
    const report = expectSame(schema, reference, current);
    expect(testsOf(report)).toEqual({
      four: "chisquare",
      two: "z",
      twoPlusNew: "chisquare",
      below: "chisquare",
      grows: "ks",
    });
    // Z with a current value below the reference (the union's smallest value only in current).
    expectSame([num("x")], { x: [5, 5] }, { x: [4, 4, 5, 4] });
    expectSame([num("x")], { x: [5, 5, 5] }, { x: [5, 5] });
    expectSame([num("x")], { x: [5, 5, 5] }, { x: [6, 5] });
  });

  it("0 and −0 are one value on both sides", () => {
    const schema = [num("few"), num("many")];
    const reference = { few: [0, -0, 1, 0], many: [-0, 0, 1, 2, 3, 4, 5, 6, -1] };
    const current = { few: [-0, 1, 1, 0, -0, 0], many: [0, -0, 0.5, 7, -0, 3] };
    expectSame(schema, reference, current);
    expectSame(schema, reference, current, { tests: { all: { test: "wasserstein" } } });
    expectSame(schema, reference, current, { tests: { all: { test: "psi" } } });
  });

  it("a reference above 1000 values: Wasserstein and Jensen–Shannon (the spec's large vectors)", () => {
    const rng = new Rng(5);
    const schema = [num("v"), num("cont"), num("few"), cat("c"), cat("spec")];
    const reference = {
      v: largeNumericReference(),
      cont: Float64Array.from(draws(2000, () => rng.normal())),
      few: Float64Array.from(draws(2000, (i) => i % 3)),
      c: draws(2000, () => "pqrs"[rng.int(4)]),
      spec: draws(2000, (i) => NEW_VALUE_REFERENCE[i % 10]),
    };
    const current = {
      v: largeNumericCurrent(),
      cont: Float64Array.from(draws(1500, () => rng.normal() + 0.2)),
      few: Float64Array.from(draws(1500, (i) => (i % 5 === 0 ? 1.5 : i % 3))),
      c: draws(1500, () => "pqrst"[rng.int(5)]),
      spec: draws(1500, (i) => NEW_VALUE_CURRENT[i % 10]),
    };
    const report = expectSame(schema, reference, current);
    expect(testsOf(report)).toEqual({
      v: "wasserstein",
      cont: "wasserstein",
      few: "jensenshannon",
      c: "jensenshannon",
      spec: "jensenshannon",
    });
    expectRelClose(report.columns[0].statistic, 0.3049243673104683);
  });

  it("every test by override, on numeric and categorical columns", () => {
    const rng = new Rng(6);
    const schema = [num("cont"), num("ints"), num("few"), cat("c")];
    const reference = {
      cont: Float64Array.from(draws(500, () => rng.normal() * 3)),
      ints: Float64Array.from(draws(500, () => rng.int(40))),
      few: Float64Array.from(draws(500, () => rng.int(6))),
      c: draws(500, () => "abcd"[rng.int(4)]),
    };
    const current = {
      // Wider than the reference, so the Sturges range comes from the current window.
      cont: Float64Array.from(draws(1800, () => rng.normal() * 4 + 1)),
      ints: Float64Array.from(draws(1800, () => rng.int(45) - 2)),
      few: Float64Array.from(draws(1800, () => (rng.next() < 0.1 ? 7.5 : rng.int(6)))),
      c: draws(1800, () => "abcde"[rng.int(5)]),
    };
    for (const test of ["chisquare", "z", "jensenshannon", "psi", "kl_div"] as const) {
      const report = expectSame(schema, reference, current, { tests: { all: { test } } });
      expect(report.columns.every((c) => c.test === test)).toBe(true);
    }
    for (const test of ["ks", "wasserstein"] as const) {
      expectSame(schema.slice(0, 3), reference, current, {
        tests: { all: { test, threshold: 0.2 } },
      });
    }
    // One category on both sides: chi-square's p-value is undefined (a note, no drift).
    const one = expectSame(
      [cat("c")],
      { c: ["a", "a"] },
      { c: ["a"] },
      {
        tests: { all: { test: "chisquare" } },
      },
    );
    expect(one.columns[0].note).toBe("one category on both sides: p-value undefined");
  });

  it("Sturges bins widened to 1 for integer values when log2(n) + 1 exceeds their range", () => {
    const rng = new Rng(7);
    // 21 distinct integers over a range of 20 < log2(601,000) + 1 ≈ 20.2: 20 bins, not 21.
    const reference = { x: Float64Array.from(draws(1000, (i) => i % 21)) };
    const current = { x: Float64Array.from(draws(600_000, () => rng.int(21))) };
    expectSame(
      [num("x")],
      reference,
      current,
      { tests: { all: { test: "jensenshannon" } } },
      [65_536],
    );
  });

  it("skipped columns, empty windows, and the dataset verdict options", () => {
    const schema = [num("x"), num("none"), cat("c"), cat("empty")];
    const reference = { x: [1, 2, 3], none: [NaN, null], c: ["a", "b"], empty: [null, "z"] };
    const current = {
      x: [7, 8, 9],
      none: [1, 2, 3],
      c: [null, null, null],
      empty: [null, null, null],
    };
    expectSame(schema, reference, current);
    expectSame(schema, reference, current, { countMissingDrift: true, datasetDriftShare: 0.4 });
    expectSame(schema, reference, { x: [], none: [], c: [], empty: [] });
    expectSame([], {}, {});
  });

  it("a reference profile equals detectDrift on profileFrame (zero counts, missing values)", () => {
    const profile: ReferenceProfile = {
      format: "riskometer-reference-profile/1",
      rows: 6,
      columns: [
        { name: "x", kind: "numeric", sorted: [1, 2, 2, 4, 8, 9], missing: 2 },
        { name: "c", kind: "categorical", counts: { b: 3, "2": 1, a: 0, c: 2 }, missing: 1 },
      ],
      probabilityBad: [],
    };
    const schema = [num("x"), cat("c")];
    const current = { x: [2, 3, null, 8, 10, 1, 1], c: ["a", "b", "2", null, "c", "c", "d"] };
    for (const chunk of [1, 3]) {
      expect(streamed(schema, profile, current, chunk)).toEqual(
        detectDrift(schema, profileFrame(profile), current),
      );
    }
  });

  it("random small windows with random overrides (300 cases)", () => {
    const rng = new Rng(10);
    const tests: (DriftTestName | undefined)[] = [
      undefined,
      "ks",
      "chisquare",
      "z",
      "wasserstein",
      "jensenshannon",
      "psi",
      "kl_div",
    ];
    const numericPools = [
      [1, 2, 3],
      [0, -0, 1],
      [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11],
      draws(60, (i) => i - 20),
    ];
    const numeric = (pool: readonly number[], n: number, shift: number) =>
      draws(n, () => (rng.next() < 0.1 ? null : pool[rng.int(pool.length)] + shift));
    for (let c = 0; c < 300; c++) {
      const nRef = 1 + rng.int(rng.next() < 0.2 ? 1500 : 60);
      const nCur = rng.int(200);
      const pool = numericPools[rng.int(numericPools.length)];
      const shift = [0, 0, 0.25, -3, 1][rng.int(5)];
      const reference = { x: numeric(pool, nRef, 0), c: draws(nRef, () => "abc"[rng.int(3)]) };
      const current = {
        x: numeric(pool, nCur, shift),
        c: draws(nCur, () => (rng.next() < 0.05 ? null : "abcd"[rng.int(4)])),
      };
      const test = tests[rng.int(tests.length)];
      const options: StreamingDriftOptions =
        test === undefined ? {} : { tests: { byKind: { numeric: { test } } } };
      expectSame([num("x"), cat("c")], reference, current, options, [1 + rng.int(9), 64]);
    }
  });

  it("result() mid-stream reports the rows so far and the stream goes on", () => {
    const schema = [num("x"), cat("c")];
    const reference = { x: [1, 2, 3, 4, 5, 6, 7], c: ["a", "b", "a"] };
    const acc = new DriftAccumulator(schema, reference);
    acc.add({ x: [1, 9, 3], c: ["a", "a", "c"] });
    expect(acc.result()).toEqual(
      detectDrift(schema, reference, { x: [1, 9, 3], c: ["a", "a", "c"] }),
    );
    acc.add({ x: Float64Array.of(2, 0.5), c: ["b", "b"] });
    expect(acc.result()).toEqual(
      detectDrift(schema, reference, { x: [1, 9, 3, 2, 0.5], c: ["a", "a", "c", "b", "b"] }),
    );
  });
});

describe("memory that grows with distinct values", () => {
  it("notes a column that kept more distinct current values than the limit, and stays exact", () => {
    const rng = new Rng(8);
    const schema = [num("v"), cat("id")];
    const reference = {
      v: Float64Array.from(draws(1500, () => rng.normal())),
      id: draws(1500, (i) => `r${i % 40}`),
    };
    const current = {
      v: Float64Array.from(draws(3000, () => rng.normal())),
      id: draws(3000, (i) => `c${i}`),
    };
    const options = { distinctNoteLimit: 2000 };
    const expected = detectDrift(schema, reference, current);
    const actual = streamed(schema, reference, current, 500, options);
    const [v, id] = actual.columns;
    expect(v.note).toBe(
      "streaming kept 3000 distinct current values off the reference's points to stay exact: this column's memory grew with the data",
    );
    expect(id.note).toBe(
      "streaming kept 3000 distinct current categories not in the reference to stay exact: this column's memory grew with the data",
    );
    expect({ ...v, note: undefined }).toEqual({ ...expected.columns[0], note: undefined });
    expect({ ...id, note: undefined }).toEqual({ ...expected.columns[1], note: undefined });
    // Below the limit there is no note: the report equals detectDrift's.
    expect(streamed(schema, reference, current, 500)).toEqual(expected);
  });

  it("SlotIndex numbers keys in first-seen order across chained Maps", () => {
    const index = new SlotIndex<number>(2);
    expect([5, 7, -0, 9, 11].map((k) => index.add(k))).toEqual([0, 1, 2, 3, 4]);
    expect([5, 7, 0, 9, 11, 12].map((k) => index.get(k))).toEqual([0, 1, 2, 3, 4, undefined]);
    expect(index.size).toBe(5);
  });
});

describe("errors", () => {
  const schema = [num("x"), cat("c")];
  const reference = { x: [1, 2, 3], c: ["a", "b", "c"] };

  it("refuses the same options and references as detectDrift, with the same messages", () => {
    const message = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as Error).message;
      }
      return "no error";
    };
    const cases: [DriftFrame, StreamingDriftOptions][] = [
      [reference, { datasetDriftShare: 0 }],
      [reference, { tests: { all: { test: "anderson" as "ks" } } }],
      [reference, { tests: { byColumn: { nope: { threshold: 0.1 } } } }],
      [{ x: [1, "2"] as unknown as number[], c: [] }, {}],
      [{ c: [] }, {}],
    ];
    for (const [ref, options] of cases) {
      const expected = message(() => detectDrift(schema, ref, { x: [], c: [] }, options));
      expect(expected).not.toBe("no error");
      expect(message(() => new DriftAccumulator(schema, ref, options))).toBe(expected);
    }
    expect(() => new DriftAccumulator([num("x"), num("x")], reference)).toThrow(/appears twice/);
    expect(() => new DriftAccumulator(schema, reference, { distinctNoteLimit: -1 })).toThrow(
      /distinctNoteLimit/,
    );
  });

  it("names the row of a wrong value as detectDrift does, then refuses further use", () => {
    const acc = new DriftAccumulator(schema, reference);
    acc.add({ x: [1, 2], c: ["a", "b"] });
    const bad = { x: [3, true] as unknown as number[], c: ["a", "b"] };
    expect(() => acc.add(bad)).toThrow(
      'column "x" is numeric and needs numbers, but the current data has true (boolean) at row 3',
    );
    expect(() =>
      detectDrift(schema, reference, { x: [1, 2, 3, true] as unknown as number[], c: [] }),
    ).toThrow("at row 3");
    expect(() => acc.result()).toThrow(/an earlier chunk was rejected/);
    const labels = new DriftAccumulator(schema, reference);
    expect(() => labels.add({ x: [1], c: [4] as unknown as string[] })).toThrow(
      'column "c" is categorical and needs strings, but the current data has 4 (number) at row 0',
    );
  });

  it("refuses a chunk without a schema column or with columns of different lengths", () => {
    const acc = new DriftAccumulator(schema, reference);
    expect(() => acc.add({ x: [1] })).toThrow('the current data has no column "c"');
    expect(() => acc.add({ x: [1, 2], c: ["a"] })).toThrow(
      'the chunk\'s columns differ in length: "x" has 2 values, "c" has 1',
    );
    // Neither was counted, so the accumulator is still usable.
    acc.add({ x: [1], c: ["a"], ignored: [1, 2, 3] });
    expect(acc.rows).toBe(1);
  });

  it("refuses ks or wasserstein on a categorical column once it has values, as detectDrift", () => {
    const options = { tests: { byColumn: { c: { test: "ks" as const } } } };
    const acc = new DriftAccumulator(schema, reference, options);
    acc.add({ x: [1], c: ["a"] });
    expect(() => acc.result()).toThrow(/drift test "ks" needs a numeric column/);
  });

  it("refuses a profile whose column kind or counts are wrong", () => {
    const profile = (column: ReferenceProfile["columns"][number]): ReferenceProfile => ({
      format: "riskometer-reference-profile/1",
      rows: 1,
      columns: [column],
      probabilityBad: [],
    });
    expect(
      () =>
        new DriftAccumulator(
          [num("x")],
          profile({ name: "x", kind: "categorical", counts: {}, missing: 0 }),
        ),
    ).toThrow('column "x" is numeric in the schema but categorical in the reference profile');
    expect(
      () =>
        new DriftAccumulator(
          [cat("x")],
          profile({ name: "x", kind: "categorical", counts: { a: 1.5 }, missing: 0 }),
        ),
    ).toThrow(/count of "a" must be a count, got 1.5/);
    expect(
      () =>
        new DriftAccumulator(
          [num("y")],
          profile({ name: "x", kind: "numeric", sorted: [], missing: 0 }),
        ),
    ).toThrow('the reference data has no column "y"');
  });
});

describe("German credit: the bundled data as reference, 50,000 resampled rows with a shift", () => {
  let schema: ColumnSchema[];
  let reference: Record<string, Float64Array | (string | null)[]>;
  let profile: ReferenceProfile;
  let current: Record<string, Float64Array | (string | null)[]>;

  beforeAll(async () => {
    const { table } = await readDataset(DEFAULT_DATA_PATH);
    schema = table.features.map((f) => ({ name: f.name, kind: f.kind }));
    profile = buildReferenceProfile(GERMAN, table.columns, new Float64Array(table.n));
    const rng = new Rng(9);
    const rows = Int32Array.from({ length: 50_000 }, () => rng.int(table.n));
    reference = {};
    current = {};
    table.features.forEach((f, j) => {
      const column = GERMAN_COLUMNS.find((c) => c.name === f.name);
      const values = table.columns[j];
      if (column?.kind === "categorical") {
        // The ML table stores a category as its index into the schema's values.
        const label = (v: number) => (Number.isNaN(v) ? null : column.values[v].value);
        reference[f.name] = Array.from(values, label);
        current[f.name] = Array.from(rows, (r) => label(values[r]));
      } else {
        reference[f.name] = values;
        const shift = f.name === "duration" ? 3 : 0;
        current[f.name] = Float64Array.from(rows, (r) => values[r] + shift);
      }
    });
  });

  it("streams the same report from the data and from its reference profile", () => {
    const expected = expectSame(schema, reference, current, {}, [7, 4096]);
    expect(expected.columns.find((c) => c.column === "duration")).toMatchObject({
      test: "ks",
      drift: true,
    });
    expect(testsOf(expected)).toMatchObject({
      credit_amount: "ks",
      age: "ks",
      num_dependents: "z",
    });
    const fromProfile = streamed(schema, profile, current, 4096);
    expect(fromProfile).toEqual(detectDrift(schema, profileFrame(profile), current));
    // The profile's value order differs from the data's only in sums over categories.
    expect(fromProfile.columns.map((c) => [c.test, c.drift])).toEqual(
      expected.columns.map((c) => [c.test, c.drift]),
    );
  });
});
