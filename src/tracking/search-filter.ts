import { AppError } from "../core/errors.js";

/*
 * The run search language. It follows MLflow's (`metrics.auc > 0.8 AND params.kind = 'gbdt'`)
 * and adds what its users ask for: OR, parentheses, IN / NOT IN, and IS [NOT] NULL on
 * attributes. Hand-written because it is a grammar of our own; a parser generator would add a
 * build step for fifty lines of recursive descent.
 *
 *   expr       := and ( OR and )*
 *   and        := unary ( AND unary )*
 *   unary      := '(' expr ')' | comparison
 *   comparison := field op value | field [NOT] IN '(' value (',' value)* ')'
 *               | field [NOT] LIKE string | field IS [NOT] NULL
 *   field      := (metrics|params|tags|attributes) '.' name | attribute-name
 *   op         := = | != | <> | < | <= | > | >=
 */

export type FieldType = "metric" | "param" | "tag" | "attribute";

export interface Field {
  readonly type: FieldType;
  readonly key: string;
}

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type FilterNode =
  | { readonly kind: "and" | "or"; readonly items: readonly FilterNode[] }
  | {
      readonly kind: "compare";
      readonly field: Field;
      readonly op: Comparator;
      readonly value: string | number;
    }
  | {
      readonly kind: "in";
      readonly field: Field;
      readonly negate: boolean;
      readonly values: readonly (string | number)[];
    }
  | {
      readonly kind: "like";
      readonly field: Field;
      readonly negate: boolean;
      readonly pattern: string;
    }
  | { readonly kind: "null"; readonly field: Field; readonly negate: boolean };

export interface OrderKey {
  readonly field: Field;
  readonly direction: "asc" | "desc";
}

/** Attributes a filter may name, with the aliases users type. */
export const RUN_ATTRIBUTES: Readonly<Record<string, string>> = {
  id: "id",
  run_id: "id",
  name: "name",
  run_name: "name",
  status: "status",
  start_time: "start_time",
  end_time: "end_time",
  experiment_id: "experiment_id",
  parent_run_id: "parent_run_id",
  code_version: "code_version",
  package_version: "package_version",
};

const NUMERIC_ATTRIBUTES = new Set(["start_time", "end_time"]);

const PREFIXES: Readonly<Record<string, FieldType>> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
};

type Token =
  | { t: "word"; v: string; at: number }
  | { t: "string"; v: string; at: number }
  | { t: "number"; v: number; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "end"; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      // A quoted string; backtick-quoted text is a name (for keys with spaces).
      let j = i + 1;
      let v = "";
      for (;;) {
        if (j >= text.length) fail(text, i, `unterminated ${c}-quoted text`);
        if (text[j] === c) {
          if (text[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += text[j++];
      }
      tokens.push(c === "`" ? { t: "word", v, at: i } : { t: "string", v, at: i });
      i = j + 1;
    } else if (/[-+\d.]/.test(c) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(text.slice(i))) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ t: "number", v: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_\-/:]*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ t: "word", v: m[0], at: i });
      i += m[0].length;
    } else {
      const m = /^(<=|>=|!=|<>|=|<|>|\(|\)|,|\.)/.exec(text.slice(i));
      if (!m) fail(text, i, `unexpected character "${c}"`);
      tokens.push({ t: "op", v: m[0] === "<>" ? "!=" : m[0], at: i });
      i += m[0].length;
    }
  }
  tokens.push({ t: "end", at: text.length });
  return tokens;
}

