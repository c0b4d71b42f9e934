/**
 * Low-level SVG building blocks for the chart module: XML escaping, text-width estimates, a
 * linear scale with "nice" ticks, axes, a legend, the palette and the document wrapper.
 *
 * Why hand-written rather than a charting library: run artifacts and the offline monitoring
 * reports need a self-contained SVG string produced on Node 20 without a DOM or a canvas.
 * vega-lite 6 requires Node 22, vega pulls in a large dependency tree for a handful of charts,
 * and the canvas-based libraries (Chart.js, ECharts' canvas renderer) need a native canvas on the
 * server. Plain string building renders a chart in about a millisecond (a 1,000-row ROC curve;
 * a confusion matrix in ~0.2 ms), embeds in any HTML page (no scripts, no external fonts or
 * stylesheets) and is byte-for-byte deterministic.
 */

/** Default chart size in SVG user units; the viewBox keeps it scalable. */
export const DEFAULT_WIDTH = 640;
export const DEFAULT_HEIGHT = 400;

/** Font sizes shared by every chart, so text-width estimates and rendering agree. */
export const FONT = { tick: 11, label: 12, title: 15, cell: 18 } as const;

/**
 * Okabe–Ito colours: distinguishable under the common colour-vision deficiencies and on paper.
 * Good applicants are blue and bad ones vermillion throughout the platform.
 */
export const PALETTE = {
  good: "#0072B2",
  bad: "#D55E00",
  series: ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"],
  text: "#222222",
  muted: "#666666",
  axis: "#444444",
  grid: "#e4e4e4",
  reference: "#888888",
} as const;

/** Colour of the i-th series; cycles when there are more series than colours. */
export function seriesColour(i: number): string {
  return PALETTE.series[i % PALETTE.series.length];
}

// Characters XML 1.0 forbids outright (C0 controls except tab/LF/CR, lone surrogates,
// U+FFFE/U+FFFF): escaping cannot make them legal, so they are dropped.
const XML_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point here
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Escapes text for use in XML content or a double- or single-quoted attribute.
 * @example escapeXml(`a<b & "c"`) // "a&lt;b &amp; &quot;c&quot;"
 */
export function escapeXml(text: string): string {
  return String(text)
    .replace(XML_FORBIDDEN, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Coordinates rounded to 0.01 user units: invisible on screen, keeps the output compact. */
export function coord(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r); // never "-0"
}

export type AttrValue = string | number | undefined | null | false;

/**
 * One element as a string; attribute values are escaped here so no caller can forget it.
 * Children are already-rendered markup (use {@link textEl} for text content).
 */
export function el(tag: string, attrs: Record<string, AttrValue>, ...children: string[]): string {
  let out = `<${tag}`;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    out += ` ${k}="${typeof v === "number" ? coord(v) : escapeXml(v)}"`;
  }
  return children.length === 0 ? `${out}/>` : `${out}>${children.join("")}</${tag}>`;
}

/** A `<text>` element with escaped content. */
export function textEl(
  x: number,
  y: number,
  content: string,
  attrs: Record<string, AttrValue> = {},
): string {
  return el("text", { x, y, ...attrs }, escapeXml(content));
}

/** A `<title>` child: browsers show it as a tooltip, screen readers read it. */
export function tooltip(content: string): string {
  return el("title", {}, escapeXml(content));
}

// Advance widths in em by character class, taken from DejaVu Sans (the widest common system-ui
// fallback, and the one headless Linux renders with), so estimated boxes hold the real text on
// every platform; narrower fonts just leave a little slack.
function charWidthEm(ch: string): number {
  if (" .,:;'|!ijlI/\\".includes(ch)) return 0.33;
  if ("()[]{}".includes(ch)) return 0.4;
  if ("ftr-–".includes(ch)) return 0.42;
  if ("mwMW%…—".includes(ch)) return 0.98;
  if ("=<>+~&±→×@#".includes(ch)) return 0.84;
  if (ch >= "A" && ch <= "Z") return 0.74;
  if (ch >= "0" && ch <= "9") return 0.64;
  if (ch.codePointAt(0)! >= 0x2e80) return 1; // CJK and other full-width scripts
  return 0.62;
}

/** Estimated rendered width of `text` at `fontSize` (no DOM to measure with on the server). */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += charWidthEm(ch);
  return em * fontSize;
}

