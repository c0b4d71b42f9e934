import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { repeatedStratifiedKFold, stratifiedKFold } from "./folds.js";

/** 100 rows, 30 positives spread irregularly. */
const Y = Uint8Array.from({ length: 100 }, (_, i) => ((i * 7) % 10 < 3 ? 1 : 0));

describe("stratifiedKFold", () => {
  it("partitions the rows, each test fold with train as its complement", () => {
    const folds = stratifiedKFold(Y, 7, new Rng(1));
    expect(folds.map((f) => f.fold)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const seen = new Int32Array(Y.length);
    for (const f of folds) {
      for (const r of f.test) seen[r]++;
      expect(f.train.length + f.test.length).toBe(Y.length);
      const inTest = new Set(f.test);
      expect(Array.from(f.train).some((r) => inTest.has(r))).toBe(false);
      // Sorted, as the row order of the table.
      expect(Array.from(f.test)).toEqual(Array.from(f.test).sort((a, b) => a - b));
    }
    expect(Array.from(seen).every((c) => c === 1)).toBe(true);
  });

  it("keeps sizes within one row and class counts within one row of each other", () => {
    const folds = stratifiedKFold(Y, 7, new Rng(2));
    const sizes = folds.map((f) => f.test.length);
    const positives = folds.map((f) => Array.from(f.test).filter((r) => Y[r]).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(Math.max(...positives) - Math.min(...positives)).toBeLessThanOrEqual(1);
    expect(positives.reduce((a, b) => a + b, 0)).toBe(30);
  });

  it("is deterministic for an rng state and shuffles with the seed", () => {
    const a = stratifiedKFold(Y, 5, new Rng(3));
    expect(stratifiedKFold(Y, 5, new Rng(3))).toEqual(a);
    expect(stratifiedKFold(Y, 5, new Rng(4))[0].test).not.toEqual(a[0].test);
  });

  it("refuses bad fold counts and too small classes", () => {
    expect(() => stratifiedKFold(Y, 1, new Rng(1))).toThrow(RangeError);
    expect(() => stratifiedKFold(Y, 2.5, new Rng(1))).toThrow(RangeError);
    const rare = new Uint8Array(20);
    rare[3] = 1;
    rare[9] = 1;
    expect(() => stratifiedKFold(rare, 3, new Rng(1))).toThrow(/2 rows, fewer than the 3 folds/);
    // A single-class table still splits (metrics will report the missing class).
    expect(stratifiedKFold(new Uint8Array(9), 3, new Rng(1)).map((f) => f.test.length)).toEqual([
      3, 3, 3,
    ]);
  });
});

describe("repeatedStratifiedKFold", () => {
  it("labels repetitions and splits each one differently", () => {
    const folds = repeatedStratifiedKFold(Y, 4, 3, new Rng(5));
    expect(folds.map((f) => `${f.repeat}.${f.fold}`)).toEqual([
      "0.0",
      "0.1",
      "0.2",
      "0.3",
      "1.0",
      "1.1",
      "1.2",
      "1.3",
      "2.0",
      "2.1",
      "2.2",
      "2.3",
    ]);
    expect(folds[0].test).not.toEqual(folds[4].test);
    for (let r = 0; r < 3; r++) {
      const rows = folds.filter((f) => f.repeat === r).flatMap((f) => Array.from(f.test));
      expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
    expect(repeatedStratifiedKFold(Y, 4, 3, new Rng(5))).toEqual(folds);
  });
});
