/**
 * Turns string records into typed columns against a dataset spec.
 *
 * Every problem is collected, not only the first per row: a row with three bad cells yields
 * three RowErrors. Rows with any problem are left out of the output table (never half
 * converted); every other row is kept.
 *
 * Row numbers are 1-based data record numbers; the header is not counted. For a CSV whose header
 * is on line 1 and whose fields hold no line breaks, row r is line r + 1 of the file, which is
 * also row r + 1 in a spreadsheet. Blank records (empty lines, or only separators, as
 * spreadsheets export them) still take a number, to keep that correspondence, but are skipped
 * without an error. Errors also carry the file line where the record starts, when known.
 *
 * Accepted spellings: header names and values are trimmed and matched case-insensitively;
 * categorical values also accept their aliases (the UCI codes A11, A12, … for German credit), and
 * a column with an `other` value reads any unlisted value as that one; the label accepts the
 * target's values and their aliases. Numbers are plain decimals (`12`, `-3.5`, `1e3`); `1,5` is
 * refused (the decimal separator is `.`).
 *
 * Missing values: a cell whose trimmed text is one of the spec's missing-value texts (empty,
 * `NA`, … compared case-insensitively) and is not a valid value of its column, or one of the
 * column's own missing-value texts (which always mean missing), is missing. It becomes NaN when
 * the column allows missing values, else an error; a column that allows them may also be absent
 * from the header (every value missing).
 */
import { AppError } from "../core/errors.js";
import type { FeatureSpec, Table } from "../ml/types.js";
import {
  fieldsToStrings,
  formatCsvRow,
  isBlankRecord,
  isNumberText,
  type ScannedRecord,
} from "./csv.js";
import { bundledSpec } from "./spec-check.js";
import {
  categoryIndex,
  featureColumns,
  missingTexts,
  otherIndex,
  type CategoricalColumn,
  type DatasetSpec,
  type NumericColumn,
} from "./spec.js";

export type RowErrorKind =
  | "field_count"
  | "missing"
  | "unknown_category"
  | "not_a_number"
  | "out_of_range"
  | "not_integer"
  | "unknown_label"
  /** A JSON array element that is not an object. */
  | "not_an_object";

export interface RowError {
  /** 1-based data record number (header not counted). */
  readonly row: number;
  /** Schema column name (`class` for the label), null for a problem with the whole row. */
  readonly column: string | null;
  readonly message: string;
  /** The offending cell as written, when there is one. */
  readonly value?: string;
  readonly kind: RowErrorKind;
  /** 1-based line in the file where the record starts, when known. */
  readonly line?: number;
}

/** Label value for a row whose label cell is empty, when labels are optional. */
export const LABEL_UNKNOWN = 255;

/**
 * `required`: a label column (`class` or `target`) must exist and every row needs a valid
 * label (training). `optional`: the column may be absent; when present, an empty cell gives
 * LABEL_UNKNOWN and any other value must be a valid label (scoring files that carry outcomes).
 */
export type LabelMode = "required" | "optional";

export interface ValidatedBatch {
  /** Data row number of the first record of the batch. */
  readonly startRow: number;
  /** The valid rows, in input order. */
  readonly table: Table;
  /** Data row number of each valid row. */
  readonly rowNumbers: Int32Array;
  /** 1 = bad, 0 = good (LABEL_UNKNOWN for an empty optional label); null without a label column. */
  readonly labels: Uint8Array | null;
  /** Columns that are neither schema columns nor the label, passed through for valid rows. */
  readonly extras: { readonly header: readonly string[]; readonly values: string[][] };
  /** Original cells of each valid row, in input column order (only when asked for). */
  readonly raw?: string[][];
  /**
   * Each valid row's original cells as one CSV line without line break (only when asked for):
   * separated by `rawSeparator`, quoted where needed and formula-neutralised as by
   * escapeCsvCell. Much cheaper than `raw` for writing rows back: a line that needs no change is
   * the input text itself.
   */
  readonly rawLines?: string[];
  /** Separator of `rawLines`: the input's for CSV, `,` for ARFF. */
  readonly rawSeparator?: string;
  /** Input header as written, the column order of `raw`. */
  readonly header: readonly string[];
  readonly errors: RowError[];
  /** Non-blank records in the batch, valid or not. */
  readonly records: number;
}

export interface ValidatorOptions {
  readonly label?: LabelMode;
}

export interface KeepOptions {
  /** Keep the original cells of valid rows (`raw`). */
  readonly keepRaw?: boolean;
  /** Keep each valid row as a CSV line with this separator (`rawLines`). */
  readonly rawLinesSeparator?: string;
}

export interface ValidateOptions extends KeepOptions {
  /** Line where each record starts, for error messages. */
  readonly lines?: readonly number[];
}

/** Header name as matched: trimmed, lower case. */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

