/**
 * Small formats of the flows page: relative times kept current, durations, short times, facts
 * of a definition list.
 */
import { formatDuration, h, timeEl } from "./dom.js";

/** States a run can still leave: while one is shown, the page keeps looking. */
export const ACTIVE_STATES = new Set(["SCHEDULED", "PENDING", "RUNNING"]);

export const ms = (iso) => (iso === null || iso === undefined ? null : Date.parse(iso));

/**
 * How far a time is from now, roughly: the absolute time sits next to it.
 *
 * @example relativeTime(Date.now() + 2 * 3600e3) // "in 2 h"
 */
export function relativeTime(at, now = Date.now()) {
  const diff = at - now;
  const abs = Math.abs(diff);
  if (abs < 60_000) return diff >= 0 ? "in under a minute" : "just now";
  const minutes = Math.round(abs / 60_000);
  const hours = Math.round(abs / 3_600_000);
  const text =
    minutes < 60 ? `${minutes} min` : hours < 36 ? `${hours} h` : `${Math.round(hours / 24)} days`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** A relative time that the page keeps current while it is open (see updateRelativeTimes). */
export function relativeEl(at) {
  return h("span", { class: "relative muted", "data-at": String(at) }, `(${relativeTime(at)})`);
}

export function updateRelativeTimes() {
  for (const el of document.querySelectorAll("[data-at]")) {
    el.textContent = `(${relativeTime(Number(/** @type {HTMLElement} */ (el).dataset.at))})`;
  }
}

/** e.g. 7200 → "2 h", 5400 → "1 h 30 min". */
export function formatSeconds(seconds) {
  const minutes = Math.round(seconds / 60);
  if (seconds < 60) return `${seconds} s`;
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return `${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ""}`;
}

/**
 * A run's duration; a run under way counts up to now. The table's cell is short (the state
 * badge beside it says the run goes on); the details say "so far".
 */
export function durationText(run, { soFar = false } = {}) {
  if (run.durationSeconds === null || run.durationSeconds === undefined) return "—";
  const text = formatDuration(0, run.durationSeconds * 1000);
  return soFar && ACTIVE_STATES.has(run.state) ? `${text} so far` : text;
}

const SHORT_TIME = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});

/** Like timeEl, without the year when it is this year's: table cells stay on one line. */
export function shortTimeEl(at) {
  if (new Date(at).getFullYear() !== new Date().getFullYear()) return timeEl(at);
  const iso = new Date(at).toISOString();
  return h("time", { datetime: iso, title: iso }, SHORT_TIME.format(new Date(at)));
}

export const LOG_TIME = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export const muted = (text) => h("span", { class: "muted" }, text);

export function fact(label, ...value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
}

/** A fact with a long value (a full id) that takes two columns of the details. */
export function wideFact(label, ...value) {
  const el = fact(label, ...value);
  el.className = "wide";
  return el;
}
