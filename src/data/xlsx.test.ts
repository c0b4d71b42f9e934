import { Readable } from "node:stream";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { defaultSpec, featureColumns } from "./index.js";
import { readXlsxApplicants } from "./xlsx.js";

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

async function readAll(stream: Readable, batchSize?: number) {
  const batches = [];
  for await (const b of readXlsxApplicants(stream, { spec: GERMAN, batchSize })) batches.push(b);
  return batches;
}

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
});
