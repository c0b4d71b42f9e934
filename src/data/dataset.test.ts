import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import type { LabeledTable } from "../ml/types.js";
import {
  DEFAULT_DATA_PATH,
  digestFile,
  featureSpecs,
  formatCsvRow,
  readApplicants,
  readArff,
  readDataset,
  type ApplicantBatch,
  type ReadApplicantsOptions,
  defaultSpec,
  featureColumns,
} from "./index.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

let dir: string;
let arffRecords: Record<string, string>[];
let arffTable: LabeledTable;
const ATTRS = [...GERMAN_COLUMNS.map((c) => c.name), "class"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "riskometer-data-"));
  arffRecords = [];
  for await (const r of readArff(DEFAULT_DATA_PATH)) arffRecords.push(r);
  arffTable = (await readDataset(DEFAULT_DATA_PATH)).table;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The credit-g records as CSV text. */
function creditCsv(options: {
  sep?: string;
  eol?: string;
  header?: string[];
  cells?: (rec: Record<string, string>, i: number) => string[];
}): string {
  const sep = options.sep ?? ",";
  const eol = options.eol ?? "\n";
  const header = options.header ?? ATTRS;
  const cells = options.cells ?? ((rec) => ATTRS.map((a) => rec[a]));
  const lines = [
    formatCsvRow(header, sep),
    ...arffRecords.map((r, i) => formatCsvRow(cells(r, i), sep)),
  ];
  return lines.join(eol) + eol;
}

function expectSameTable(a: LabeledTable, b: LabeledTable): void {
  expect(a.n).toBe(b.n);
  expect(a.features).toEqual(b.features);
  a.columns.forEach((col, j) => expect(Array.from(col)).toEqual(Array.from(b.columns[j])));
  expect(Array.from(a.y)).toEqual(Array.from(b.y));
}

async function batchesOf(
  source: string | Readable,
  options?: Omit<ReadApplicantsOptions, "spec">,
): Promise<ApplicantBatch[]> {
  const out: ApplicantBatch[] = [];
  for await (const b of readApplicants(source, { spec: GERMAN, ...options })) out.push(b);
  return out;
}

async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected an AppError");
}

describe("readDataset on the German credit data", () => {
  it("loads 1000 rows, 300 of them bad, with nothing rejected", async () => {
    const d = await readDataset(DEFAULT_DATA_PATH);
    expect(d.format).toBe("arff");
    expect(d.rows).toBe(1000);
    expect(d.errors).toEqual([]);
    expect(d.table.n).toBe(1000);
    expect(d.table.features).toEqual(featureSpecs(GERMAN));
    expect(d.table.y.reduce((s, v) => s + v, 0)).toBe(300);
    // First applicant: '<0', 6 months, critical account, radio/tv, 1169 DM, …, good.
    expect(d.table.columns.map((c) => c[0])).toEqual([
      0, 6, 4, 3, 1169, 4, 4, 4, 2, 0, 4, 0, 67, 2, 1, 2, 2, 1, 1, 0,
    ]);
    expect(d.table.y[0]).toBe(0);
    expect(d.table.y[1]).toBe(1);
    expect(d.header).toEqual(ATTRS);
  });

  it("resolves the default data path inside the package", () => {
    expect(DEFAULT_DATA_PATH.endsWith(join("data", "credit-g.arff"))).toBe(true);
    expect(existsSync(DEFAULT_DATA_PATH)).toBe(true);
  });
});

describe("featureSpecs", () => {
  it("describes each schema column for the ML core", () => {
    const specs = featureSpecs(GERMAN);
    expect(specs).toHaveLength(20);
    expect(specs[0]).toEqual({ name: "checking_status", kind: "categorical", nCategories: 4 });
    expect(specs[1]).toEqual({ name: "duration", kind: "numeric" });
    expect(specs[3]).toEqual({ name: "purpose", kind: "categorical", nCategories: 11 });
  });
});

