/**
 * The drift report as one self-contained HTML file: header, summary, the column table, reference
 * vs current charts per feature (drifted ones first), prediction drift, quality on known outcomes
 * and fairness. Pure HTML with inline CSS and inline SVG: no scripts, no fonts, no external
 * resources (a Content-Security-Policy forbids loading any), so it opens offline.
 *
 * It opens in well under a second for any data size because nothing in it grows with the number
 * of rows: charts are drawn from {@link FeatureDistribution}s — shares of at most
 * {@link HISTOGRAM_BINS} bins or {@link MAX_CATEGORIES} categories (+1 pooled) per column — and
 * the ROC curve is thinned to a bounded number of points. Its size grows with columns × bins only.
 *
 * Every data string (title, column and category names, notes, reasons) is escaped, and the markup
 * is well-formed XML (void elements self-closed, no named entities beyond the XML five), so the
 * tests can check the nesting with a strict parser.
 */
import {
  PALETTE,
  categoryComparisonChart,
  confusionMatrixChart,
  escapeXml,
  lineChart,
} from "../charts/index.js";
import { layout } from "../charts/layout.js";
import {
  bottomAxis,
  bottomAxisHeight,
  coord,
  el,
  emptyMessage,
  formatNumber,
  formatPercent,
  leftAxis,
  leftAxisWidth,
  linearScale,
  percentFormat,
  seriesColour,
  svgDocument,
  tooltip,
  type LegendItem,
} from "../charts/svg.js";
import { AppError } from "../core/errors.js";
import { histogramShares, unionKeys, valueCounts } from "./binning.js";
import {
  dropMissing,
  type CategoricalValues,
  type ColumnDrift,
  type ColumnSchema,
  type DatasetDrift,
  type DriftFrame,
  type NumericValues,
} from "./drift.js";
import { DRIFT_TESTS, type DriftTestName, type EffectSize } from "./drift-tests.js";
import { SMALL_GROUP, type FairnessComparison, type GroupStats } from "./fairness.js";
import type { QualityAtCut, QualityReport } from "./quality.js";

// ─────────────────────────────────────── distributions ────────────────────────────────────────

/** Equal-width bins of a numeric column's chart (fixed, so the report's size does not grow with rows). */
export const HISTOGRAM_BINS = 20;

/**
 * Categories charted one by one (the most common over both windows); the rest are pooled into
 * one last bar. Numeric columns with at most this many distinct values are charted per value.
 */
export const MAX_CATEGORIES = 20;

/** Values counted per window, missing ones excluded (their share is in the column's drift). */
export interface DistributionSizes {
  readonly reference: number;
  readonly current: number;
}

/** A numeric column with many distinct values: shares of shared equal-width bins. */
export interface HistogramDistribution {
  readonly type: "histogram";
  /**
   * The bins' edges, increasing (bins + 1 of them): bin i holds edges[i] <= v < edges[i+1], the
   * last bin is closed. Empty when neither window has a value.
   */
  readonly edges: readonly number[];
  /** Share of each window's values per bin (all 0 for a window without values). */
  readonly reference: readonly number[];
  readonly current: readonly number[];
  readonly sizes: DistributionSizes;
}

/** A categorical column, or a numeric one with few distinct values: shares per value. */
export interface CategoryDistribution {
  readonly type: "categories";
  /**
   * Categorical columns: the most common categories first (by reference share + current share);
   * when there were more than {@link MAX_CATEGORIES}, the last entry pools the rest and is
   * labelled "other (N)". Numeric columns: the values in increasing order.
   */
  readonly categories: readonly string[];
  readonly reference: readonly number[];
  readonly current: readonly number[];
  /** How many categories the last entry pools; 0 when none was pooled. */
  readonly pooled: number;
  readonly sizes: DistributionSizes;
}

/**
 * What the report draws for one column, aggregated so that its size depends on the number of
 * bins, never on the number of rows; plain arrays, so it can be stored as JSON beside the result.
 */
export type FeatureDistribution = HistogramDistribution | CategoryDistribution;

/**
 * The chart data of every schema column, from the same windows `detectDrift` takes (missing
 * values dropped the same way; a column absent from a window or of the wrong type is an error).
 * Numeric columns with more than {@link MAX_CATEGORIES} distinct values get
 * {@link HISTOGRAM_BINS} equal-width bins over the range of both windows together; other
 * columns get shares per value.
 *
 * @example featureDistributions([{ name: "housing", kind: "categorical" }],
 *   { housing: ["own", "rent"] }, { housing: ["own", null] })
 * // { housing: { type: "categories", categories: ["own", "rent"], reference: [0.5, 0.5],
 * //   current: [1, 0], pooled: 0, sizes: { reference: 2, current: 1 } } }
 */
export function featureDistributions(
  schema: readonly ColumnSchema[],
  reference: DriftFrame,
  current: DriftFrame,
): Record<string, FeatureDistribution> {
  // fromEntries defines own properties, so even a column named "__proto__" is an ordinary key.
  return Object.fromEntries(
    schema.map((column) => {
      const ref = dropMissing(column, frameColumn(reference, column, "reference"), "reference");
      const cur = dropMissing(column, frameColumn(current, column, "current"), "current");
      const distribution =
        ref.sample.kind === "numeric" && cur.sample.kind === "numeric"
          ? numericDistribution(ref.sample.values, cur.sample.values)
          : categoryDistribution(
              ref.sample.values as readonly string[],
              cur.sample.values as readonly string[],
            );
      return [column.name, distribution];
    }),
  );
}

