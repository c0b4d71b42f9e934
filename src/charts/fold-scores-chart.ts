/**
 * Cross-validation scores per fold, grouped by repeat, with mean ± SD.
 */
import { finite, extent, sentences } from "./inputs.js";
import { layout, plotLeft, RIGHT, type ChartSizeOptions } from "./layout.js";
import {
  FONT,
  PALETTE,
  categoryAxis,
  categoryAxisLayout,
  chartSize,
  decimalsForStep,
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
} from "./svg.js";

export interface FoldScore {
  /** 0-based repeat index, as in the CV results (shown 1-based). */
  readonly repeat: number;
  /** 0-based fold index within the repeat (shown 1-based). */
  readonly fold: number;
  readonly value: number;
}

export interface FoldScoresChartOptions extends ChartSizeOptions {
  readonly title: string;
  /** Metric name, the y-axis title (e.g. "ROC AUC"). */
  readonly metric: string;
  readonly folds: readonly FoldScore[];
}

/**
 * Cross-validation scores per fold as dots grouped by repeat, the mean as a horizontal line and a
 * ±1 sample-standard-deviation band, with mean ± SD written in the legend.
 * @example foldScoresChart({ title: "5×2 CV", metric: "ROC AUC",
 *   folds: [{ repeat: 0, fold: 0, value: 0.78 }, { repeat: 0, fold: 1, value: 0.8 }] })
 */
export function foldScoresChart(opts: FoldScoresChartOptions): string {
  const size = chartSize(opts.width, opts.height);
  const folds = opts.folds
    .filter((f) => finite(f.value) && finite(f.repeat) && finite(f.fold))
    .sort((a, b) => a.repeat - b.repeat || a.fold - b.fold);
  const note = skippedNote(
    opts.folds.length - folds.length,
    "fold with a missing or non-numeric score",
    "folds with a missing or non-numeric score",
  );
  const values = folds.map((f) => f.value);
  const n = values.length;
  const mean = n ? values.reduce((s, v) => s + v, 0) / n : NaN;
  // Sample SD (n − 1), the convention of `ml`'s summarize(), so chart and run metrics agree.
  const sd = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : NaN;
  const repeats = [...new Set(folds.map((f) => f.repeat))];
  const multi = repeats.length > 1;
  const colourOf = (repeat: number) =>
    multi ? seriesColour(repeats.indexOf(repeat)) : seriesColour(0);

  const [lo, hi] = extent([...values, ...(finite(sd) ? [mean - sd, mean + sd] : [])]);
  const probe = linearScale(lo, hi, [1, 0]);
  // One decimal more than the axis ticks: fold scores differ in the third decimal.
  const decimals = Math.min(6, decimalsForStep(probe.step) + 1);
  const fmt = (v: number) => formatNumber(v, decimals);
  const items: LegendItem[] =
    multi && repeats.length <= 7
      ? repeats.map((r) => ({
          label: `Repeat ${r + 1}`,
          colour: colourOf(r),
          symbol: "dot" as const,
        }))
      : [
          {
            label: multi ? `${repeats.length} repeats` : "Fold score",
            colour: seriesColour(0),
            symbol: "dot",
          },
        ];
  if (n > 0) {
    items.push({
      label: finite(sd)
        ? `Mean ± SD = ${fmt(mean)} ± ${fmt(sd)}`
        : `Mean = ${fmt(mean)} (one fold, no SD)`,
      colour: PALETTE.text,
      symbol: "line",
    });
    if (finite(sd)) items.push({ label: "± 1 SD", colour: PALETTE.text, symbol: "band" });
  }

  const gapSlots = 0.6;
  const totalSlots = Math.max(1, n + gapSlots * (repeats.length - 1));
  const left = leftAxisWidth(probe, { title: opts.metric });
  const plotWidth = size.width - plotLeft(left, size.width) - RIGHT;
  const slot = plotWidth / totalSlots;
  const foldLabels = folds.map((f) => String(f.fold + 1));
  const cat = categoryAxisLayout(foldLabels, slot, size.height * 0.2, plotLeft(left, size.width));
  const xTitle = multi ? "Fold (grouped by repeat)" : "Fold";
  const repeatRow = multi ? FONT.tick + 6 : 0;
  const { area, frame } = layout(
    size,
    opts.title,
    items,
    { left, bottom: cat.height + repeatRow + FONT.label + 8 },
    note,
  );
  const y = linearScale(lo, hi, [area.top + area.height, area.top]);
  const centres = folds.map(
    (f, i) => area.left + slot * (i + 0.5 + gapSlots * repeats.indexOf(f.repeat)),
  );

  const body: string[] = [...frame, leftAxis(y, area, { title: opts.metric, grid: true })];
  if (finite(sd))
    body.push(
      el("rect", {
        class: "sd-band",
        x: area.left,
        y: y.map(mean + sd),
        width: area.width,
        height: y.map(mean - sd) - y.map(mean + sd),
        fill: PALETTE.text,
        "fill-opacity": 0.08,
      }),
    );
  if (n > 0)
    body.push(
      line(area.left, y.map(mean), area.left + area.width, y.map(mean), PALETTE.text, {
        class: "mean",
        "stroke-width": 1.5,
      }),
    );
  folds.forEach((f, i) => {
    body.push(
      el(
        "circle",
        {
          class: "fold",
          cx: centres[i],
          cy: y.map(f.value),
          r: Math.max(2.5, Math.min(5, slot * 0.3)),
          fill: colourOf(f.repeat),
        },
        tooltip(`Repeat ${f.repeat + 1}, fold ${f.fold + 1}: ${fmt(f.value)}`),
      ),
    );
  });
  body.push(
    categoryAxis(
      cat,
      foldLabels.map((l, i) => `Repeat ${folds[i].repeat + 1}, fold ${l}`),
      centres,
      area,
    ),
  );
  const yRepeat = area.top + area.height + cat.height + FONT.tick;
  if (multi) {
    for (const r of repeats) {
      const xs = centres.filter((_, i) => folds[i].repeat === r);
      const span = xs[xs.length - 1] - xs[0] + slot;
      const label =
        textWidth(`Repeat ${r + 1}`, FONT.tick) <= span
          ? `Repeat ${r + 1}`
          : textWidth(`R${r + 1}`, FONT.tick) <= span
            ? `R${r + 1}`
            : "";
      if (label)
        body.push(
          textEl((xs[0] + xs[xs.length - 1]) / 2, yRepeat, label, {
            "text-anchor": "middle",
            "font-size": FONT.tick,
            fill: PALETTE.muted,
          }),
        );
    }
  }
  body.push(
    textEl(
      area.left + area.width / 2,
      yRepeat + repeatRow + FONT.label - (multi ? 4 : FONT.tick),
      xTitle,
      { "text-anchor": "middle", "font-size": FONT.label, fill: PALETTE.text },
    ),
  );
  if (n === 0) body.push(emptyMessage(area, "No fold scores to plot"));

  const desc = sentences(
    `${opts.metric} per cross-validation fold: ${n} folds in ${repeats.length} repeat${repeats.length === 1 ? "" : "s"}.`,
    n
      ? `Mean ${fmt(mean)}${finite(sd) ? `, sample SD ${fmt(sd)}` : ""}, range ${fmt(Math.min(...values))} to ${fmt(Math.max(...values))}.`
      : "",
    note,
  );
  return svgDocument({ ...size, title: opts.title, desc, body });
}
