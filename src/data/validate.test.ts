import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { CsvParser } from "./csv.js";
import { defaultSpec, featureColumns } from "./index.js";
import {
  LABEL_UNKNOWN,
  RecordValidator,
  validateApplicant,
  type RowError,
  type ValidatedBatch,
} from "./validate.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

const NAMES = GERMAN_COLUMNS.map((c) => c.name);
const HEADER = [...NAMES, "class"];

/** The first applicant of credit-g, canonical spellings. */
const GOOD = [
  "<0",
  "6",
  "critical/other existing credit",
  "radio/tv",
  "1169",
  "no known savings",
  ">=7",
  "4",
  "male single",
  "none",
  "4",
  "real estate",
  "67",
  "none",
  "own",
  "2",
  "skilled",
  "1",
  "yes",
  "yes",
  "good",
];
/** Its values as the ML core stores them (category indexes, numbers). */
const GOOD_VALUES = [0, 6, 4, 3, 1169, 4, 4, 4, 2, 0, 4, 0, 67, 2, 1, 2, 2, 1, 1, 0];

/** GOOD with some cells replaced, by column name. */
function row(changes: Record<string, string> = {}): string[] {
  return HEADER.map((h, i) => changes[h] ?? GOOD[i]);
}

function validate(
  records: string[][],
  options: { header?: string[]; label?: "required" | "optional"; keepRaw?: boolean } = {},
): ValidatedBatch {
  const v = new RecordValidator(GERMAN, options.header ?? HEADER, {
    label: options.label ?? "required",
  });
  return v.validate(records, 1, { keepRaw: options.keepRaw });
}

const rowValues = (b: ValidatedBatch, r: number): number[] => b.table.columns.map((c) => c[r]);

/** The error of a batch that has exactly one. */
function onlyError(b: ValidatedBatch): RowError {
  expect(b.errors).toHaveLength(1);
  return b.errors[0];
}