function frameColumn(
  frame: DriftFrame,
  column: ColumnSchema,
  side: string,
): NumericValues | CategoricalValues {
  const values = Object.hasOwn(frame, column.name) ? frame[column.name] : undefined;
  if (values === undefined || !(Array.isArray(values) || values instanceof Float64Array)) {
    throw new AppError("INVALID_ARGUMENT", `the ${side} data has no column "${column.name}"`);
  }
  return values;
}

/** Shares of `counts` over `keys`, or zeros for a window without values. */
function sharesOf<K>(keys: readonly K[], counts: ReadonlyMap<K, number>, n: number): number[] {
  return keys.map((k) => (n === 0 ? 0 : (counts.get(k) ?? 0) / n));
}

/** The distinct values of both windows, or null as soon as there are more than `max`. */
function fewDistinct(a: Float64Array, b: Float64Array, max: number): number[] | null {
  const seen = new Set<number>();
  for (const values of [a, b]) {
    for (const v of values) {
      seen.add(v);
      if (seen.size > max) return null;
    }
  }
  return [...seen].sort((x, y) => x - y);
}

function numericDistribution(ref: Float64Array, cur: Float64Array): FeatureDistribution {
  const sizes = { reference: ref.length, current: cur.length };
  const distinct = fewDistinct(ref, cur, MAX_CATEGORIES);
  if (distinct !== null && distinct.length > 0) {
    const refCounts = valueCounts(ref);
    const curCounts = valueCounts(cur);
    return {
      type: "categories",
      categories: distinct.map((v) => formatNumber(v, decimalsOf(v))),
      reference: sharesOf(distinct, refCounts, ref.length),
      current: sharesOf(distinct, curCounts, cur.length),
      pooled: 0,
      sizes,
    };
  }
  if (distinct !== null) return { type: "histogram", edges: [], reference: [], current: [], sizes };
  let lo = Infinity;
  let hi = -Infinity;
  for (const values of [ref, cur]) {
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const step = (hi - lo) / HISTOGRAM_BINS;
  const edges = Float64Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + i * step);
  edges[HISTOGRAM_BINS] = hi;
  const shares = (values: Float64Array) =>
    values.length === 0
      ? new Array<number>(HISTOGRAM_BINS).fill(0)
      : Array.from(histogramShares(values, edges));
  return {
    type: "histogram",
    edges: Array.from(edges),
    reference: shares(ref),
    current: shares(cur),
    sizes,
  };
}

/** Decimals that show a value of a discrete numeric column exactly (up to 6). */
function decimalsOf(v: number): number {
  for (let d = 0; d < 6; d++) if (Number(v.toFixed(d)) === v) return d;
  return 6;
}

