import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.js";
import type { FeatureSpec, Table } from "../types.js";
import { Encoder } from "./index.js";

const features: FeatureSpec[] = [
  { name: "amount", kind: "numeric" },
  { name: "colour", kind: "categorical", nCategories: 3 },
  { name: "constant", kind: "numeric" },
];

const table: Table = {
  features,
  n: 4,
  columns: [Float64Array.of(1, 2, 3, 6), Float64Array.of(0, 2, 2, 1), Float64Array.of(5, 5, 5, 5)],
};

describe("Encoder", () => {
  it("one-hot encodes every level and standardises numerics with training mean and std", () => {
    const enc = Encoder.fit(table);
    expect(enc.width).toBe(5);
    expect(enc.columnNames()).toEqual([
      "amount",
      "colour[0]",
      "colour[1]",
      "colour[2]",
      "constant",
    ]);
    expect(Array.from(enc.columnFeature)).toEqual([0, 1, 1, 1, 2]);
    // amount: mean 3, population std sqrt((4 + 1 + 0 + 9) / 4) = sqrt(3.5).
    const s = Math.sqrt(3.5);
    const row = enc.transformRow([6, 1, 5]);
    expect(row[0]).toBeCloseTo(3 / s, 12);
    expect(Array.from(row.subarray(1))).toEqual([0, 1, 0, 0]);
    // A constant column keeps std 1 instead of dividing by zero.
    expect(enc.transformRow([0, 0, 7])[4]).toBe(2);
  });

  it("encodes unknown categories as all zeros and missing numbers as the mean", () => {
    const enc = Encoder.fit(table);
    expect(Array.from(enc.transformRow([NaN, 3, 5]))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(enc.transformRow([3, NaN, 5]))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(enc.transformRow([3, -1, 5]))).toEqual([0, 0, 0, 0, 0]);
  });

  it("gives the same encoding in slot form, as a linear form and per row", () => {
    const enc = Encoder.fit(table);
    const x = enc.transform(table);
    expect(x.slots).toBe(3);
    const w = Float64Array.of(0.5, -1, 2, 3, 0.25);
    const lin = enc.linear(table, w, 0.1);
    for (let i = 0; i < table.n; i++) {
      const row = table.columns.map((c) => c[i]);
      const dense = enc.transformRow(row);
      let fromSlots = 0.1;
      for (let k = 0; k < x.slots; k++) {
        expect(dense[x.index[i * x.slots + k]]).toBe(x.value[i * x.slots + k]);
        fromSlots += w[x.index[i * x.slots + k]] * x.value[i * x.slots + k];
      }
      let fromDense = 0.1;
      dense.forEach((v, c) => (fromDense += w[c] * v));
      expect(lin[i]).toBeCloseTo(fromDense, 12);
      expect(fromSlots).toBeCloseTo(fromDense, 12);
      expect(enc.linearRow(row, w, 0.1)).toBeCloseTo(fromDense, 12);
      const parts = enc.contributionsRow(row, w);
      expect(parts.reduce((a, b) => a + b, 0.1)).toBeCloseTo(fromDense, 12);
      expect(parts[1]).toBe(w[1 + row[1]]);
    }
  });

  it("encodes only the selected features", () => {
    const enc = Encoder.fit(table, { features: [1] });
    expect(enc.width).toBe(3);
    expect(Array.from(enc.transformRow([100, 2, 100]))).toEqual([0, 0, 1]);
    const parts = enc.contributionsRow([100, 2, 100], [1, 2, 3]);
    expect(Array.from(parts)).toEqual([0, 3, 0]);
  });

  it("logs only non-negative, many-valued, right-skewed numeric features", () => {
    const n = 200;
    const skewed = Float64Array.from({ length: n }, (_, i) => Math.round(Math.exp(i / 25)));
    const scale4 = Float64Array.from({ length: n }, (_, i) => 1 + ((i * i) % 4 === 0 ? 0 : i % 4));
    const symmetric = Float64Array.from({ length: n }, (_, i) => i);
    const t: Table = {
      features: [
        { name: "skewed", kind: "numeric" },
        { name: "scale4", kind: "numeric" },
        { name: "symmetric", kind: "numeric" },
      ],
      n,
      columns: [skewed, scale4, symmetric],
    };
    const enc = Encoder.fit(t, { logSkewed: true });
    expect(enc.blocks.map((b) => b.kind === "numeric" && b.log)).toEqual([true, false, false]);
    expect(enc.columnNames()[0]).toBe("log1p(skewed)");
    // The log is applied before standardising.
    const logs = Array.from(skewed, (v) => Math.log1p(v));
    const mean = logs.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(enc.transformRow([skewed[7], 1, 1])[0]).toBeCloseTo((logs[7] - mean) / std, 12);
    // A negative value at serving time stays finite.
    expect(Number.isFinite(enc.transformRow([-5, 1, 1])[0])).toBe(true);
    expect(Encoder.fit(t).blocks.every((b) => b.kind === "numeric" && !b.log)).toBe(true);
  });

  it("round-trips through JSON and refuses a different feature layout", () => {
    const enc = Encoder.fit(table, { logSkewed: true });
    const back = Encoder.fromJSON(JSON.parse(JSON.stringify(enc)), features);
    for (const row of [
      [6, 1, 5],
      [2.5, 0, 4],
      [NaN, 2, 5],
    ]) {
      expect(Array.from(back.transformRow(row))).toEqual(Array.from(enc.transformRow(row)));
    }
    const renamed = features.map((f, j) => (j === 1 ? { ...f, name: "color" } : f));
    expect(() => Encoder.fromJSON(enc.toJSON(), renamed)).toThrow(/feature 1/);
    expect(() => Encoder.fromJSON(enc.toJSON(), features.slice(0, 2))).toThrow(/3 features/);
    const broken = { ...enc.toJSON(), blocks: [{ ...enc.toJSON().blocks[0], std: 0 }] };
    expect(() => Encoder.fromJSON(broken, features)).toThrow(/numeric block/);
  });

  describe("with missing values in the training rows", () => {
    // income: 2 of 5 missing; colour: 1 of 5 missing; constant complete.
    const gappy: Table = {
      features,
      n: 5,
      columns: [
        Float64Array.of(1, NaN, 3, NaN, 5),
        Float64Array.of(0, 2, NaN, 1, 2),
        Float64Array.of(5, 5, 5, 5, 5),
      ],
    };
    const rows = [
      ...Array.from({ length: gappy.n }, (_, i) => gappy.columns.map((c) => c[i])),
      [NaN, NaN, NaN],
      [4, 7, 5],
      [4, -1, NaN],
    ];
    const weights = Float64Array.of(0.5, -0.75, -1, 2, 3, 1.5, 0.25);

    it("adds a missing indicator to numeric and a missing level to categorical features", () => {
      const enc = Encoder.fit(gappy);
      expect(enc.width).toBe(7);
      expect(enc.columnNames()).toEqual([
        "amount",
        "amount[missing]",
        "colour[0]",
        "colour[1]",
        "colour[2]",
        "colour[missing]",
        "constant",
      ]);
      expect(Array.from(enc.columnFeature)).toEqual([0, 0, 1, 1, 1, 1, 2]);
      // Mean and std of the observed values only: 1, 3, 5 → mean 3, std sqrt(8/3).
      const s = Math.sqrt(8 / 3);
      expect(Array.from(enc.transformRow([5, 1, 5]))).toEqual([2 / s, 0, 0, 1, 0, 0, 0]);
      // Missing: imputed by the mean (0) with the indicator set; the missing level.
      expect(Array.from(enc.transformRow([NaN, NaN, 5]))).toEqual([0, 1, 0, 0, 0, 1, 0]);
      // An unknown category is still all zeros, not "missing"; a NaN in the complete feature
      // is the mean without an indicator.
      expect(Array.from(enc.transformRow([3, 7, NaN]))).toEqual([0, 0, 0, 0, 0, 0, 0]);
      expect(Array.from(enc.transformRow([3, -1, 5]))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    });

    it("encodes a feature complete in the training rows exactly as before", () => {
      const enc = Encoder.fit(gappy);
      expect(enc.blocks[2]).toEqual({
        kind: "numeric",
        feature: 2,
        column: 6,
        log: false,
        mean: 5,
        std: 1,
      });
      expect("missing" in enc.blocks[2]).toBe(false);
      const complete = Encoder.fit(table);
      expect(JSON.stringify(complete)).not.toMatch(/missing/);
      expect(complete.width).toBe(5);
      // Only the selected features' gaps count.
      expect(Encoder.fit(gappy, { features: [2] }).width).toBe(1);
    });

    it("agrees between slot form, dense rows, linear forms and additive contributions", () => {
      const enc = Encoder.fit(gappy);
      const all: Table = {
        features,
        n: rows.length,
        columns: features.map((_, j) => Float64Array.from(rows, (r) => r[j])),
      };
      const x = enc.transform(all);
      expect(x.slots).toBe(3);
      const lin = enc.linear(all, weights, -0.3);
      rows.forEach((row, i) => {
        const dense = enc.transformRow(row);
        const fromSlots = new Float64Array(enc.width);
        for (let k = 0; k < x.slots; k++)
          fromSlots[x.index[i * x.slots + k]] += x.value[i * x.slots + k];
        expect(Array.from(fromSlots)).toEqual(Array.from(dense));
        // Slots in increasing column order, as the Hessian's lower triangle needs.
        for (let k = 1; k < x.slots; k++) {
          expect(x.index[i * x.slots + k]).toBeGreaterThan(x.index[i * x.slots + k - 1]);
        }
        let fromDense = -0.3;
        dense.forEach((v, c) => (fromDense += weights[c] * v));
        expect(lin[i]).toBeCloseTo(fromDense, 12);
        expect(enc.linearRow(row, weights, -0.3)).toBeCloseTo(fromDense, 12);
        const parts = enc.contributionsRow(row, weights);
        expect(parts.reduce((a, b) => a + b, -0.3)).toBeCloseTo(fromDense, 12);
      });
      // A missing value's contribution is its indicator's weight, not the mean's zero.
      const parts = enc.contributionsRow([NaN, NaN, 5], weights);
      expect(Array.from(parts)).toEqual([weights[1], weights[5], 0]);
    });

    it("round-trips the indicators through JSON and reads older JSON as having none", () => {
      const enc = Encoder.fit(gappy, { logSkewed: true });
      const json = JSON.parse(JSON.stringify(enc)) as ReturnType<Encoder["toJSON"]>;
      expect(json.blocks.map((b) => b.missing)).toEqual([1, 5, undefined]);
      const back = Encoder.fromJSON(json, features);
      expect(back.columnNames()).toEqual(enc.columnNames());
      for (const row of rows) {
        expect(Array.from(back.transformRow(row))).toEqual(Array.from(enc.transformRow(row)));
      }
      // A model file written before indicators existed: the same blocks without them.
      const old = Encoder.fromJSON(Encoder.fit(table).toJSON(), features);
      expect(old.width).toBe(5);
      expect(old.blocks.every((b) => b.missing === undefined)).toBe(true);
    });

    it("refuses misplaced indicators with a clear model-file error", () => {
      const json = Encoder.fit(gappy).toJSON();
      const withBlock = (k: number, change: object) => ({
        ...json,
        blocks: json.blocks.map((b, i) => (i === k ? { ...b, ...change } : b)),
      });
      const refuse = (j: unknown, message: RegExp) => {
        let error: unknown;
        try {
          Encoder.fromJSON(j, features);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe("MODEL_FILE_INVALID");
        expect((error as AppError).message).toMatch(message);
      };
      refuse(withBlock(0, { missing: 2 }), /missing indicator of amount must be column 1, got 2/);
      refuse(withBlock(0, { missing: "yes" }), /missing indicator of amount/);
      refuse(withBlock(1, { missing: 4 }), /missing level of colour must be column 5, got 4/);
      refuse(withBlock(1, { missing: null }), /missing level of colour/);
      // Dropping an indicator shifts every later column.
      refuse(withBlock(0, { missing: undefined }), /invalid categorical block for colour/);
      refuse(withBlock(2, { missing: 6 }), /missing indicator of constant must be column 7, got 6/);
    });
  });
});
