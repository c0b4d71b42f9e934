/**
 * Inferring a dataset spec from a file: one pass over the records keeps, per column, the
 * counts a decision needs (missing cells, numbers, distinct values up to a cap, range, whole
 * numbers, leading zeros), then each column gets a kind with the reason for it, and the things a
 * person should check are listed as warnings. The spec is a first draft to read and edit, not
 * a verdict: every rule below says in its reason what it saw.
 */
import { AppError } from "../core/errors.js";
import { isNumberText } from "./csv.js";
import { forEachRecord, type RecordsHeader, type ReadOptions } from "./dataset.js";
import type { DataSource } from "./source.js";
import { checkSpec } from "./spec-check.js";
import {
  DEFAULT_COSTS,
  DEFAULT_MISSING_VALUES,
  SPEC_FORMAT,
  SPEC_FORMAT_VERSION,
  labelFromName,
  type Column,
  type DatasetSpec,
} from "./spec.js";

export interface InferOptions extends ReadOptions {
  readonly target: string;
  readonly riskClass: string;
  /** Spec name (default: from the file name). */
  readonly name?: string;
  /** Texts that mean missing besides the defaults (empty, NA, N/A, null, NaN). */
  readonly missing?: readonly string[];
}

/** What inference decided for one column, and why. */
export interface ColumnDecision {
  readonly column: string;
  readonly kind: Column["kind"];
  readonly why: string;
  /** Share of the rows whose cell is missing. */
  readonly missingShare: number;
}

export interface InferResult {
  readonly spec: DatasetSpec;
  readonly decisions: readonly ColumnDecision[];
  /** What a person should check before training on the spec. */
  readonly warnings: readonly string[];
  readonly rows: number;
}

/** Distinct values kept per column; past this a column is counted as having "many". */
const MAX_DISTINCT = 5000;
/** More distinct values than this (after grouping) and a text column is taken for free text. */
const MAX_CATEGORIES = 1000;
/** Integer columns with at most this many distinct values get a "code or quantity?" warning. */
const FEW_VALUES = 10;
/** A rare category has fewer rows than max(this, RARE_SHARE of the rows): grouped as "other". */
const RARE_MIN = 5;
const RARE_SHARE = 0.001;
/** A column that predicts the target this well alone is probably the target in disguise. */
const LEAK_AUC = 0.99;

class ColumnStats {
  missing = 0;
  numbers = 0;
  integers = 0;
  min = Infinity;
  max = -Infinity;
  leadingZeros = 0;
  /** Distinct non-missing texts (trimmed) with their counts; null once past MAX_DISTINCT. */
  distinct: Map<string, number> | null = new Map();
  /** Risk-class count per distinct text, for the leakage check. */
  risky: Map<string, number> | null = new Map();
  /**
   * Past MAX_DISTINCT, the texts seen while every one has been unique (an id column has as many
   * distinct values as rows); null from the first repeat.
   */
  unique: Set<string> | null = null;
  /** Whether no present text has repeated so far. */
  allUnique = true;
  /** Numeric values with their labels, for the leakage check (numbers only). */
  readonly values: number[] = [];
  readonly labels: number[] = [];

  add(text: string, missing: boolean, y: number): void {
    if (missing) {
      this.missing++;
      return;
    }
    if (isNumberText(text)) {
      const v = Number(text);
      this.numbers++;
      if (Number.isInteger(v)) this.integers++;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      const c0 = text.charCodeAt(0);
      if ((c0 === 48 || c0 === 45) && /^-?0\d/.test(text)) this.leadingZeros++;
      if (y >= 0) {
        this.values.push(v);
        this.labels.push(y);
      }
    }
    if (this.distinct !== null) {
      const seen = this.distinct.get(text) ?? 0;
      if (seen > 0) this.allUnique = false;
      this.distinct.set(text, seen + 1);
      if (y === 1) this.risky?.set(text, (this.risky.get(text) ?? 0) + 1);
      if (this.distinct.size > MAX_DISTINCT) {
        if (this.allUnique) this.unique = new Set(this.distinct.keys());
        this.distinct = null;
        this.risky = null;
      }
    } else if (this.unique !== null) {
      if (this.unique.has(text)) {
        this.allUnique = false;
        this.unique = null;
      } else this.unique.add(text);
    }
  }
}

