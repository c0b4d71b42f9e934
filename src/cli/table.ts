import { InvalidArgumentError } from "commander";
import type { Run } from "../tracking/index.js";

/*
 * Terminal output shared by the tracking, registry, user and database commands. Bank staff read
 * these in a terminal or paste them into tickets, so output is aligned plain text; `--json` is
 * the machine form.
 */

export type Align = "left" | "right";

/**
 * Aligns rows under a header, columns two spaces apart, trailing spaces trimmed.
 *
 * @example formatTable(["name", "runs"], [["credit-risk", "12"]], ["left", "right"])
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(widths[i] - width(cell));
        return align[i] === "right" ? pad + cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** `key  value` lines with the keys aligned, for one record. */
export function formatFields(
  fields: readonly (readonly [string, string])[],
  indent = "  ",
): string {
  const w = Math.max(0, ...fields.map(([k]) => width(k)));
  return fields.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`.trimEnd()).join("\n");
}

/** Indents every line by two spaces (a table under a section title). */
export function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`.trimEnd())
    .join("\n");
}

// Code points, not UTF-16 units, so "≠" and "—" take one column like ASCII.
function width(text: string): number {
  return [...text].length;
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** ISO 8601 in UTC to the second: what the tables show. */
export function isoTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** ISO 8601 in UTC with milliseconds, or null: what `--json` output holds. */
export function isoJson(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** 950 ms → "0.95s", 83 s → "1m 23s", 2 h 5 min → "2h 05m". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** A metric value readable at a glance; `digits` decimals at most, no trailing zeros. */
export function formatNumber(value: number, digits = 4): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9 || abs < 10 ** -digits) return value.toExponential(3);
  return String(Number(value.toFixed(digits)));
}

/** Ids are 32 hex digits; tables show the first 8, which commands accept as a prefix. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

// The metrics a credit-risk run is usually judged by, shown first when a run has them.
const PREFERRED_METRICS = [
  "test_auc",
  "test_cost",
  "cv_auc",
  "cv_cost",
  "auc",
  "cost",
  "test_accuracy",
  "accuracy",
];

/**
 * The metric columns a table of these runs shows: the usual credit-risk metrics first, then the
 * others alphabetically, `limit` at most (a wide table wraps and becomes unreadable).
 */
export function keyMetrics(runs: readonly Run[], limit = 4): string[] {
  const present = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const preferred = PREFERRED_METRICS.filter((k) => present.has(k));
  const rest = [...present].filter((k) => !PREFERRED_METRICS.includes(k)).sort();
  return [...preferred, ...rest].slice(0, limit);
}

/** A run as `--json` prints it: its info at the top level, times as ISO 8601 UTC. */
export function runJson(run: Run) {
  const { info } = run;
  return {
    id: info.id,
    experimentId: info.experimentId,
    name: info.name,
    status: info.status,
    statusReason: info.statusReason,
    startTime: isoJson(info.startTime),
    endTime: isoJson(info.endTime),
    durationMs: info.endTime === null ? null : info.endTime - info.startTime,
    parentRunId: info.parentRunId,
    codeVersion: info.codeVersion,
    packageVersion: info.packageVersion,
    params: run.params,
    tags: run.tags,
    metrics: Object.fromEntries(
      Object.values(run.metrics).map((m) => [
        m.key,
        { value: m.value, step: m.step, timestamp: isoJson(m.timestamp) },
      ]),
    ),
    inputs: run.inputs,
    artifacts: run.artifacts,
  };
}

/** Commander collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Commander collector for a repeatable `key=value` option. */
export function collectKeyValue(name: string) {
  return (value: string, previous: Record<string, string> = {}): Record<string, string> => {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new InvalidArgumentError(`${name} must look like key=value, got "${value}".`);
    }
    return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1) };
  };
}