/** Looser key, only used to suggest a likely intended column in error messages. */
function looseKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** The German credit spec, the default wherever no spec is given. */
export function defaultSpec(): DatasetSpec {
  return bundledSpec("german-credit");
}

/** The ML core's view of the spec's feature columns, in spec order. */
export function featureSpecs(spec: DatasetSpec): FeatureSpec[] {
  return featureColumns(spec).map((c): FeatureSpec =>
    c.kind === "categorical"
      ? { name: c.name, kind: "categorical", nCategories: c.values.length }
      : { name: c.name, kind: "numeric" },
  );
}

interface MissingPlan {
  readonly name: string;
  /** Input index, or -1 when the column is absent (every value missing). */
  readonly input: number;
  readonly feature: number;
  readonly allowMissing: boolean;
  /** The spec's missing-value texts, lower-cased, trimmed. */
  readonly missing: ReadonlySet<string>;
  /** The column's own missing-value texts, lower-cased, trimmed: always missing. */
  readonly ownMissing: ReadonlySet<string>;
}

export interface CatPlan extends MissingPlan {
  readonly map: Map<string, number>;
  readonly allowed: string;
  /** Index of the value unlisted values are read as, or -1 (they are refused). */
  readonly other: number;
}

export interface NumPlan extends MissingPlan {
  readonly col: NumericColumn;
  readonly min: number;
  readonly max: number;
}

const EMPTY: string[] = [];
Object.freeze(EMPTY);

/**
 * Validator for one input header. Construction checks the header (SCHEMA_MISMATCH when a
 * required column or label is missing, duplicated or ambiguous); `validate` then converts
 * batches of records.
 */
export class RecordValidator {
  readonly features: FeatureSpec[];
  readonly header: readonly string[];
  readonly spec: DatasetSpec;
  /** Input index of the label column, or -1. */
  readonly labelIndex: number;
  /** The label column's name as written (trimmed), or null. */
  readonly labelName: string | null;
  /** Names of the pass-through columns, in input order. */
  readonly extraHeader: readonly string[];
  private readonly _plan: ValidationPlan;