function categoryDistribution(
  ref: readonly string[],
  cur: readonly string[],
): CategoryDistribution {
  const refCounts = valueCounts(ref) as Map<string, number>;
  const curCounts = valueCounts(cur) as Map<string, number>;
  const score = (k: string) =>
    (ref.length === 0 ? 0 : (refCounts.get(k) ?? 0) / ref.length) +
    (cur.length === 0 ? 0 : (curCounts.get(k) ?? 0) / cur.length);
  const ranked = unionKeys(refCounts, curCounts).sort(
    (a, b) => score(b) - score(a) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const kept = ranked.slice(0, MAX_CATEGORIES);
  const rest = ranked.slice(MAX_CATEGORIES);
  const reference = sharesOf(kept, refCounts, ref.length);
  const current = sharesOf(kept, curCounts, cur.length);
  const categories = [...kept];
  if (rest.length > 0) {
    const pooledShare = (shares: number[], n: number) =>
      n === 0 ? 0 : Math.max(0, 1 - shares.reduce((a, s) => a + s, 0));
    categories.push(`other (${rest.length})`);
    reference.push(pooledShare(reference, ref.length));
    current.push(pooledShare(current, cur.length));
  }
  return {
    type: "categories",
    categories,
    reference,
    current,
    pooled: rest.length,
    sizes: { reference: ref.length, current: cur.length },
  };
}

// ─────────────────────────────────────────── report ───────────────────────────────────────────

/** Everything the report shows; all but the title, time, data drift and charts are optional. */
export interface DriftReportInput {
  readonly title: string;
  /** When the report was made, in ms since the epoch (shown in UTC). */
  readonly generatedAt: number;
  readonly model?: { readonly name: string; readonly version: number | string } | null;
  /** The current window as the drift-report flow gives it (ISO times). */
  readonly window?: {
    readonly since: string | null;
    readonly until: string;
    readonly widenedToLatest: boolean;
  };
  /** Null when there was nothing to compare with (the reason belongs in `notes`). */
  readonly dataDrift: DatasetDrift | null;
  /** The model's probability of bad, current vs reference; its chart is `distributions[column]`. */
  readonly predictionDrift?: ColumnDrift | null;
  /** Shown when given (with its notes only when no outcome is known yet). */
  readonly quality?: QualityReport | null;
  /** Shown when given. */
  readonly fairness?: readonly FairnessComparison[];
  readonly notes?: readonly string[];
  /** Chart data by column name (from {@link featureDistributions}); columns without one get no chart. */
  readonly distributions: Readonly<Record<string, FeatureDistribution>>;
}

/** Size of each feature chart, in SVG user units (CSS scales them to the grid). */
const SMALL = { width: 420, height: 280 } as const;
/** The prediction chart, drawn alone and wider. */
const WIDE = { width: 640, height: 340 } as const;
/** Confusion matrices and the ROC curve: tall enough for the matrix cells' text. */
const QUALITY_CHART = { width: 420, height: 380 } as const;

/** Most points of the ROC curve drawn: it is thinned to steps of 1/ROC_STEPS in FPR + TPR. */
const ROC_STEPS = 200;

/**
 * The report as one HTML document. Size and rendering time depend on the number of columns and
 * bins, not on the number of rows behind the distributions.
 *
 * @example renderDriftReportHtml({ title: "Drift", generatedAt: Date.now(), dataDrift: result,
 *   distributions: featureDistributions(schema, reference, current) }) // "<!DOCTYPE html>…"
 */
export function renderDriftReportHtml(input: DriftReportInput): string {
  if (!Number.isFinite(input.generatedAt)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `generatedAt must be a time in ms, got ${input.generatedAt}`,
    );
  }
  const generated = new Date(input.generatedAt).toISOString();
  const columns = input.dataDrift ? orderedColumns(input.dataDrift.columns) : [];
  const sections: { id: string; title: string; body: string }[] = [
    { id: "summary", title: "Summary", body: summary(input) },
  ];
  if (input.dataDrift) {
    sections.push(
      { id: "columns", title: "Columns", body: columnTable(input.dataDrift, columns) },
      { id: "features", title: "Reference vs current", body: featureCharts(columns, input) },
    );
  }
  if (input.predictionDrift) {
    sections.push({
      id: "prediction",
      title: "Prediction drift",
      body: predictionSection(input.predictionDrift, input.distributions),
    });
  }
  if (input.quality) {
    sections.push({
      id: "quality",
      title: "Quality on known outcomes",
      body: quality(input.quality),
    });
  }
  if (input.fairness) {
    sections.push({ id: "fairness", title: "Fairness", body: fairness(input.fairness) });
  }
  if (input.notes && input.notes.length > 0) {
    sections.push({ id: "notes", title: "Notes", body: list(input.notes) });
  }
  const nav = sections.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join("");
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8"/>',
    // Defence in depth: even a reference that slipped into the markup could load nothing.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    '<meta name="generator" content="Riskometer"/>',
    `<title>${esc(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    header(input, generated),
    `<nav aria-label="Sections"><ul>${nav}</ul></nav>`,
    "<main>",
    ...sections.map(
      (s) =>
        `<section id="${s.id}" aria-labelledby="${s.id}-title">\n<h2 id="${s.id}-title">${esc(s.title)}</h2>\n${s.body}\n</section>`,
    ),
    "</main>",
    `<footer><p>Generated by Riskometer at ${esc(generated)}. Self-contained: no scripts and no external resources. Charts show aggregated shares (bins and categories), so the size of this file does not depend on the number of rows.</p></footer>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

// ─────────────────────────────────────── sections ─────────────────────────────────────────────

function header(input: DriftReportInput, generated: string): string {
  const facts: [string, string][] = [];
  if (input.model) {
    facts.push(["Model", `${esc(input.model.name)} version ${esc(String(input.model.version))}`]);
  }
  if (input.window) {
    const w = input.window;
    const span =
      w.since === null
        ? `the latest decisions up to ${esc(w.until)}`
        : `${esc(w.since)} → ${esc(w.until)}`;
    const widened = w.widenedToLatest
      ? " (the window held too few decisions, so the latest ones were used)"
      : "";
    facts.push(["Window", span + widened]);
  }
  facts.push(["Generated", `${esc(generated)}`]);
  return `<header>\n<h1>${esc(input.title)}</h1>\n${definitions(facts)}\n</header>`;
}

function summary(input: DriftReportInput): string {
  const d = input.dataDrift;
  const prediction = input.predictionDrift;
  const predictionText = prediction
    ? `${badge(prediction)} ${esc(testSentence(prediction))}`
    : "not computed";
  if (!d) {
    return [
      `<p class="verdict verdict-none"><strong>No data-drift result</strong></p>`,
      definitions([["Prediction drift", predictionText]]),
      `<p>There was nothing to compare the current data with${input.notes?.length ? " (see the notes)" : ""}.</p>`,
    ].join("\n");
  }
  const drifted = d.columns.filter((c) => c.drift).map((c) => c.column);
  const missingRose = d.columns.filter((c) => c.missing.drift).map((c) => c.column);
  const skipped = d.columns.filter((c) => c.skipped !== undefined).map((c) => c.column);
  const verdict = d.datasetDrift
    ? `<p class="verdict verdict-drift"><strong>Dataset drift</strong>: ${d.driftedColumns} of ${d.countedColumns} tested columns drifted</p>`
    : `<p class="verdict verdict-ok"><strong>No dataset drift</strong>: ${d.driftedColumns} of ${d.countedColumns} tested columns drifted</p>`;
  const facts: [string, string][] = [
    [
      "Drift share",
      `${pct(d.driftShare)} of tested columns (the dataset counts as drifted from ${pct(d.shareThreshold)})`,
    ],
    ["Drifted columns", drifted.length === 0 ? "none" : namesList(drifted)],
    ["Missing values rose", missingRose.length === 0 ? "in no column" : namesList(missingRose)],
    ["Prediction drift", predictionText],
  ];
  if (skipped.length > 0) facts.push(["Not tested (no values)", namesList(skipped)]);
  return [
    verdict,
    definitions(facts),
    `<h3>What this means</h3>`,
    meaning(d, drifted, missingRose),
  ].join("\n");
}

function meaning(d: DatasetDrift, drifted: string[], missingRose: string[]): string {
  const parts: string[] = [];
  if (d.datasetDrift) {
    parts.push(
      `${drifted.length} of ${d.countedColumns} columns now follow a different distribution than the reference (the data the model was trained on): at least the ${pct(d.shareThreshold)} that marks the dataset as drifted. The model is scoring applicants unlike those it learned from, so its quality may change before outcomes show it. Look at the drifted columns' charts to see what changed, check the quality section as outcomes arrive, and consider retraining on recent data.`,
    );
  } else if (drifted.length > 0) {
    parts.push(
      `${drifted.length} of ${d.countedColumns} columns changed, fewer than the ${pct(d.shareThreshold)} that marks the dataset as drifted. Watch them: one changed column still matters if the model relies on it.`,
    );
  } else {
    parts.push(
      "No tested column differs from the reference by more than its test's threshold: the current data looks like the data the model was trained on.",
    );
  }
  if (missingRose.length > 0) {
    parts.push(
      `The share of missing values rose in ${missingRose.length} column${missingRose.length === 1 ? "" : "s"}: check the data feed.`,
    );
  }
  parts.push(
    "With many rows a p-value test flags even a tiny difference, so read the effect size beside each p-value (near 0 means a small difference).",
  );
  return parts.map((p) => `<p>${esc(p)}</p>`).join("\n");
}

/** Drifted columns first, then those whose missing share rose, then the rest; skipped last. */
function orderedColumns(columns: readonly ColumnDrift[]): ColumnDrift[] {
  const rank = (c: ColumnDrift) =>
    c.drift ? 0 : c.missing.drift ? 1 : c.skipped !== undefined ? 3 : 2;
  return [...columns].sort((a, b) => rank(a) - rank(b));
}

function columnTable(d: DatasetDrift, columns: readonly ColumnDrift[]): string {
  const head = [
    "Column",
    "Kind",
    "Test",
    "Statistic",
    "p-value",
    "Threshold",
    "Effect size",
    "Missing ref → cur",
    "Verdict",
  ];
  const rows = columns.map(
    (c) =>
      `<tr${c.drift ? ' class="drifted"' : ""}><th scope="row">${esc(c.column)}</th><td>${c.kind}</td><td>${testCell(c)}</td><td class="num">${number(c.statistic)}</td><td class="num">${number(c.pValue)}</td><td class="num">${esc(ruleText(c.test, c.threshold))}</td><td class="num">${effectText(c.effectSize)}</td><td class="num">${missingText(c)}</td><td>${badge(c)}</td></tr>`,
  );
  return table(`${d.columns.length} columns, drifted ones first`, head, rows, {
    numeric: [3, 4, 5, 6, 7],
    note: "The test each column's size and kind calls for (or an override), its statistic, p-value (p-value tests only), the rule that means drift, the effect size, and the share of missing values in the reference and current data.",
  });
}

function featureCharts(columns: readonly ColumnDrift[], input: DriftReportInput): string {
  const figures: string[] = [];
  const withoutChart: string[] = [];
  for (const c of columns) {
    const dist = distributionOf(input.distributions, c.column);
    if (dist) figures.push(figure(c, dist));
    else withoutChart.push(c.column);
  }
  const out = [
    `<p>Share of rows per bin or category, reference (blue) against current (vermillion), among the rows with a value: missing values are left out and their shares shown in the caption.</p>`,
    `<div class="grid">\n${figures.join("\n")}\n</div>`,
  ];
  if (withoutChart.length > 0) {
    out.push(
      `<p class="muted">No chart for ${namesList(withoutChart)} (no distribution given).</p>`,
    );
  }
  return out.join("\n");
}

function figure(c: ColumnDrift, dist: FeatureDistribution): string {
  const caption = `<strong>${esc(c.column)}</strong> ${badge(c)} ${esc(testSentence(c))}; missing ${missingText(c)}`;
  return `<figure class="chart${c.drift ? " drifted" : ""}">${distributionChart(c.column, dist)}<figcaption>${caption}</figcaption></figure>`;
}

function predictionSection(
  p: ColumnDrift,
  distributions: Readonly<Record<string, FeatureDistribution>>,
): string {
  const dist = distributionOf(distributions, p.column);
  const facts: [string, string][] = [
    ["Verdict", `${badge(p)} ${esc(testSentence(p))}`],
    ["Effect size", effectText(p.effectSize)],
    ["Values compared", `reference ${count(p.sizes.reference)}, current ${count(p.sizes.current)}`],
  ];
  return [
    `<p>The model's output (${esc(p.column)}) on the current data against its output on the reference data. A shift means the model approves or refuses in different proportions, even when each input column alone looks stable.</p>`,
    definitions(facts),
    dist
      ? `<figure class="chart wide${p.drift ? " drifted" : ""}">${distributionChart(p.column, dist, WIDE)}</figure>`
      : "",
  ]
    .filter((s) => s !== "")
    .join("\n");
}

function quality(q: QualityReport): string {
  const out: string[] = [
    definitions([
      [
        "Decisions with a known outcome",
        `${count(q.rows)} (bad ${count(q.bad)}, good ${count(q.good)})`,
      ],
      ["ROC AUC", q.rocAuc === null ? "—" : formatNumber(q.rocAuc, 3)],
      ["Log loss", q.logLoss === null ? "—" : formatNumber(q.logLoss, 4)],
    ]),
  ];
  if (q.notes.length > 0) out.push(list(q.notes));
  if (q.rows === 0) return out.join("\n");
  const cutName = (c: QualityAtCut, i: number) =>
    `p(bad) ≥ ${formatNumber(c.cut, 2)}${i > 0 ? " (model threshold)" : ""}`;
  const cutCaption = (i: number) =>
    i > 0 ? "At the model's own decision threshold." : "At the default cut.";
  const metric = (label: string, get: (c: QualityAtCut) => number | null) =>
    `<tr><th scope="row">${label}</th>${q.atCuts.map((c) => `<td class="num">${share(get(c))}</td>`).join("")}</tr>`;
  out.push(
    table(
      "Figures at each cut (positive = bad)",
      ["Figure", ...q.atCuts.map(cutName)],
      [
        metric("Accuracy", (c) => c.accuracy),
        metric("Precision", (c) => c.precision),
        metric("Recall (TPR)", (c) => c.recall),
        metric("F1", (c) => c.f1),
        metric("TNR", (c) => c.tnr),
        metric("FPR", (c) => c.fpr),
        metric("FNR", (c) => c.fnr),
      ],
      { numeric: q.atCuts.map((_, i) => i + 1), compact: true },
    ),
  );
  const charts = q.atCuts.map(
    (c, i) =>
      `<figure class="chart">${inlineSvg(
        confusionMatrixChart({
          matrix: c.confusion,
          title: `Confusion matrix, p(bad) ≥ ${formatNumber(c.cut, 2)}`,
          ...QUALITY_CHART,
        }),
      )}<figcaption>${cutCaption(i)}</figcaption></figure>`,
  );
  if (q.roc.length > 0) {
    const auc = q.rocAuc === null ? "" : ` (AUC = ${formatNumber(q.rocAuc, 3)})`;
    charts.push(
      `<figure class="chart">${inlineSvg(
        lineChart({
          title: "ROC curve",
          xLabel: "False positive rate",
          yLabel: "True positive rate",
          series: [
            {
              name: `Model${auc}`,
              points: thinCurve(q.roc.map((r) => [r.fpr, r.tpr] as const)),
              colour: PALETTE.bad,
            },
          ],
          xDomain: [0, 1],
          yDomain: [0, 1],
          diagonal: "Chance (AUC = 0.500)",
          ...QUALITY_CHART,
        }),
      )}<figcaption>Bad rows caught against good rows flagged, over every cut.</figcaption></figure>`,
    );
  }
  out.push(`<div class="grid">\n${charts.join("\n")}\n</div>`);
  if (q.topShares.length > 0) {
    out.push(
      table(
        "The riskiest rows: what the top 5 %, 10 % … catch",
        ["Top share", "Rows", "p(bad) from", "TP", "FP", "Precision", "Recall", "Lift"],
        q.topShares.map(
          (t) =>
            `<tr><th scope="row">${pct(t.share, 0)}</th><td class="num">${count(t.count)}</td><td class="num">${formatNumber(t.probabilityCut, 3)}</td><td class="num">${count(t.tp)}</td><td class="num">${count(t.fp)}</td><td class="num">${share(t.precision)}</td><td class="num">${share(t.recall)}</td><td class="num">${t.lift === null ? "—" : formatNumber(t.lift, 2)}</td></tr>`,
        ),
        { numeric: [1, 2, 3, 4, 5, 6, 7], compact: true },
      ),
    );
  }
  return out.join("\n");
}

function fairness(comparisons: readonly FairnessComparison[]): string {
  if (comparisons.length === 0) return "<p>No fairness comparison was made.</p>";
  const intro = `<p>Approval-rate ratio: the group's approval rate ÷ the reference group's (1 is parity; below 0.8 fails the four-fifths rule). Equal-opportunity difference: the share of creditworthy applicants approved in the group minus that in the reference group (0 is parity). Groups with fewer than ${SMALL_GROUP} decisions are flagged small.</p>`;
  return [intro, ...comparisons.map(comparison)].join("\n");
}

function comparison(f: FairnessComparison): string {
  const row = (g: GroupStats, role: string) =>
    `<tr><th scope="row">${esc(g.group)} <span class="muted">(${role})</span>${g.small ? ' <span class="badge warn">small group</span>' : ""}</th><td class="num">${count(g.decisions)}</td><td class="num">${count(g.approved)}</td><td class="num">${share(g.approvalRate)}</td><td class="num">${count(g.goodOutcomes)}</td><td class="num">${share(g.truePositiveRate)}</td></tr>`;
  const ratio =
    f.approvalRateRatio === null
      ? "—"
      : `${formatNumber(f.approvalRateRatio, 3)} ${
          f.approvalRateRatio < 0.8
            ? '<span class="badge drift">below 0.8</span>'
            : '<span class="badge ok">0.8 or above</span>'
        }`;
  const eod =
    f.equalOpportunityDifference === null ? "—" : formatSigned(f.equalOpportunityDifference);
  // Reports stored before specs named their attributes by column only.
  const label = f.label ?? f.attribute;
  const warnings = [f.group, f.reference]
    .filter((g) => g.small)
    .map(
      (g) =>
        `The group ${g.group} (${label}) has ${g.decisions} decision${g.decisions === 1 ? "" : "s"} (fewer than ${SMALL_GROUP}): read its rates with care.`,
    );
  return [
    `<h3>${esc(label)}: ${esc(f.group.group)} vs ${esc(f.reference.group)}</h3>`,
    table(
      `Decisions by ${label}`,
      [
        "Group",
        "Decisions",
        "Approved",
        "Approval rate",
        "Known good outcomes",
        "Of those approved",
      ],
      [row(f.group, "group"), row(f.reference, "reference")],
      { numeric: [1, 2, 3, 4, 5], compact: true },
    ),
    definitions([
      ["Approval-rate ratio", ratio],
      ["Equal-opportunity difference", eod],
    ]),
    [...warnings, ...f.why].length > 0 ? list([...warnings, ...f.why]) : "",
  ]
    .filter((s) => s !== "")
    .join("\n");
}

// ──────────────────────────────────────────── charts ──────────────────────────────────────────

function distributionOf(
  distributions: Readonly<Record<string, FeatureDistribution>>,
  column: string,
): FeatureDistribution | undefined {
  return Object.hasOwn(distributions, column) ? distributions[column] : undefined;
}

function distributionChart(
  column: string,
  d: FeatureDistribution,
  size: { readonly width: number; readonly height: number } = SMALL,
): string {
  if (d.type === "histogram") return inlineSvg(binnedHistogram(column, d, size));
  return inlineSvg(
    categoryComparisonChart({
      title: column,
      categories: d.categories,
      series: [
        { name: `Reference (n = ${count(d.sizes.reference)})`, shares: d.reference },
        { name: `Current (n = ${count(d.sizes.current)})`, shares: d.current },
      ],
      ...size,
    }),
  );
}

/**
 * Overlaid histograms from bin shares, styled as the chart module's `histogramChart` (which bins
 * raw values itself; the report only has the aggregates).
 */
function binnedHistogram(
  column: string,
  d: HistogramDistribution,
  size: { readonly width: number; readonly height: number },
): string {
  const series = [
    { name: `Reference (n = ${count(d.sizes.reference)})`, shares: d.reference },
    { name: `Current (n = ${count(d.sizes.current)})`, shares: d.current },
  ];
  const items: LegendItem[] = series.map((s, i) => ({
    label: s.name,
    colour: seriesColour(i),
    symbol: "box",
  }));
  const maxShare = Math.max(0, ...d.reference, ...d.current) || 1;
  // As the chart module's category charts say; missing values are left out of both.
  const yTitle = "Share of rows";
  const probe = linearScale(0, maxShare, [1, 0]);
  const { area, frame } = layout(
    size,
    column,
    items,
    {
      left: leftAxisWidth(probe, { title: yTitle, format: percentFormat(probe) }),
      bottom: bottomAxisHeight(),
    },
    "",
  );
  const bins = d.edges.length - 1;
  if (bins < 1) {
    const desc = `Histogram of ${column}: no values in either window.`;
    const body = [...frame, emptyMessage(area, "No values to plot")];
    return svgDocument({ ...size, title: column, desc, body });
  }
  const lo = d.edges[0];
  const hi = d.edges[bins];
  // More than MAX_CATEGORIES distinct values, so lo < hi: the scale is never degenerate.
  const x = linearScale(lo, hi, [area.left, area.left + area.width], { nice: false });
  const y = linearScale(0, maxShare, [area.top + area.height, area.top]);
  const body: string[] = [
    ...frame,
    leftAxis(y, area, { title: yTitle, grid: true, format: percentFormat(y) }),
    bottomAxis(x, area),
  ];
  series.forEach((s, i) => {
    const colour = seriesColour(i);
    const rects: string[] = [];
    let outline = `M${coord(x.map(lo))},${coord(y.map(0))}`;
    s.shares.forEach((v, b) => {
      const x0 = x.map(d.edges[b]);
      const x1 = x.map(d.edges[b + 1]);
      outline += `V${coord(y.map(v))}H${coord(x1)}`;
      if (v > 0) {
        const range = `${formatNumber(d.edges[b])} to ${formatNumber(d.edges[b + 1])}`;
        rects.push(
          el(
            "rect",
            {
              x: x0,
              y: y.map(v),
              width: Math.max(0.5, x1 - x0),
              height: y.map(0) - y.map(v),
              fill: colour,
              "fill-opacity": 0.35,
            },
            tooltip(`${s.name}, ${range}: ${formatPercent(v)}`),
          ),
        );
      }
    });
    outline += `V${coord(y.map(0))}`;
    body.push(
      el(
        "g",
        { class: "series" },
        ...rects,
        el("path", { d: outline, fill: "none", stroke: colour, "stroke-width": 1.5 }),
      ),
    );
  });
  const described = series.map((s, i) => {
    const n = i === 0 ? d.sizes.reference : d.sizes.current;
    if (n === 0) return `${s.name}: no values.`;
    let mean = 0;
    s.shares.forEach((v, b) => (mean += v * ((d.edges[b] + d.edges[b + 1]) / 2)));
    return `${s.name}: mean about ${formatNumber(mean)}.`;
  });
  const desc = [
    `Histogram of ${column}: share of values in ${bins} equal-width bins from ${formatNumber(lo)} to ${formatNumber(hi)}, reference against current.`,
    ...described,
  ].join(" ");
  return svgDocument({ ...size, title: column, desc, body });
}

/**
 * A monotone curve (ROC) with at most about 2 × {@link ROC_STEPS} points: a point is kept once
 * the path has moved 1/ROC_STEPS (in x + y) since the last kept one; the ends are always kept.
 */
export function thinCurve(
  points: readonly (readonly [number, number])[],
): (readonly [number, number])[] {
  if (points.length <= 2) return [...points];
  const kept = [points[0]];
  for (let i = 1; i < points.length - 1; i++) {
    const last = kept[kept.length - 1];
    const moved = Math.abs(points[i][0] - last[0]) + Math.abs(points[i][1] - last[1]);
    if (moved >= 1 / ROC_STEPS) kept.push(points[i]);
  }
  kept.push(points[points.length - 1]);
  return kept;
}

/**
 * A chart for inline use in HTML: the SVG namespace is implied there, so the `xmlns` attribute
 * (the report's only URL) is dropped and the file references no address at all.
 */
function inlineSvg(svg: string): string {
  return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "").trimEnd();
}

