import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import ExcelJS from "exceljs";
import JSZip from "jszip";
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { defaultSpec, featureColumns } from "./index.js";
import { type XlsxLimits, readXlsxApplicants } from "./xlsx.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

const HEADER = GERMAN_COLUMNS.map((c) => c.name);
const GOOD: (string | number)[] = [
  "no checking",
  12,
  "critical/other existing credit",
  "radio/tv",
  2000,
  ">=1000",
  ">=7",
  2,
  "male single",
  "none",
  4,
  "real estate",
  45,
  "none",
  "own",
  1,
  "skilled",
  1,
  "yes",
  "yes",
];

async function workbook(rows: (string | number | null)[][]): Promise<Readable> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet("applicants");
  for (const row of rows) sheet.addRow(row);
  wb.addWorksheet("ignored").addRow(["not", "read"]);
  return Readable.from([Buffer.from(await wb.xlsx.writeBuffer())]);
}

async function readAll(stream: Readable, batchSize?: number, limits?: Partial<XlsxLimits>) {
  const batches = [];
  for await (const b of readXlsxApplicants(stream, { spec: GERMAN, batchSize, limits })) {
    batches.push(b);
  }
  return batches;
}

const inline = (ref: string, text: string) =>
  `<c r="${ref}" t="inlineStr"><is><t>${text}</t></is></c>`;
const cellsOf = (row: number, values: (string | number)[]) =>
  values
    .map((v, i) => {
      const ref = `${String.fromCharCode(65 + (i % 26))}${i >= 26 ? "" : ""}${row}`;
      return typeof v === "number" ? `<c r="${ref}"><v>${v}</v></c>` : inline(ref, v);
    })
    .join("");

/** A workbook written by hand, as a hostile one would be: the sheet's XML as given. */
async function rawWorkbook(sheetData: string): Promise<Readable> {
  const zip = new JSZip();
  zip.file(
    "xl/workbook.xml",
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>',
  );
  zip.file(
    "xl/_rels/workbook.xml.rels",
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
  );
  zip.file(
    "xl/worksheets/sheet1.xml",
    `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${sheetData}</sheetData></worksheet>`,
  );
  return Readable.from([await zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" })]);
}

const headerRow = `<row r="1">${cellsOf(1, HEADER)}</row>`;
const goodRow = (r: number) => `<row r="${r}">${cellsOf(r, GOOD)}</row>`;

describe("readXlsxApplicants", () => {
  it("validates the first sheet's rows like CSV rows: good rows kept, bad ones reported by row and column", async () => {
    const bad = [...GOOD];
    bad[1] = "twelve";
    const stream = await workbook([HEADER, GOOD, bad, [], GOOD]);
    const batches = await readAll(stream);
    const valid = batches.reduce((n, b) => n + b.table.n, 0);
    expect(valid).toBe(2);
    const errors = batches.flatMap((b) => b.errors);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 2, column: "duration", kind: "not_a_number" });
    expect(Array.from(batches[0].rowNumbers)).toEqual([1, 3]);
    expect(batches[0].table.columns[1][0]).toBe(12);
  });

  it("splits into batches of the requested size with continuous row numbers", async () => {
    const stream = await workbook([HEADER, ...Array.from({ length: 5 }, () => GOOD)]);
    const batches = await readAll(stream, 2);
    expect(batches.map((b) => b.table.n)).toEqual([2, 2, 1]);
    expect(batches.flatMap((b) => Array.from(b.rowNumbers))).toEqual([1, 2, 3, 4, 5]);
  });

  it("reports a sheet that lacks schema columns, and a file that is not a workbook", async () => {
    await expect(
      readAll(
        await workbook([
          ["age", "purpose"],
          [30, "car"],
        ]),
      ),
    ).rejects.toMatchObject({
      code: "SCHEMA_MISMATCH",
    });
    const notXlsx = readAll(Readable.from([Buffer.from("checking_status,duration\n")]));
    await expect(notXlsx).rejects.toBeInstanceOf(AppError);
    await expect(readAll(Readable.from([Buffer.from("PK-not-really")]))).rejects.toMatchObject({
      code: "PARSE_ERROR",
    });
  });

  it("reads a hand-written sheet: inline and shared strings, numbers, rows by their number", async () => {
    const batches = await readAll(await rawWorkbook(`${headerRow}${goodRow(2)}${goodRow(5)}`));
    expect(batches[0].table.n).toBe(2);
    expect(Array.from(batches[0].rowNumbers)).toEqual([1, 2]);
  });

  it("refuses a workbook that expands past its limit (a zip bomb), before reading it all", async () => {
    // 40,000 rows of the same cells: about 17 MB of XML that deflates to a few hundred kB.
    const rows = Array.from({ length: 40_000 }, (_, i) => goodRow(i + 2)).join("");
    const bomb = await rawWorkbook(`${headerRow}${rows}`);
    await expect(readAll(bomb, 8192, { bytes: 4_000_000 })).rejects.toMatchObject({
      code: "FILE_TOO_LARGE",
      message: expect.stringMatching(/expands to more than the server accepts/),
    });
  });

  it("bounds the rows and the columns a sheet may have", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => goodRow(i + 2)).join("");
    await expect(
      readAll(await rawWorkbook(`${headerRow}${rows}`), 8192, { rows: 10 }),
    ).rejects.toMatchObject({
      code: "FILE_TOO_LARGE",
      message: expect.stringMatching(/more than 10 rows/),
    });
    const wide = `${headerRow}<row r="2"><c r="XFE2"><v>1</v></c></row>`;
    await expect(readAll(await rawWorkbook(wide))).rejects.toMatchObject({
      code: "FILE_TOO_LARGE",
      message: expect.stringMatching(/column 16385/),
    });
    // A cell far to the right of the header is not read at all (no row of 16,000 cells).
    const far = `${headerRow}<row r="2">${cellsOf(2, GOOD)}<c r="XFD2"><v>7</v></c></row>`;
    expect((await readAll(await rawWorkbook(far)))[0].table.n).toBe(1);
  });

  it("refuses rows that repeat or go back, which would make more rows than the sheet has", async () => {
    const repeated = `${headerRow}${goodRow(2)}${goodRow(2)}`;
    await expect(readAll(await rawWorkbook(repeated))).rejects.toMatchObject({
      code: "PARSE_ERROR",
      message: expect.stringMatching(/row 2 comes after row 2/),
    });
  });

  it("leaves nothing in the temporary folder, read to the end or refused", async () => {
    const before = new Set(await readdir(tmpdir()));
    await readAll(await workbook([HEADER, ...Array.from({ length: 50 }, () => GOOD)]));
    await readAll(await workbook([["age"], [1]])).catch(() => null);
    // The spreadsheet library's reader spooled sheets to tmp-* files and left them there.
    const added = (await readdir(tmpdir())).filter((f) => !before.has(f));
    expect(added.filter((f) => f.startsWith("tmp-"))).toEqual([]);
  });
});