  constructor(spec: DatasetSpec, header: readonly string[], options: ValidatorOptions = {}) {
    const labelMode = options.label ?? "optional";
    this.spec = spec;
    this.features = featureSpecs(spec);
    this.header = header;

    const positions = new Map<string, number[]>();
    header.forEach((h, i) => {
      const key = normalizeName(h);
      const list = positions.get(key);
      if (list) list.push(i);
      else positions.set(key, [i]);
    });

    const problems: string[] = [];
    const missing: string[] = [];
    const used = new Set<number>();
    const find = (name: string): number => {
      const at = positions.get(normalizeName(name));
      if (!at) return -1;
      if (at.length > 1) {
        const where = at.map((i) => i + 1).join(", ");
        problems.push(`column "${name}" appears ${at.length} times (columns ${where})`);
      }
      used.add(at[0]);
      return at[0];
    };

    const cats: CatPlan[] = [];
    const nums: NumPlan[] = [];
    featureColumns(spec).forEach((col, feature) => {
      const input = find(col.name);
      if (input < 0 && !col.allowMissing) missing.push(col.name);
      const base: MissingPlan = {
        name: col.name,
        input,
        feature,
        allowMissing: col.allowMissing,
        missing: missingTexts(spec, col),
        ownMissing: new Set((col.missingValues ?? []).map((t) => t.trim().toLowerCase())),
      };
      if (col.kind === "categorical") {
        const map = categoryIndex(col);
        cats.push({ ...base, map, allowed: allowedText(col), other: otherIndex(col) });
      } else {
        nums.push({ ...base, col, min: col.min ?? -Infinity, max: col.max ?? Infinity });
      }
    });
    // Id and ignored columns are passed through like any column the spec does not name.

    const target = spec.target;
    const targetNames = [target.name, ...target.aliases];
    const labelHits = targetNames.filter((a) => positions.has(normalizeName(a)));
    if (labelHits.length > 1) {
      const names = labelHits.map((a) => `"${a}"`).join(" and ");
      problems.push(`both ${names} present; keep one label column`);
    }
    this.labelIndex = labelHits.length > 0 ? find(labelHits[0]) : -1;
    this.labelName = this.labelIndex >= 0 ? header[this.labelIndex].trim() : null;
    const missingText = [...missing];
    if (this.labelIndex < 0 && labelMode === "required") {
      missing.push(target.name);
      missingText.push(
        target.aliases.length > 0
          ? `${target.name} (the label; also accepted as ${target.aliases.join(", ")})`
          : `${target.name} (the label)`,
      );
    }

    if (missing.length > 0) {
      const unused = header.filter((_, i) => !used.has(i));
      const hints = missing.flatMap((m) => {
        const near = unused.find((h) => looseKey(h) === looseKey(m));
        return near === undefined ? [] : [`"${near.trim()}" for ${m}`];
      });
      problems.unshift(
        `missing required column${missing.length > 1 ? "s" : ""}: ${missingText.join(", ")}` +
          (hints.length > 0 ? ` (did you mean ${hints.join(", ")}?)` : ""),
      );
    }
    if (problems.length > 0) {
      throw new AppError(
        "SCHEMA_MISMATCH",
        `Header does not match the dataset spec "${spec.name}": ${problems.join("; ")}`,
        { details: { spec: spec.name, missing, problems, header: [...header] } },
      );
    }

    const riskClass = target.riskClass;
    const labelMap = new Map<string, number>();
    for (const v of target.values) {
      const y = v.value === riskClass ? 1 : 0;
      for (const text of [v.value, ...v.aliases]) {
        if (!labelMap.has(text)) labelMap.set(text, y);
        if (!labelMap.has(text.toLowerCase())) labelMap.set(text.toLowerCase(), y);
      }
    }
    const safe = target.values.find((v) => v.value !== riskClass) ?? target.values[0];
    const risk = target.values.find((v) => v.value === riskClass) ?? target.values[1];
    const spell = (v: (typeof target.values)[number]) =>
      v.aliases.length > 0 ? `${v.value} (or ${v.aliases.join(", ")})` : v.value;

    const extraIndex: number[] = [];
    header.forEach((_, i) => {
      if (!used.has(i)) extraIndex.push(i);
    });
    this.extraHeader = extraIndex.map((i) => header[i]);

    const present = <T extends MissingPlan>(list: T[]) => list.filter((c) => c.input >= 0);
    const presentCats = present(cats);
    const presentNums = present(nums);
    this._plan = {
      width: header.length,
      nFeatures: this.features.length,
      cats: presentCats,
      catMaps: presentCats.map((c) => c.map),
      catInput: Int32Array.from(presentCats, (c) => c.input),
      catFeature: Int32Array.from(presentCats, (c) => c.feature),
      nums: presentNums,
      numInput: Int32Array.from(presentNums, (c) => c.input),
      numFeature: Int32Array.from(presentNums, (c) => c.feature),
      numMin: Float64Array.from(presentNums, (c) => c.min),
      numMax: Float64Array.from(presentNums, (c) => c.max),
      numInt: Uint8Array.from(presentNums, (c) => (c.col.integer ? 1 : 0)),
      absentFeatures: Int32Array.from(
        [...cats, ...nums].filter((c) => c.input < 0),
        (c) => c.feature,
      ),
      labelIndex: this.labelIndex,
      labelColumn: target.name,
      labelWhere:
        this.labelName !== null && this.labelName !== target.name
          ? ` (column "${this.labelName}")`
          : "",
      labelMap,
      labelAllowed: `${spell(safe)}, ${spell(risk)}; ${risk.value} is the risk class`,
      labelOptional: labelMode === "optional",
      extraIndex: Int32Array.from(extraIndex),
      action: Int32Array.from(header, (_, i) => {
        const c = presentCats.findIndex((x) => x.input === i);
        if (c >= 0) return ACT_CAT | (c << 2);
        const m = presentNums.findIndex((x) => x.input === i);
        if (m >= 0) return ACT_NUM | (m << 2);
        if (i === this.labelIndex) return ACT_LABEL;
        return ACT_EXTRA | (extraIndex.indexOf(i) << 2);
      }),
      catMatchers: presentCats.map((c) => new KeyMatcher(c.map)),
      // Columns with texts of their own that mean missing go through the general path, which
      // checks those texts before reading the value.
      numFast: Uint8Array.from(presentNums, (c) => (c.ownMissing.size === 0 ? 1 : 0)),
      catMissing: presentCats.map((c) => (c.allowMissing ? missingMatcher(c.missing) : null)),
      numMissing: presentNums.map((c) => (c.allowMissing ? missingMatcher(c.missing) : null)),
      labelMatcher: new KeyMatcher(labelMap),
    };
  }

  /** True when the input has a label column. */
  get hasLabel(): boolean {
    return this.labelIndex >= 0;
  }

  /** Converts `records` (rows `startRow`, `startRow + 1`, …). */
  validate(
    records: readonly string[][],
    startRow: number,
    options: ValidateOptions = {},
  ): ValidatedBatch {
    const b = this.begin(startRow, records.length, options);
    const lines = options.lines;
    for (let i = 0; i < records.length; i++) {
      b.add(records[i], lines === undefined ? undefined : lines[i]);
    }
    return b.finish();
  }

