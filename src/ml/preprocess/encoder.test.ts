import { describe, expect, it } from "vitest";
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
});