/** Shortens `text` with an ellipsis so its estimated width stays within `maxWidth`. */
export function truncate(text: string, maxWidth: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = Array.from(text);
  let width = textWidth("…", fontSize);
  let out = "";
  for (const ch of chars) {
    const w = charWidthEm(ch) * fontSize;
    if (width + w > maxWidth) break;
    width += w;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}

/**
 * Formats a number with a fixed number of decimals and thousands separators ("12,500"), falling
 * back to 3 significant digits for extreme magnitudes so labels stay short.
 */
export function formatNumber(v: number, decimals = 3): string {
  if (!Number.isFinite(v)) return "–";
  if (v !== 0 && (Math.abs(v) >= 1e15 || decimals > 6)) return v.toPrecision(3);
  let s = v.toFixed(decimals);
  if (/^-0(\.0*)?$/.test(s)) s = s.slice(1); // never "-0.00"
  const [int, frac] = s.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, ",");
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Formats a share in [0, 1] as a percentage. */
export function formatPercent(share: number, decimals = 1): string {
  return Number.isFinite(share) ? `${formatNumber(share * 100, decimals)}%` : "–";
}

/** Decimals needed to tell ticks `step` apart (steps are 1, 2 or 5 × 10^k). */
export function decimalsForStep(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

export interface Ticks {
  /** Domain after widening to whole steps (or the input domain when `nice` is off). */
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
  readonly values: readonly number[];
}

/**
 * The 1, 2 or 5 × 10^k step giving the tick count closest to `count` over `span` (the thresholds
 * are the geometric midpoints between the candidate steps, as in d3's tickStep).
 */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / power;
  if (ratio >= Math.sqrt(50)) return 10 * power;
  if (ratio >= Math.sqrt(10)) return 5 * power;
  if (ratio >= Math.sqrt(2)) return 2 * power;
  return power;
}

/**
 * About `count` ticks at multiples of a 1/2/5 × 10^k step covering [lo, hi]. A degenerate domain
 * (equal ends, non-finite ends) is widened first so the scale never divides by zero.
 * @example niceTicks(0.03, 0.97).values // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export function niceTicks(lo: number, hi: number, count = 5, nice = true): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi : 0;
    hi = Number.isFinite(hi) ? hi : lo;
  }
  if (lo > hi) [lo, hi] = [hi, lo];
  // A span lost in floating-point noise would give a denormal step and millions of ticks.
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9 || !Number.isFinite(hi - lo)) {
    const centre = (lo + hi) / 2;
    const pad = Math.abs(centre) * 0.1 || 1;
    lo = centre - pad;
    hi = centre + pad;
  }
  const step = niceStep(hi - lo, Math.max(1, count));
  const clean = (v: number) => parseFloat(v.toPrecision(12));
  if (nice) {
    lo = clean(Math.floor(lo / step + 1e-9) * step);
    hi = clean(Math.ceil(hi / step - 1e-9) * step);
  }
  const values: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let k = first; k <= last; k++) values.push(clean(k * step));
  return { lo, hi, step, values };
}

export interface LinearScale {
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly ticks: readonly number[];
  readonly step: number;
  /** Maps a data value to a coordinate. */
  map(v: number): number;
  /** Default tick label format (decimals from the tick step). */
  format(v: number): string;
}

/**
 * A linear scale from [dataMin, dataMax] (widened to nice ticks unless `nice` is false) onto
 * `range`; pass a reversed range for y axes.
 */
export function linearScale(
  dataMin: number,
  dataMax: number,
  range: readonly [number, number],
  opts: { nice?: boolean; tickCount?: number } = {},
): LinearScale {
  const t = niceTicks(dataMin, dataMax, opts.tickCount ?? 5, opts.nice ?? true);
  const [r0, r1] = range;
  const k = (r1 - r0) / (t.hi - t.lo);
  const decimals = decimalsForStep(t.step);
  return {
    domain: [t.lo, t.hi],
    range,
    ticks: t.values,
    step: t.step,
    map: (v) => r0 + (v - t.lo) * k,
    format: (v) => formatNumber(v, decimals),
  };
}

/** Tick-label formatter that shows shares as percentages with the decimals the step needs. */
export function percentFormat(scale: LinearScale): (v: number) => string {
  const decimals = decimalsForStep(scale.step * 100);
  return (v) => formatPercent(v, decimals);
}

/** The plotting rectangle inside the margins. */
export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface AxisOptions {
  readonly title?: string;
  readonly format?: (v: number) => string;
  /** Draw light grid lines across the plot at each tick. */
  readonly grid?: boolean;
}

const TICK = 5;

