import { describe, expect, it } from "vitest";
import { escapeXml, niceTicks } from "./svg.js";

describe("svg helpers", () => {
  it("escapes the five XML special characters and drops characters XML forbids", () => {
    expect(escapeXml(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&apos;");
    expect(escapeXml("a\u0000b\u0007c\td")).toBe("abc\td");
  });

  it("picks 1/2/5 × 10^k ticks and widens degenerate domains", () => {
    expect(niceTicks(0.03, 0.97).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 26_000).step).toBe(5000);
    for (const [lo, hi] of [
      [5, 5],
      [0, 0],
      [NaN, NaN],
      [1, Infinity],
      [0.1, 0.1 + 1e-17],
    ]) {
      const t = niceTicks(lo, hi);
      expect(t.hi).toBeGreaterThan(t.lo);
      expect(t.values.length).toBeGreaterThan(1);
      expect(t.values.length).toBeLessThan(20);
      expect(t.values.every(Number.isFinite)).toBe(true);
    }
  });
});
