/**
 * Line charts: the general {@link lineChart} and the ROC curve drawn with it.
 */
import { rocAuc, rocCurve } from "../ml/metrics/index.js";
import { finite, extent, labelledRows, sentences } from "./inputs.js";
import { layout, type ChartSizeOptions } from "./layout.js";
import {
  PALETTE,
  bottomAxis,
  bottomAxisHeight,
  chartSize,
  coord,
  el,
  emptyMessage,
  formatNumber,
  leftAxis,
  leftAxisWidth,
  line,
  linearScale,
  seriesColour,
  skippedNote,
  svgDocument,
  tooltip,
  type LegendItem,
  type LinearScale,
} from "./svg.js";

// ───────────────────────────────────────── line chart ─────────────────────────────────────────

export interface LineSeries {
  readonly name: string;
  /** [x, y] pairs drawn in the given order; pairs with a non-finite coordinate are skipped. */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  readonly colour?: string;
}

export interface LineChartOptions extends ChartSizeOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Axis range to show; widened when data fall outside it, so nothing is ever hidden. */
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  /** Draw the y = x reference line; a string names it in the legend (default "y = x"). */
  readonly diagonal?: boolean | string;
}

interface LineChartExtras {
  readonly descPrefix?: string;
  readonly emptyText?: string;
  /** What the caller skipped before building the points, for the description and footnote. */
  readonly note?: string;
}

function axisScale(
  values: number[],
  given: readonly [number, number] | undefined,
  range: [number, number],
): LinearScale {
  const [lo, hi] = extent(values);
  if (given && finite(given[0]) && finite(given[1]) && given[0] < given[1]) {
    const inside = values.length === 0 || (lo >= given[0] && hi <= given[1]);
    return linearScale(Math.min(given[0], lo), Math.max(given[1], hi), range, { nice: !inside });
  }
  return linearScale(lo, hi, range);
}

function renderLineChart(opts: LineChartOptions, extras: LineChartExtras = {}): string {
  const size = chartSize(opts.width, opts.height);
  let skipped = 0;
  const series = opts.series.map((s, i) => {
    const points = s.points.filter((p) => finite(p[0]) && finite(p[1]));
    skipped += s.points.length - points.length;
    return { ...s, points, colour: s.colour ?? seriesColour(i) };
  });
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const diagonalLabel = typeof opts.diagonal === "string" ? opts.diagonal : "y = x";
  const items: LegendItem[] = series.map((s) => ({
    label: s.name,
    colour: s.colour,
    symbol: s.dashed ? "dashed" : "line",
  }));
  if (opts.diagonal)
    items.push({ label: diagonalLabel, colour: PALETTE.reference, symbol: "dashed" });
  const note = sentences(
    extras.note ?? "",
    skippedNote(
      skipped,
      "point with a missing or non-numeric coordinate",
      "points with a missing or non-numeric coordinate",
    ),
  );

  const yProbe = axisScale(ys, opts.yDomain, [0, 1]);
  const { area, frame } = layout(
    size,
    opts.title,
    items,
    {
      left: leftAxisWidth(yProbe, { title: opts.yLabel }),
      bottom: bottomAxisHeight({ title: opts.xLabel }),
    },
    note,
  );
  const x = axisScale(xs, opts.xDomain, [area.left, area.left + area.width]);
  const y = axisScale(ys, opts.yDomain, [area.top + area.height, area.top]);

  const body: string[] = [
    ...frame,
    leftAxis(y, area, { title: opts.yLabel, grid: true }),
    bottomAxis(x, area, { title: opts.xLabel, grid: true }),
  ];
  if (opts.diagonal) {
    const lo = Math.max(x.domain[0], y.domain[0]);
    const hi = Math.min(x.domain[1], y.domain[1]);
    if (lo < hi) {
      body.push(
        line(x.map(lo), y.map(lo), x.map(hi), y.map(hi), PALETTE.reference, {
          "stroke-width": 1.5,
          "stroke-dasharray": "6 5",
        }),
      );
    }
  }
  for (const s of series) {
    const common = { class: "series", stroke: s.colour, "stroke-width": 2.5, fill: "none" };
    const dash = s.dashed ? "6 4" : undefined;
    if (s.points.length === 1) {
      const [px, py] = s.points[0];
      body.push(
        el(
          "circle",
          { class: "series", cx: x.map(px), cy: y.map(py), r: 4, fill: s.colour },
          tooltip(`${s.name}: (${formatNumber(px)}, ${formatNumber(py)})`),
        ),
      );
    } else if (s.points.length > 1) {
      const pts = s.points.map(([px, py]) => `${coord(x.map(px))},${coord(y.map(py))}`).join(" ");
      body.push(
        el(
          "polyline",
          { ...common, points: pts, "stroke-dasharray": dash, "stroke-linejoin": "round" },
          tooltip(s.name),
        ),
      );
    }
  }
  if (xs.length === 0) body.push(emptyMessage(area, extras.emptyText ?? "No data to plot"));

  const described = series.map((s) => {
    if (s.points.length === 0) return `${s.name}: no points.`;
    const [x0, x1] = extent(s.points.map((p) => p[0]));
    const [y0, y1] = extent(s.points.map((p) => p[1]));
    return `${s.name}: ${s.points.length} point${s.points.length === 1 ? "" : "s"}, x from ${formatNumber(x0)} to ${formatNumber(x1)}, y from ${formatNumber(y0)} to ${formatNumber(y1)}.`;
  });
  const desc = sentences(
    extras.descPrefix ?? `Line chart of ${opts.yLabel} against ${opts.xLabel}.`,
    ...described,
    opts.diagonal ? `Dashed diagonal: ${diagonalLabel}.` : "",
    note,
  );
  return svgDocument({ ...size, title: opts.title, desc, body });
}

