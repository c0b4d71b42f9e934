import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import {
  CsvParser,
  detectSeparator,
  escapeCsvCell,
  formatCsvRow,
  openCsv,
  type CsvParserOptions,
  type CsvSeparator,
} from "./csv.js";

function parse(chunks: string | string[], options?: CsvParserOptions) {
  const p = new CsvParser(options);
  for (const c of typeof chunks === "string" ? [chunks] : chunks) p.push(c);
  p.end();
  return { records: p.records, lines: p.lines, separator: p.separator };
}

/** The text cut into pieces of one character. */
const chars = (s: string): string[] => [...s].map((c) => c);

/** The UTF-8 bytes of `s` as a stream of one-byte Buffers. */
const byteStream = (s: string): Readable =>
  Readable.from([...Buffer.from(s, "utf8")].map((b) => Buffer.from([b])));

async function readAll(source: Readable, size = 3) {
  const input = await openCsv(source);
  const records: string[][] = [];
  const lines: number[] = [];
  const starts: number[] = [];
  for await (const b of input.batches(size)) {
    starts.push(b.startRow);
    records.push(...b.records);
    lines.push(...b.lines);
  }
  return { header: input.header, separator: input.separator, records, lines, starts };
}

describe("CsvParser", () => {
  it("splits plain lines with LF and CRLF and keeps empty fields", () => {
    expect(parse("a,b,c\n1,,3\r\n,x,\n").records).toEqual([
      ["a", "b", "c"],
      ["1", "", "3"],
      ["", "x", ""],
    ]);
  });

  it("reads a last line without a line break", () => {
    expect(parse("a,b\n1,2").records).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
    expect(parse("a,b\r\n1,2\r").records).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("handles quoted fields with separators, doubled quotes and line breaks", () => {
    const text = 'name,note\n"Smith, J.","said ""hi"""\n"multi\nline\r\ntext",x\nlast,"a,b"\n';
    const { records, lines } = parse(text);
    expect(records).toEqual([
      ["name", "note"],
      ["Smith, J.", 'said "hi"'],
      ["multi\nline\r\ntext", "x"],
      ["last", "a,b"],
    ]);
    // The third record spans lines 3 to 5, so the fourth starts on line 6.
    expect(lines).toEqual([1, 2, 3, 6]);
  });

  it("ignores spaces around a quoted field and keeps a quote inside an unquoted one as data", () => {
    const { records } = parse('a,b,c\n  "x, y"  ,5" screen,"z"\n"p"\t\r,"q"r,\r\n');
    expect(records[1]).toEqual(["x, y", '5" screen', "z"]);
    // Text after a closing quote is kept; blanks and a CR before the separator are not.
    expect(records[2]).toEqual(["p", "qr", ""]);
  });

  it("gives the same records for any chunking, including 1-character chunks", () => {
    const text =
      '\uFEFFa;b;c\r\n"q;1";"with ""quotes""";"line\r\nbreak"\r\nplain;;end\r\n"";"";""\r\n"x"\r\n';
    const whole = parse(text);
    expect(whole.separator).toBe(";");
    expect(whole.records).toEqual([
      ["a", "b", "c"],
      ["q;1", 'with "quotes"', "line\r\nbreak"],
      ["plain", "", "end"],
      ["", "", ""],
      ["x"],
    ]);
    expect(parse(chars(text))).toEqual(whole);
    // A chunk boundary between CR and LF, and right after an opening quote.
    const cut = text.indexOf("\r\n") + 1;
    expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    const q = text.indexOf('"q') + 1;
    expect(parse([text.slice(0, q), text.slice(q)])).toEqual(whole);
  });

  it("round-trips random fields through formatCsvRow for random chunk sizes", () => {
    const rng = new Rng(42);
    const alphabet = ["a", "b", "Z", "1", " ", ",", ";", "\t", '"', "\n", "\r", "é", "€", "-", "="];
    for (let trial = 0; trial < 40; trial++) {
      const sep = [",", ";", "\t"][trial % 3];
      const width = 1 + rng.int(5);
      const rows: string[][] = [];
      for (let r = 0; r < 1 + rng.int(8); r++) {
        const row: string[] = [];
        for (let c = 0; c < width; c++) {
          let cell = "";
          for (let k = rng.int(6); k > 0; k--) cell += alphabet[rng.int(alphabet.length)];
          // Formula-like cells get a leading ' on writing; keep the comparison simple.
          row.push(cell.replace(/^[-=+@\t\r]+/, "v"));
        }
        // A record of one empty field is written as an empty line, a blank record.
        if (width === 1 && row[0] === "") row[0] = "v";
        rows.push(row);
      }
      const header = Array.from({ length: width }, (_, i) => `h${i}`);
      const text = [header, ...rows].map((r) => formatCsvRow(r, sep)).join("\r\n") + "\n";
      const expected = [header, ...rows];
      const options = { separator: sep as CsvSeparator };
      expect(parse(text, options).records).toEqual(expected);
      expect(parse(chars(text), options).records).toEqual(expected);
      const pieces: string[] = [];
      for (let i = 0; i < text.length;) {
        const len = 1 + rng.int(7);
        pieces.push(text.slice(i, i + len));
        i += len;
      }
      expect(parse(pieces, options).records).toEqual(expected);
    }
  });

  it("fails with PARSE_ERROR naming the line of a quote that is never closed", () => {
    const run = () => parse('a,b\n1,2\n3,"open\nmore\n');
    expect(run).toThrow(AppError);
    expect(run).toThrow(/line 3: quoted field is never closed/);
    try {
      run();
    } catch (e) {
      expect((e as AppError).code).toBe("PARSE_ERROR");
    }
  });

  it("bounds the length of a record", () => {
    const p = new CsvParser({ maxRecordBytes: 100 });
    p.push("a,b\n1,");
    expect(() => p.push('"' + "x".repeat(200))).toThrow(/line 2: record longer than 100/);
    const q = new CsvParser({ maxRecordBytes: 100 });
    expect(() => q.push("a,b\n" + "y".repeat(150))).toThrow(/line 2: record longer than 100/);
  });

  it("drops a byte order mark only at the very start", () => {
    expect(parse("\uFEFFid,x\n1,\uFEFF\n").records).toEqual([
      ["id", "x"],
      ["1", "\uFEFF"],
    ]);
  });

  it("keeps a lone CR inside a line as data", () => {
    expect(parse("a,b\nx\ry,z\n").records[1]).toEqual(["x\ry", "z"]);
  });
});

describe("detectSeparator", () => {
  it("picks the most frequent of comma, semicolon and tab outside quotes", () => {
    expect(detectSeparator("a,b,c")).toBe(",");
    expect(detectSeparator("a;b;c")).toBe(";");
    expect(detectSeparator("a\tb\tc")).toBe("\t");
    expect(detectSeparator('"x,y,z";b;c')).toBe(";");
    expect(detectSeparator("a;b,c")).toBe(",");
    expect(detectSeparator("single")).toBe(",");
  });

  it("uses the header line, not a leading blank line", () => {
    expect(parse("\n\na;b\n1;2\n").separator).toBe(";");
  });

  it("waits for the whole header line before deciding", () => {
    expect(parse(chars("a,b;c;d\n1,2;3;4\n")).records[1]).toEqual(["1,2", "3", "4"]);
  });
});

describe("openCsv", () => {
  it("reads a byte stream one byte at a time: BOM, multi-byte characters, batches", async () => {
    const text = '\uFEFFname;city\r\nJürgen;Köln\r\n"Ä;ö";"x\r\ny"\r\n€;z\r\n';
    const r = await readAll(byteStream(text), 2);
    expect(r.header).toEqual(["name", "city"]);
    expect(r.separator).toBe(";");
    expect(r.records).toEqual([
      ["Jürgen", "Köln"],
      ["Ä;ö", "x\r\ny"],
      ["€", "z"],
    ]);
    expect(r.lines).toEqual([2, 3, 5]);
    expect(r.starts).toEqual([1, 3]);
  });

  it("skips blank lines before the header", async () => {
    const r = await readAll(Readable.from(["\n\r\n", "a,b\n1,2\n"]));
    expect(r.header).toEqual(["a", "b"]);
    expect(r.records).toEqual([["1", "2"]]);
    expect(r.lines).toEqual([4]);
  });

  it("honours a given separator", async () => {
    const input = await openCsv(Readable.from(["a;b,c\n1;2,3\n"]), { separator: "," });
    expect(input.header).toEqual(["a;b", "c"]);
    await input.close();
  });

  it("refuses an empty input", async () => {
    await expect(openCsv(Readable.from(["\n \n"]))).rejects.toThrow(/empty CSV/);
  });

  it("says so when a file is UTF-16 or has CR-only line ends, instead of missing its columns", async () => {
    const text = "age,purpose\r\n30,car\r\n";
    for (const bytes of [
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
      Buffer.from(text, "utf16le"),
    ]) {
      await expect(openCsv(Readable.from([bytes]))).rejects.toThrow(/UTF-16 encoded.*UTF-8/);
    }
    await expect(openCsv(Readable.from(["age,purpose\r30,car\r31,car\r"]))).rejects.toThrow(
      /CR only/,
    );
    // CRLF and LF files, and a last line ending in a lone CR, read as before.
    for (const file of [text, text.replaceAll("\r", ""), "age,purpose\r"]) {
      const input = await openCsv(Readable.from([file]));
      expect(input.header).toEqual(["age", "purpose"]);
      await input.close();
    }
  });
});

describe("escapeCsvCell", () => {
  it("leaves plain cells alone and quotes separators, quotes and line breaks", () => {
    expect(escapeCsvCell("radio/tv")).toBe("radio/tv");
    expect(escapeCsvCell("a,b")).toBe('"a,b"');
    expect(escapeCsvCell("a;b")).toBe("a;b");
    expect(escapeCsvCell("a;b", ";")).toBe('"a;b"');
    expect(escapeCsvCell("tab\there", "\t")).toBe('"tab\there"');
    expect(escapeCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(escapeCsvCell("two\nlines")).toBe('"two\nlines"');
    expect(escapeCsvCell("")).toBe("");
  });

  it("neutralises formulas with a leading quote", () => {
    expect(escapeCsvCell("=1+1")).toBe("'=1+1");
    expect(escapeCsvCell("+SUM(A1:A9)")).toBe("'+SUM(A1:A9)");
    expect(escapeCsvCell("-2+3")).toBe("'-2+3");
    expect(escapeCsvCell("@cmd")).toBe("'@cmd");
    expect(escapeCsvCell("\t=x")).toBe("'\t=x");
    expect(escapeCsvCell("\r=x")).toBe('"\'\r=x"');
    expect(escapeCsvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(escapeCsvCell("=a,b")).toBe('"\'=a,b"');
  });

  it("keeps plain numbers, including negative ones, as numbers", () => {
    expect(escapeCsvCell("-3.5")).toBe("-3.5");
    expect(escapeCsvCell("+2")).toBe("+2");
    expect(escapeCsvCell("-1e-3")).toBe("-1e-3");
    expect(escapeCsvCell("-.5")).toBe("-.5");
    expect(escapeCsvCell("-")).toBe("'-");
    expect(escapeCsvCell("-A1")).toBe("'-A1");
    expect(escapeCsvCell("-1;2", ";")).toBe('"\'-1;2"');
  });

  it("writes rows that read back to the same cells", () => {
    const row = ["a,b", 'q"q', "x\ny", "-3.5", "plain"];
    expect(parse(formatCsvRow(row) + "\n").records).toEqual([row]);
    expect(parse(formatCsvRow(row, ";") + "\n", { separator: ";" }).records).toEqual([row]);
  });
});