/**
 * Reads a labelled file and drafts its dataset spec.
 * @example
 *   const { spec, decisions, warnings } = await inferSpec("taiwan.csv", {
 *     target: "default.payment.next.month", riskClass: "1" });
 */
export async function inferSpec(source: DataSource, options: InferOptions): Promise<InferResult> {
  const missingTexts = [...DEFAULT_MISSING_VALUES, ...(options.missing ?? [])];
  const missingSet = new Set(missingTexts.map((t) => t.trim().toLowerCase()));
  let head: RecordsHeader | null = null;
  let targetAt = -1;
  let stats: ColumnStats[] = [];
  const targetCounts = new Map<string, number>();
  const targetTexts: string[] = [];
  let rows = 0;
  await forEachRecord(
    source,
    (h) => {
      head = h;
      const key = options.target.trim().toLowerCase();
      targetAt = h.header.findIndex((c) => c.trim().toLowerCase() === key);
      if (targetAt < 0) {
        throw new AppError(
          "SCHEMA_MISMATCH",
          `no target column "${options.target}" in the header (columns: ${h.header.map((c) => c.trim() || "(unnamed)").join(", ")})`,
        );
      }
      stats = h.header.map(() => new ColumnStats());
    },
    (record) => {
      rows++;
      const t = (record[targetAt] ?? "").trim();
      targetTexts.push(t);
      if (!missingSet.has(t.toLowerCase())) targetCounts.set(t, (targetCounts.get(t) ?? 0) + 1);
      const y = missingSet.has(t.toLowerCase()) ? -1 : sameValue(t, options.riskClass) ? 1 : 0;
      for (let c = 0; c < stats.length; c++) {
        if (c === targetAt) continue;
        const text = (record[c] ?? "").trim();
        stats[c].add(text, missingSet.has(text.toLowerCase()), y);
      }
    },
    options,
  );
  const header = (head as RecordsHeader | null)?.header ?? [];
  const attributes = (head as RecordsHeader | null)?.attributes;
  if (rows === 0) throw new AppError("VALIDATION_FAILED", "the file has a header but no rows");

  // Target: exactly two values, one of them the risk class.
  const targetValues = [...targetCounts.entries()].sort((a, b) => b[1] - a[1]);
  const countsText = targetValues
    .slice(0, 10)
    .map(([v, n]) => `"${v}" ${n}`)
    .join(", ");
  if (targetValues.length !== 2) {
    throw new AppError(
      "VALIDATION_FAILED",
      `the target column "${options.target}" has ${targetValues.length} distinct value(s) (${countsText}); a credit-risk target needs exactly two`,
    );
  }
  const risk = targetValues.find(([v]) => sameValue(v, options.riskClass));
  if (!risk) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `--risk-class "${options.riskClass}" is not a value of the target column "${options.target}" (its values: ${countsText})`,
    );
  }
  const safe = targetValues.find(([v]) => v !== risk[0]) as [string, number];
  const missingTargets = targetTexts.filter((t) => missingSet.has(t.toLowerCase())).length;

  const decisions: ColumnDecision[] = [];
  const warnings: string[] = [];
  if (missingTargets > 0) {
    warnings.push(
      `${missingTargets} row(s) have no target value: training refuses them (or leaves them out with --skip-invalid)`,
    );
  }
  const columns: Column[] = [];
  const rare = Math.max(RARE_MIN, Math.ceil(RARE_SHARE * rows));
  header.forEach((rawName, c) => {
    if (c === targetAt) return;
    const name = rawName.trim();
    const s = stats[c];
    const present = rows - s.missing;
    const missingShare = s.missing / rows;
    const label = labelFromName(name);
    const decide = (column: Column, why: string) => {
      columns.push(column);
      decisions.push({ column: name || "(unnamed)", kind: column.kind, why, missingShare });
    };
    const attr = attributes?.[c];
    if (name === "") {
      decide(
        { name, label, kind: "id" },
        "unnamed column (an index as DataFrame.to_csv writes it)",
      );
      return;
    }
    if (present === 0) {
      decide({ name, label, kind: "ignored" }, "every value is missing");
      warnings.push(`${name}: every value is missing; the column is ignored`);
      return;
    }
    const distinct = s.distinct;
    const nDistinct = distinct === null ? Infinity : distinct.size;
    if (nDistinct === 1) {
      const only = distinct ? [...distinct.keys()][0] : "";
      decide({ name, label, kind: "ignored" }, `constant: every present value is "${only}"`);
      warnings.push(`${name}: constant ("${only}" in every row that has a value); ignored`);
      return;
    }
    const allowMissing = s.missing > 0;
    const numeric = attr ? attr.type === "numeric" : s.numbers === present;
    if (numeric) {
      const integer = s.integers === present;
      if (integer && s.missing === 0 && s.allUnique && rows >= 20) {
        decide({ name, label, kind: "id" }, "a unique whole number in every row");
        return;
      }
      const col: Column = {
        name,
        label,
        kind: "numeric",
        allowMissing,
        ...(s.min >= 0 ? { min: 0 } : {}),
        integer,
      };
      const range = `${fmt(s.min)} to ${fmt(s.max)}`;
      decide(
        col,
        `${integer ? "whole numbers" : "numbers"} ${range}${nDistinct < Infinity ? `, ${nDistinct} distinct` : ""}`,
      );
      if (integer && nDistinct <= FEW_VALUES) {
        const shown = [...(distinct as Map<string, number>).keys()].sort(
          (a, b) => Number(a) - Number(b),
        );
        warnings.push(
          `${name}: only ${nDistinct} distinct whole numbers (${shown.join(", ")}): kept numeric; if they are codes rather than amounts or counts, make it categorical`,
        );
      }
      if (s.leadingZeros > 0) {
        warnings.push(
          `${name}: ${s.leadingZeros} value(s) written with leading zeros (e.g. a postcode or an account code?): kept numeric, check it`,
        );
      }
      const auc = separation(s.values, s.labels);
      if (auc !== null && (auc >= LEAK_AUC || auc <= 1 - LEAK_AUC)) {
        warnings.push(
          `${name}: alone it separates the target almost perfectly (ROC AUC ${auc.toFixed(3)}): is it known before the decision, or the target in disguise?`,
        );
      }
      return;
    }
    if (s.allUnique && s.missing === 0 && rows >= 20) {
      decide({ name, label, kind: "id" }, "a unique text in every row");
      return;
    }
    if (distinct === null) {
      decide(
        { name, label, kind: "ignored" },
        `more than ${MAX_DISTINCT} distinct texts (free text?)`,
      );
      warnings.push(`${name}: more than ${MAX_DISTINCT} distinct texts; ignored`);
      return;
    }
    // Categories: declared order for ARFF, else most frequent first; rare ones grouped.
    const entries = [...distinct.entries()];
    const ordered = attr?.values
      ? attr.values
          .filter((v) => distinct.has(v))
          .map((v) => [v, distinct.get(v) as number] as const)
      : entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const kept = ordered.filter(([, n]) => n >= rare);
    const grouped = ordered.filter(([, n]) => n < rare);
    const groupOthers = grouped.length >= 2 || (grouped.length === 1 && kept.length >= 20);
    const listed = groupOthers ? kept : ordered;
    if (listed.length > MAX_CATEGORIES) {
      decide({ name, label, kind: "ignored" }, `${listed.length} distinct texts (free text?)`);
      warnings.push(
        `${name}: ${listed.length} distinct texts even after grouping rare ones; ignored`,
      );
      return;
    }
    const values = listed.map(([v]) => ({ value: v, label: v, aliases: [] as string[] }));
    if (groupOthers) {
      values.push({
        value: otherName(distinct),
        label: "any other value",
        aliases: [],
        other: true,
      } as never);
    }
    decide(
      { name, label, kind: "categorical", allowMissing, values },
      groupOthers
        ? `${nDistinct} distinct texts; ${grouped.length} with fewer than ${rare} rows grouped as "other"`
        : `${nDistinct} distinct texts`,
    );
    // With many values per row purity is high by chance; only few-valued columns can tell.
    const purity = nDistinct * 20 <= rows ? categoryPurity(s) : null;
    if (purity !== null && purity >= LEAK_AUC) {
      warnings.push(
        `${name}: its values alone give the target in ${(purity * 100).toFixed(1)} % of rows: is it known before the decision, or the target in disguise?`,
      );
    }
  });

  const name = options.name ?? nameFromSource(source);
  const spec = checkSpec(
    {
      format: SPEC_FORMAT,
      formatVersion: SPEC_FORMAT_VERSION,
      name,
      version: 1,
      missingValues: missingTexts,
      columns,
      target: {
        name: header[targetAt].trim(),
        label: labelFromName(header[targetAt]),
        values: [
          { value: safe[0], label: safe[0] },
          { value: risk[0], label: risk[0] },
        ],
        riskClass: risk[0],
      },
      costs: DEFAULT_COSTS,
      fairness: [],
    },
    `the spec inferred from ${typeof source === "string" ? source : "the input"}`,
  );
  warnings.push(
    "costs are the default (accepting a bad applicant 5, rejecting a good one 1) and no fairness attributes are set: edit the spec to match the bank's",
  );
  return { spec, decisions, warnings, rows };
}

