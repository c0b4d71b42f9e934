/**
 * 2×2 confusion matrix heat map.
 */
import { finite, sentences } from "./inputs.js";
import { layout, type ChartSizeOptions } from "./layout.js";
import {
  FONT,
  PALETTE,
  chartSize,
  coord,
  el,
  escapeXml,
  formatNumber,
  formatPercent,
  svgDocument,
  textEl,
  textWidth,
  tooltip,
  truncate,
  type PlotArea,
} from "./svg.js";

export interface ConfusionCounts {
  /** Predicted positive, actually positive. */
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

export interface ConfusionMatrixChartOptions extends ChartSizeOptions {
  /** Counts with "positive" meaning `positiveLabel` (the shape of `ml`'s `ConfusionMatrix`). */
  readonly matrix: ConfusionCounts;
  readonly positiveLabel?: string;
  readonly negativeLabel?: string;
  /** Default "Confusion matrix". */
  readonly title?: string;
}

/** Blend from a pale to a deep blue by `t` in [0, 1] (sequential, colour-blind safe). */
function heat(t: number): string {
  const from = [0xef, 0xf5, 0xfb];
  const to = [0x08, 0x45, 0x94];
  return `#${from
    .map((c, i) =>
      Math.round(c + (to[i] - c) * t)
        .toString(16)
        .padStart(2, "0"),
    )
    .join("")}`;
}

function formatCount(v: number): string {
  return Number.isInteger(v) ? String(v) : formatNumber(v, 2);
}

/**
 * 2×2 confusion matrix heat map: rows are the actual class, columns the predicted one; each cell
 * shows its count and its share of the actual class (row percentage, which also sets the colour
 * so the rarer class is as readable as the common one).
 * @example confusionMatrixChart({ matrix: { tp: 120, fp: 80, tn: 620, fn: 180 } })
 */
export function confusionMatrixChart(opts: ConfusionMatrixChartOptions): string {
  const pos = opts.positiveLabel ?? "bad";
  const neg = opts.negativeLabel ?? "good";
  const title = opts.title ?? "Confusion matrix";
  const size = chartSize(opts.width, opts.height);
  let invalid = 0;
  const count = (v: number) => {
    if (finite(v) && v >= 0) return v;
    invalid++;
    return 0;
  };
  const m = {
    tp: count(opts.matrix.tp),
    fp: count(opts.matrix.fp),
    tn: count(opts.matrix.tn),
    fn: count(opts.matrix.fn),
  };
  // Negative class first, so the diagonal (top-left → bottom-right) holds the correct predictions.
  const rows = [
    {
      actual: neg,
      cells: [
        { key: "TN", v: m.tn, predicted: neg },
        { key: "FP", v: m.fp, predicted: pos },
      ],
    },
    {
      actual: pos,
      cells: [
        { key: "FN", v: m.fn, predicted: neg },
        { key: "TP", v: m.tp, predicted: pos },
      ],
    },
  ];
  const note =
    invalid === 0
      ? ""
      : `${invalid} missing or negative count${invalid === 1 ? "" : "s"} shown as 0.`;
  const labelWidth = Math.min(
    size.width * 0.25,
    Math.max(textWidth(neg, FONT.label), textWidth(pos, FONT.label)),
  );
  const { area: outer, frame } = layout(
    size,
    title,
    [],
    { left: labelWidth + 12 + FONT.label + 14, bottom: FONT.label * 2 + 26, right: 30 },
    note,
  );
  const cell = Math.max(20, Math.min(outer.width / 2, outer.height / 2));
  const area: PlotArea = {
    left: outer.left + (outer.width - 2 * cell) / 2,
    top: outer.top,
    width: 2 * cell,
    height: 2 * cell,
  };

  const body: string[] = [...frame];
  rows.forEach((row, r) => {
    const total = row.cells[0].v + row.cells[1].v;
    row.cells.forEach((c, col) => {
      const share = total > 0 ? c.v / total : NaN;
      const cx = area.left + col * cell;
      const cy = area.top + r * cell;
      const dark = share > 0.55;
      const ink = dark ? "#ffffff" : PALETTE.text;
      const tip = `Actual ${row.actual}, predicted ${c.predicted} (${c.key}): ${formatCount(c.v)} rows, ${formatPercent(share)} of actual ${row.actual}`;
      body.push(
        el(
          "g",
          { class: "cell" },
          el(
            "rect",
            {
              x: cx,
              y: cy,
              width: cell,
              height: cell,
              fill: finite(share) ? heat(share) : "#f4f4f4",
              stroke: "#ffffff",
              "stroke-width": 2,
            },
            tooltip(tip),
          ),
          textEl(cx + 8, cy + 16, c.key, {
            "font-size": FONT.tick,
            fill: ink,
            "fill-opacity": 0.8,
          }),
          textEl(cx + cell / 2, cy + cell / 2, formatCount(c.v), {
            class: "count",
            "text-anchor": "middle",
            "font-size": FONT.cell,
            "font-weight": "bold",
            fill: ink,
          }),
          textEl(
            cx + cell / 2,
            cy + cell / 2 + 20,
            truncate(
              total > 0
                ? `${formatPercent(share)} of actual ${row.actual}`
                : `no actual ${row.actual} rows`,
              cell - 10,
              FONT.tick,
            ),
            { "text-anchor": "middle", "font-size": FONT.tick, fill: ink },
          ),
        ),
      );
    });
    const ly = area.top + r * cell + cell / 2;
    body.push(
      el(
        "text",
        {
          x: area.left - 8,
          y: ly + 4,
          "text-anchor": "end",
          "font-size": FONT.label,
          fill: PALETTE.text,
        },
        tooltip(row.actual),
        escapeXml(truncate(row.actual, labelWidth, FONT.label)),
      ),
    );
  });
  [neg, pos].forEach((label, col) => {
    const lx = area.left + col * cell + cell / 2;
    body.push(
      el(
        "text",
        {
          x: lx,
          y: area.top + 2 * cell + 18,
          "text-anchor": "middle",
          "font-size": FONT.label,
          fill: PALETTE.text,
        },
        tooltip(label),
        escapeXml(truncate(label, cell - 6, FONT.label)),
      ),
    );
  });
  const ax = area.left - labelWidth - 8 - 14;
  const ay = area.top + cell;
  body.push(
    textEl(ax, ay, "Actual", {
      "text-anchor": "middle",
      "font-size": FONT.label,
      "font-weight": "bold",
      fill: PALETTE.text,
      transform: `rotate(-90 ${coord(ax)} ${coord(ay)})`,
    }),
  );
  body.push(
    textEl(area.left + cell, area.top + 2 * cell + 40, "Predicted", {
      "text-anchor": "middle",
      "font-size": FONT.label,
      "font-weight": "bold",
      fill: PALETTE.text,
    }),
  );

  const total = m.tp + m.fp + m.tn + m.fn;
  const desc = sentences(
    `Confusion matrix over ${formatCount(total)} rows, positive class "${pos}".`,
    ...rows.flatMap((row) =>
      row.cells.map((c) => `Actual ${row.actual}, predicted ${c.predicted}: ${formatCount(c.v)}.`),
    ),
    total > 0 ? `Accuracy ${formatPercent((m.tp + m.tn) / total)}.` : "",
    note,
  );
  return svgDocument({ ...size, title, desc, body });
}