/** Width the left axis needs: the widest tick label, the tick, gaps and the rotated title. */
export function leftAxisWidth(scale: LinearScale, opts: AxisOptions = {}): number {
  const format = opts.format ?? scale.format;
  const widest = Math.max(0, ...scale.ticks.map((v) => textWidth(format(v), FONT.tick)));
  return widest + TICK + 6 + (opts.title ? FONT.label + 12 : 0);
}

/** Height the bottom axis needs below the plot. */
export function bottomAxisHeight(opts: AxisOptions = {}): number {
  return TICK + FONT.tick + 8 + (opts.title ? FONT.label + 10 : 0);
}

/** Bottom axis with ticks, labels and a centred title; optional vertical grid lines. */
export function bottomAxis(scale: LinearScale, area: PlotArea, opts: AxisOptions = {}): string {
  const format = opts.format ?? scale.format;
  const y = area.top + area.height;
  const parts: string[] = [];
  for (const v of scale.ticks) {
    const x = scale.map(v);
    if (opts.grid) parts.push(line(x, area.top, x, y, PALETTE.grid));
    parts.push(line(x, y, x, y + TICK, PALETTE.axis));
    parts.push(
      textEl(x, y + TICK + FONT.tick, format(v), {
        "text-anchor": "middle",
        "font-size": FONT.tick,
        fill: PALETTE.text,
      }),
    );
  }
  parts.push(line(area.left, y, area.left + area.width, y, PALETTE.axis));
  if (opts.title) {
    const ty = y + TICK + FONT.tick + 8 + FONT.label;
    parts.push(
      textEl(area.left + area.width / 2, ty, truncate(opts.title, area.width, FONT.label), {
        "text-anchor": "middle",
        "font-size": FONT.label,
        fill: PALETTE.text,
      }),
    );
  }
  return el("g", { class: "axis axis-x" }, ...parts);
}

/** Left axis with ticks, labels and a rotated title; optional horizontal grid lines. */
export function leftAxis(scale: LinearScale, area: PlotArea, opts: AxisOptions = {}): string {
  const format = opts.format ?? scale.format;
  const x = area.left;
  const parts: string[] = [];
  for (const v of scale.ticks) {
    const y = scale.map(v);
    if (opts.grid) parts.push(line(x, y, x + area.width, y, PALETTE.grid));
    parts.push(line(x - TICK, y, x, y, PALETTE.axis));
    parts.push(
      textEl(x - TICK - 3, y + FONT.tick * 0.35, format(v), {
        "text-anchor": "end",
        "font-size": FONT.tick,
        fill: PALETTE.text,
      }),
    );
  }
  parts.push(line(x, area.top, x, area.top + area.height, PALETTE.axis));
  if (opts.title) {
    const widest = Math.max(0, ...scale.ticks.map((v) => textWidth(format(v), FONT.tick)));
    const tx = x - TICK - 6 - widest - 8;
    const ty = area.top + area.height / 2;
    parts.push(
      textEl(tx, ty, truncate(opts.title, area.height, FONT.label), {
        "text-anchor": "middle",
        "font-size": FONT.label,
        fill: PALETTE.text,
        transform: `rotate(-90 ${coord(tx)} ${coord(ty)})`,
      }),
    );
  }
  return el("g", { class: "axis axis-y" }, ...parts);
}

/** A plain line segment. */
export function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke: string,
  extra: Record<string, AttrValue> = {},
): string {
  return el("line", { x1, y1, x2, y2, stroke, ...extra });
}

export type LegendSymbol = "line" | "dashed" | "box" | "dot" | "band";

export interface LegendItem {
  readonly label: string;
  readonly colour: string;
  readonly symbol: LegendSymbol;
}

const LEGEND_ROW = 18;
const LEGEND_SWATCH = 22;

/** Lays legend items out in rows that fit `maxWidth`; returns the rows of items with widths. */
function legendRows(items: readonly LegendItem[], maxWidth: number) {
  const rows: { item: LegendItem; label: string; width: number }[][] = [[]];
  let used = 0;
  for (const item of items) {
    const label = truncate(item.label, maxWidth - LEGEND_SWATCH - 6, FONT.label);
    const width = LEGEND_SWATCH + 6 + textWidth(label, FONT.label) + 18;
    if (used + width > maxWidth && rows[rows.length - 1].length > 0) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push({ item, label, width });
    used += width;
  }
  return rows;
}

/** Height a legend of `items` takes when wrapped to `maxWidth` (0 for no items). */
export function legendHeight(items: readonly LegendItem[], maxWidth: number): number {
  return items.length === 0 ? 0 : legendRows(items, maxWidth).length * LEGEND_ROW;
}

