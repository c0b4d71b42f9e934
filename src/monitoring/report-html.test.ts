import { beforeAll, describe, expect, it } from "vitest";
import { all, drawnText, parseXml, type XmlElement } from "../charts/chart-test-support.js";
import { AppError } from "../core/errors.js";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec, featureColumns } from "../data/index.js";
import { detectDrift, type ColumnSchema, type DatasetDrift, type DriftFrame } from "./drift.js";
import { compare, fairnessOf, type FairnessRow } from "./fairness.js";
import { qualityReport } from "./quality.js";
import {
  HISTOGRAM_BINS,
  MAX_CATEGORIES,
  featureDistributions,
  renderDriftReportHtml,
  thinCurve,
  type DriftReportInput,
} from "./report-html.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const num = (name: string): ColumnSchema => ({ name, kind: "numeric" });
const cat = (name: string): ColumnSchema => ({ name, kind: "categorical" });

/** The document parsed as XML from `<html>` on: throws unless every element is closed in order. */
function parseHtml(html: string): XmlElement {
  expect(html.startsWith("<!DOCTYPE html>\n<html")).toBe(true);
  return parseXml(html.slice(html.indexOf("<html")));
}

const byName = (root: XmlElement, name: string) => all(root, (e) => e.name === name);
const byId = (root: XmlElement, id: string) => all(root, (e) => e.attrs.id === id)[0];
/** Visible text of an element, with whitespace collapsed (SVG tooltips left out). */
const text = (e: XmlElement) => drawnText(e).replace(/\s+/g, " ").trim();

function report(overrides: Partial<DriftReportInput> = {}): string {
  return renderDriftReportHtml({
    title: "Drift report",
    generatedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    dataDrift: null,
    distributions: {},
    ...overrides,
  });
}

