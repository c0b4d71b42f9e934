import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, Rng } from "../core/index.js";
import {
  DEFAULT_DATA_PATH,
  formatCsvRow,
  readArff,
  readDataset,
  defaultSpec,
  featureColumns,
} from "../data/index.js";
import { fitPipeline, type PipelineJson } from "../ml/index.js";
import { scoreFile, type ScoreFileOptions } from "./score-file.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

let dir: string;
let model: PipelineJson;
let rows: string[];
let header: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "riskometer-score-"));
  const data = await readDataset(DEFAULT_DATA_PATH);
  const pipeline = fitPipeline(data.table, { kind: "logreg" }, new Rng(1));
  model = pipeline.toJSON();
  const names = GERMAN_COLUMNS.map((c) => c.name);
  header = `${names.join(",")},note`;
  rows = [];
  for await (const rec of readArff(DEFAULT_DATA_PATH))
    rows.push(formatCsvRow(names.map((n) => rec[n])));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Rows with quoted line breaks and separators, blank lines, formulas and invalid cells. */
function applicants(n: number, extra: (i: number) => string | null = () => null): string {
  const lines = [header];
  for (let i = 0; i < n; i++) {
    const row = rows[i % rows.length];
    const special = extra(i);
    if (special !== null) lines.push(special);
    else if (i % 9 === 2) lines.push(`${row},"line\nbreak, and ""quotes"""`);
    else if (i % 23 === 7) lines.push("");
    else if (i % 31 === 11) lines.push(`${row.replace(/^[^,]*,[^,]*/, "<0,-3")},x`);
    else if (i % 37 === 13) lines.push(`${row},=SUM(A1)`);
    else if (i % 41 === 17) lines.push(`${row}`);
    else lines.push(`${row},"a,b"`);
  }
  return `${lines.join("\r\n")}\r\n`;
}

let outputs = 0;
async function score(
  input: string | Readable,
  options: Partial<ScoreFileOptions> = {},
): Promise<{ text: string; errors: unknown[]; scored: number }> {
  const output = join(dir, `out${outputs++}.csv`);
  const r = await scoreFile({
    model,
    spec: GERMAN,
    input,
    output,
    batchSize: 100,
    ...options,
  });
  return { text: readFileSync(output, "utf8"), errors: [...r.errors], scored: r.scored };
}

function leftovers(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".part") || f.endsWith(".partial"));
}

describe("scoreFile", () => {
  it("gives the same output and errors whether the file is split or not, and as a stream", async () => {
    const text = applicants(3000);
    const input = join(dir, "applicants.csv");
    writeFileSync(input, text);
    const one = await score(input, { threads: 1 });
    expect(one.scored).toBeGreaterThan(2500);
    expect(one.errors.length).toBeGreaterThan(100);
    expect(one.text.split("\n")[0]).toBe(`${header},risk,probability_bad,confidence`);
    for (const rangeBytes of [997, 20_000, 1 << 20]) {
      const split = await score(input, { threads: 3, rangeBytes, parallelMinBytes: 0 });
      expect(split).toEqual(one);
    }
    expect(await score(Readable.from([text]), { threads: 1 })).toEqual(one);
    expect(leftovers()).toEqual([]);
  });

  it("numbers errors in the whole file, blank lines and line breaks in fields included", async () => {
    const input = join(dir, "numbers.csv");
    const bad = (i: number): string => `${rows[i % rows.length].replace(/^[^,]*,[^,]*/, "<0,x")},n`;
    writeFileSync(
      input,
      applicants(2000, (i) => (i === 5 || i === 1500 ? bad(i) : null)),
    );
    const r = await score(input, { threads: 2, rangeBytes: 5000, parallelMinBytes: 0 });
    const duration = (r.errors as { row: number; line: number; column: string }[]).filter(
      (e) => e.column === "duration",
    );
    const lineOf = (row: number): number => {
      // Rows with i % 9 === 2 before `row` hold one extra line each.
      let line = 2;
      for (let i = 0; i < row - 1; i++) line += i % 9 === 2 && i !== 5 && i !== 1500 ? 2 : 1;
      return line;
    };
    expect(duration).toContainEqual(expect.objectContaining({ row: 6, line: lineOf(6) }));
    expect(duration).toContainEqual(expect.objectContaining({ row: 1501, line: lineOf(1501) }));
  });

  it("reads the file again in one piece when a stray quote misleads the split", async () => {
    const input = join(dir, "stray.csv");
    // A quote inside an unquoted field is data, so quote parity no longer tells records apart.
    writeFileSync(
      input,
      applicants(3000, (i) => (i === 40 ? `${rows[0]},5" tall` : null)),
    );
    const one = await score(input, { threads: 1 });
    const split = await score(input, { threads: 2, rangeBytes: 3000, parallelMinBytes: 0 });
    expect(split).toEqual(one);
    expect(leftovers()).toEqual([]);
  });

  it("fails as reading would on an unclosed quote, leaving no output", async () => {
    const input = join(dir, "open.csv");
    writeFileSync(input, `${applicants(2000)}${rows[0]},"never closed\n`);
    const output = join(dir, "never.csv");
    const run = (threads: number) =>
      scoreFile({
        model,
        spec: GERMAN,
        input,
        output,
        batchSize: 100,
        threads,
        rangeBytes: 4000,
        parallelMinBytes: 0,
      }).then(
        () => null,
        (e: unknown) => e,
      );
    const [a, b] = [await run(1), await run(2)];
    expect(a).toBeInstanceOf(AppError);
    expect((a as AppError).code).toBe("PARSE_ERROR");
    expect((b as AppError).message).toBe((a as AppError).message);
    expect(readdirSync(dir)).not.toContain("never.csv");
    expect(leftovers()).toEqual([]);
  });

  it("fails with SCHEMA_MISMATCH before scoring a file split between threads", async () => {
    const input = join(dir, "schema.csv");
    writeFileSync(input, applicants(500).replace("duration", "length"));
    await expect(
      score(input, { threads: 2, rangeBytes: 1000, parallelMinBytes: 0 }),
    ).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.code === "SCHEMA_MISMATCH");
    expect(leftovers()).toEqual([]);
  });
});