/**
 * A legend laid out in centred rows starting at `top`, meant for the band between the title and
 * the plot so it can never cover data.
 */
export function legend(
  items: readonly LegendItem[],
  centreX: number,
  top: number,
  maxWidth: number,
): string {
  if (items.length === 0) return "";
  const parts: string[] = [];
  legendRows(items, maxWidth).forEach((row, r) => {
    const total = row.reduce((s, e) => s + e.width, 0) - 18;
    let x = centreX - total / 2;
    const y = top + r * LEGEND_ROW + LEGEND_ROW / 2;
    for (const { item, label, width } of row) {
      parts.push(
        legendSwatch(item, x, y),
        textEl(x + LEGEND_SWATCH + 6, y + FONT.label * 0.35, label, {
          "font-size": FONT.label,
          fill: PALETTE.text,
        }),
      );
      x += width;
    }
  });
  return el("g", { class: "legend" }, ...parts);
}

function legendSwatch(item: LegendItem, x: number, y: number): string {
  const c = item.colour;
  switch (item.symbol) {
    case "line":
      return line(x, y, x + LEGEND_SWATCH, y, c, { "stroke-width": 2.5 });
    case "dashed":
      return line(x, y, x + LEGEND_SWATCH, y, c, {
        "stroke-width": 1.5,
        "stroke-dasharray": "5 4",
      });
    case "box":
      return el("rect", {
        x: x + 4,
        y: y - 6,
        width: 14,
        height: 12,
        fill: c,
        "fill-opacity": 0.75,
        stroke: c,
      });
    case "dot":
      return el("circle", { cx: x + LEGEND_SWATCH / 2, cy: y, r: 4.5, fill: c });
    case "band":
      return el("rect", {
        x,
        y: y - 5,
        width: LEGEND_SWATCH,
        height: 10,
        fill: c,
        "fill-opacity": 0.18,
      });
  }
}

/** Height of the title band at the top of every chart. */
export const TITLE_HEIGHT = 30;

/** The chart title, centred and shortened to fit the width. */
export function titleText(title: string, width: number): string {
  // Bold glyphs run about 12% wider than the regular widths the estimate is based on.
  return textEl(width / 2, 21, truncate(title, (width - 24) / 1.12, FONT.title), {
    "text-anchor": "middle",
    "font-size": FONT.title,
    "font-weight": "bold",
    fill: PALETTE.text,
  });
}

/** A centred grey message in the plot area, for charts without data to draw. */
export function emptyMessage(area: PlotArea, message: string): string {
  return textEl(
    area.left + area.width / 2,
    area.top + area.height / 2,
    truncate(message, area.width - 10, FONT.label),
    { "text-anchor": "middle", "font-size": FONT.label, fill: PALETTE.muted },
  );
}

/** Height reserved at the bottom for a footnote line. */
export const FOOTNOTE_HEIGHT = 16;

/** A small grey note in the bottom-left corner (e.g. how many values were skipped). */
export function footnote(text: string, width: number, height: number): string {
  return textEl(8, height - 5, truncate(text, width - 16, FONT.tick), {
    "font-size": FONT.tick,
    fill: PALETTE.muted,
  });
}

export interface SvgDocumentOptions {
  readonly width: number;
  readonly height: number;
  /** Accessible name (the `<title>` element); also shown as the visible title by the charts. */
  readonly title: string;
  /** Accessible description (the `<desc>` element): what the chart shows, in words. */
  readonly desc: string;
  readonly body: readonly string[];
}

/**
 * Wraps chart markup in a standalone `<svg>` document: explicit namespace, viewBox sizing, a
 * white background, `<title>` and `<desc>` for assistive technology, no ids (several charts
 * embedded in one HTML page cannot clash), no scripts and no external references.
 */
export function svgDocument(opts: SvgDocumentOptions): string {
  const { width, height } = opts;
  return (
    el(
      "svg",
      {
        xmlns: "http://www.w3.org/2000/svg",
        viewBox: `0 0 ${coord(width)} ${coord(height)}`,
        width,
        height,
        role: "img",
        "font-family": "system-ui, sans-serif",
        "font-size": FONT.label,
      },
      tooltip(opts.title),
      el("desc", {}, escapeXml(opts.desc)),
      el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }),
      ...opts.body.filter((part) => part !== "").map((part) => `\n${part}`),
      "\n",
    ) + "\n"
  );
}

