/**
 * Streaming reader for Weka's ARFF format, as used by the credit-g copy of the data set.
 *
 * Supported: `%` comments (whole lines, or the rest of a line outside quotes), `@relation`,
 * `@attribute` with `numeric`/`real`/`integer`, `string`, `date [format]` and nominal
 * `{a, 'b c', …}` types, attribute names and values in single or double quotes with Weka's
 * backslash escapes, `?` as a missing value, and dense `@data` lines. Keywords are
 * case-insensitive. Sparse data (`{0 x, 3 y}`) and relational attributes are refused.
 *
 * The reader checks syntax only; values are checked against the credit schema by the
 * validator, so a value missing from an attribute's nominal list is not an ARFF error here.
 * Every error is a PARSE_ERROR whose message names the line.
 */
import { AppError } from "../core/errors.js";
import { decodeText, PeekableBytes, sourceName, type DataSource } from "./source.js";

export interface ArffAttribute {
  readonly name: string;
  readonly type: "numeric" | "nominal" | "string" | "date";
  /** Declared values of a nominal attribute, in order. */
  readonly values?: readonly string[];
  /** Line of the `@attribute` declaration. */
  readonly line: number;
}

export interface ArffHeader {
  readonly relation: string;
  readonly attributes: readonly ArffAttribute[];
  /** Line of `@data`. */
  readonly dataLine: number;
}

export interface ArffDataRow {
  /** 1-based line in the file. */
  readonly line: number;
  /** One value per value on the line (a missing `?` becomes ""); not checked against the header. */
  readonly fields: string[];
}

export interface ArffInput {
  readonly header: ArffHeader;
  /** The data lines, in order. Call once. */
  rows(): AsyncGenerator<ArffDataRow>;
  /** Releases the input when reading stops early (idempotent). */
  close(): Promise<void>;
}

/** Splits text chunks into lines (LF or CRLF), across chunk boundaries. */
class LineSplitter {
  private rest = "";
  private first = true;

  push(chunk: string, out: string[]): void {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const text = this.rest + chunk;
    let pos = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", pos)) {
      out.push(text.slice(pos, nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl));
      pos = nl + 1;
    }
    this.rest = text.slice(pos);
  }

  end(out: string[]): void {
    if (this.rest.length > 0) out.push(this.rest);
    this.rest = "";
  }
}

function parseError(name: string, line: number, message: string): AppError {
  return new AppError("PARSE_ERROR", `${name} line ${line}: ${message}`, { details: { line } });
}

/** Reads `'…'` or `"…"` starting at `i` (the quote); returns the value and the index after it. */
function readQuoted(s: string, i: number, fail: (msg: string) => never): [string, number] {
  const quote = s[i];
  let out = "";
  let j = i + 1;
  let seg = j;
  for (; j < s.length; j++) {
    const c = s[j];
    if (c === quote) return [out + s.slice(seg, j), j + 1];
    if (c === "\\" && j + 1 < s.length) {
      out += s.slice(seg, j);
      const e = s[j + 1];
      out += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
      j++;
      seg = j + 1;
    }
  }
  return fail(`quoted value is never closed (${quote} opened at column ${i + 1})`);
}

/**
 * The comma-separated values of a data line or of a nominal list. Values are trimmed; an
 * unquoted `?` becomes "" when `missingMark` is set; `%` outside quotes starts a comment.
 */
function splitValues(s: string, missingMark: boolean, fail: (msg: string) => never): string[] {
  const out: string[] = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    while (i < n && (s[i] === " " || s[i] === "\t")) i++;
    let value: string;
    if (i < n && (s[i] === "'" || s[i] === '"')) {
      [value, i] = readQuoted(s, i, fail);
      while (i < n && (s[i] === " " || s[i] === "\t")) i++;
      if (i < n && s[i] !== "," && s[i] !== "%") {
        fail(`unexpected text after a quoted value at column ${i + 1}`);
      }
    } else {
      const start = i;
      while (i < n && s[i] !== "," && s[i] !== "%") i++;
      value = s.slice(start, i).trim();
      if (missingMark && value === "?") value = "";
    }
    out.push(value);
    if (i < n && s[i] === ",") {
      i++;
      continue;
    }
    return out;
  }
}

/** Cuts a `%` comment outside quotes off a header line. */
function stripComment(s: string): string {
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote !== "") {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "%") return s.slice(0, i);
  }
  return s;
}