describe("CSV written from the ARFF reads back as the same table", () => {
  it("plain comma-separated", async () => {
    const d = await readDataset(write("credit.csv", creditCsv({})));
    expect(d.format).toBe("csv");
    expect(d.errors).toEqual([]);
    expectSameTable(d.table, arffTable);
  });

  it("with a BOM, `;`, CRLF, stray header spaces, UCI codes, a target column and extra columns", async () => {
    const header = ["id", ...ATTRS.map((a) => (a === "class" ? " Target " : ` ${a}`)), "note"];
    const codeOf = (name: string, value: string): string => {
      const col = GERMAN_COLUMNS.find((c) => c.name === name);
      if (col?.kind !== "categorical") return value;
      return col.values.find((v) => v.value === value)?.aliases[0] ?? "?";
    };
    const text = creditCsv({
      sep: ";",
      eol: "\r\n",
      header,
      cells: (rec, i) => [
        String(i + 1),
        ...ATTRS.map((a) => (a === "class" ? (rec[a] === "good" ? "1" : "2") : codeOf(a, rec[a]))),
        i % 3 === 0 ? `note; "${i}"\r\nsecond line` : "",
      ],
    });
    const path = write(
      "credit-codes.csv",
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    );
    const d = await readDataset(path);
    expect(d.errors).toEqual([]);
    expectSameTable(d.table, arffTable);
    const batches = await batchesOf(path, { batchSize: 400 });
    expect(batches.map((b) => b.startRow)).toEqual([1, 401, 801]);
    expect(batches[0].extras.header).toEqual(["id", "note"]);
    expect(batches[0].extras.values[3]).toEqual(["4", 'note; "3"\r\nsecond line']);
    expect(batches[2].extras.values[199]).toEqual(["1000", 'note; "999"\r\nsecond line']);
    expect(Array.from(batches[2].rowNumbers.slice(0, 3))).toEqual([801, 802, 803]);
  });

  it("tab-separated, fed as a stream of one-byte chunks", async () => {
    const text = creditCsv({ sep: "\t" }).split("\n").slice(0, 41).join("\n") + "\n";
    const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    const batches = await batchesOf(Readable.from(bytes), { batchSize: 16 });
    expect(batches.map((b) => b.table.n)).toEqual([16, 16, 8]);
    expect(batches.flatMap((b) => b.errors)).toEqual([]);
    const first = batches[0].table.columns.map((c) => c[0]);
    expect(first).toEqual(arffTable.columns.map((c) => c[0]));
    expect(Array.from(batches[2].labels as Uint8Array)).toEqual(
      Array.from(arffTable.y.slice(32, 40)),
    );
  });
});

