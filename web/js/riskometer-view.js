/**
 * Pieces the Risk-O-Meter page shows in several places: the risk badge (text and symbol, never
 * colour alone), percentages, the confidence bar and the list of reasons. All text goes in as
 * text nodes (dom.js), so nothing a file contains can become markup.
 */
import { h } from "./dom.js";

const PERCENT = new Intl.NumberFormat(undefined, {
  style: "percent",
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const WHOLE_PERCENT = new Intl.NumberFormat(undefined, {
  style: "percent",
  maximumFractionDigits: 0,
});
const COUNT = new Intl.NumberFormat();

/** e.g. `17.3%`; em dash when missing. */
export function percent(value) {
  return Number.isFinite(value) ? PERCENT.format(value) : "—";
}

/** e.g. `83%`. */
export function wholePercent(value) {
  return Number.isFinite(value) ? WHOLE_PERCENT.format(value) : "—";
}

/** e.g. `100,000`. */
export function count(value) {
  return Number.isFinite(value) ? COUNT.format(value) : "—";
}

/** The risk class as a badge: a symbol and the word, in green or red. */
export function riskBadge(risk, size = "") {
  const bad = risk === "bad";
  return h(
    "span",
    { class: `risk-badge ${bad ? "risk-bad" : "risk-good"}${size ? ` ${size}` : ""}` },
    h("span", { class: "risk-icon", "aria-hidden": "true" }, bad ? "!" : "✓"),
    bad ? "bad" : "good",
  );
}

/**
 * Confidence as text and a small bar. The bar's width is set through the CSSOM (allowed by the
 * page's CSP, unlike a style attribute); screen readers get the text only.
 */
export function confidenceMeter(confidence, risk) {
  const fill = h("span", { class: `meter-fill ${risk === "bad" ? "is-bad" : "is-good"}` });
  const clamped = Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 0;
  fill.style.width = `${(clamped * 100).toFixed(1)}%`;
  return h(
    "span",
    { class: "confidence" },
    h("span", { class: "confidence-value" }, wholePercent(confidence)),
    h("span", { class: "meter", "aria-hidden": "true" }, fill),
  );
}

/** The readable text of one reason, built from its parts when the server sent no `text`. */
export function reasonText(reason) {
  if (reason?.text) return String(reason.text);
  const label = reason?.label ?? reason?.feature ?? "";
  const value = reason?.valueLabel ?? reason?.value ?? "";
  return value === "" ? String(label) : `${label}: ${value}`;
}

/** Top reasons towards bad as a compact list. */
export function reasonsList(reasons, className = "reasons") {
  if (!Array.isArray(reasons) || reasons.length === 0) {
    return h("span", { class: "muted" }, "—");
  }
  return h(
    "ol",
    { class: className },
    reasons.map((r) =>
      h(
        "li",
        {
          title: Number.isFinite(r?.contribution)
            ? `Contribution towards bad: +${r.contribution.toFixed(3)}`
            : undefined,
        },
        reasonText(r),
      ),
    ),
  );
}

/** A model reference, e.g. `credit-risk v3`. */
export function modelName(model) {
  if (!model) return "";
  return `${model.name ?? "model"}${model.version !== undefined ? ` v${model.version}` : ""}`;
}
