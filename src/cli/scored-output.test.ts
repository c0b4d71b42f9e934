import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScoredRowWriter, fixed6 } from "./scored-output.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "riskometer-scored-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The scored row as text, the obvious way. */
function reference(line: string, p: number, threshold: number, sep: string): string {
  const bad = p >= threshold;
  return `${line}${sep}${bad ? "bad" : "good"}${sep}${fixed6(p)}${sep}${fixed6(bad ? p : 1 - p)}\n`;
}

async function written(
  batches: { lines: string[]; proba: number[] }[],
  threshold: number,
  sep: string,
  header?: string,
): Promise<string> {
  const path = join(dir, `out-${Math.random()}.csv`);
  const file = await open(path, "w");
  try {
    const writer = new ScoredRowWriter(file, threshold, sep);
    if (header !== undefined) await writer.writeText(header);
    for (const b of batches) await writer.writeRows(b.lines, Float64Array.from(b.proba));
    await writer.flush();
  } finally {
    await file.close();
  }
  return readFileSync(path, "utf8");
}

describe("ScoredRowWriter", () => {
  it("writes the same text as formatting each row as a string", async () => {
    const odd = [0, 1, 0.5, 0.3, 1e-7, 0.9999995, 0.49999949999, 1 - 1e-12, NaN, -0.1, -1e-9, 1.5];
    const lines = odd.map((_, i) => ["plain", "é;ü", "😀 x", "", '"q;""uoted"'][i % 5] + i);
    const batches = [
      { lines, proba: odd },
      { lines: [], proba: [] },
      { lines: ["x".repeat(3 << 20), "y"], proba: [0.2, 0.8] },
      { lines: lines.slice(0, 3), proba: [0.3, 0.3, 0.3] },
    ];
    for (const sep of [",", ";", "\t"]) {
      const expected =
        "h1;h2\n" +
        batches.flatMap((b) => b.lines.map((l, i) => reference(l, b.proba[i], 0.3, sep))).join("");
      expect(await written(batches, 0.3, sep, "h1;h2\n")).toBe(expected);
    }
  });

  it("keeps rows in order over many batches", async () => {
    const batches = Array.from({ length: 20 }, (_, k) => ({
      lines: Array.from({ length: 500 }, (_, i) => `row ${k}-${i}`),
      proba: Array.from({ length: 500 }, (_, i) => ((k * 500 + i) % 997) / 997),
    }));
    const expected = batches
      .flatMap((b) => b.lines.map((l, i) => reference(l, b.proba[i], 0.5, ",")))
      .join("");
    expect(await written(batches, 0.5, ",")).toBe(expected);
  });
});