// ──────────────────────────────────────── small pieces ────────────────────────────────────────

/** Escapes text for HTML content and quoted attributes. */
const esc = escapeXml;

function badge(c: ColumnDrift): string {
  const main =
    c.skipped !== undefined
      ? `<span class="badge muted" title="${esc(c.skipped)}">skipped</span>`
      : c.drift
        ? '<span class="badge drift">drift</span>'
        : '<span class="badge ok">no drift</span>';
  return c.missing.drift
    ? `${main} <span class="badge warn" title="the share of missing values rose">missing ↑</span>`
    : main;
}

function testCell(c: ColumnDrift): string {
  const test =
    c.test === null ? `skipped: ${esc(c.skipped ?? "")}` : esc(DRIFT_TESTS[c.test].label);
  return c.note === undefined ? test : `${test}<br/><span class="muted">${esc(c.note)}</span>`;
}

/** "KS: p = 0.0123 (drift when p ≤ 0.05)", "Jensen–Shannon distance: 0.2 (drift when d ≥ 0.1)". */
function testSentence(c: ColumnDrift): string {
  if (c.test === null) return `not tested: ${c.skipped ?? ""}`;
  const info = DRIFT_TESTS[c.test];
  const score = info.score === "p_value" ? `p = ${number(c.pValue)}` : `d = ${number(c.statistic)}`;
  return `${info.label}: ${score} (drift when ${ruleText(c.test, c.threshold)})`;
}

