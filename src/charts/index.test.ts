import { describe, expect, it } from "vitest";
import { Rng } from "../core/index.js";
import {
  barChart,
  calibrationChart,
  categoryComparisonChart,
  confusionMatrixChart,
  foldScoresChart,
  histogramChart,
  lineChart,
  rocCurveChart,
} from "./index.js";
import {
  all,
  checkChart,
  drawnText,
  parseXml,
  texts,
  type XmlElement,
} from "./chart-test-support.js";

// ── A realistic example: 600 applicants, 30% bad, a model with AUC around 0.8. ──

function example() {
  const rng = new Rng(7);
  const labels: (0 | 1)[] = [];
  const scores: number[] = [];
  for (let i = 0; i < 600; i++) {
    const bad = rng.next() < 0.3 ? 1 : 0;
    labels.push(bad);
    scores.push(1 / (1 + Math.exp(-(-1.2 + 1.6 * bad + rng.normal()))));
  }
  const ref = Array.from({ length: 500 }, () => Math.exp(7.8 + 0.7 * rng.normal()));
  const cur = Array.from({ length: 200 }, () => Math.exp(8 + 0.75 * rng.normal()));
  return { labels, scores, ref, cur, rng };
}

function allCharts(): Record<string, string> {
  const { labels, scores, ref, cur, rng } = example();
  const folds = Array.from({ length: 10 }, (_, k) => ({
    repeat: Math.floor(k / 5),
    fold: k % 5,
    value: 0.78 + 0.03 * rng.normal(),
  }));
  return {
    roc: rocCurveChart({ scoresBad: scores, labelsBad: labels }),
    calibration: calibrationChart({ probabilities: scores, labelsBad: labels }),
    confusion: confusionMatrixChart({ matrix: { tp: 120, fp: 80, tn: 340, fn: 60 } }),
    importance: barChart({
      title: "Feature importance",
      xLabel: "Mean |SHAP|",
      horizontal: true,
      bars: ["checking_status", "duration", "credit_history", "purpose"].map((label, i) => ({
        label,
        value: 0.4 / (i + 1),
        error: 0.02,
      })),
    }),
    cvBars: barChart({
      title: "ROC AUC per fold",
      xLabel: "Fold",
      yLabel: "ROC AUC",
      bars: folds.slice(0, 5).map((f) => ({ label: `Fold ${f.fold + 1}`, value: f.value })),
    }),
    folds: foldScoresChart({ title: "5×2 CV", metric: "ROC AUC", folds }),
    histogram: histogramChart({
      title: "Credit amount",
      xLabel: "DM",
      series: [
        { name: "Reference", values: ref },
        { name: "Current", values: cur },
      ],
    }),
    categories: categoryComparisonChart({
      title: "Purpose",
      categories: ["new car", "used car", "radio/tv", "education"],
      series: [
        { name: "Reference", shares: [0.3, 0.1, 0.4, 0.2] },
        { name: "Current", shares: [0.25, 0.15, 0.45, 0.15] },
      ],
    }),
    pr: lineChart({
      title: "Precision–recall",
      xLabel: "Recall",
      yLabel: "Precision",
      xDomain: [0, 1],
      yDomain: [0, 1],
      series: [
        {
          name: "Model",
          points: [
            [0, 1],
            [0.5, 0.7],
            [1, 0.3],
          ],
        },
      ],
    }),
  };
}

describe("every chart", () => {
  const charts = allCharts();

  it.each(Object.keys(charts))("%s is a well-formed standalone SVG", (name) => {
    const root = checkChart(charts[name]);
    expect(drawnText(all(root, (e) => e.name === "desc")[0]).length).toBeGreaterThan(20);
  });

  it("is byte-for-byte deterministic", () => {
    expect(allCharts()).toEqual(charts);
  });

  it("escapes the title and keeps the text intact", () => {
    const title = `Risk <&> "quoted" 'single'`;
    const svgs = [
      lineChart({
        title,
        xLabel: title,
        yLabel: title,
        series: [{ name: title, points: [[0, 1]] }],
      }),
      rocCurveChart({ scoresBad: [0.2, 0.8], labelsBad: [0, 1], title }),
      calibrationChart({ probabilities: [0.2], labelsBad: [1], title }),
      confusionMatrixChart({ matrix: { tp: 1, fp: 1, tn: 1, fn: 1 }, title, positiveLabel: title }),
      barChart({ title, xLabel: title, bars: [{ label: title, value: 1 }] }),
      foldScoresChart({ title, metric: title, folds: [{ repeat: 0, fold: 0, value: 1 }] }),
      histogramChart({ title, xLabel: title, series: [{ name: title, values: [1, 2] }] }),
      categoryComparisonChart({
        title,
        categories: [title],
        series: [{ name: title, shares: [1] }],
      }),
    ];
    for (const svg of svgs) {
      expect(svg).toContain("Risk &lt;&amp;&gt; &quot;quoted&quot; &apos;single&apos;");
      const root = checkChart(svg);
      expect(
        drawnText(
          root.children.find((c) => typeof c !== "string" && c.name === "title") as XmlElement,
        ),
      ).toBe(title);
      expect(texts(root)).toContain(title);
    }
  });
});

