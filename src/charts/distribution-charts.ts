/**
 * Distribution comparisons for monitoring: overlaid histograms of a numeric feature and
 * grouped bars of category shares (reference vs current data).
 */
import { finite, extent, sentences } from "./inputs.js";
import { layout, plotLeft, RIGHT, type ChartSizeOptions } from "./layout.js";
import {
  bottomAxis,
  bottomAxisHeight,
  categoryAxis,
  categoryAxisHeight,
  categoryAxisLayout,
  chartSize,
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
  skippedNote,
  svgDocument,
  tooltip,
  type LegendItem,
} from "./svg.js";

// ──────────────────────────────────────── histograms ──────────────────────────────────────────

export interface HistogramSeries {
  readonly name: string;
  readonly values: ArrayLike<number>;
}

export interface HistogramChartOptions extends ChartSizeOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly series: readonly HistogramSeries[];
  /** Number of equal-width bins shared by all series; default from Sturges' rule (5…50). */
  readonly bins?: number;
  /** Range to bin; values outside it are left out (and counted). Default: the data range. */
  readonly domain?: readonly [number, number];
}

/**
 * Overlaid, semi-transparent histograms on shared bins, each normalised to its share of rows so
 * series of different sizes compare (reference vs current data).
 * @example histogramChart({ title: "Credit amount", xLabel: "DM",
 *   series: [{ name: "Reference", values: ref }, { name: "Current", values: cur }] })
 */
