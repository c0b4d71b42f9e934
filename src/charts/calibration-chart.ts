/**
 * Reliability diagram of predicted P(bad) against the observed bad rate.
 */
import { calibrationCurve } from "../ml/metrics/index.js";
import { finite, labelledRows, sentences } from "./inputs.js";
import { layout, type ChartSizeOptions } from "./layout.js";
import {
  PALETTE,
  FONT,
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
  textEl,
  textWidth,
  tooltip,
  type LegendItem,
  type PlotArea,
} from "./svg.js";

export interface CalibrationChartOptions extends ChartSizeOptions {
  /** Predicted P(bad) per row; values outside [0, 1] or non-finite are skipped. */
  readonly probabilities: ArrayLike<number>;
  readonly labelsBad: ArrayLike<number | boolean>;
  /** Number of equal-width bins on [0, 1], default 10 (clamped to 1…100). */
  readonly bins?: number;
  /** Default "Calibration (reliability diagram)". */
  readonly title?: string;
  readonly name?: string;
}

/**
 * Reliability diagram: per equal-width probability bin, the mean predicted P(bad) against the
 * observed bad rate (empty bins skipped), the perfect-calibration diagonal and, in a strip below,
 * the number of rows per bin.
 * @example calibrationChart({ probabilities: oofProba, labelsBad: y, bins: 10 })
 */
export function calibrationChart(opts: CalibrationChartOptions): string {
  const n = opts.probabilities.length;
  const rows = labelledRows(
    opts.probabilities,
    opts.labelsBad,
    "probabilities",
    (p) => p >= 0 && p <= 1,
  );
  const used = rows.values.length;
  const nBins = finite(opts.bins) ? Math.min(100, Math.max(1, Math.round(opts.bins))) : 10;
  // The binning of `ml/metrics` (p = 1 in the last bin), shared with the expected calibration error.
  const curve = calibrationCurve(rows.labels, rows.values, nBins);
  const bins = curve.filter((bin) => bin.count > 0);
  const maxCount = Math.max(1, ...curve.map((bin) => bin.count));
  const note = skippedNote(
    n - used,
    "row with a missing or out-of-range probability",
    "rows with a missing or out-of-range probability",
  );
  const size = chartSize(opts.width, opts.height);
  const title = opts.title ?? "Calibration (reliability diagram)";
  const modelColour = seriesColour(0);
  const items: LegendItem[] = [
    { label: opts.name ?? "Model", colour: modelColour, symbol: "line" },
    { label: "Perfect calibration", colour: PALETTE.reference, symbol: "dashed" },
    { label: "Rows per bin", colour: PALETTE.muted, symbol: "box" },
  ];
  const xTitle = "Mean predicted P(bad)";
  const yTitle = "Observed bad rate";
  const probe = linearScale(0, 1, [0, 1], { nice: false });
  const countProbe = linearScale(0, maxCount, [0, 1], { tickCount: 2 });
  const left = Math.max(
    leftAxisWidth(probe, { title: yTitle }),
    leftAxisWidth(countProbe, { title: "Rows" }),
  );
  const { area: outer, frame } = layout(
    size,
    title,
    items,
    { left, bottom: bottomAxisHeight({ title: xTitle }) },
    note,
  );

  // The main plot takes ~78% of the height; the count strip sits under it and shares the x axis.
  const stripHeight = Math.max(30, Math.round(outer.height * 0.2));
  const gap = 12;
  const main: PlotArea = { ...outer, height: Math.max(20, outer.height - stripHeight - gap) };
  const strip: PlotArea = { ...outer, top: main.top + main.height + gap, height: stripHeight };
  const x = linearScale(0, 1, [outer.left, outer.left + outer.width], { nice: false });
  const y = linearScale(0, 1, [main.top + main.height, main.top], { nice: false });
  const yc = linearScale(0, maxCount, [strip.top + strip.height, strip.top + 12], { tickCount: 2 });

  const body: string[] = [...frame, leftAxis(y, main, { title: yTitle, grid: true })];
  for (const v of x.ticks)
    body.push(line(x.map(v), main.top, x.map(v), main.top + main.height, PALETTE.grid));
  body.push(
    line(
      main.left,
      main.top + main.height,
      main.left + main.width,
      main.top + main.height,
      PALETTE.axis,
    ),
  );
  body.push(
    line(x.map(0), y.map(0), x.map(1), y.map(1), PALETTE.reference, {
      "stroke-width": 1.5,
      "stroke-dasharray": "6 5",
    }),
  );
  body.push(leftAxis(yc, strip, { title: "Rows" }), bottomAxis(x, strip, { title: xTitle }));

  const binWidth = outer.width / nBins;
  const bars: string[] = [];
  for (const bin of bins) {
    const x0 = x.map(bin.lower);
    const yTop = yc.map(bin.count);
    const range = `${formatNumber(bin.lower, 2)}–${formatNumber(bin.upper, 2)}`;
    bars.push(
      el(
        "rect",
        {
          class: "bin-count",
          x: x0 + 1,
          y: yTop,
          width: Math.max(1, binWidth - 2),
          height: yc.map(0) - yTop,
          fill: PALETTE.muted,
          "fill-opacity": 0.45,
        },
        tooltip(`P(bad) ${range}: ${bin.count} rows`),
      ),
    );
    const label = String(bin.count);
    if (textWidth(label, FONT.tick) <= binWidth - 2) {
      bars.push(
        textEl(x0 + binWidth / 2, yTop - 3, label, {
          class: "bin-count-label",
          "text-anchor": "middle",
          "font-size": FONT.tick,
          fill: PALETTE.text,
        }),
      );
    }
  }
  body.push(el("g", { class: "bin-counts" }, ...bars));

  if (bins.length > 1) {
    const pts = bins
      .map((bin) => `${coord(x.map(bin.meanPredicted))},${coord(y.map(bin.fractionPositive))}`)
      .join(" ");
    body.push(
      el("polyline", {
        class: "series",
        points: pts,
        stroke: modelColour,
        "stroke-width": 2,
        fill: "none",
        "stroke-linejoin": "round",
      }),
    );
  }
  for (const bin of bins) {
    const r = 3 + 4 * Math.sqrt(bin.count / maxCount); // area grows with the rows in the bin
    const tip = `Mean predicted ${formatNumber(bin.meanPredicted)}, observed bad rate ${formatNumber(bin.fractionPositive)}, ${bin.count} rows`;
    body.push(
      el(
        "circle",
        {
          class: "bin",
          cx: x.map(bin.meanPredicted),
          cy: y.map(bin.fractionPositive),
          r,
          fill: modelColour,
          stroke: "#ffffff",
          "stroke-width": 1,
        },
        tooltip(tip),
      ),
    );
  }
  if (bins.length === 0) body.push(emptyMessage(main, "No rows with a probability in [0, 1]"));

  const listed = bins.map(
    (bin) =>
      `${formatNumber(bin.meanPredicted)} → ${formatNumber(bin.fractionPositive)} (${bin.count} rows)`,
  );
  const desc = sentences(
    `Reliability diagram over ${used} rows in ${nBins} equal-width bins; ${bins.length} non-empty.`,
    bins.length > 0 ? `Mean predicted → observed bad rate per bin: ${listed.join("; ")}.` : "",
    note,
  );
  return svgDocument({ ...size, title, desc, body });
}