  /**
   * An empty batch to fill record by record (`add`), for readers that convert each record as
   * soon as it is parsed, so that parsed strings die young instead of piling up in memory.
   */
  begin(startRow: number, capacity: number, keep: KeepOptions = {}): BatchBuilder {
    return new BatchBuilder(this, startRow, capacity, keep);
  }

  /** The header-dependent lookups, shared by every batch. */
  get plan(): ValidationPlan {
    return this._plan;
  }
}

/** The header-dependent lookups, flattened into arrays for the per-record loop. */
export interface ValidationPlan {
  readonly width: number;
  readonly nFeatures: number;
  readonly cats: readonly CatPlan[];
  readonly catMaps: readonly Map<string, number>[];
  readonly catInput: Int32Array;
  readonly catFeature: Int32Array;
  readonly nums: readonly NumPlan[];
  readonly numInput: Int32Array;
  readonly numFeature: Int32Array;
  readonly numMin: Float64Array;
  readonly numMax: Float64Array;
  readonly numInt: Uint8Array;
  /** Feature columns absent from the header (allowed to be missing): NaN in every row. */
  readonly absentFeatures: Int32Array;
  readonly labelIndex: number;
  /** RowError column for label problems: the spec's target name. */
  readonly labelColumn: string;
  /** Names the label column in messages when the file spells it differently. */
  readonly labelWhere: string;
  readonly labelMap: Map<string, number>;
  /** The accepted label spellings, for messages. */
  readonly labelAllowed: string;
  readonly labelOptional: boolean;
  readonly extraIndex: Int32Array;
  /** Per input column: what the fused line path does with it (ACT_* | index << 2). */
  readonly action: Int32Array;
  readonly catMatchers: readonly KeyMatcher[];
  /** Per numeric column: 1 when the in-place path may read it (no texts of its own for missing). */
  readonly numFast: Uint8Array;
  /** Per categorical / numeric column allowing missing values: the missing texts (else null). */
  readonly catMissing: readonly (KeyMatcher | null)[];
  readonly numMissing: readonly (KeyMatcher | null)[];
  readonly labelMatcher: KeyMatcher;
}

/** Matches the missing-value texts as written, lower- and upper-cased (the in-place path). */
function missingMatcher(texts: ReadonlySet<string>): KeyMatcher {
  const m = new Map<string, number>();
  for (const t of texts) {
    if (t === "") continue;
    m.set(t, 1);
    m.set(t.toUpperCase(), 1);
    for (const d of DEFAULT_SPELLINGS) if (d.toLowerCase() === t) m.set(d, 1);
  }
  return new KeyMatcher(m);
}

/** Usual spellings of the default missing-value texts in mixed case. */
const DEFAULT_SPELLINGS = ["NaN", "Null", "N/A", "n/a", "NA", "na"];

const ACT_EXTRA = 0;
const ACT_CAT = 1;
const ACT_NUM = 2;
const ACT_LABEL = 3;

/**
 * Finds which accepted spelling a field is, comparing characters in place, so that a line can
 * be converted without allocating a string per field. Spellings are bucketed by length and
 * first character; a field in no bucket returns -1, and the caller falls back to the general
 * path, which also handles trimming, case and every error message.
 */
export class KeyMatcher {
  private readonly slots: (
    { readonly key: Buffer; readonly value: number; readonly text: string }[] | undefined
  )[];
  /** The spelling matched by the last successful `match` (a shared string, not a copy). */
  lastText = "";

  constructor(map: ReadonlyMap<string, number>) {
    this.slots = new Array(32 * 128);
    for (const [text, value] of map) {
      const key = Buffer.from(text, "utf8");
      if (key.length === 0 || key.length > 31 || key[0] >= 128) continue;
      const slot = (key.length << 7) | key[0];
      (this.slots[slot] ??= []).push({ key, value, text });
    }
  }

  /** The value of the UTF-8 bytes `buf[start, end)` when they spell a key, else -1. */
  match(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (len <= 0 || len > 31) return -1;
    const c0 = buf[start];
    if (c0 >= 128) return -1;
    const cands = this.slots[(len << 7) | c0];
    if (cands === undefined) return -1;
    for (let i = 0; i < cands.length; i++) {
      const key = cands[i].key;
      let j = 1;
      while (j < len && key[j] === buf[start + j]) j++;
      if (j === len) {
        this.lastText = cands[i].text;
        return cands[i].value;
      }
    }
    return -1;
  }
}

/** One batch being filled record by record; `finish` returns it. */
export class BatchBuilder {
  private readonly v: RecordValidator;
  private readonly p: ValidationPlan;
  /** Row number of the batch's first record. */
  readonly startRow: number;
  private readonly columns: Float64Array[];
  private readonly catCols: Float64Array[];
  private readonly numCols: Float64Array[];
  private labels: Uint8Array | null;
  private rowNumbers: Int32Array;
  private readonly extras: string[][] = [];
  private readonly raw: string[][] | undefined;
  private readonly rawLines: string[] | undefined;
  private readonly rawSep: string | null;
  private readonly errors: RowError[] = [];
  private capacity: number;
  private blank = 0;
  private added = 0;
  /** Valid rows so far. */
  private k = 0;