/**
 * Line chart of one or more series, e.g. precision–recall curves; with `diagonal` it draws the
 * y = x reference of ROC and calibration plots.
 * @example lineChart({ title: "PR", xLabel: "Recall", yLabel: "Precision",
 *   series: [{ name: "GBDT", points: [[0, 1], [0.5, 0.8], [1, 0.3]] }], xDomain: [0, 1] })
 */
export function lineChart(opts: LineChartOptions): string {
  return renderLineChart(opts);
}

// ─────────────────────────────────────────── ROC ──────────────────────────────────────────────

export interface RocCurveChartOptions extends ChartSizeOptions {
  /** Predicted probability of "bad" (or any score where higher means riskier), one per row. */
  readonly scoresBad: ArrayLike<number>;
  /** 1 / true for bad rows, 0 / false for good rows. */
  readonly labelsBad: ArrayLike<number | boolean>;
  /** Default "ROC curve". */
  readonly title?: string;
  /** Legend name of the curve, default "Model". */
  readonly name?: string;
}

/**
 * ROC curve computed from scores and labels, with the chance diagonal and the AUC (3 decimals)
 * in the legend. Rows with a non-finite score or a label other than 0/1/true/false are skipped.
 * The points are `ml/metrics`' `rocCurve` (one per distinct score, tied rows moving together as
 * a diagonal segment) and the AUC its `rocAuc`, so the legend shows the run's own metric.
 * @example rocCurveChart({ scoresBad: [0.9, 0.8, 0.7, 0.6], labelsBad: [1, 0, 1, 0] }) // AUC 0.750
 */
export function rocCurveChart(opts: RocCurveChartOptions): string {
  const n = opts.scoresBad.length;
  const { values: scores, labels } = labelledRows(opts.scoresBad, opts.labelsBad, "scores");
  const points = rocCurve(labels, scores).map((pt): [number, number] => [pt.fpr, pt.tpr]);
  const auc = rocAuc(labels, scores); // NaN when a class is absent
  const bad = labels.reduce<number>((s, l) => s + l, 0);
  const name = opts.name ?? "Model";
  return renderLineChart(
    {
      width: opts.width,
      height: opts.height,
      title: opts.title ?? "ROC curve",
      xLabel: "False positive rate (good rows flagged bad)",
      yLabel: "True positive rate (bad rows caught)",
      series: [
        {
          name: Number.isNaN(auc)
            ? `${name} (AUC n/a: needs both classes)`
            : `${name} (AUC = ${formatNumber(auc, 3)})`,
          points,
          colour: PALETTE.bad,
        },
      ],
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: "Chance (AUC = 0.500)",
    },
    {
      descPrefix: `ROC curve over ${scores.length} rows (${bad} bad, ${scores.length - bad} good), AUC ${Number.isNaN(auc) ? "not computable" : formatNumber(auc, 3)}.`,
      emptyText: "ROC needs both good and bad rows",
      note: skippedNote(
        n - scores.length,
        "row with a missing score or label",
        "rows with a missing score or label",
      ),
    },
  );
}
