import { describe, expect, it } from "vitest";
import { ChartSample } from "./chart-sample.js";

const schema = [
  { name: "x", kind: "numeric" as const },
  { name: "c", kind: "categorical" as const },
];

function fill(sample: ChartSample, n: number): void {
  for (let start = 0; start < n; start += 1000) {
    const size = Math.min(1000, n - start);
    const frame = {
      x: Float64Array.from({ length: size }, (_, i) => start + i),
      c: Array.from({ length: size }, (_, i) => ((start + i) % 2 === 0 ? "even" : "odd")),
    };
    for (let i = 0; i < size; i++) sample.offer(frame, i, (start + i) / n);
  }
}

describe("chart sample", () => {
  it("keeps every row up to its size, in order", () => {
    const s = new ChartSample(100, schema);
    fill(s, 60);
    expect(Array.from(s.frame().x as Float64Array)).toEqual(
      Array.from({ length: 60 }, (_, i) => i),
    );
    expect(s.probabilities()).toHaveLength(60);
  });

  it("keeps a fixed number of rows from a long stream, spread over all of it, the same each time", () => {
    const a = new ChartSample(1000, schema);
    const b = new ChartSample(1000, schema);
    fill(a, 50_000);
    fill(b, 50_000);
    const x = Array.from(a.frame().x as Float64Array);
    expect(x).toHaveLength(1000);
    expect(x).toEqual(Array.from(b.frame().x as Float64Array));
    // Uniform over the stream: each tenth of it holds about a tenth of the sample.
    for (let k = 0; k < 10; k++) {
      const inTenth = x.filter((v) => v >= k * 5000 && v < (k + 1) * 5000).length;
      expect(inTenth).toBeGreaterThan(60);
      expect(inTenth).toBeLessThan(140);
    }
    // Rows stay whole: each sampled x keeps its own category and probability.
    const frame = a.frame();
    const c = frame.c as (string | null)[];
    const p = a.probabilities();
    x.forEach((v, i) => {
      expect(c[i]).toBe(v % 2 === 0 ? "even" : "odd");
      expect(p[i]).toBeCloseTo(v / 50_000, 12);
    });
  });
});