  constructor(validator: RecordValidator, startRow: number, capacity: number, keep: KeepOptions) {
    this.v = validator;
    const p = validator.plan;
    this.p = p;
    this.startRow = startRow;
    this.capacity = Math.max(1, capacity);
    // One allocation for all columns of the batch: per-batch allocations are a visible cost at
    // a million rows.
    const cap = this.capacity;
    const block = new Float64Array(p.nFeatures * cap);
    this.columns = Array.from({ length: p.nFeatures }, (_, j) =>
      block.subarray(j * cap, (j + 1) * cap),
    );
    this.catCols = Array.from(p.catFeature, (f) => this.columns[f]);
    this.numCols = Array.from(p.numFeature, (f) => this.columns[f]);
    this.labels = p.labelIndex >= 0 ? new Uint8Array(this.capacity) : null;
    this.rowNumbers = new Int32Array(this.capacity);
    this.raw = keep.keepRaw ? [] : undefined;
    this.rawSep = keep.rawLinesSeparator ?? null;
    this.rawLines = this.rawSep !== null ? [] : undefined;
  }

  /** Records added so far (blank and invalid ones included). */
  get count(): number {
    return this.added;
  }

  /** Validates one record (the next row number) and keeps it when valid. */
  add(rec: string[], line?: number): void {
    const row = this.startRow + this.added++;
    const p = this.p;
    const first = rec[0];
    if ((first.length === 0 || first.charCodeAt(0) <= 32) && isBlankRecord(rec)) {
      this.blank++;
      return;
    }
    const errors = this.errors;
    if (rec.length !== p.width) {
      errors.push(
        withLine(
          {
            row,
            column: null,
            kind: "field_count",
            message: `expected ${p.width} fields (one per header column), found ${rec.length}`,
          },
          line,
        ),
      );
      return;
    }
    if (this.k === this.capacity) this.grow();
    const k = this.k;
    let ok = true;
    const catMaps = p.catMaps;
    const catInput = p.catInput;
    const catCols = this.catCols;
    for (let c = 0; c < catCols.length; c++) {
      const s = rec[catInput[c]];
      let v = catMaps[c].get(s);
      if (v === undefined) {
        v = slowCategory(p.cats[c], s, row, line, errors);
        if (v === REFUSED) {
          ok = false;
          continue;
        }
      }
      catCols[c][k] = v;
    }
    const numInput = p.numInput;
    const numCols = this.numCols;
    for (let c = 0; c < numCols.length; c++) {
      const s = rec[numInput[c]];
      const plan = p.nums[c];
      const own = plan.ownMissing.size > 0 && isOwnMissing(plan, s);
      let v = own ? NaN : fastNumber(s);
      if (v !== v && !own) v = slowNumber(s);
      if (v !== v && (own || isMissing(plan, s))) {
        if (plan.allowMissing) {
          numCols[c][k] = NaN;
          continue;
        }
        errors.push(
          withLine({ row, column: plan.name, kind: "missing", message: "missing value" }, line),
        );
        ok = false;
        continue;
      }
      if (
        v !== v ||
        v < p.numMin[c] ||
        v > p.numMax[c] ||
        (p.numInt[c] === 1 && !Number.isInteger(v))
      ) {
        errors.push(withLine(numberError(plan, s, v, row), line));
        ok = false;
        continue;
      }
      numCols[c][k] = v;
    }
    const labels = this.labels;
    if (labels !== null) {
      const s = rec[p.labelIndex];
      let y = p.labelMap.get(s);
      if (y === undefined) {
        const t = s.trim();
        y = p.labelMap.get(t.toLowerCase());
        if (y === undefined) {
          if (t === "" && p.labelOptional) {
            y = LABEL_UNKNOWN;
          } else {
            errors.push(
              withLine(
                t === ""
                  ? {
                      row,
                      column: p.labelColumn,
                      kind: "missing",
                      message: `missing label${p.labelWhere}`,
                    }
                  : {
                      row,
                      column: p.labelColumn,
                      kind: "unknown_label",
                      message: `unknown label "${t}"${p.labelWhere} (allowed: ${p.labelAllowed})`,
                      value: s,
                    },
                line,
              ),
            );
            ok = false;
          }
        }
      }
      if (ok) labels[k] = y as number;
    }
    if (!ok) return;
    this.rowNumbers[k] = row;
    const extraIndex = p.extraIndex;
    if (extraIndex.length === 0) {
      this.extras.push(EMPTY);
    } else {
      const e = new Array<string>(extraIndex.length);
      for (let c = 0; c < extraIndex.length; c++) e[c] = rec[extraIndex[c]];
      this.extras.push(e);
    }
    if (this.raw !== undefined) this.raw.push(rec);
    if (this.rawLines !== undefined) this.rawLines.push(formatCsvRow(rec, this.rawSep as string));
    this.k = k + 1;
  }

