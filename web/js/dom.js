/**
 * Building DOM safely: text always goes in through text nodes or textContent, never innerHTML,
 * so run names, params, notes or server messages cannot inject markup.
 */

/**
 * Creates an element. `props`: `class`, `text`, `on<event>` handlers, boolean/DOM properties
 * (`checked`, `disabled`, `value`, `hidden`), everything else as attributes. Children: nodes,
 * strings (as text), null/false (skipped), or arrays of those.
 *
 * @example h("td", { class: "num" }, "0.81")
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "checked" || key === "disabled" || key === "value" || key === "hidden") {
      el[key] = value;
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A metric value: 4 significant decimals, em dash when missing. */
export function formatMetric(value) {
  if (value === undefined || value === null || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-3)) return value.toExponential(3);
  return value.toFixed(4);
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});

/** Milliseconds since the epoch as a local date and time. */
export function formatTime(ms) {
  if (ms === undefined || ms === null) return "—";
  return DATE_TIME.format(new Date(ms));
}

/** The ISO form, for a `<time datetime>` attribute. */
export function isoTime(ms) {
  return new Date(ms).toISOString();
}

/** A `<time>` element showing local time. */
export function timeEl(ms) {
  if (ms === undefined || ms === null) return document.createTextNode("—");
  return h("time", { datetime: isoTime(ms), title: isoTime(ms) }, formatTime(ms));
}

/** e.g. `4 min 12 s`. */
export function formatDuration(start, end) {
  if (end === undefined || end === null) return "running";
  const s = Math.max(0, Math.round((end - start) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** First 8 characters of an id, enough to tell runs apart on screen. */
export function shortId(id) {
  return id ? String(id).slice(0, 8) : "—";
}

/**
 * Shows an API error (problem details) in `container`, or clears it when `error` is null. The
 * container should be a live region (role="alert") so screen readers announce it.
 */
export function showProblem(container, error, heading) {
  if (!error) {
    container.replaceChildren();
    return;
  }
  const title = heading ?? error.title ?? "Something went wrong";
  const code = error.code ? `${error.code}${error.status ? ` · HTTP ${error.status}` : ""}` : "";
  setChildren(
    container,
    h(
      "div",
      { class: "problem" },
      h("p", { class: "problem-title" }, title),
      h("p", { class: "problem-detail" }, error.detail || error.message || ""),
      code ? h("p", { class: "problem-code" }, `Error code: ${code}`) : null,
    ),
  );
}

/** A status badge for a run. */
export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, status.toLowerCase());
}

/** Alias badges; champion stands out because it is what serves applicants. */
export function aliasBadges(aliases) {
  return aliases.map((alias) =>
    h(
      "span",
      {
        class: `badge alias${alias === "champion" ? " champion" : ""}`,
        title: alias === "champion" ? "champion: the version serving applicants" : undefined,
      },
      alias,
    ),
  );
}