/** The drift rule of a test with its threshold, as `drift.ts` applies it. */
function ruleText(test: DriftTestName | null, threshold: number | null): string {
  if (test === null || threshold === null) return "—";
  const t = String(Number(threshold.toPrecision(6)));
  if (DRIFT_TESTS[test].score === "distance") return `d ≥ ${t}`;
  return test === "ks" ? `p ≤ ${t}` : `p < ${t}`;
}

const EFFECT_NAMES: Record<EffectSize["measure"], string> = {
  ks_d: "KS D",
  cramers_v: "Cramér's V",
  cohens_h: "Cohen's h",
};

function effectText(e: EffectSize | null): string {
  return e === null
    ? "—"
    : `${formatNumber(e.value, 3)} <span class="muted">${esc(EFFECT_NAMES[e.measure])}</span>`;
}

function missingText(c: ColumnDrift): string {
  return `${pct(c.missing.reference)} → ${pct(c.missing.current)}`;
}

/** A statistic or p-value: 4 decimals, tiny values in exponent form, ∞ for a new category. */
function number(x: number | null): string {
  if (x === null || Number.isNaN(x)) return "—";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  return formatNumber(x, 4);
}

function formatSigned(x: number): string {
  return `${x > 0 ? "+" : x < 0 ? "−" : ""}${formatNumber(Math.abs(x), 3)}`;
}