  /**
   * Same result as `add(fieldsToStrings(record), record.line)`, faster: the fields are matched
   * and parsed in place in the common case (canonical spellings or exact codes, plain
   * numbers); a record with any other field falls back to `add`, which has the general rules
   * and the error messages.
   */
  addFields(record: ScannedRecord): void {
    const p = this.p;
    const width = p.width;
    if (record.count !== width) {
      this.add(fieldsToStrings(record), record.line);
      return;
    }
    if (this.k === this.capacity) this.grow();
    const k = this.k;
    const { buf, starts, ends } = record;
    const action = p.action;
    const catMatchers = p.catMatchers;
    const catCols = this.catCols;
    const numCols = this.numCols;
    const nExtra = p.extraIndex.length;
    const extra: string[] | null = nExtra > 0 ? new Array<string>(nExtra) : null;
    // Cells of `raw` reuse shared strings where the text is a known spelling or a small plain
    // integer: a million rows of fresh strings would otherwise dominate the run time.
    const raw: string[] | null = this.raw !== undefined ? new Array<string>(width) : null;
    let y = 0;
    let ok = true;
    for (let f = 0; f < width && ok; f++) {
      const i = starts[f];
      const j = ends[f];
      const a = action[f];
      const idx = a >> 2;
      switch (a & 3) {
        case ACT_CAT: {
          const m = catMatchers[idx];
          const v = m.match(buf, i, j);
          if (v >= 0) {
            catCols[idx][k] = v;
            if (raw !== null) raw[f] = m.lastText;
          } else if (isMissingField(p.catMissing[idx], buf, i, j)) {
            catCols[idx][k] = NaN;
            if (raw !== null) raw[f] = i === j ? "" : record.text.slice(buf, i, j);
          } else ok = false;
          break;
        }
        case ACT_NUM: {
          const v = p.numFast[idx] === 1 ? parsePlainNumber(buf, i, j) : NaN;
          if (v !== v && p.numFast[idx] === 1 && isMissingField(p.numMissing[idx], buf, i, j)) {
            numCols[idx][k] = NaN;
            if (raw !== null) raw[f] = i === j ? "" : record.text.slice(buf, i, j);
          } else if (v !== v || v < p.numMin[idx] || v > p.numMax[idx]) ok = false;
          else if (p.numInt[idx] === 1 && !Number.isInteger(v)) ok = false;
          else {
            numCols[idx][k] = v;
            if (raw !== null) raw[f] = numberText(v, record, i, j);
          }
          break;
        }
        case ACT_LABEL: {
          y = p.labelMatcher.match(buf, i, j);
          if (y < 0) ok = false;
          else if (raw !== null) raw[f] = p.labelMatcher.lastText;
          break;
        }
        default: {
          const t = record.text.slice(buf, i, j);
          if (extra !== null) extra[idx] = t;
          if (raw !== null) raw[f] = t;
        }
      }
    }
    if (!ok) {
      this.add(fieldsToStrings(record), record.line);
      return;
    }
    if (this.labels !== null) this.labels[k] = y;
    this.rowNumbers[k] = this.startRow + this.added++;
    this.extras.push(extra ?? EMPTY);
    if (raw !== null) (this.raw as string[][]).push(raw);
    if (this.rawLines !== undefined) this.rawLines.push(this.rawLine(record));
    this.k = k + 1;
  }

  /**
   * A valid scanned record as a CSV line: its own text when that is already safe (same
   * separator, no cell that a spreadsheet could take for a formula, no CR in a pass-through
   * cell; schema cells matched exactly, so they hold neither), else rebuilt cell by cell.
   */
  private rawLine(record: ScannedRecord): string {
    const { buf, starts, ends, count } = record;
    let safe = (this.rawSep as string).charCodeAt(0) === record.sep;
    for (let f = 0; f < count && safe; f++) {
      const i = starts[f];
      if (i < ends[f]) {
        const b = buf[i];
        if (b === 61 || b === 43 || b === 45 || b === 64 || b === 9 || b === 13) safe = false;
      }
    }
    const extraIndex = this.p.extraIndex;
    for (let e = 0; e < extraIndex.length && safe; e++) {
      const f = extraIndex[e];
      for (let i = starts[f]; i < ends[f]; i++) {
        if (buf[i] === 13) {
          safe = false;
          break;
        }
      }
    }
    return safe
      ? record.text.slice(buf, record.start, record.end)
      : formatCsvRow(fieldsToStrings(record), this.rawSep as string);
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const widen = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    for (let j = 0; j < this.columns.length; j++) this.columns[j] = widen(this.columns[j]);
    const p = this.p;
    for (let c = 0; c < this.catCols.length; c++) this.catCols[c] = this.columns[p.catFeature[c]];
    for (let c = 0; c < this.numCols.length; c++) this.numCols[c] = this.columns[p.numFeature[c]];
    this.labels = this.labels === null ? null : widen(this.labels);
    this.rowNumbers = widen(this.rowNumbers);
    this.capacity = cap;
  }

