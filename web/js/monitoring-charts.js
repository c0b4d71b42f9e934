/**
 * The monitoring page's drawings, as SVG built with DOM calls (no markup strings, so a column
 * or category name can never become markup): a line chart of figures per report, and the paired
 * bars of a feature's reference and current distributions. Every drawing is an image with a
 * name (role="img", aria-label and a <title>); the page puts the same figures in a table.
 */

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Creates an SVG element; children are nodes or strings (as text).
 *
 * @example svg("line", { x1: 0, y1: 0, x2: 10, y2: 0, class: "axis" })
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const round = (v) => Math.round(v * 10) / 10;

/** An image-like SVG with its accessible name. */
function figureSvg(width, height, label, className) {
  return svg(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      class: className,
      role: "img",
      "aria-label": label,
      preserveAspectRatio: "xMidYMid meet",
    },
    svg("title", {}, label),
  );
}

/**
 * A line chart of figures in [0, 1] over the reports, oldest left. `count` reports share the x
 * axis (so two charts of the same reports line up); each series draws a point per entry it has.
 *
 * @param {{
 *   label: string,
 *   count: number,
 *   xLabels: [string, string],
 *   threshold?: { value: number, label: string },
 *   selected?: number,
 *   series: { name: string, className: string,
 *             points: { index: number, value: number, title: string, id: string }[] }[],
 * }} chart
 */
export function lineChart(chart) {
  const W = 520;
  const H = 190;
  const m = { left: 34, right: 14, top: 10, bottom: 26 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const x = (i) => round(m.left + (chart.count <= 1 ? plotW / 2 : (i / (chart.count - 1)) * plotW));
  const y = (v) => round(m.top + (1 - Math.min(1, Math.max(0, v))) * plotH);
  const root = figureSvg(W, H, chart.label, "trend-svg");

  const grid = svg("g", { class: "grid", "aria-hidden": "true" });
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    grid.append(svg("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }));
    if (v === 0 || v === 0.5 || v === 1) {
      grid.append(
        svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, String(v)),
      );
    }
  }
  grid.append(
    svg("text", { x: m.left, y: H - 6, class: "tick" }, chart.xLabels[0]),
    svg(
      "text",
      { x: W - m.right, y: H - 6, "text-anchor": "end", class: "tick" },
      chart.xLabels[1],
    ),
  );
  root.append(grid);

  if (chart.threshold) {
    root.append(
      svg(
        "line",
        {
          class: "threshold",
          x1: m.left,
          x2: W - m.right,
          y1: y(chart.threshold.value),
          y2: y(chart.threshold.value),
        },
        svg("title", {}, chart.threshold.label),
      ),
    );
  }
  if (chart.selected !== undefined && chart.selected !== null) {
    root.append(
      svg("line", {
        class: "selected-line",
        x1: x(chart.selected),
        x2: x(chart.selected),
        y1: m.top,
        y2: m.top + plotH,
        "aria-hidden": "true",
      }),
    );
  }
  for (const series of chart.series) {
    const g = svg("g", { class: `series ${series.className}`, "data-series": series.name });
    if (series.points.length > 1) {
      g.append(
        svg("polyline", {
          points: series.points.map((p) => `${x(p.index)},${y(p.value)}`).join(" "),
          "aria-hidden": "true",
        }),
      );
    }
    for (const p of series.points) {
      g.append(
        svg(
          "circle",
          {
            class: p.index === chart.selected ? "point is-selected" : "point",
            cx: x(p.index),
            cy: y(p.value),
            r: p.index === chart.selected ? 5.5 : 4,
            "data-report": p.id,
          },
          svg("title", {}, p.title),
        ),
      );
    }
    root.append(g);
  }
  return root;
}

const pct = (v) => `${(v * 100).toFixed(1)} %`;

/** Compact numbers for axis labels: 4, 12.5, 1.2k, 15k. */
function tickNumber(v) {
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${Math.round(v / 1000)}k`;
  if (abs >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return abs >= 10 ? v.toFixed(0) : v.toFixed(2);
}

/**
 * The bins or categories of a distribution: label and both shares, in chart order.
 *
 * @returns {{ label: string, reference: number, current: number }[]}
 */
export function distributionRows(dist) {
  if (dist.type === "histogram") {
    return dist.reference.map((ref, i) => ({
      label: `${tickNumber(dist.edges[i])}–${tickNumber(dist.edges[i + 1])}`,
      reference: ref,
      current: dist.current[i] ?? 0,
    }));
  }
  return dist.categories.map((c, i) => ({
    label: String(c),
    reference: dist.reference[i] ?? 0,
    current: dist.current[i] ?? 0,
  }));
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Paired bars per bin or category: the reference's share beside the current one's. */
export function pairedBars(dist, label) {
  const W = 300;
  const H = 140;
  const m = { left: 6, right: 6, top: 8, bottom: 22 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const rows = distributionRows(dist);
  const root = figureSvg(W, H, label, "bars-svg");
  const max = Math.max(0.0001, ...rows.map((r) => Math.max(r.reference, r.current)));
  const base = m.top + plotH;
  root.append(svg("line", { class: "axis", x1: m.left, x2: W - m.right, y1: base, y2: base }));
  if (rows.length === 0) {
    root.append(
      svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "tick" }, "no values"),
    );
    return root;
  }
  const group = plotW / rows.length;
  const bar = Math.max(1, Math.min(18, group * 0.4));
  const showEach = dist.type === "categories" && rows.length <= 6;
  rows.forEach((row, i) => {
    const left = m.left + i * group + (group - 2 * bar) / 2;
    const hRef = (row.reference / max) * plotH;
    const hCur = (row.current / max) * plotH;
    root.append(
      svg(
        "g",
        { class: "bar-pair" },
        svg(
          "title",
          {},
          `${row.label}: reference ${pct(row.reference)}, current ${pct(row.current)}`,
        ),
        svg("rect", {
          class: "bar-ref",
          x: round(left),
          y: round(base - hRef),
          width: round(bar),
          height: round(hRef),
        }),
        svg("rect", {
          class: "bar-cur",
          x: round(left + bar),
          y: round(base - hCur),
          width: round(bar),
          height: round(hCur),
        }),
        showEach
          ? svg(
              "text",
              {
                x: round(m.left + (i + 0.5) * group),
                y: H - 7,
                "text-anchor": "middle",
                class: "tick",
              },
              clip(row.label, Math.max(4, Math.floor(group / 6.5))),
            )
          : null,
      ),
    );
  });
  if (!showEach) {
    const first = dist.type === "histogram" ? tickNumber(dist.edges[0]) : rows[0].label;
    const last =
      dist.type === "histogram" ? tickNumber(dist.edges.at(-1)) : (rows.at(-1)?.label ?? "");
    root.append(
      svg("text", { x: m.left, y: H - 7, class: "tick" }, clip(first, 14)),
      svg(
        "text",
        { x: W - m.right, y: H - 7, "text-anchor": "end", class: "tick" },
        clip(last, 14),
      ),
    );
  }
  return root;
}