function fail(text: string, at: number, message: string): never {
  throw new AppError(
    "INVALID_QUERY",
    `${message} at position ${at + 1} of "${text}"${at < text.length ? ` (near "${text.slice(at, at + 12)}")` : ""}`,
  );
}

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private next(): Token {
    return this.tokens[this.pos++];
  }
  private isWord(word: string): boolean {
    const t = this.peek();
    return t.t === "word" && t.v.toUpperCase() === word;
  }
  private isOp(op: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === op;
  }
  private expectOp(op: string): void {
    if (!this.isOp(op)) fail(this.text, this.peek().at, `expected "${op}"`);
    this.pos++;
  }

  parseAll(): FilterNode {
    const node = this.expr();
    if (this.peek().t !== "end") fail(this.text, this.peek().at, "expected AND, OR or the end");
    return node;
  }

  private expr(): FilterNode {
    const items = [this.and()];
    while (this.isWord("OR")) {
      this.pos++;
      items.push(this.and());
    }
    return items.length === 1 ? items[0] : { kind: "or", items };
  }

  private and(): FilterNode {
    const items = [this.unary()];
    while (this.isWord("AND")) {
      this.pos++;
      items.push(this.unary());
    }
    return items.length === 1 ? items[0] : { kind: "and", items };
  }

  private unary(): FilterNode {
    if (this.isOp("(")) {
      this.pos++;
      const inner = this.expr();
      this.expectOp(")");
      return inner;
    }
    return this.comparison();
  }

  orderKey(): OrderKey {
    const field = this.field();
    let direction: "asc" | "desc" = "asc";
    if (this.isWord("ASC") || this.isWord("DESC")) {
      direction = (this.next() as { v: string }).v.toLowerCase() as "asc" | "desc";
    }
    if (this.peek().t !== "end") fail(this.text, this.peek().at, "expected ASC, DESC or the end");
    return { field, direction };
  }

  private field(): Field {
    const t = this.next();
    if (t.t !== "word") fail(this.text, t.at, "expected a field such as metrics.auc");
    const prefix = PREFIXES[t.v.toLowerCase()];
    if (prefix !== undefined && this.isOp(".")) {
      this.pos++;
      const key = this.next();
      if (key.t !== "word" && key.t !== "string") {
        fail(this.text, key.at, `expected a name after "${t.v}."`);
      }
      // Metric and param names may contain dots (`metrics.cv.auc`): join what follows.
      let name = String(key.v);
      while (this.isOp(".") && this.tokens[this.pos + 1]?.t === "word") {
        name += `.${(this.tokens[this.pos + 1] as { v: string }).v}`;
        this.pos += 2;
      }
      return prefix === "attribute"
        ? attribute(this.text, t.at, name)
        : { type: prefix, key: name };
    }
    return attribute(this.text, t.at, t.v);
  }

  private value(): string | number {
    const t = this.next();
    if (t.t === "string" || t.t === "number") return t.v;
    return fail(this.text, t.at, "expected a quoted string or a number");
  }

  private comparison(): FilterNode {
    const field = this.field();
    if (this.isWord("IS")) {
      this.pos++;
      const negate = this.isWord("NOT");
      if (negate) this.pos++;
      if (!this.isWord("NULL")) fail(this.text, this.peek().at, "expected NULL");
      this.pos++;
      return { kind: "null", field, negate };
    }
    const negate = this.isWord("NOT");
    if (negate) this.pos++;
    if (this.isWord("IN")) {
      this.pos++;
      this.expectOp("(");
      const values = [this.value()];
      while (this.isOp(",")) {
        this.pos++;
        values.push(this.value());
      }
      this.expectOp(")");
      return { kind: "in", field, negate, values: values.map((v) => coerce(field, v)) };
    }
    if (this.isWord("LIKE")) {
      this.pos++;
      const pattern = this.value();
      if (typeof pattern !== "string") fail(this.text, this.peek().at, "LIKE needs a string");
      return { kind: "like", field, negate, pattern };
    }
    if (negate) fail(this.text, this.peek().at, "expected IN or LIKE after NOT");
    const op = this.next();
    if (op.t !== "op" || !["=", "!=", "<", "<=", ">", ">="].includes(op.v)) {
      fail(this.text, op.at, "expected a comparison (=, !=, <, <=, >, >=, IN, LIKE, IS NULL)");
    }
    const at = this.peek().at;
    const value = coerce(field, this.value());
    if (field.type === "metric" && typeof value !== "number") {
      fail(this.text, at, `metric ${field.key} compares with a number`);
    }
    return { kind: "compare", field, op: op.v as Comparator, value };
  }
}

function attribute(text: string, at: number, name: string): Field {
  const key = RUN_ATTRIBUTES[name.toLowerCase()];
  if (key === undefined) {
    fail(
      text,
      at,
      `unknown field "${name}"; use metrics.<name>, params.<name>, tags.<name> or an attribute (${Object.keys(RUN_ATTRIBUTES).join(", ")})`,
    );
  }
  return { type: "attribute", key };
}

/** Params, tags and text attributes are strings: a number literal compares as its text. */
function coerce(field: Field, v: string | number): string | number {
  if (field.type === "metric") return v;
  if (field.type === "attribute" && NUMERIC_ATTRIBUTES.has(field.key)) return v;
  if (field.type === "attribute" && field.key === "status" && typeof v === "string") {
    return v.toUpperCase();
  }
  return typeof v === "number" ? String(v) : v;
}

/** Parses a run filter; an empty or blank filter matches every run (null). */
export function parseRunFilter(text: string | undefined): FilterNode | null {
  if (text === undefined || text.trim() === "") return null;
  return new Parser(text, tokenize(text)).parseAll();
}

/** Parses order-by clauses such as `metrics.cv_cost ASC` or `start_time DESC`. */
export function parseOrderBy(clauses: readonly string[] | undefined): OrderKey[] {
  return (clauses ?? []).map((clause) => new Parser(clause, tokenize(clause)).orderKey());
}