describe("readApplicants", () => {
  const header = ATTRS.join(",");
  const good = (rec: Record<string, string>) => formatCsvRow(ATTRS.map((a) => rec[a]));

  it("reports invalid rows with their row and line, and keeps the valid ones", async () => {
    const rows = arffRecords.slice(0, 5).map(good);
    rows[1] = rows[1].replace(",48,", ",six,");
    const text = [header, rows[0], rows[1], "", rows[2], "a,b", rows[3], rows[4]].join("\n");
    const [b] = await batchesOf(Readable.from([text]));
    expect(b.table.n).toBe(5 - 1);
    expect(Array.from(b.rowNumbers)).toEqual([1, 4, 6, 7]);
    expect(b.errors).toEqual([
      expect.objectContaining({ row: 2, line: 3, column: "duration", kind: "not_a_number" }),
      expect.objectContaining({ row: 5, line: 6, column: null, kind: "field_count" }),
    ]);
    expect(b.records).toBe(6);
  });

  it("keeps quoted fields with separators, quotes and line breaks, whatever the chunking", async () => {
    const extraHeader = `${header},comment`;
    const rows = arffRecords.slice(0, 3).map(good);
    const text = `${extraHeader}\n${rows[0]},"a, ""b""\nc"\r\n${rows[1]},plain\n"${rows[2].replace(/,/g, '","')}",""\n`;
    const whole = await batchesOf(Readable.from([Buffer.from(text)]), { keepRaw: true });
    const bytes = await batchesOf(
      Readable.from([...Buffer.from(text)].map((x) => Buffer.from([x]))),
      {
        keepRaw: true,
      },
    );
    expect(bytes).toEqual(whole);
    const b = whole[0];
    expect(b.errors).toEqual([]);
    expect(b.extras.values).toEqual([['a, "b"\nc'], ["plain"], [""]]);
    expect(b.raw?.[2]).toEqual([...ATTRS.map((a) => arffRecords[2][a]), ""]);
    expect(b.table.columns.map((c) => c[2])).toEqual(arffTable.columns.map((c) => c[2]));
  });

  it("keeps rows for writing back: cells, and CSV lines with formulas neutralised", async () => {
    const cells = (i: number) => ATTRS.map((a) => arffRecords[i][a]);
    const lines = [
      ["id", ...ATTRS, "note"].join(";"),
      ["7", ...cells(0), "plain"].join(";"),
      ["8", ...cells(1), "=HYPERLINK(x)"].join(";"),
      ["9", ...cells(2).map((c) => `"${c}"`), '"a;b"'].join(";"),
      ["10", ...cells(3).map((c, k) => (k === 1 ? "042" : c)), "-5"].join(";"),
    ];
    const [b] = await batchesOf(Readable.from([lines.join("\r\n") + "\r\n"]), {
      keepRaw: true,
      keepRawLines: true,
    });
    expect(b.errors).toEqual([]);
    expect(b.rawSeparator).toBe(";");
    expect(b.raw).toEqual([
      ["7", ...cells(0), "plain"],
      ["8", ...cells(1), "=HYPERLINK(x)"],
      ["9", ...cells(2), "a;b"],
      ["10", ...cells(3).map((c, k) => (k === 1 ? "042" : c)), "-5"],
    ]);
    expect(b.rawLines).toEqual([
      lines[1],
      ["8", ...cells(1), "'=HYPERLINK(x)"].join(";"),
      lines[3],
      lines[4],
    ]);
    const [a] = await batchesOf(DEFAULT_DATA_PATH, { keepRawLines: true, batchSize: 2 });
    expect(a.rawSeparator).toBe(",");
    expect(a.rawLines).toEqual([formatCsvRow(cells(0)), formatCsvRow(cells(1))]);
  });

  it("reads labels when present, and no labels when there is no label column", async () => {
    const noLabel = [
      ATTRS.slice(0, 20).join(","),
      ...arffRecords.slice(0, 2).map((r) => formatCsvRow(ATTRS.slice(0, 20).map((a) => r[a]))),
    ].join("\n");
    const [b] = await batchesOf(Readable.from([noLabel]));
    expect(b.labels).toBeNull();
    expect(b.table.n).toBe(2);
    const [c] = await batchesOf(
      Readable.from([[header, ...arffRecords.slice(0, 2).map(good)].join("\n")]),
    );
    expect(Array.from(c.labels as Uint8Array)).toEqual([0, 1]);
  });

  it("yields one empty batch for a header without rows", async () => {
    const batches = await batchesOf(Readable.from([`id,${header}\r\n`]));
    expect(batches).toHaveLength(1);
    expect(batches[0].table.n).toBe(0);
    expect(batches[0].extras.header).toEqual(["id"]);
    expect(batches[0].errors).toEqual([]);
  });

  it("fails with SCHEMA_MISMATCH before any batch when columns are missing", async () => {
    const e = await appError(batchesOf(Readable.from(["checking_status,duration\nA11,6\n"])));
    expect(e.code).toBe("SCHEMA_MISMATCH");
    expect(e.message).toContain("credit_history");
  });

  it("detects ARFF content on a stream and in a file without a known extension", async () => {
    const arff = readFileSync(DEFAULT_DATA_PATH);
    const batches = await batchesOf(Readable.from([arff.subarray(0, 5000), arff.subarray(5000)]));
    expect(batches.reduce((s, b) => s + b.table.n, 0)).toBe(1000);
    const d = await readDataset(write("credit.data", arff));
    expect(d.format).toBe("arff");
    expectSameTable(d.table, arffTable);
    const c = await readDataset(write("credit", creditCsv({})));
    expect(c.format).toBe("csv");
  });

  it("reports ARFF rows with the wrong number of values as row errors naming the line", async () => {
    const text = readFileSync(DEFAULT_DATA_PATH, "utf8").replace("'<0',6,", "'<0',");
    const d = await readDataset(write("short.arff", text));
    expect(d.errors).toEqual([
      expect.objectContaining({ row: 1, line: 302, column: null, kind: "field_count" }),
    ]);
    expect(d.table.n).toBe(999);
    expect(d.rows).toBe(1000);
  });
});

