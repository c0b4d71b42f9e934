/**
 * Bar chart with optional error bars (feature importance, per-fold scores).
 */
import { finite, extent, sentences } from "./inputs.js";
import { layout, plotLeft, RIGHT, type ChartSizeOptions } from "./layout.js";
import {
  FONT,
  FOOTNOTE_HEIGHT,
  PALETTE,
  TITLE_HEIGHT,
  bottomAxis,
  bottomAxisHeight,
  categoryAxis,
  categoryAxisHeight,
  categoryAxisLayout,
  chartSize,
  coord,
  el,
  emptyMessage,
  escapeXml,
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
  truncate,
  type PlotArea,
} from "./svg.js";

export interface Bar {
  readonly label: string;
  /** Bars with a non-finite value are skipped. */
  readonly value: number;
  /** Half-width of an error bar (e.g. one standard deviation); ignored unless finite and ≥ 0. */
  readonly error?: number;
  readonly colour?: string;
}

export interface BarChartOptions extends ChartSizeOptions {
  readonly title: string;
  /** Title of the horizontal axis: the values when `horizontal`, the categories otherwise. */
  readonly xLabel: string;
  /** Title of the vertical axis, if any. */
  readonly yLabel?: string;
  readonly bars: readonly Bar[];
  /** Horizontal bars with the labels on the left (feature importance). */
  readonly horizontal?: boolean;
  /** Sort by value, largest first (top when horizontal). Default: `horizontal`. */
  readonly sort?: boolean;
}

const BAR_ROW = 22;

/**
 * Bar chart with optional error bars. Horizontal bars (feature importance) are sorted by value
 * and the left margin grows with the longest label (capped at 40% of the width, longer labels are
 * shortened with the full text in a tooltip); with many bars the default height grows too.
 * @example barChart({ title: "Feature importance", xLabel: "Mean |SHAP|", horizontal: true,
 *   bars: [{ label: "checking_status", value: 0.41 }, { label: "duration", value: 0.22 }] })
 */