/** A name that may be quoted, at the start of `s`; returns it and the rest of the line. */
function readName(s: string, fail: (msg: string) => never): [string, string] {
  const t = s.trimStart();
  if (t.startsWith("'") || t.startsWith('"')) {
    const [name, end] = readQuoted(t, 0, fail);
    return [name, t.slice(end)];
  }
  const m = /^[^\s{]+/.exec(t);
  if (!m) return fail("missing name");
  return [m[0], t.slice(m[0].length)];
}

function parseAttribute(rest: string, line: number, fail: (msg: string) => never): ArffAttribute {
  const [name, after] = readName(rest, fail);
  const type = after.trim();
  if (type.startsWith("{")) {
    if (!type.endsWith("}")) fail(`nominal list of "${name}" is not closed with }`);
    const inner = type.slice(1, -1);
    const values = inner.trim() === "" ? [] : splitValues(inner, false, fail);
    return { name, type: "nominal", values, line };
  }
  const keyword = type.split(/\s+/)[0].toLowerCase();
  switch (keyword) {
    case "numeric":
    case "real":
    case "integer":
      return { name, type: "numeric", line };
    case "string":
      return { name, type: "string", line };
    case "date":
      return { name, type: "date", line };
    case "relational":
      return fail(`relational attribute "${name}" is not supported`);
    case "":
      return fail(`attribute "${name}" has no type`);
    default:
      return fail(`unknown type "${keyword}" for attribute "${name}"`);
  }
}

export interface OpenArffOptions {
  /** Already-opened input whose chunks to read (used after format sniffing). */
  readonly peeked?: PeekableBytes;
}

/** Opens an ARFF source and reads its header, up to and including `@data`. */
export async function openArff(
  source: DataSource,
  options: OpenArffOptions = {},
): Promise<ArffInput> {
  const name = sourceName(source);
  const input = options.peeked ?? new PeekableBytes(source);
  const it = decodeText(input.chunks());
  const splitter = new LineSplitter();
  let pending: string[] = [];
  let next = 0;
  let lineNo = 0;
  let ended = false;

  /** The next line, or null at end of input. */
  const readLine = async (): Promise<string | null> => {
    while (next >= pending.length) {
      if (ended) return null;
      pending = [];
      next = 0;
      const r = await it.next();
      if (r.done) {
        ended = true;
        splitter.end(pending);
      } else {
        splitter.push(r.value, pending);
      }
    }
    lineNo++;
    return pending[next++];
  };
  const close = async (): Promise<void> => {
    await it.return(undefined);
    await input.close();
  };

  let header: ArffHeader;
  try {
    header = await readHeader();
  } catch (e) {
    await close();
    throw e;
  }

  async function readHeader(): Promise<ArffHeader> {
    let relation = "";
    const attributes: ArffAttribute[] = [];
    const seen = new Set<string>();
    for (;;) {
      const raw = await readLine();
      if (raw === null) {
        throw new AppError("PARSE_ERROR", `${name}: no @data section (is this an ARFF file?)`);
      }
      const line = lineNo;
      const fail = (msg: string): never => {
        throw parseError(name, line, msg);
      };
      const text = stripComment(raw).trim();
      if (text === "") continue;
      const m = /^@(\w+)\b\s*(.*)$/.exec(text);
      if (!m) fail(`expected @relation, @attribute or @data, found "${text.slice(0, 40)}"`);
      const keyword = (m as RegExpExecArray)[1].toLowerCase();
      const rest = (m as RegExpExecArray)[2];
      if (keyword === "relation") {
        relation = readName(rest, fail)[0];
      } else if (keyword === "attribute") {
        const attr = parseAttribute(rest, line, fail);
        if (seen.has(attr.name)) fail(`attribute "${attr.name}" is declared twice`);
        seen.add(attr.name);
        attributes.push(attr);
      } else if (keyword === "data") {
        if (attributes.length === 0) fail("@data before any @attribute");
        return { relation, attributes, dataLine: line };
      } else {
        fail(`unknown declaration @${keyword}`);
      }
    }
  }

  async function* rows(): AsyncGenerator<ArffDataRow> {
    try {
      for (;;) {
        const raw = await readLine();
        if (raw === null) return;
        const line = lineNo;
        const text = raw.trimStart();
        if (text === "" || text.startsWith("%")) continue;
        const fail = (msg: string): never => {
          throw parseError(name, line, msg);
        };
        if (text.startsWith("{")) fail("sparse ARFF data is not supported");
        yield { line, fields: splitValues(text, true, fail) };
      }
    } finally {
      await close();
    }
  }

  return { header, rows, close };
}

/**
 * The data records of an ARFF source, keyed by attribute name. A line whose value count
 * differs from the attribute count is a PARSE_ERROR naming the line.
 */
export async function* readArff(source: DataSource): AsyncGenerator<Record<string, string>> {
  const input = await openArff(source);
  const names = input.header.attributes.map((a) => a.name);
  for await (const row of input.rows()) {
    if (row.fields.length !== names.length) {
      throw parseError(
        sourceName(source),
        row.line,
        `expected ${names.length} values, found ${row.fields.length}`,
      );
    }
    // No prototype, so an attribute called `__proto__` is just a key.
    const rec = Object.create(null) as Record<string, string>;
    for (let i = 0; i < names.length; i++) rec[names[i]] = row.fields[i];
    yield rec;
  }
}