/** Valid chart dimensions: positive finite numbers, else the defaults. */
export function chartSize(
  width: number | undefined,
  height: number | undefined,
  defaultHeight = DEFAULT_HEIGHT,
) {
  const ok = (v: number | undefined): v is number =>
    typeof v === "number" && Number.isFinite(v) && v >= 120;
  return { width: ok(width) ? width : DEFAULT_WIDTH, height: ok(height) ? height : defaultHeight };
}

/**
 * A sentence for the description and footnote such as "3 missing or non-numeric values
 * skipped.", or "" when nothing was skipped.
 */
export function skippedNote(
  count: number,
  one = "missing or non-numeric value",
  many = `${one}s`,
  verb = "skipped",
): string {
  return count === 0 ? "" : `${count} ${count === 1 ? one : many} ${verb}.`;
}

export interface CategoryAxisLayout {
  /** Labels as drawn (shortened when needed); "" where a label is left out to avoid overlap. */
  readonly labels: readonly string[];
  readonly rotated: boolean;
  /** Height the labels need below the plot, without the axis title. */
  readonly height: number;
}

const ROTATION_DEG = 45;
const SIN = Math.sin((ROTATION_DEG * Math.PI) / 180);

/**
 * Decides how category labels fit under slots `slotWidth` wide: horizontal when they fit, else
 * rotated by 45° and shortened so the rotated text stays within `maxHeight`; when slots are too
 * narrow even for rotated text, only every k-th label is kept (all stay in tooltips).
 * `leftSpace` is the distance from the chart's left edge to the first slot.
 */
export function categoryAxisLayout(
  labels: readonly string[],
  slotWidth: number,
  maxHeight: number,
  leftSpace = Infinity,
): CategoryAxisLayout {
  const widest = Math.max(0, ...labels.map((l) => textWidth(l, FONT.tick)));
  if (widest <= slotWidth - 4) return { labels, rotated: false, height: TICK + FONT.tick + 6 };
  const maxText = Math.max(24, (maxHeight - FONT.tick * SIN - TICK - 4) / SIN);
  const every = Math.max(1, Math.ceil((FONT.tick * 1.3) / SIN / Math.max(slotWidth, 1e-9)));
  // Rotated text runs down-left from its slot: the first slots have only the left margin.
  const room = (i: number) => (leftSpace + (i + 0.5) * slotWidth) / SIN - 8;
  const shown = labels.map((l, i) =>
    i % every === 0 ? truncate(l, Math.min(maxText, room(i)), FONT.tick) : "",
  );
  const w = Math.max(0, ...shown.map((l) => textWidth(l, FONT.tick)));
  return { labels: shown, rotated: true, height: TICK + 4 + w * SIN + FONT.tick * SIN + 2 };
}

/** Draws category labels under slot centres (as laid out above) and an optional axis title. */
export function categoryAxis(
  layout: CategoryAxisLayout,
  fullLabels: readonly string[],
  centres: readonly number[],
  area: PlotArea,
  title?: string,
): string {
  const y = area.top + area.height;
  const parts: string[] = [line(area.left, y, area.left + area.width, y, PALETTE.axis)];
  centres.forEach((x, i) => {
    parts.push(line(x, y, x, y + TICK, PALETTE.axis));
    const label = layout.labels[i];
    if (!label) return;
    const attrs = { "font-size": FONT.tick, fill: PALETTE.text };
    const full = tooltip(fullLabels[i]);
    if (layout.rotated) {
      const ty = y + TICK + 4;
      const transform = `rotate(-${ROTATION_DEG} ${coord(x)} ${coord(ty)})`;
      parts.push(
        el(
          "text",
          { x, y: ty + FONT.tick * 0.35, "text-anchor": "end", transform, ...attrs },
          full,
          escapeXml(label),
        ),
      );
    } else {
      parts.push(
        el(
          "text",
          { x, y: y + TICK + FONT.tick, "text-anchor": "middle", ...attrs },
          full,
          escapeXml(label),
        ),
      );
    }
  });
  if (title) {
    const ty = y + layout.height + FONT.label + 2;
    parts.push(
      textEl(area.left + area.width / 2, ty, truncate(title, area.width, FONT.label), {
        "text-anchor": "middle",
        "font-size": FONT.label,
        fill: PALETTE.text,
      }),
    );
  }
  return el("g", { class: "axis axis-x" }, ...parts);
}

/** Height a category axis with `layout` and an optional title needs below the plot. */
export function categoryAxisHeight(layout: CategoryAxisLayout, title?: string): number {
  return layout.height + (title ? FONT.label + 8 : 0);
}