  /** The batch: valid rows converted (arrays trimmed to their count), problems listed. */
  finish(): ValidatedBatch {
    const k = this.k;
    for (const f of this.p.absentFeatures) this.columns[f].fill(NaN, 0, k);
    const trim = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T =>
      a.length === k ? a : (a.slice(0, k) as T);
    return {
      startRow: this.startRow,
      table: { features: this.v.features, columns: this.columns.map(trim), n: k },
      rowNumbers: trim(this.rowNumbers),
      labels: this.labels === null ? null : trim(this.labels),
      extras: { header: this.v.extraHeader, values: this.extras },
      raw: this.raw,
      rawLines: this.rawLines,
      rawSeparator: this.rawSep ?? undefined,
      header: this.v.header,
      errors: this.errors,
      records: this.added - this.blank,
    };
  }
}

export interface ApplicantResult {
  /** One value per feature column (category index or number; NaN when missing), or null when invalid. */
  readonly values: Float64Array | null;
  /** 1 = risk class, 0 = the other, LABEL_UNKNOWN for an empty label; null without a label. */
  readonly label: number | null;
  /** Problems, all with row 1. */
  readonly errors: RowError[];
}

// A validator plans its columns once; a server validates one applicant per request, so the plan
// is kept per spec and label column instead of rebuilt for every applicant.
const applicantValidators = new WeakMap<DatasetSpec, Map<string, RecordValidator>>();

function applicantValidator(spec: DatasetSpec, label: string | undefined): RecordValidator {
  let bySpec = applicantValidators.get(spec);
  if (!bySpec) applicantValidators.set(spec, (bySpec = new Map()));
  const key = label ?? "";
  let validator = bySpec.get(key);
  if (!validator) {
    const header = featureColumns(spec).map((c) => c.name);
    if (label !== undefined) header.push(label);
    validator = new RecordValidator(spec, header, { label: "optional" });
    bySpec.set(key, validator);
  }
  return validator;
}

/**
 * Validates one applicant given as an object keyed by column name (a JSON request body, a
 * form), by the same rules as file rows. A missing key or a null is a missing value (scored as
 * missing where the column allows it, else an error naming the column), not a header error;
 * keys match case-insensitively; numbers may be JSON numbers; the target column (or one of its
 * aliases), when present, is read as the label; other keys are ignored.
 */
export function validateApplicant(
  applicant: Readonly<Record<string, unknown>>,
  spec: DatasetSpec,
): ApplicantResult {
  const keys = new Map<string, string>();
  for (const k of Object.keys(applicant)) {
    const n = normalizeName(k);
    // An exact-case key wins over another spelling of the same name.
    if (!keys.has(n) || k === n) keys.set(n, k);
  }
  const cell = (name: string): string => {
    const key = keys.get(normalizeName(name));
    const v = key === undefined ? undefined : applicant[key];
    if (v === undefined || v === null) return "";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return JSON.stringify(v) ?? "";
  };
  const label = [spec.target.name, ...spec.target.aliases].find((a) => keys.has(normalizeName(a)));
  const validator = applicantValidator(spec, label);
  const header = validator.header;
  const batch = validator.validate([header.map(cell)], 1);
  const ok = batch.table.n === 1;
  if (!ok && batch.errors.length === 0) {
    // Every cell empty: a file's blank line, skipped there; an applicant must be refused.
    return { values: null, label: null, errors: noValueErrors(spec) };
  }
  return {
    values: ok ? Float64Array.from(batch.table.columns, (c) => c[0]) : null,
    label: ok && batch.labels !== null ? batch.labels[0] : null,
    errors: batch.errors,
  };
}

/** The errors of an applicant with no value at all: each column it may not miss, or the row. */
function noValueErrors(spec: DatasetSpec): RowError[] {
  const required = featureColumns(spec).filter((c) => !c.allowMissing);
  if (required.length === 0) {
    return [
      {
        row: 1,
        column: null,
        kind: "missing",
        message: `no value for any column of the dataset spec "${spec.name}"`,
      },
    ];
  }
  return required.map((c) => ({
    row: 1,
    column: c.name,
    kind: "missing" as const,
    message: "missing value",
  }));
}