describe("degenerate inputs give valid SVG without NaN or Infinity", () => {
  const long = "x".repeat(300);
  const cases: Record<string, () => string> = {
    "line: no series": () => lineChart({ title: "", xLabel: "", yLabel: "", series: [] }),
    "line: one point": () =>
      lineChart({
        title: "t",
        xLabel: "x",
        yLabel: "y",
        series: [{ name: "s", points: [[3, 3]] }],
        diagonal: true,
      }),
    "line: all NaN": () =>
      lineChart({
        title: "t",
        xLabel: "x",
        yLabel: "y",
        series: [
          {
            name: "s",
            points: [
              [NaN, 1],
              [1, Infinity],
            ],
          },
        ],
      }),
    "line: equal values, bad domain": () =>
      lineChart({
        title: "t",
        xLabel: "x",
        yLabel: "y",
        xDomain: [1, 1],
        yDomain: [NaN, 0],
        series: [
          {
            name: long,
            points: [
              [2, 2],
              [2, 2],
            ],
          },
        ],
      }),
    "roc: empty": () => rocCurveChart({ scoresBad: [], labelsBad: [] }),
    "roc: all equal scores": () =>
      rocCurveChart({ scoresBad: [0.5, 0.5, 0.5], labelsBad: [1, 0, 1] }),
    "calibration: empty": () => calibrationChart({ probabilities: [], labelsBad: [] }),
    "calibration: all NaN, odd bins": () =>
      calibrationChart({ probabilities: [NaN, NaN], labelsBad: [0, 1], bins: NaN }),
    "calibration: one bin": () =>
      calibrationChart({ probabilities: [0.3, 0.3], labelsBad: [0, 1], bins: 1 }),
    "confusion: long labels": () =>
      confusionMatrixChart({
        matrix: { tp: 1e9, fp: 0.5, tn: 3, fn: 4 },
        positiveLabel: long,
        negativeLabel: "<&>",
      }),
    "bars: empty": () => barChart({ title: "t", xLabel: "x", bars: [], horizontal: true }),
    "bars: all zero": () =>
      barChart({
        title: "t",
        xLabel: "x",
        bars: [
          { label: "a", value: 0 },
          { label: long, value: 0 },
        ],
      }),
    "bars: many long vertical labels": () =>
      barChart({
        title: long,
        xLabel: long,
        yLabel: long,
        bars: Array.from({ length: 80 }, (_, i) => ({
          label: `${long}${i}`,
          value: -i,
          error: NaN,
        })),
      }),
    "bars: NaN only": () =>
      barChart({ title: "t", xLabel: "x", bars: [{ label: "a", value: NaN }], horizontal: true }),
    "folds: empty": () => foldScoresChart({ title: "t", metric: "m", folds: [] }),
    "folds: one, equal, NaN": () =>
      foldScoresChart({
        title: "t",
        metric: "m",
        folds: [
          { repeat: 0, fold: 0, value: 0.5 },
          { repeat: 1, fold: 0, value: NaN },
        ],
      }),
    "folds: many repeats": () =>
      foldScoresChart({
        title: "t",
        metric: "m",
        folds: Array.from({ length: 100 }, (_, k) => ({
          repeat: Math.floor(k / 10),
          fold: k % 10,
          value: 0.7,
        })),
      }),
    "histogram: empty": () => histogramChart({ title: "t", xLabel: "x", series: [] }),
    "histogram: equal values": () =>
      histogramChart({
        title: "t",
        xLabel: "x",
        series: [
          { name: "a", values: [4, 4, 4] },
          { name: "b", values: [] },
        ],
      }),
    "histogram: NaN, bad bins and domain": () =>
      histogramChart({
        title: "t",
        xLabel: "x",
        bins: -3,
        domain: [2, 1],
        series: [{ name: "a", values: [NaN, Infinity] }],
      }),
    "categories: none": () => categoryComparisonChart({ title: "t", categories: [], series: [] }),
    "categories: zeros, long names": () =>
      categoryComparisonChart({
        title: "t",
        categories: [long, "<&>\"'"],
        series: [{ name: long, shares: [0, 0] }],
      }),
  };

  it.each(Object.keys(cases))("%s", (name) => {
    checkChart(cases[name]());
  });

  it("rejects what is not well-formed (the checker itself can fail)", () => {
    expect(() => parseXml("<svg><g></svg>")).toThrow(/closes/);
    expect(() => parseXml(`<svg a="1" a="2"/>`)).toThrow(/duplicate/);
    expect(() => parseXml("<svg>a & b</svg>")).toThrow(/entity/);
    expect(() => parseXml("<svg>a < b</svg>")).toThrow();
    expect(() => parseXml("<svg/><svg/>")).toThrow(/after the root/);
  });
});