export function barChart(opts: BarChartOptions): string {
  const horizontal = opts.horizontal ?? false;
  const valid = opts.bars.filter((b) => finite(b.value));
  const bars = (opts.sort ?? horizontal) ? [...valid].sort((a, b) => b.value - a.value) : valid;
  const note = skippedNote(
    opts.bars.length - valid.length,
    "bar with a missing or non-numeric value",
    "bars with a missing or non-numeric value",
  );
  const err = (b: Bar) => (finite(b.error) && b.error >= 0 ? b.error : 0);
  const [lo, hi] = extent([0, ...bars.flatMap((b) => [b.value - err(b), b.value + err(b)])]);
  const fmt = (() => {
    const decimals = Math.min(
      6,
      Math.max(0, -Math.floor(Math.log10(Math.max(Math.abs(lo), Math.abs(hi)) || 1)) + 2),
    );
    return (v: number) => formatNumber(v, decimals);
  })();
  const defaultHeight = horizontal
    ? Math.max(400, TITLE_HEIGHT + 70 + bars.length * BAR_ROW + (note ? FOOTNOTE_HEIGHT : 0))
    : undefined;
  const size = chartSize(opts.width, opts.height, defaultHeight);
  const labels = bars.map((b) => b.label);
  const parts: string[] = [];
  let area: PlotArea;

  if (horizontal) {
    const labelMax = Math.min(
      size.width * 0.4,
      Math.max(0, ...labels.map((l) => textWidth(l, FONT.tick))),
    );
    const valueMax = Math.max(0, ...bars.map((b) => textWidth(fmt(b.value), FONT.tick)));
    const ytitle = opts.yLabel ? FONT.label + 12 : 0;
    const placed = layout(
      size,
      opts.title,
      [],
      {
        left: labelMax + 10 + ytitle,
        bottom: bottomAxisHeight({ title: opts.xLabel }),
        right: valueMax + 14,
      },
      note,
    );
    area = placed.area;
    parts.push(...placed.frame);
    const x = linearScale(lo, hi, [area.left, area.left + area.width]);
    parts.push(bottomAxis(x, area, { title: opts.xLabel, grid: true, format: x.format }));
    const band = area.height / Math.max(1, bars.length);
    const thick = Math.min(28, band * 0.72);
    bars.forEach((b, i) => {
      const cy = area.top + band * (i + 0.5);
      const x0 = x.map(0);
      const xv = x.map(b.value);
      const e = err(b);
      parts.push(
        el(
          "text",
          {
            x: area.left - 8,
            y: cy + FONT.tick * 0.35,
            "text-anchor": "end",
            "font-size": FONT.tick,
            fill: PALETTE.text,
          },
          tooltip(b.label),
          escapeXml(truncate(b.label, labelMax, FONT.tick)),
        ),
      );
      parts.push(
        el(
          "rect",
          {
            class: "bar",
            x: Math.min(x0, xv),
            y: cy - thick / 2,
            width: Math.abs(xv - x0),
            height: thick,
            fill: b.colour ?? seriesColour(0),
          },
          tooltip(`${b.label}: ${fmt(b.value)}${e ? ` ± ${fmt(e)}` : ""}`),
        ),
      );
      if (e) parts.push(whisker(x.map(b.value - e), x.map(b.value + e), cy, thick, true));
      const lx = Math.max(x0, xv, e ? x.map(b.value + e) : xv) + 4;
      parts.push(
        textEl(lx, cy + FONT.tick * 0.35, fmt(b.value), {
          class: "value",
          "font-size": FONT.tick,
          fill: PALETTE.text,
        }),
      );
    });
    parts.push(line(x.map(0), area.top, x.map(0), area.top + area.height, PALETTE.axis));
    if (opts.yLabel) {
      const tx = 8 + FONT.label;
      const ty = area.top + area.height / 2;
      parts.push(
        textEl(tx, ty, truncate(opts.yLabel, area.height, FONT.label), {
          "text-anchor": "middle",
          "font-size": FONT.label,
          fill: PALETTE.text,
          transform: `rotate(-90 ${coord(tx)} ${coord(ty)})`,
        }),
      );
    }
  } else {
    // Headroom above the tallest bar for its value label.
    const y0 = linearScale(lo, hi + (hi - lo) * 0.08, [1, 0]);
    const left = leftAxisWidth(y0, { title: opts.yLabel });
    const plotWidth = size.width - plotLeft(left, size.width) - RIGHT;
    const slot = plotWidth / Math.max(1, bars.length);
    const cat = categoryAxisLayout(labels, slot, size.height * 0.3, plotLeft(left, size.width));
    const placed = layout(
      size,
      opts.title,
      [],
      { left, bottom: categoryAxisHeight(cat, opts.xLabel) },
      note,
    );
    area = placed.area;
    parts.push(...placed.frame);
    const y = linearScale(lo, hi + (hi - lo) * 0.08, [area.top + area.height, area.top]);
    parts.push(leftAxis(y, area, { title: opts.yLabel, grid: true }));
    const centres = bars.map((_, i) => area.left + slot * (i + 0.5));
    const thick = Math.min(60, slot * 0.7);
    bars.forEach((b, i) => {
      const cx = centres[i];
      const y0v = y.map(0);
      const yv = y.map(b.value);
      const e = err(b);
      parts.push(
        el(
          "rect",
          {
            class: "bar",
            x: cx - thick / 2,
            y: Math.min(y0v, yv),
            width: thick,
            height: Math.abs(y0v - yv),
            fill: b.colour ?? seriesColour(0),
          },
          tooltip(`${b.label}: ${fmt(b.value)}${e ? ` ± ${fmt(e)}` : ""}`),
        ),
      );
      if (e) parts.push(whisker(y.map(b.value - e), y.map(b.value + e), cx, thick, false));
      const text = fmt(b.value);
      if (textWidth(text, FONT.tick) <= slot - 2) {
        const ly =
          b.value >= 0
            ? Math.min(yv, e ? y.map(b.value + e) : yv) - 4
            : Math.max(yv, e ? y.map(b.value - e) : yv) + FONT.tick + 2;
        parts.push(
          textEl(cx, ly, text, {
            class: "value",
            "text-anchor": "middle",
            "font-size": FONT.tick,
            fill: PALETTE.text,
          }),
        );
      }
    });
    parts.push(categoryAxis(cat, labels, centres, area, opts.xLabel));
    parts.push(line(area.left, y.map(0), area.left + area.width, y.map(0), PALETTE.axis));
  }
  if (bars.length === 0) parts.push(emptyMessage(area, "No bars to plot"));
  const listed = bars.map((b) => `${b.label} ${fmt(b.value)}${err(b) ? ` ± ${fmt(err(b))}` : ""}`);
  const desc = sentences(
    `${horizontal ? "Horizontal bar" : "Bar"} chart, ${bars.length} bars.`,
    bars.length ? `${listed.join("; ")}.` : "",
    note,
  );
  return svgDocument({ ...size, title: opts.title, desc, body: parts });
}

/** An error bar from `a` to `b` across the bar at `at` (horizontal when the bars are). */
function whisker(a: number, b: number, at: number, thick: number, horizontal: boolean): string {
  const cap = Math.min(8, thick * 0.4);
  const attrs = { class: "error", "stroke-width": 1.5 };
  return horizontal
    ? el(
        "g",
        attrs,
        line(a, at, b, at, PALETTE.text),
        line(a, at - cap / 2, a, at + cap / 2, PALETTE.text),
        line(b, at - cap / 2, b, at + cap / 2, PALETTE.text),
      )
    : el(
        "g",
        attrs,
        line(at, a, at, b, PALETTE.text),
        line(at - cap / 2, a, at + cap / 2, a, PALETTE.text),
        line(at - cap / 2, b, at + cap / 2, b, PALETTE.text),
      );
}