export function histogramChart(opts: HistogramChartOptions): string {
  const size = chartSize(opts.width, opts.height);
  const data = opts.series.map((s) => Array.from(s.values).filter(finite));
  const skipped = opts.series.reduce((sum, s, i) => sum + s.values.length - data[i].length, 0);
  const given =
    opts.domain &&
    finite(opts.domain[0]) &&
    finite(opts.domain[1]) &&
    opts.domain[0] < opts.domain[1]
      ? opts.domain
      : undefined;
  let [lo, hi] = given ?? extent(data.flat());
  if (!(lo < hi)) {
    const wide = linearScale(lo, hi, [0, 1]); // widens a single value or an empty range
    [lo, hi] = wide.domain;
  }
  const largest = Math.max(0, ...data.map((d) => d.length));
  const nBins = finite(opts.bins)
    ? Math.min(200, Math.max(1, Math.round(opts.bins)))
    : Math.min(50, Math.max(5, Math.ceil(Math.log2(Math.max(1, largest)) + 1)));
  const width = (hi - lo) / nBins;
  let outside = 0;
  const shares = data.map((d) => {
    const counts = new Array<number>(nBins).fill(0);
    for (const v of d) {
      if (v < lo || v > hi) outside++;
      else counts[Math.min(nBins - 1, Math.floor((v - lo) / width))]++;
    }
    return counts.map((c) => (d.length ? c / d.length : 0));
  });
  const note = sentences(
    skippedNote(skipped),
    skippedNote(
      outside,
      "value outside the plotted range",
      "values outside the plotted range",
      "not shown",
    ),
  );
  const items: LegendItem[] = opts.series.map((s, i) => ({
    label: `${s.name} (n = ${data[i].length})`,
    colour: seriesColour(i),
    symbol: "box",
  }));
  const maxShare = Math.max(0, ...shares.flat());
  const yProbe = linearScale(0, maxShare || 1, [1, 0]);
  const format = percentFormat(yProbe);
  const yTitle = "Share of rows";
  const { area, frame } = layout(
    size,
    opts.title,
    items,
    {
      left: leftAxisWidth(yProbe, { title: yTitle, format }),
      bottom: bottomAxisHeight({ title: opts.xLabel }),
    },
    note,
  );
  const x = linearScale(lo, hi, [area.left, area.left + area.width], { nice: false });
  const y = linearScale(0, maxShare || 1, [area.top + area.height, area.top]);
  const body: string[] = [
    ...frame,
    leftAxis(y, area, { title: yTitle, grid: true, format: percentFormat(y) }),
    bottomAxis(x, area, { title: opts.xLabel }),
  ];
  shares.forEach((s, i) => {
    const colour = seriesColour(i);
    const rects: string[] = [];
    let outline = `M${coord(x.map(lo))},${coord(y.map(0))}`;
    s.forEach((share, b) => {
      const x0 = x.map(lo + b * width);
      const x1 = x.map(b === nBins - 1 ? hi : lo + (b + 1) * width);
      outline += `V${coord(y.map(share))}H${coord(x1)}`;
      if (share > 0) {
        const range = `${formatNumber(lo + b * width)} to ${formatNumber(lo + (b + 1) * width)}`;
        rects.push(
          el(
            "rect",
            {
              x: x0,
              y: y.map(share),
              width: x1 - x0,
              height: y.map(0) - y.map(share),
              fill: colour,
              "fill-opacity": 0.35,
            },
            tooltip(`${opts.series[i].name}, ${range}: ${formatPercent(share)}`),
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
  if (largest === 0) body.push(emptyMessage(area, "No values to plot"));
  const described = opts.series.map((s, i) => {
    const d = data[i];
    if (!d.length) return `${s.name}: no values.`;
    const mean = d.reduce((a, v) => a + v, 0) / d.length;
    const [min, max] = extent(d);
    return `${s.name}: ${d.length} values, mean ${formatNumber(mean)}, from ${formatNumber(min)} to ${formatNumber(max)}.`;
  });
  const desc = sentences(
    `Histogram of ${opts.xLabel} as share of rows, ${nBins} bins from ${formatNumber(lo)} to ${formatNumber(hi)}.`,
    ...described,
    note,
  );
  return svgDocument({ ...size, title: opts.title, desc, body });
}

// ─────────────────────────────────── category comparison ──────────────────────────────────────

export interface CategorySeries {
  readonly name: string;
  /** Share of rows per category, in the order of `categories` (0.25 = 25%). */
  readonly shares: readonly number[];
}

export interface CategoryComparisonChartOptions extends ChartSizeOptions {
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly CategorySeries[];
  /** Default: none (the category names speak for themselves). */
  readonly xLabel?: string;
}

/**
 * Grouped bars of the share of rows per category, one bar per series (reference vs current).
 * Missing or non-numeric shares are skipped and counted.
 * @example categoryComparisonChart({ title: "Purpose", categories: ["car", "radio/tv"],
 *   series: [{ name: "Reference", shares: [0.3, 0.7] }, { name: "Current", shares: [0.4, 0.6] }] })
 */
export function categoryComparisonChart(opts: CategoryComparisonChartOptions): string {
  const size = chartSize(opts.width, opts.height);
  const cats = opts.categories;
  let skipped = 0;
  const shares = opts.series.map((s) => {
    skipped += Math.max(0, s.shares.length - cats.length);
    return cats.map((_, c) => {
      const v = s.shares[c];
      if (finite(v)) return v;
      skipped++;
      return NaN;
    });
  });
  const note = skippedNote(skipped, "missing, extra or non-numeric share");
  const present = shares.flat().filter(finite);
  const [lo, hi] = extent([0, ...present]);
  const items: LegendItem[] = opts.series.map((s, i) => ({
    label: s.name,
    colour: seriesColour(i),
    symbol: "box",
  }));
  const yTitle = "Share of rows";
  const probe = linearScale(lo, hi || 1, [1, 0]);
  const format = percentFormat(probe);
  const left = leftAxisWidth(probe, { title: yTitle, format });
  const plotWidth = size.width - plotLeft(left, size.width) - RIGHT;
  const slot = plotWidth / Math.max(1, cats.length);
  const cat = categoryAxisLayout(cats, slot, size.height * 0.3, plotLeft(left, size.width));
  const { area, frame } = layout(
    size,
    opts.title,
    items,
    { left, bottom: categoryAxisHeight(cat, opts.xLabel) },
    note,
  );
  const y = linearScale(lo, hi || 1, [area.top + area.height, area.top]);
  const centres = cats.map((_, c) => area.left + slot * (c + 0.5));
  const group = slot * 0.8;
  const barWidth = group / Math.max(1, opts.series.length);
  const body: string[] = [
    ...frame,
    leftAxis(y, area, { title: yTitle, grid: true, format: percentFormat(y) }),
  ];
  shares.forEach((s, i) => {
    const rects = s.flatMap((v, c) => {
      if (!finite(v)) return [];
      const x0 = centres[c] - group / 2 + i * barWidth;
      const y0 = y.map(0);
      const yv = y.map(v);
      return [
        el(
          "rect",
          {
            x: x0 + 0.5,
            y: Math.min(y0, yv),
            width: Math.max(0.5, barWidth - 1),
            height: Math.abs(y0 - yv),
            fill: seriesColour(i),
          },
          tooltip(`${cats[c]}, ${opts.series[i].name}: ${formatPercent(v)}`),
        ),
      ];
    });
    body.push(el("g", { class: "series" }, ...rects));
  });
  body.push(categoryAxis(cat, cats, centres, area, opts.xLabel));
  if (cats.length === 0 || present.length === 0) body.push(emptyMessage(area, "No shares to plot"));
  const listed = cats.map(
    (c, ci) =>
      `${c}: ${opts.series.map((s, i) => `${s.name} ${formatPercent(shares[i][ci])}`).join(", ")}`,
  );
  const desc = sentences(
    `Share of rows per category for ${opts.series.map((s) => s.name).join(" and ") || "no series"}.`,
    listed.length ? `${listed.join("; ")}.` : "",
    note,
  );
  return svgDocument({ ...size, title: opts.title, desc, body });
}
