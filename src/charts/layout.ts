/**
 * The frame every chart shares: the size options, the plot rectangle inside the margins, and the
 * title, legend and footnote around it.
 */
import {
  FOOTNOTE_HEIGHT,
  TITLE_HEIGHT,
  footnote,
  legend,
  legendHeight,
  titleText,
  type LegendItem,
  type PlotArea,
} from "./svg.js";

/** Size shared by all charts, in SVG user units (the viewBox scales it). */
export interface ChartSizeOptions {
  /** Default 640. */
  readonly width?: number;
  /** Default 400 (bar charts with many bars grow taller unless a height is given). */
  readonly height?: number;
}

/** Right margin of the plot unless a chart asks for more. */
export const RIGHT = 20;

export interface Layout {
  readonly area: PlotArea;
  /** Title, legend and footnote markup. */
  readonly frame: readonly string[];
}

/** Left edge of the plot for a left margin (axis width); capped so the plot keeps some room. */
export function plotLeft(margin: number, width: number): number {
  return Math.min(margin + 8, width * 0.6);
}

/** Places title, legend (between title and plot, so it never covers data) and footnote. */
export function layout(
  size: { width: number; height: number },
  title: string,
  items: readonly LegendItem[],
  margins: { left: number; bottom: number; right?: number },
  note: string,
): Layout {
  const { width, height } = size;
  const legendWidth = width - 40;
  const lh = legendHeight(items, legendWidth);
  const top = TITLE_HEIGHT + lh + (lh > 0 ? 12 : 8);
  const bottom = margins.bottom + 8 + (note ? FOOTNOTE_HEIGHT : 0);
  const left = plotLeft(margins.left, width);
  const area = {
    left,
    top,
    width: Math.max(20, width - left - (margins.right ?? RIGHT)),
    height: Math.max(20, height - top - bottom),
  };
  const frame = [titleText(title, width), legend(items, width / 2, TITLE_HEIGHT + 2, legendWidth)];
  if (note) frame.push(footnote(note, width, height));
  return { area, frame };
}
