/**
 * The monitoring page's per-feature section: one small chart per column of a drift report,
 * reference (training data) beside current (the window's decisions), drifted columns first and
 * outlined, each with the test that judged it and its p-value or distance.
 */
import { h, setChildren } from "./dom.js";
import { distributionRows, pairedBars } from "./monitoring-charts.js";

/** The drift tests' names (as src/monitoring/drift-tests.ts labels them). */
const TEST_LABELS = {
  ks: "two-sample Kolmogorov–Smirnov",
  chisquare: "chi-square goodness of fit",
  z: "two-proportion Z",
  wasserstein: "normed Wasserstein distance",
  jensenshannon: "Jensen–Shannon distance",
  psi: "population stability index",
  kl_div: "Kullback–Leibler divergence",
};
const EFFECT_LABELS = { ks_d: "D", cramers_v: "Cramér's V", cohens_h: "Cohen's h" };

/** A figure to `digits` decimals, em dash when missing. */
export const num = (v, digits = 3) =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits);
/** A share as a percentage, e.g. 12.5 %. */
export const pct = (v) =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(1)} %`;
/** A p-value: small ones in scientific notation, e.g. 3.2e-12. */
export const pValue = (p) =>
  p === null || p === undefined ? "—" : p < 1e-3 ? p.toExponential(1) : p.toFixed(4);

/** How far past its threshold a drifted column is, comparable across p-values and distances. */
function strength(c) {
  if (c.pValue !== null && c.threshold) {
    return Math.log10(Math.max(c.pValue, 1e-300)) / Math.log10(c.threshold);
  }
  return c.threshold && c.statistic !== null ? c.statistic / c.threshold : 0;
}

/** e.g. "two-sample Kolmogorov–Smirnov (ks): p = 3.2e-12 (threshold 0.05) · D = 0.410". */
function testText(c) {
  if (c.skipped || !c.test) return `not tested: ${c.skipped ?? "no test"}`;
  const label = `${TEST_LABELS[c.test] ?? c.test} (${c.test})`;
  const score =
    c.pValue !== null
      ? `p = ${pValue(c.pValue)} (threshold ${c.threshold})`
      : `distance ${num(c.statistic)} (threshold ${c.threshold})`;
  const effect = c.effectSize
    ? ` · ${EFFECT_LABELS[c.effectSize.measure] ?? c.effectSize.measure} = ${num(c.effectSize.value)}`
    : "";
  return `${label}: ${score}${effect}`;
}

/**
 * Draws the report's feature charts into `grid`, and says what they show in `summary`.
 */
export function renderFeatures(report, grid, summary) {
  const dd = report.dataDrift;
  const distributions = report.distributions ?? {};
  if (!dd) {
    summary.textContent =
      "This report had no reference profile to compare with: there are no per-feature charts.";
    setChildren(grid);
    return;
  }
  const drifted = dd.columns.filter((c) => c.drift).sort((a, b) => strength(b) - strength(a));
  const rest = dd.columns.filter((c) => !c.drift);
  summary.textContent = `${drifted.length} of ${dd.columns.length} columns drifted (shown first, outlined in red); the rest follow in schema order.`;
  const cards = [...drifted, ...rest].map((c) => featureCard(c, distributions[c.column]));
  const pd = report.predictionDrift;
  if (pd && distributions.probability_bad) {
    cards.push(
      featureCard(
        { ...pd, column: "probability_bad", prediction: true },
        distributions.probability_bad,
      ),
    );
  }
  setChildren(grid, cards);
}

function featureCard(c, dist) {
  const id = `feature-${c.column}`;
  const name = c.prediction ? `${c.column} (prediction)` : c.column;
  const rows = dist ? distributionRows(dist) : [];
  return h(
    "article",
    {
      class: `feature-card${c.drift ? " is-drifted" : ""}`,
      "data-column": c.column,
      "data-drift": c.drift ? "true" : "false",
      "aria-labelledby": `${id}-name`,
    },
    h(
      "div",
      { class: "feature-head" },
      h("h3", { id: `${id}-name` }, name),
      c.drift
        ? h("span", { class: "badge drift-yes" }, "drifted")
        : h("span", { class: "badge drift-no" }, "no drift"),
    ),
    dist
      ? pairedBars(
          dist,
          `${name}: reference and current shares per ${dist.type === "histogram" ? "bin" : "value"}${c.drift ? ", drifted" : ""}`,
        )
      : h("p", { class: "muted no-plot" }, "No distribution stored."),
    h("p", { class: "feature-test" }, testText(c)),
    rows.length === 0
      ? null
      : h(
          "details",
          { class: "feature-values" },
          h("summary", {}, "Values"),
          h(
            "table",
            {},
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, dist.type === "histogram" ? "Bin" : "Value"),
                h("th", { scope: "col", class: "num" }, "Reference"),
                h("th", { scope: "col", class: "num" }, "Current"),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, r.label),
                  h("td", { class: "num" }, pct(r.reference)),
                  h("td", { class: "num" }, pct(r.current)),
                ),
              ),
            ),
          ),
        ),
  );
}