/** Whether a cell is missing for the column: see the module comment. */
function isMissing(p: MissingPlan, s: string): boolean {
  const t = s.trim().toLowerCase();
  return p.missing.has(t) || p.ownMissing.has(t);
}

function isOwnMissing(p: MissingPlan, s: string): boolean {
  return p.ownMissing.has(s.trim().toLowerCase());
}

/** In-place check of a field against a column's missing texts (null: missing not allowed). */
function isMissingField(m: KeyMatcher | null, buf: Uint8Array, i: number, j: number): boolean {
  return m !== null && (i === j || m.match(buf, i, j) >= 0);
}

function numberError(p: NumPlan, s: string, v: number, row: number): RowError {
  const t = s.trim();
  if (v !== v) {
    if (t === "") return { row, column: p.name, kind: "missing", message: "missing value" };
    const hint = /^-?\d+,\d+$/.test(t) ? " (use . as the decimal point)" : "";
    return {
      row,
      column: p.name,
      kind: "not_a_number",
      message: `not a number: "${t}"${hint}`,
      value: s,
    };
  }
  if (v < p.min || v > p.max) {
    const unit = p.col.unit ? ` ${p.col.unit}` : "";
    const allowed =
      p.min > -Infinity && p.max < Infinity
        ? `${p.min} to ${p.max}${unit}`
        : p.min > -Infinity
          ? `${p.min}${unit} or more`
          : `${p.max}${unit} or less`;
    return {
      row,
      column: p.name,
      kind: "out_of_range",
      message: `out of range: ${v} (allowed ${allowed})`,
      value: s,
    };
  }
  return {
    row,
    column: p.name,
    kind: "not_integer",
    message: `not a whole number: ${v}`,
    value: s,
  };
}

/** What slowCategory returns for a refused cell (NaN is a valid result: a missing value). */
const REFUSED = -1;

function slowCategory(
  p: CatPlan,
  s: string,
  row: number,
  line: number | undefined,
  errors: RowError[],
): number {
  const t = s.trim();
  const v = p.map.get(t) ?? p.map.get(t.toLowerCase());
  if (v !== undefined) return v;
  const missing = isMissing(p, s);
  if (missing && p.allowMissing) return NaN;
  if (!missing && p.other >= 0) return p.other;
  errors.push(
    withLine(
      missing
        ? { row, column: p.name, kind: "missing", message: "missing value" }
        : {
            row,
            column: p.name,
            kind: "unknown_category",
            message: `unknown value "${t}" (allowed: ${p.allowed})`,
            value: s,
          },
      line,
    ),
  );
  return REFUSED;
}

function allowedText(col: CategoricalColumn): string {
  const shown = col.values.slice(0, 30);
  const values = shown.map((v) => v.value).join(", ");
  const more = col.values.length > shown.length ? `, … (${col.values.length} values)` : "";
  const aliases = shown.flatMap((v) => v.aliases);
  return aliases.length > 0
    ? `${values}${more}; or the codes ${aliases.join(", ")}`
    : `${values}${more}`;
}

function withLine(e: RowError, line: number | undefined): RowError {
  return line === undefined ? e : { ...e, line };
}

/**
 * Plain integers (`-`? digits, at most 15 so the value is exact), the common case, without a
 * regex or Number(); NaN for anything else, which then goes through `slowNumber`.
 */
function fastNumber(s: string): number {
  const n = s.length;
  if (n === 0) return NaN;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  if (n === i || n - i > 15) return NaN;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * The bytes `buf[start, end)` as a number when it is `-`? digits with at most one `.` and at most
 * 15 digits in all, else NaN. Within those limits the digits form an exact integer and one
 * division by an exact power of ten rounds once, so the result equals Number() of the text.
 */
function parsePlainNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && buf[i] === 45) {
    neg = true;
    i++;
  }
  let v = 0;
  let digits = 0;
  let scale = -1;
  for (; i < end; i++) {
    const c = buf[i];
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      v = v * 10 + d;
      digits++;
    } else if (c === 46 && scale < 0) {
      scale = i;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  if (scale >= 0) v /= POW10[end - scale - 1];
  return neg ? -v : v;
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

const INT_TEXT_CACHE = 1 << 16;
const intTexts: string[] = [];

/** The original text of a parsed number field, shared for small plain integers. */
function numberText(v: number, record: ScannedRecord, start: number, end: number): string {
  if (Number.isInteger(v) && v >= 0 && v < INT_TEXT_CACHE) {
    // Same length as the canonical text means no sign, leading zero or decimal point.
    const len = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
    if (end - start === len) return (intTexts[v] ??= String(v));
  }
  return record.text.slice(record.buf, start, end);
}

/** Any plain decimal, trimmed; NaN when the text is not one. */
function slowNumber(s: string): number {
  const t = s.trim();
  return isNumberText(t) ? Number(t) : NaN;
}