function pct(x: number, decimals = 1): string {
  return formatPercent(x, decimals);
}

function share(x: number | null): string {
  return x === null ? "—" : pct(x);
}

function count(n: number): string {
  return formatNumber(n, 0);
}

function namesList(names: readonly string[]): string {
  return names.map((n) => `<code>${esc(n)}</code>`).join(", ");
}

/** A definition list; the values are markup (callers escape their data). */
function definitions(facts: readonly [string, string][]): string {
  return `<dl>${facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join("")}</dl>`;
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
}

interface TableOptions {
  /** Indexes of the columns holding numbers: their headers are right-aligned like the cells. */
  readonly numeric?: readonly number[];
  /** As wide as the content rather than the page (short tables of figures). */
  readonly compact?: boolean;
  /** A sentence above the table saying what it holds. */
  readonly note?: string;
}

/** A table with column headers; `rows` are complete `<tr>` markup. */
function table(
  caption: string,
  head: readonly string[],
  rows: readonly string[],
  options: TableOptions = {},
): string {
  const th = head
    .map(
      (h, i) =>
        `<th scope="col"${options.numeric?.includes(i) ? ' class="num"' : ""}>${esc(h)}</th>`,
    )
    .join("");
  const described = options.note === undefined ? "" : `<p class="muted">${esc(options.note)}</p>`;
  const cls = options.compact ? ' class="compact"' : "";
  return `${described}<div class="table-wrap"><table${cls}><caption>${esc(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`;
}