describe("readApplicants on byte ranges", () => {
  const BOM = "\ufeff";
  const good = (i: number) => formatCsvRow(ATTRS.map((a) => arffRecords[i][a]));

  /**
   * A CSV with what makes splitting hard: a BOM, CRLF, quoted fields holding line breaks,
   * separators and quotes, blank lines, invalid rows, a row starting with BOM bytes mid-file
   * and no line break at the end.
   */
  function trickyCsv(rows: number): string {
    const lines = [`${BOM}${ATTRS.join(",")},note`];
    for (let i = 0; i < rows; i++) {
      const rec = good(i % arffRecords.length);
      if (i % 7 === 3) lines.push(`${rec},"two\r\nlines, ""quoted""\nand three"`);
      else if (i % 11 === 5) lines.push("");
      else if (i % 13 === 6) lines.push(`${rec.replace(/^[^,]*/, "nowhere")},x`);
      else if (i % 17 === 8) lines.push(`${BOM}${rec},bom`);
      else if (i % 19 === 9) lines.push(`,,,`);
      else lines.push(`${rec},"a,b"`);
    }
    return lines.join("\r\n") + "\r\ntail,row";
  }

  /** Offsets just after each line break outside quotes (RFC 4180 quote parity). */
  function boundaries(bytes: Buffer): number[] {
    const out: number[] = [];
    let odd = false;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x22) odd = !odd;
      else if (bytes[i] === 0x0a && !odd) out.push(i + 1);
    }
    return out;
  }

  interface Collected {
    errors: unknown[];
    rawLines: string[];
    rowNumbers: number[];
    columns: number[][];
    end: { nextRow: number; nextLine: number };
  }

  async function collect(
    path: string,
    options: Omit<ReadApplicantsOptions, "spec">,
  ): Promise<Collected> {
    const out: Collected = {
      errors: [],
      rawLines: [],
      rowNumbers: [],
      columns: [],
      end: { nextRow: 0, nextLine: 0 },
    };
    const it = readApplicants(path, { spec: GERMAN, keepRawLines: true, batchSize: 5, ...options });
    for (;;) {
      const r = await it.next();
      if (r.done) {
        out.end = r.value;
        return out;
      }
      out.errors.push(...r.value.errors);
      out.rawLines.push(...(r.value.rawLines as string[]));
      out.rowNumbers.push(...r.value.rowNumbers);
      r.value.table.columns.forEach((c, j) => (out.columns[j] ??= []).push(...c));
    }
  }

  /** Reads `cuts` ranges one after the other, each continuing the numbering of the previous. */
  async function readInRanges(path: string, cuts: number[], size: number): Promise<Collected> {
    const header = [...ATTRS, "note"];
    const all: Collected = {
      errors: [],
      rawLines: [],
      rowNumbers: [],
      columns: [],
      end: { nextRow: 1, nextLine: 1 },
    };
    const edges = [0, ...cuts, size];
    for (let k = 0; k + 1 < edges.length; k++) {
      const part = await collect(path, {
        range: { start: edges[k], end: edges[k + 1] },
        ...(k === 0 ? {} : { header, separator: "," }),
        firstRow: all.end.nextRow,
        firstLine: all.end.nextLine,
      });
      all.errors.push(...part.errors);
      all.rawLines.push(...part.rawLines);
      all.rowNumbers.push(...part.rowNumbers);
      part.columns.forEach((c, j) => (all.columns[j] ??= []).push(...c));
      all.end = part.end;
    }
    return all;
  }

  it("give together exactly what the whole file gives, wherever the cuts are", async () => {
    const text = trickyCsv(300);
    const path = write("ranges.csv", text);
    const bytes = Buffer.from(text);
    const whole = await collect(path, {});
    expect(whole.errors.length).toBeGreaterThan(15);
    // Mid-file, BOM bytes are data, kept in the row written back.
    expect(whole.rawLines.filter((l) => l.startsWith(BOM)).length).toBeGreaterThan(10);
    const cuts = boundaries(bytes).slice(1);
    for (const chosen of [
      cuts,
      cuts.filter((_, i) => i % 10 === 3),
      [cuts[Math.floor(cuts.length / 2)]],
    ]) {
      expect(await readInRanges(path, chosen, bytes.length)).toEqual(whole);
    }
  });

  it("give the records of the whole file when records span several read chunks", async () => {
    const long = "x".repeat(700_000);
    const rows = Array.from({ length: 6 }, (_, i) => `${good(i)},${long}`);
    const text = `${ATTRS.join(",")},note\n${rows.join("\n")}\n`;
    const path = write("long.csv", text);
    const bytes = Buffer.from(text);
    const whole = await collect(path, {});
    expect(whole.rawLines).toHaveLength(6);
    const cuts = boundaries(bytes).slice(2, 5);
    expect(await readInRanges(path, cuts, bytes.length)).toEqual(whole);
  });

  it("fail with PARSE_ERROR when a range ends inside a quoted field", async () => {
    const text = `${ATTRS.join(",")},note\n${good(0)},"a\nb"\n${good(1)},c\n`;
    const path = write("inside.csv", text);
    const cut = text.indexOf("a\nb") + 2;
    const e = await appError(collect(path, { range: { start: 0, end: cut } }));
    expect(e.code).toBe("PARSE_ERROR");
  });

  it("number rows and lines from firstRow and firstLine", async () => {
    const text = `${ATTRS.join(",")}\n${good(0)}\n\n${good(1).replace(/^([^,]*),[^,]*,/, "$1,x,")}\n`;
    const path = write("numbers.csv", text);
    const start = text.indexOf("\n") + 1;
    const r = await collect(path, {
      range: { start, end: text.length },
      header: ATTRS,
      separator: ",",
      firstRow: 10,
      firstLine: 20,
    });
    expect(r.rowNumbers).toEqual([10]);
    expect(r.errors).toEqual([expect.objectContaining({ row: 12, line: 22, column: "duration" })]);
    expect(r.end).toEqual({ nextRow: 13, nextLine: 23 });
    expect((await collect(path, {})).end).toEqual({ nextRow: 4, nextLine: 5 });
  });

  it("need a file, a CSV, a separator with a given header, and a range for a header", async () => {
    const path = write("args.csv", `${ATTRS.join(",")}\n${good(0)}\n`);
    const arff = write("args.arff", readFileSync(DEFAULT_DATA_PATH));
    const range = { start: 0, end: 10 };
    for (const [source, options] of [
      [Readable.from(["x"]), { range }],
      [arff, { range }],
      [path, { range, header: ATTRS }],
      [path, { header: ATTRS, separator: "," }],
      [path, { range: { start: 5, end: 4 } }],
      [path, { firstRow: 0 }],
    ] as const) {
      const e = await appError(collect(source as string, options as ReadApplicantsOptions));
      expect(e.code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("readDataset errors", () => {
  it("needs a label column", async () => {
    const text = creditCsv({
      header: ATTRS.slice(0, 20),
      cells: (r) => ATTRS.slice(0, 20).map((a) => r[a]),
    });
    const e = await appError(readDataset(write("nolabel.csv", text)));
    expect(e.code).toBe("SCHEMA_MISMATCH");
    expect((e.details as { missing: string[] }).missing).toEqual(["class"]);
  });

  it("collects invalid rows and leaves them out", async () => {
    const text = creditCsv({
      cells: (r, i) =>
        ATTRS.map((a) => (i === 9 && a === "age" ? "12" : i === 20 && a === "class" ? "?" : r[a])),
    });
    const d = await readDataset(write("bad.csv", text));
    expect(d.rows).toBe(1000);
    expect(d.table.n).toBe(998);
    expect(d.errors.map((e) => [e.row, e.column, e.kind])).toEqual([
      [10, "age", "out_of_range"],
      [21, "class", "unknown_label"],
    ]);
  });

  it("fails with FILE_NOT_FOUND for a missing file or a directory", async () => {
    expect((await appError(readDataset(join(dir, "nope.csv")))).code).toBe("FILE_NOT_FOUND");
    expect((await appError(readDataset(dir))).code).toBe("FILE_NOT_FOUND");
    expect((await appError(digestFile(join(dir, "nope.csv")))).code).toBe("FILE_NOT_FOUND");
  });

  it("fails with PARSE_ERROR on an unclosed quote", async () => {
    const e = await appError(readDataset(write("open.csv", `${ATTRS.join(",")}\n"<0,6\n`)));
    expect(e.code).toBe("PARSE_ERROR");
    expect(e.message).toContain("line 2");
  });
});

describe("digestFile", () => {
  it("is the SHA-256 of the file's bytes", async () => {
    const expected = createHash("sha256").update(readFileSync(DEFAULT_DATA_PATH)).digest("hex");
    expect(await digestFile(DEFAULT_DATA_PATH)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
    const other = write("one.txt", "a");
    expect(await digestFile(other)).toBe(
      "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    );
  });
});