describe("featureDistributions", () => {
  it("bins a numeric column on shared equal-width bins, ignoring missing values", () => {
    const ref = Array.from({ length: 100 }, (_, i) => i);
    const cur = [...Array.from({ length: 50 }, (_, i) => 50 + 2 * i), null, NaN, Infinity];
    const d = featureDistributions([num("x")], { x: ref }, { x: cur }).x;
    expect(d.type).toBe("histogram");
    if (d.type !== "histogram") return;
    expect(d.edges).toHaveLength(HISTOGRAM_BINS + 1);
    expect(d.edges[0]).toBe(0);
    expect(d.edges[HISTOGRAM_BINS]).toBe(148);
    expect(d.sizes).toEqual({ reference: 100, current: 50 });
    const sum = (xs: readonly number[]) => xs.reduce((a, v) => a + v, 0);
    expect(sum(d.reference)).toBeCloseTo(1, 12);
    expect(sum(d.current)).toBeCloseTo(1, 12);
    // The reference ends at 99, so the bins above 99 are empty on its side.
    expect(d.reference.slice(14)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(d.current[0]).toBe(0);
  });

  it("charts a numeric column with few distinct values per value, in increasing order", () => {
    const d = featureDistributions(
      [num("rate")],
      { rate: Float64Array.of(4, 1, 1, 2, 2.5) },
      { rate: [4, 4, 10, null] },
    ).rate;
    expect(d).toEqual({
      type: "categories",
      categories: ["1", "2", "2.5", "4", "10"],
      reference: [0.4, 0.2, 0.2, 0.2, 0],
      current: [0, 0, 0, 2 / 3, 1 / 3],
      pooled: 0,
      sizes: { reference: 5, current: 3 },
    });
  });

  it("keeps the most common categories of both windows and pools the rest as other", () => {
    // 30 categories; c00 is the most common on the reference side, "new" only in current.
    const ref: string[] = [];
    for (let k = 0; k < 30; k++) {
      const label = `c${String(k).padStart(2, "0")}`;
      for (let r = 0; r < 40 - k; r++) ref.push(label);
    }
    const cur = [...ref.slice(200), ...Array<string>(300).fill("new"), null, undefined];
    const d = featureDistributions([cat("c")], { c: ref }, { c: cur }).c;
    expect(d.type).toBe("categories");
    if (d.type !== "categories") return;
    expect(d.categories).toHaveLength(MAX_CATEGORIES + 1);
    expect(d.categories[0]).toBe("new");
    expect(d.categories.at(-1)).toBe("other (11)");
    expect(d.pooled).toBe(11);
    expect(d.sizes).toEqual({ reference: ref.length, current: cur.length - 2 });
    expect(d.reference[0]).toBe(0);
    const sum = (xs: readonly number[]) => xs.reduce((a, v) => a + v, 0);
    expect(sum(d.reference)).toBeCloseTo(1, 12);
    expect(sum(d.current)).toBeCloseTo(1, 12);
  });

  it("gives zeros, never NaN, for a window without values, and no bins for none at all", () => {
    const d = featureDistributions(
      [num("x"), num("empty"), cat("c")],
      { x: Array.from({ length: 30 }, (_, i) => i), empty: [null], c: ["a", "b"] },
      { x: [null, NaN], empty: [], c: [] },
    );
    expect(d.x.current).toEqual(new Array(HISTOGRAM_BINS).fill(0));
    expect(d.empty).toEqual({
      type: "histogram",
      edges: [],
      reference: [],
      current: [],
      sizes: { reference: 0, current: 0 },
    });
    expect(d.c.current).toEqual([0, 0]);
  });

  it("keeps a column named __proto__ as an ordinary key", () => {
    const frame: DriftFrame = Object.fromEntries([["__proto__", ["a", "b"]]]);
    const d = featureDistributions([cat("__proto__")], frame, frame);
    expect(Object.hasOwn(d, "__proto__")).toBe(true);
    expect(d["__proto__"].sizes).toEqual({ reference: 2, current: 2 });
  });

  it("refuses a missing column and values of the wrong type, as detectDrift does", () => {
    expect(() => featureDistributions([num("x")], { x: [1] }, {})).toThrow(
      /the current data has no column "x"/,
    );
    expect(() => featureDistributions([num("x")], { x: ["1"] }, { x: [1] })).toThrow(AppError);
  });
});

describe("renderDriftReportHtml: a German-credit-like report", () => {
  const schema: ColumnSchema[] = GERMAN_COLUMNS.map((c) => ({
    name: c.name,
    kind: c.kind,
  }));
  let reference: DriftFrame;

  /** `rows` rows resampled from the reference; `shift` moves duration and purpose. */
  function current(rows: number, seed: number, shift = false): DriftFrame {
    const next = random(seed);
    const n = (reference.age as ArrayLike<unknown>).length;
    const pick = Int32Array.from({ length: rows }, () => Math.floor(next() * n));
    return Object.fromEntries(
      schema.map((c) => {
        const ref = reference[c.name];
        if (c.kind === "numeric") {
          const values = Float64Array.from(pick, (i) => Number(ref[i]));
          if (shift && c.name === "duration") values.forEach((v, i) => (values[i] = v * 1.6));
          return [c.name, values];
        }
        const labels = Array.from(pick, (i) => ref[i] as string | null);
        if (shift && c.name === "purpose")
          labels.forEach((_, i) => i % 3 === 0 && (labels[i] = "education"));
        return [c.name, labels];
      }),
    );
  }

  function germanReport(cur: DriftFrame, extra: Partial<DriftReportInput> = {}): string {
    return report({
      title: "Drift report: credit-risk",
      model: { name: "credit-risk", version: 3 },
      window: {
        since: "2025-01-02T00:04:05.000Z",
        until: "2025-01-02T03:04:05.000Z",
        widenedToLatest: false,
      },
      dataDrift: detectDrift(schema, reference, cur),
      distributions: featureDistributions(schema, reference, cur),
      ...extra,
    });
  }

  beforeAll(async () => {
    const { table } = await readDataset(DEFAULT_DATA_PATH);
    const frame: Record<string, Float64Array | (string | null)[]> = {};
    table.features.forEach((f, j) => {
      const column = GERMAN_COLUMNS.find((c) => c.name === f.name);
      frame[f.name] =
        column?.kind === "categorical"
          ? Array.from(table.columns[j], (v) => (Number.isNaN(v) ? null : column.values[v].value))
          : table.columns[j];
    });
    reference = frame;
  });

  it("is one complete, well-formed document with every section closed", () => {
    const html = germanReport(current(300, 1, true));
    const root = parseHtml(html);
    expect(root.name).toBe("html");
    expect(root.attrs.lang).toBe("en");
    const elements = root.children.filter((c): c is XmlElement => typeof c !== "string");
    expect(elements.map((e) => e.name)).toEqual(["head", "body"]);
    expect(text(byName(root, "title")[0])).toBe("Drift report: credit-risk");
    expect(byName(root, "meta").map((m) => m.attrs.charset ?? "")).toContain("utf-8");
    expect(html.match(/<section/g)?.length).toBe(html.match(/<\/section>/g)?.length);
    expect(html.match(/<table/g)?.length).toBe(html.match(/<\/table>/g)?.length);
    const sections = byName(root, "section").map((s) => s.attrs.id);
    expect(sections).toEqual(["summary", "columns", "features"]);
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
    // Header: title, model, window and the time in UTC.
    const header = text(byName(root, "header")[0]);
    expect(header).toContain("credit-risk version 3");
    expect(header).toContain("2025-01-02T00:04:05.000Z → 2025-01-02T03:04:05.000Z");
    expect(header).toContain("2025-01-02T03:04:05.000Z");
  });

  it("references nothing outside the file: no scripts, no links, no URLs", () => {
    const html = germanReport(current(300, 2, true));
    const root = parseHtml(html);
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/\ssrc=|url\(|@import|<script|<link|<iframe|<object|<embed/i);
    const hrefs = all(root, (e) => e.attrs.href !== undefined).map((e) => e.attrs.href);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^#[a-z]+$/);
    for (const href of hrefs) expect(byId(root, href.slice(1))).toBeDefined();
    expect(html).not.toMatch(/NaN|undefined|\[object/);
  });

  it("lists drifted columns first, with a drift badge, in the table and in the charts", () => {
    const html = germanReport(current(300, 3, true));
    const root = parseHtml(html);
    const rows = byName(byId(root, "columns"), "tr").slice(1);
    expect(rows).toHaveLength(20);
    const verdicts = rows.map((r) => text(byName(r, "td").at(-1)!));
    const drifted = verdicts.filter((v) => v.startsWith("drift")).length;
    expect(drifted).toBeGreaterThanOrEqual(2);
    // Every drifted row comes before the first one that did not drift.
    expect(verdicts.slice(0, drifted).every((v) => v.startsWith("drift"))).toBe(true);
    expect(verdicts.slice(drifted).some((v) => v.startsWith("drift"))).toBe(false);
    const names = rows.map((r) => text(byName(r, "th")[0]));
    expect(names.slice(0, drifted)).toEqual(expect.arrayContaining(["duration", "purpose"]));
    const badges = all(root, (e) => e.attrs.class === "badge drift").map(text);
    expect(new Set(badges)).toEqual(new Set(["drift"]));
    // The charts follow the table's order; drifted ones are framed.
    const figures = byName(byId(root, "features"), "figure");
    expect(figures).toHaveLength(20);
    expect(figures.map((f) => text(byName(f, "strong")[0]))).toEqual(names);
    expect(figures.slice(0, drifted).every((f) => f.attrs.class === "chart drifted")).toBe(true);
    for (const svg of byName(root, "svg")) {
      expect(svg.attrs.role).toBe("img");
      expect(byName(svg, "title")[0]).toBeDefined();
      expect(byName(svg, "desc")[0]).toBeDefined();
    }
    const summary = byName(byId(root, "summary"), "div").map(text);
    expect(summary.find((f) => f.startsWith("Drifted columns"))).toMatch(/duration.*purpose/);
  });

  it("keeps its size for 1,000 and 1,000,000 current rows: the charts are aggregated", () => {
    const small = germanReport(current(1000, 4));
    const large = germanReport(current(1_000_000, 5));
    const ratio = large.length / small.length;
    expect(ratio).toBeGreaterThan(1 / 1.1);
    expect(ratio).toBeLessThan(1.1);
    // Twenty columns of charts stay small enough to open at once.
    expect(large.length).toBeLessThan(400_000);
  });

  it("shows quality and fairness only when given", () => {
    const cur = current(300, 6);
    const without = parseHtml(germanReport(cur));
    expect(byId(without, "quality")).toBeUndefined();
    expect(byId(without, "fairness")).toBeUndefined();
    expect(byId(without, "prediction")).toBeUndefined();

    const next = random(7);
    const probabilities = Float64Array.from({ length: 300 }, () => next());
    const outcomes = Uint8Array.from(probabilities, (p) => (next() < p ? 1 : 0));
    const rows: FairnessRow[] = Array.from({ length: 300 }, (_, i) => ({
      values: { age: Number(cur.age[i]), foreign_worker: String(cur.foreign_worker[i]) },
      approved: probabilities[i] < 0.5,
      outcome: outcomes[i] ? "bad" : "good",
    }));
    const html = germanReport(cur, {
      quality: qualityReport(outcomes, probabilities, 0.35),
      fairness: fairnessOf(GERMAN.fairness, rows),
    });
    const root = parseHtml(html);
    const quality = byId(root, "quality");
    expect(text(quality)).toContain("p(bad) ≥ 0.35 (model threshold)");
    const charts = byName(quality, "svg").map((s) => text(byName(s, "title")[0]));
    expect(charts).toEqual([
      "Confusion matrix, p(bad) ≥ 0.50",
      "Confusion matrix, p(bad) ≥ 0.35",
      "ROC curve",
    ]);
    const fairness = text(byId(root, "fairness"));
    expect(fairness).toContain("Age band: under 25 vs 25 or older");
    expect(fairness).toContain("Foreign worker: foreign worker vs not a foreign worker");
    expect(fairness).toContain("small group");
    expect(fairness).toMatch(
      /The group \S+ \(\w+\) has \d+ decisions? \(fewer than 30\): read its rates with care/,
    );
  });
});

describe("renderDriftReportHtml: sections and edge cases", () => {
  /** Two windows where `b` and `c` drift and `a` and `d` do not. */
  function driftedFrames(): { schema: ColumnSchema[]; ref: DriftFrame; cur: DriftFrame } {
    const next = random(11);
    const n = 400;
    const schema = [num("a"), cat("b"), num("c"), cat("d")];
    const labels = ["x", "y", "z"];
    const ref = {
      a: Float64Array.from({ length: n }, () => next() * 10),
      b: Array.from({ length: n }, (_, i) => labels[i % 3]),
      c: Float64Array.from({ length: n }, () => next() * 10),
      d: Array.from({ length: n }, (_, i) => labels[i % 3]),
    };
    const cur = {
      a: Float64Array.from({ length: n }, () => next() * 10),
      b: Array.from({ length: n }, (_, i) => labels[i % 5 === 0 ? 0 : 2]),
      c: Float64Array.from({ length: n }, () => 5 + next() * 10),
      d: Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : labels[(i + 1) % 3])),
    };
    return { schema, ref, cur };
  }

  it("orders the table drifted first, then a rise in missing values, and says so in badges", () => {
    const { schema, ref, cur } = driftedFrames();
    const dataDrift = detectDrift(schema, ref, cur);
    const root = parseHtml(
      report({ dataDrift, distributions: featureDistributions(schema, ref, cur) }),
    );
    const rows = byName(byId(root, "columns"), "tr").slice(1);
    expect(rows.map((r) => text(byName(r, "th")[0]))).toEqual(["b", "c", "d", "a"]);
    expect(rows.map((r) => text(byName(r, "td").at(-1)!))).toEqual([
      "drift",
      "drift",
      "no drift missing ↑",
      "no drift",
    ]);
    expect(text(rows[2])).toContain("0.0% → 25.0%");
    expect(text(byId(root, "summary"))).toContain("Dataset drift: 2 of 4 tested columns drifted");
  });

  it("escapes markup in the title, column names, categories and notes", () => {
    const evil = "<script>alert(1)</script>";
    const column = `<img src=x onerror="alert(2)">`;
    const schema = [cat(column)];
    const ref = { [column]: ["a", "b", evil, "a"] };
    const cur = { [column]: [evil, evil, "a", "b"] };
    const html = report({
      title: `Drift & ${evil}`,
      dataDrift: detectDrift(schema, ref, cur),
      predictionDrift: detectDrift(schema, ref, cur).columns[0],
      distributions: featureDistributions(schema, ref, cur),
      notes: [`</section>${evil}`, "it's <b>bold</b>"],
      model: { name: evil, version: "1<2" },
      window: { since: null, until: evil, widenedToLatest: true },
      fairness: [compare(evil, evil, [], "ref", [])],
    });
    expect(html).not.toMatch(/<script|<img|<b>|<\/b>/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;");
    const root = parseHtml(html);
    expect(text(byName(root, "title")[0])).toBe(`Drift & ${evil}`);
    expect(text(byId(root, "notes"))).toContain(`</section>${evil}`);
    expect(html.match(/<section/g)?.length).toBe(html.match(/<\/section>/g)?.length);
    // The category is in the chart, too (escaped; its full name in the label's tooltip).
    const tooltips = byName(byId(root, "features"), "title").map(text);
    expect(tooltips).toContain(evil);
  });

  it("without a data-drift result says why and shows the notes", () => {
    const root = parseHtml(
      report({ notes: ["no model serves (credit-risk@champion): nothing to compare with"] }),
    );
    expect(byName(root, "section").map((s) => s.attrs.id)).toEqual(["summary", "notes"]);
    expect(text(byId(root, "summary"))).toContain("No data-drift result");
    expect(text(byId(root, "notes"))).toContain("no model serves");
  });

  it("shows prediction drift with its chart, and skipped columns as skipped", () => {
    const schema = [num("probability_bad")];
    const next = random(12);
    const ref = { probability_bad: Float64Array.from({ length: 500 }, () => next() * 0.6) };
    const cur = { probability_bad: Float64Array.from({ length: 500 }, () => 0.3 + next() * 0.6) };
    const predictionDrift = detectDrift(schema, ref, cur).columns[0];
    const dataSchema = [num("age")];
    const dataDrift: DatasetDrift = detectDrift(dataSchema, { age: [30, 40] }, { age: [null] });
    const root = parseHtml(
      report({
        dataDrift,
        predictionDrift,
        distributions: featureDistributions(schema, ref, cur),
      }),
    );
    const prediction = byId(root, "prediction");
    expect(text(prediction)).toContain("two-sample Kolmogorov–Smirnov");
    expect(text(byName(prediction, "svg")[0])).toContain("Reference (n = 500)");
    expect(all(prediction, (e) => e.attrs.class === "badge drift")).toHaveLength(1);
    const row = byName(byId(root, "columns"), "tr")[1];
    expect(text(row)).toContain("skipped: no current values");
    expect(text(byId(root, "features"))).toContain("No chart for age (no distribution given)");
  });

  it("shows only the notes of a quality report without known outcomes", () => {
    const root = parseHtml(report({ quality: qualityReport([], []), fairness: [] }));
    const quality = byId(root, "quality");
    expect(text(quality)).toContain("no decision has a known outcome yet");
    expect(byName(quality, "svg")).toEqual([]);
    expect(byName(quality, "table")).toEqual([]);
    expect(text(byId(root, "fairness"))).toContain("No fairness comparison was made");
  });

  it("flags an approval-rate ratio below 0.8", () => {
    const rows = (n: number, approved: number): FairnessRow[] =>
      Array.from({ length: n }, (_, i) => ({
        values: { age: 30, foreign_worker: "no" },
        approved: i < approved,
        outcome: "good",
      }));
    const root = parseHtml(
      report({ fairness: [compare("age", "< 25", rows(40, 20), "≥ 25", rows(100, 80))] }),
    );
    const fairness = byId(root, "fairness");
    expect(text(fairness)).toContain("0.625 below 0.8");
    expect(text(fairness)).toContain("−0.300");
    expect(text(fairness)).not.toContain("small group");
  });

  it("thins a long ROC curve so the report stays small for many outcomes", () => {
    const next = random(13);
    const size = (n: number) => {
      const p = Float64Array.from({ length: n }, () => next());
      const y = Uint8Array.from(p, (v) => (next() < v ? 1 : 0));
      return report({ quality: qualityReport(y, p) }).length;
    };
    const ratio = size(200_000) / size(2_000);
    expect(ratio).toBeLessThan(1.1);
    expect(ratio).toBeGreaterThan(1 / 1.1);
  });

  it("thinCurve keeps both ends and a bounded number of points", () => {
    const points = Array.from(
      { length: 100_001 },
      (_, i) => [i / 100_000, Math.sqrt(i / 100_000)] as const,
    );
    const thin = thinCurve(points);
    expect(thin[0]).toEqual([0, 0]);
    expect(thin.at(-1)).toEqual([1, 1]);
    expect(thin.length).toBeLessThanOrEqual(402);
    expect(thinCurve(points.slice(0, 2))).toEqual(points.slice(0, 2));
  });

  it("refuses a generation time that is not a number", () => {
    expect(() => report({ generatedAt: Number.NaN })).toThrow(AppError);
  });
});