// The project's palette (web/app.css): text colours at least 4.5:1 on their backgrounds. No "<"
// or "&" in here, so the document stays well-formed XML.
const STYLE = `
:root{--bg:#f3f5f8;--surface:#fff;--text:#1a2332;--muted:#4f5d73;--border:#d3d9e2;--brand:#0f2a4a;
--bad:#a4161a;--bad-bg:#fdf1f1;--bad-border:#eab3b5;--good:#0b6e3d;--good-bg:#edf8f1;--good-border:#a9d9bd;
--warn:#6b4e00;--warn-bg:#fff6d6;--warn-border:#e5c45c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);line-height:1.45;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
header{background:var(--brand);color:#fff;padding:20px 24px}
header h1{margin:0 0 8px;font-size:1.5rem}
header dl{color:#dbe6f5;margin:0}
nav ul{list-style:none;margin:0;padding:8px 24px;display:flex;flex-wrap:wrap;gap:4px 18px;background:var(--surface);border-bottom:1px solid var(--border)}
nav a{color:#1d4f91}
main{max-width:1280px;margin:0 auto;padding:8px 16px 24px}
section{background:var(--surface);border:1px solid var(--border);border-radius:6px;padding:12px 20px 16px;margin:16px 0}
h2{font-size:1.25rem;margin:4px 0 12px}
h3{font-size:1.05rem;margin:16px 0 8px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}
dl div{display:contents}
dt{font-weight:600}
dd{margin:0}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.muted{color:var(--muted)}
.verdict{font-size:1.15rem;padding:10px 14px;border-radius:6px;border:1px solid;margin:4px 0 12px}
.verdict-drift{color:var(--bad);background:var(--bad-bg);border-color:var(--bad-border)}
.verdict-ok{color:var(--good);background:var(--good-bg);border-color:var(--good-border)}
.verdict-none{color:var(--muted);background:#eef1f5;border-color:#cfd6df}
.badge{display:inline-block;padding:0 8px;border:1px solid;border-radius:999px;font-size:.85em;font-weight:600;white-space:nowrap}
.badge.drift{color:var(--bad);background:var(--bad-bg);border-color:var(--bad-border)}
.badge.ok{color:var(--good);background:var(--good-bg);border-color:var(--good-border)}
.badge.warn{color:var(--warn);background:var(--warn-bg);border-color:var(--warn-border)}
.badge.muted{color:#4f5d73;background:#eef1f5;border-color:#cfd6df}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.93rem;margin:8px 0}
table.compact{width:auto;min-width:min(100%,560px)}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{padding:5px 8px;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
thead th{background:#f8f9fb;border-bottom:2px solid #b4bfcd}
tbody th{font-weight:600}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.drifted th{color:var(--bad)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
figure{margin:0;border:1px solid var(--border);border-radius:6px;padding:6px;background:#fff;break-inside:avoid}
figure.drifted{border:2px solid var(--bad)}
figure.wide{max-width:640px}
figure svg{display:block;width:100%;height:auto}
figcaption{font-size:.87rem;padding:4px 2px 0}
footer{color:var(--muted);font-size:.85rem;text-align:center;padding:0 16px 24px}
@media print{
body{background:#fff;font-size:11pt}
header{background:#fff;color:#000;border-bottom:2px solid #000;padding:0 0 8px}
header dl{color:#000}
nav{display:none}
main{max-width:none;padding:0}
section{border:0;padding:0;margin:12px 0}
.table-wrap{overflow:visible}
.grid{grid-template-columns:repeat(2,1fr)}
tr,figure{break-inside:avoid}
}
`;

/** Where a drift report's HTML page is kept in the artifact store. */
export function reportHtmlKey(runId: string): string {
  return `reports/${runId}.html`;
}
