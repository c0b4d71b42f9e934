import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { openArff, readArff } from "./arff.js";
import { DEFAULT_DATA_PATH } from "./dataset.js";

const stream = (text: string): Readable => Readable.from([Buffer.from(text, "utf8")]);

async function collect(source: string | Readable): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for await (const rec of readArff(source)) out.push(rec);
  return out;
}

async function parseError(text: string): Promise<AppError> {
  try {
    await collect(stream(text));
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("PARSE_ERROR");
    return e as AppError;
  }
  throw new Error("expected a PARSE_ERROR");
}

describe("readArff on data/credit-g.arff", () => {
  it("reads the header of the German credit data", async () => {
    const input = await openArff(DEFAULT_DATA_PATH);
    await input.close();
    const { header } = input;
    expect(header.relation).toBe("german_credit");
    expect(header.attributes).toHaveLength(21);
    expect(header.attributes[0]).toEqual({
      name: "checking_status",
      type: "nominal",
      values: ["<0", "0<=X<200", ">=200", "no checking"],
      line: 280,
    });
    expect(header.attributes[1]).toMatchObject({ name: "duration", type: "numeric" });
    // Quoted and unquoted values mixed in one list.
    expect(header.attributes[3].values).toEqual([
      "new car",
      "used car",
      "furniture/equipment",
      "radio/tv",
      "domestic appliance",
      "repairs",
      "education",
      "vacation",
      "retraining",
      "business",
      "other",
    ]);
    expect(header.attributes[20]).toMatchObject({ name: "class", values: ["good", "bad"] });
    expect(header.dataLine).toBe(301);
  });

  it("yields its 1000 records, 700 good and 300 bad, keyed by attribute name", async () => {
    const records = await collect(DEFAULT_DATA_PATH);
    expect(records).toHaveLength(1000);
    expect(records.filter((r) => r.class === "good")).toHaveLength(700);
    expect(records.filter((r) => r.class === "bad")).toHaveLength(300);
    expect(records[0]).toMatchObject({
      checking_status: "<0",
      duration: "6",
      credit_history: "critical/other existing credit",
      purpose: "radio/tv",
      credit_amount: "1169",
      age: "67",
      class: "good",
    });
    expect(Object.keys(records[0])).toHaveLength(21);
    expect(records[999]).toMatchObject({
      checking_status: "0<=X<200",
      duration: "45",
      purpose: "used car",
      class: "good",
    });
  });

  it("gives each data row its line in the file", async () => {
    const input = await openArff(DEFAULT_DATA_PATH);
    const lines: number[] = [];
    for await (const r of input.rows()) lines.push(r.line);
    expect(lines[0]).toBe(302);
    expect(lines[999]).toBe(1301);
  });
});

describe("readArff syntax", () => {
  it("handles quotes, escapes, missing values, comments, CRLF and a BOM", async () => {
    const text = [
      "\uFEFF% a comment",
      "@RELATION 'my data'",
      "",
      "@attribute 'first name' {'O\\'Brien', \"van Dyke\", plain} % trailing comment",
      "@Attribute n NUMERIC",
      "@attribute note string",
      "@attribute when date 'yyyy-MM-dd'",
      "@data",
      "% comment between rows",
      "'O\\'Brien', 3.5 , 'tab\\there, 50% off', '2020-01-01'",
      "plain,?,'?',?   % missing values",
      "",
    ].join("\r\n");
    const input = await openArff(stream(text));
    expect(input.header.relation).toBe("my data");
    expect(input.header.attributes.map((a) => [a.name, a.type])).toEqual([
      ["first name", "nominal"],
      ["n", "numeric"],
      ["note", "string"],
      ["when", "date"],
    ]);
    expect(input.header.attributes[0].values).toEqual(["O'Brien", "van Dyke", "plain"]);
    await input.close();
    expect(await collect(stream(text))).toEqual([
      { "first name": "O'Brien", n: "3.5", note: "tab\there, 50% off", when: "2020-01-01" },
      { "first name": "plain", n: "", note: "?", when: "" },
    ]);
  });

  it("reads the same from a stream of one-byte chunks", async () => {
    const text =
      "@relation r\n@attribute a {x, 'y z'}\n@attribute b numeric\n@data\n'y z',1\nx,2\n";
    const bytes = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    expect(await collect(Readable.from(bytes))).toEqual([
      { a: "y z", b: "1" },
      { a: "x", b: "2" },
    ]);
  });

  it("names the line of an unclosed quote", async () => {
    const e = await parseError("@relation r\n@attribute a string\n@data\n'ok'\n'broken\n");
    expect(e.message).toBe("input line 5: quoted value is never closed (' opened at column 1)");
    expect(e.details).toEqual({ line: 5 });
  });

  it("names the line of a row with the wrong number of values", async () => {
    const e = await parseError(
      "@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n3\n",
    );
    expect(e.message).toBe("input line 6: expected 2 values, found 1");
  });

  it("names the line of a bad declaration", async () => {
    expect((await parseError("@relation r\n@attribute a blob\n@data\n")).message).toBe(
      'input line 2: unknown type "blob" for attribute "a"',
    );
    expect((await parseError("@relation r\n@attribute a {x, y\n@data\n")).message).toBe(
      'input line 2: nominal list of "a" is not closed with }',
    );
    expect((await parseError("@relation r\n@attribute a\n@data\n")).message).toBe(
      'input line 2: attribute "a" has no type',
    );
    expect(
      (await parseError("@relation r\n@attribute a numeric\n@attribute a numeric\n@data\n"))
        .message,
    ).toBe('input line 3: attribute "a" is declared twice');
    expect((await parseError("@relation r\n@attribute b relational\n@data\n")).message).toBe(
      'input line 2: relational attribute "b" is not supported',
    );
    expect((await parseError("@relation r\nfoo,bar\n")).message).toBe(
      'input line 2: expected @relation, @attribute or @data, found "foo,bar"',
    );
  });

  it("refuses sparse data and text after a quoted value", async () => {
    const head = "@relation r\n@attribute a string\n@attribute b string\n@data\n";
    expect((await parseError(head + "{0 x}\n")).message).toBe(
      "input line 5: sparse ARFF data is not supported",
    );
    expect((await parseError(head + "'x'y,z\n")).message).toBe(
      "input line 5: unexpected text after a quoted value at column 4",
    );
  });

  it("refuses an input without @data", async () => {
    expect((await parseError("a,b\n1,2\n")).message).toContain("line 1: expected @relation");
    expect((await parseError("% only a comment\n")).message).toBe(
      "input: no @data section (is this an ARFF file?)",
    );
  });
});