/** Whether a cell spells the risk class given on the command line (`1` matches `1.0`). */
function sameValue(a: string, b: string): boolean {
  if (a === b.trim()) return true;
  return isNumberText(a) && isNumberText(b.trim()) && Number(a) === Number(b.trim());
}

/** A name for the "other" group that no real value of the column spells. */
function otherName(distinct: Map<string, number>): string {
  let name = "other";
  while (distinct.has(name)) name = `(${name})`;
  return name;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

function nameFromSource(source: DataSource): string {
  const base =
    typeof source === "string"
      ? (source.split(/[\\/]/).pop() ?? "dataset").replace(/\.[^.]*$/, "")
      : "dataset";
  const clean = base.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return clean === "" ? "dataset" : clean.slice(0, 100);
}

/**
 * ROC AUC of a numeric column as a score for the risk class (ties half), or null without
 * both classes: how well the column alone ranks the rows.
 */
function separation(values: readonly number[], labels: readonly number[]): number | null {
  let pos = 0;
  for (const y of labels) pos += y;
  const neg = values.length - pos;
  if (pos === 0 || neg === 0) return null;
  // Each class's values sorted natively (typed arrays), then one merge that counts, for every
  // risk-class value, the other class's values below it (ties half): a comparator sort of row
  // indices took most of the time of inferring a large file.
  const p = new Float64Array(pos);
  const q = new Float64Array(neg);
  let a = 0;
  let b = 0;
  for (let i = 0; i < values.length; i++) {
    if (labels[i] === 1) p[a++] = values[i];
    else q[b++] = values[i];
  }
  p.sort();
  q.sort();
  let below = 0;
  let j = 0;
  for (let i = 0; i < pos;) {
    const v = p[i];
    let k = i;
    while (k < pos && p[k] === v) k++;
    while (j < neg && q[j] < v) j++;
    let t = j;
    while (t < neg && q[t] === v) t++;
    below += (k - i) * (j + (t - j) / 2);
    i = k;
  }
  return below / (pos * neg);
}

/** Share of labelled rows whose value's majority class is their class. */
function categoryPurity(s: ColumnStats): number | null {
  if (s.distinct === null || s.risky === null) return null;
  let right = 0;
  let total = 0;
  for (const [v, n] of s.distinct) {
    const r = s.risky.get(v) ?? 0;
    right += Math.max(r, n - r);
    total += n;
  }
  return total === 0 ? null : right / total;
}