function schemaError(header: string[], label: "required" | "optional" = "required"): AppError {
  try {
    new RecordValidator(GERMAN, header, { label });
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected a SCHEMA_MISMATCH");
}

describe("RecordValidator: conversion", () => {
  it("converts a valid row into category indexes and numbers", () => {
    const b = validate([GOOD]);
    expect(b.errors).toEqual([]);
    expect(b.table.n).toBe(1);
    expect(rowValues(b, 0)).toEqual(GOOD_VALUES);
    expect(Array.from(b.labels as Uint8Array)).toEqual([0]);
    expect(Array.from(b.rowNumbers)).toEqual([1]);
    expect(b.records).toBe(1);
  });

  it("accepts UCI codes, any letter case and spaces around values", () => {
    const coded = [
      "A11",
      " 6 ",
      "a34",
      "A43",
      "1169",
      "A65",
      "a75",
      "4",
      "A93",
      "A101",
      "4",
      "A121",
      "67",
      "A143",
      "A152",
      "2",
      "A173",
      "1",
      "A192",
      "A201",
      "1",
    ];
    const cased = row({
      checking_status: " <0 ",
      purpose: "Radio/TV",
      housing: "OWN",
      class: "GOOD",
    });
    const b = validate([coded, cased]);
    expect(b.errors).toEqual([]);
    expect(rowValues(b, 0)).toEqual(GOOD_VALUES);
    expect(rowValues(b, 1)).toEqual(GOOD_VALUES);
  });

  it("reads the label as good/bad or the UCI codes 1/2, bad being 1", () => {
    const b = validate([
      row({ class: "bad" }),
      row({ class: "2" }),
      row({ class: " Bad " }),
      row({ class: "1" }),
    ]);
    expect(b.errors).toEqual([]);
    expect(Array.from(b.labels as Uint8Array)).toEqual([1, 1, 1, 0]);
  });

  it("accepts decimals where the column allows them", () => {
    const b = validate([row({ credit_amount: "1169.50" }), row({ credit_amount: "2e3" })]);
    expect(b.errors).toEqual([]);
    expect(b.table.columns[4][0]).toBe(1169.5);
    expect(b.table.columns[4][1]).toBe(2000);
  });
});

describe("RecordValidator: row problems", () => {
  it("reports a wrong number of fields against the row, column null", () => {
    const e = onlyError(validate([GOOD, GOOD.slice(0, 20)]));
    expect(e).toMatchObject({ row: 2, column: null, kind: "field_count" });
    expect(e.message).toContain("expected 21 fields");
    expect(e.message).toContain("found 20");
  });

  it("reports missing and empty values", () => {
    const b = validate([GOOD, row({ duration: "" }), row({ purpose: "   " })]);
    expect(b.errors).toEqual([
      { row: 2, column: "duration", kind: "missing", message: "missing value" },
      { row: 3, column: "purpose", kind: "missing", message: "missing value" },
    ]);
  });

  it("lists the allowed values for an unknown category", () => {
    const e = onlyError(validate([row({ housing: "castle" })]));
    expect(e).toMatchObject({
      row: 1,
      column: "housing",
      kind: "unknown_category",
      value: "castle",
    });
    expect(e.message).toBe(
      'unknown value "castle" (allowed: rent, own, for free; or the codes A151, A152, A153)',
    );
  });

  it("reports text that is not a number, with a hint for a decimal comma", () => {
    const b = validate([row({ age: "forty" }), row({ credit_amount: "1169,5" })]);
    expect(b.errors[0]).toMatchObject({
      row: 1,
      column: "age",
      kind: "not_a_number",
      value: "forty",
    });
    expect(b.errors[1]).toMatchObject({ row: 2, column: "credit_amount", kind: "not_a_number" });
    expect(b.errors[1].message).toBe('not a number: "1169,5" (use . as the decimal point)');
    // "NaN" means missing (a default missing-value text), which duration may not be.
    expect(onlyError(validate([row({ duration: "NaN" })])).kind).toBe("missing");
    for (const bad of ["0x10", "Infinity", "1 2", "--3", "+"]) {
      expect(onlyError(validate([row({ duration: bad })])).kind).toBe("not_a_number");
    }
  });

  it("gives the range of an out-of-range number", () => {
    const b = validate([row({ age: "17" }), row({ installment_commitment: "5" })]);
    expect(b.errors[0]).toMatchObject({ row: 1, column: "age", kind: "out_of_range", value: "17" });
    expect(b.errors[0].message).toBe("out of range: 17 (allowed 18 to 120 years)");
    expect(b.errors[1]).toMatchObject({
      row: 2,
      column: "installment_commitment",
      kind: "out_of_range",
    });
    expect(b.errors[1].message).toBe("out of range: 5 (allowed 1 to 4)");
  });

  it("refuses a fraction where a whole number is required", () => {
    const e = onlyError(validate([row({ duration: "6.5" })]));
    expect(e).toMatchObject({ row: 1, column: "duration", kind: "not_integer", value: "6.5" });
    expect(validate([row({ duration: "6.0" })]).errors).toEqual([]);
  });

  it("reports an unknown or missing label under the schema's label name", () => {
    const b = validate([row({ class: "maybe" }), row({ class: "" })]);
    expect(b.errors[0]).toMatchObject({
      row: 1,
      column: "class",
      kind: "unknown_label",
      value: "maybe",
    });
    expect(b.errors[0].message).toContain("good (or 1), bad (or 2); bad is the risk class");
    expect(b.errors[1]).toMatchObject({ row: 2, column: "class", kind: "missing" });
    const header = [...NAMES, "Target"];
    const t = onlyError(validate([row({ class: "x" })], { header }));
    expect(t.column).toBe("class");
    expect(t.message).toContain('column "Target"');
  });

  it("collects every problem of a row and keeps the good rows around it", () => {
    const bad = row({ checking_status: "??", duration: "0", age: "", class: "ok" });
    const b = validate([GOOD, bad, row({ class: "bad" })]);
    expect(b.errors.map((e) => [e.row, e.column, e.kind])).toEqual([
      [2, "checking_status", "unknown_category"],
      [2, "duration", "out_of_range"],
      [2, "age", "missing"],
      [2, "class", "unknown_label"],
    ]);
    expect(b.table.n).toBe(2);
    expect(Array.from(b.rowNumbers)).toEqual([1, 3]);
    expect(Array.from(b.labels as Uint8Array)).toEqual([0, 1]);
    expect(rowValues(b, 1)).toEqual(GOOD_VALUES);
    expect(b.records).toBe(3);
  });

  it("skips blank records without an error but keeps counting rows", () => {
    const b = validate([[""], GOOD, HEADER.map(() => ""), [" "], GOOD.slice(0, 3)]);
    expect(b.table.n).toBe(1);
    expect(Array.from(b.rowNumbers)).toEqual([2]);
    expect(b.errors).toEqual([
      expect.objectContaining({ row: 5, column: null, kind: "field_count" }),
    ]);
    expect(b.records).toBe(2);
  });

  it("numbers rows from the batch's start row and adds the line when given", () => {
    const v = new RecordValidator(GERMAN, HEADER, { label: "required" });
    const b = v.validate([GOOD, row({ age: "x" })], 101, { lines: [150, 152] });
    expect(Array.from(b.rowNumbers)).toEqual([101]);
    expect(onlyError(b)).toMatchObject({ row: 102, line: 152, column: "age" });
  });
});

describe("RecordValidator: header", () => {
  it("fails with SCHEMA_MISMATCH listing every missing column", () => {
    const e = schemaError(HEADER.filter((h) => h !== "age" && h !== "job"));
    expect(e.code).toBe("SCHEMA_MISMATCH");
    expect(e.message).toContain("missing required columns: age, job");
    expect((e.details as { missing: string[] }).missing).toEqual(["age", "job"]);
  });

  it("requires a label column only when asked to", () => {
    const e = schemaError(NAMES, "required");
    expect((e.details as { missing: string[] }).missing).toEqual(["class"]);
    expect(e.message).toContain("also accepted as target");
    const v = new RecordValidator(GERMAN, NAMES, { label: "optional" });
    expect(v.hasLabel).toBe(false);
    const b = v.validate([GOOD.slice(0, 20)], 1);
    expect(b.labels).toBeNull();
    expect(rowValues(b, 0)).toEqual(GOOD_VALUES);
  });

  it("matches names case-insensitively with spaces trimmed, and accepts target", () => {
    const header = HEADER.map((h) => ` ${h.toUpperCase()} `);
    header[20] = " Target";
    const b = validate([GOOD], { header });
    expect(b.errors).toEqual([]);
    expect(rowValues(b, 0)).toEqual(GOOD_VALUES);
    expect(Array.from(b.labels as Uint8Array)).toEqual([0]);
  });

  it("takes the columns in any order and passes extra columns through, in header order", () => {
    const header = ["id", ...[...HEADER].reverse(), "note"];
    const rec = ["a-1", ...[...GOOD].reverse(), "first, applicant"];
    const b = validate([rec, ["a-2", ...[...GOOD].reverse(), ""]], { header, keepRaw: true });
    expect(b.errors).toEqual([]);
    expect(rowValues(b, 0)).toEqual(GOOD_VALUES);
    expect(b.extras.header).toEqual(["id", "note"]);
    expect(b.extras.values).toEqual([
      ["a-1", "first, applicant"],
      ["a-2", ""],
    ]);
    expect(b.raw?.[0]).toEqual(rec);
  });

  it("refuses duplicated columns and two label columns", () => {
    expect(schemaError([...HEADER, " AGE"]).message).toContain('column "age" appears 2 times');
    expect(schemaError([...HEADER, "target"]).message).toContain('both "class" and "target"');
  });

  it("suggests a likely intended column", () => {
    const header = HEADER.map((h) => (h === "credit_amount" ? "Credit Amount" : h));
    expect(schemaError(header).message).toContain('did you mean "Credit Amount" for credit_amount');
  });
});

describe("RecordValidator: optional labels", () => {
  it("marks an empty label LABEL_UNKNOWN but still refuses a wrong one", () => {
    const b = validate([row({ class: "" }), row({ class: "bad" }), row({ class: "perhaps" })], {
      label: "optional",
    });
    expect(Array.from(b.labels as Uint8Array)).toEqual([LABEL_UNKNOWN, 1]);
    expect(onlyError(b)).toMatchObject({ row: 3, kind: "unknown_label" });
  });
});

describe("BatchBuilder.addFields", () => {
  it("gives exactly what add gives for the same record, valid or not", () => {
    const header = ["id", ...HEADER];
    const v = new RecordValidator(GERMAN, header, { label: "optional" });
    const pool = [
      "",
      " ",
      "A11",
      "a11",
      "<0",
      " <0",
      "no checking",
      "No Checking",
      "1",
      "2",
      "4",
      "4.0",
      "6.5",
      "-3",
      "+4",
      "1e1",
      ".5",
      "5.",
      "0",
      "007",
      "1169",
      "99999999999999999",
      "abc",
      "good",
      "bad",
      "BAD",
      "none",
      "yes",
      "A192",
      "é",
      "18",
      "120",
      "121",
      "45",
      "12.50",
      "1169.25",
      "0.5",
      "-0",
      "3.0",
    ];
    const lines: string[] = [];
    // Every value of the pool in every column, then random combinations.
    for (let c = 0; c < 22; c++) {
      for (const value of pool) {
        const cells = ["id" + c, ...GOOD];
        cells[c] = value;
        lines.push(cells.join(";"));
      }
    }
    const rng = new Rng(7);
    for (let i = 0; i < 300; i++) {
      const cells = ["id" + i, ...GOOD];
      for (let m = rng.int(3); m > 0; m--)
        cells[rng.int(cells.length)] = pool[rng.int(pool.length)];
      if (i % 50 === 7) cells.pop();
      if (i % 50 === 9) cells.push("extra");
      // Some cells quoted: simply (the fast scan) or with doubled quotes (the state machine).
      for (let m = rng.int(3); m > 0; m--) {
        const at = rng.int(cells.length);
        cells[at] = rng.int(4) === 0 ? `"${cells[at]}""x"` : `"${cells[at]}"`;
      }
      lines.push(cells.join(";"));
    }
    lines.push("", ";;;;", '"";"";""');
    const fast = v.begin(1, 16, { keepRaw: true, rawLinesSeparator: ";" });
    const slow = v.begin(1, 16, { keepRaw: true, rawLinesSeparator: ";" });
    const p1 = new CsvParser({ separator: ";" });
    p1.onFields = (record) => fast.addFields(record);
    p1.onRecord = (rec, line) => fast.add(rec, line);
    const p2 = new CsvParser({ separator: ";" });
    p2.onRecord = (rec, line) => slow.add(rec, line);
    const text = lines.join("\r\n") + "\r\n";
    for (const p of [p1, p2]) {
      p.push(text);
      p.end();
    }
    const a = fast.finish();
    const b = slow.finish();
    expect(a.table.n).toBeGreaterThan(150);
    expect(a.errors.length).toBeGreaterThan(200);
    // Lines written back may differ in quoting (the input's own text is reused when safe) but
    // must hold the same cells.
    const cellsOf = (line: string): string[] => {
      const p = new CsvParser({ separator: ";" });
      p.push(line + "\n");
      p.end();
      expect(p.records).toHaveLength(1);
      return p.records[0];
    };
    expect(a.rawLines?.map(cellsOf)).toEqual(b.rawLines?.map(cellsOf));
    expect(a.rawLines?.filter((l, i) => l !== b.rawLines?.[i]).length).toBeGreaterThan(20);
    expect({ ...a, rawLines: [] }).toEqual({ ...b, rawLines: [] });
  });
});

describe("validateApplicant", () => {
  const applicant = (): Record<string, unknown> =>
    Object.fromEntries(NAMES.map((n, i) => [n, GOOD[i]]));

  it("converts an object keyed by column name, numbers given as JSON numbers", () => {
    const a: Record<string, unknown> = {
      ...applicant(),
      duration: 6,
      credit_amount: 1169,
      Target: "bad",
      id: "x",
    };
    delete a.age;
    a.AGE = 67;
    const r = validateApplicant(a, GERMAN);
    expect(r.errors).toEqual([]);
    expect(Array.from(r.values as Float64Array)).toEqual(GOOD_VALUES);
    expect(r.label).toBe(1);
  });

  it("reports missing keys and bad values by column, and no label without one", () => {
    const a = applicant();
    delete a.housing;
    a.age = null;
    a.purpose = { nested: true };
    const r = validateApplicant(a, GERMAN);
    expect(r.values).toBeNull();
    expect(r.label).toBeNull();
    expect(r.errors.map((e) => [e.row, e.column, e.kind])).toEqual([
      [1, "purpose", "unknown_category"],
      [1, "housing", "missing"],
      [1, "age", "missing"],
    ]);
    expect(validateApplicant(applicant(), GERMAN).label).toBeNull();
  });

  it("refuses an applicant with none of the spec's columns, naming each one it may not miss", () => {
    const r = validateApplicant({ somethingElse: 1 }, GERMAN);
    expect(r.values).toBeNull();
    expect(r.errors.map((e) => [e.row, e.column, e.kind])).toEqual(
      featureColumns(GERMAN).map((c) => [1, c.name, "missing"]),
    );
    const optional = {
      ...GERMAN,
      columns: GERMAN.columns.map((c) => (c.kind === "id" ? c : { ...c, allowMissing: true })),
    };
    const none = validateApplicant({}, optional);
    expect(none.values).toBeNull();
    expect(none.errors).toEqual([
      expect.objectContaining({ row: 1, column: null, message: expect.stringMatching(/no value/) }),
    ]);
  });
});
