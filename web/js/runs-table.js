/**
 * The runs table: sortable headers, rows with selection checkboxes, and the metric-column
 * chooser. Pure rendering: state lives in runs.js and comes in as arguments, changes go out
 * through callbacks.
 */
import { formatMetric, h, setChildren, shortId, statusBadge, timeEl } from "./dom.js";

/** Fixed columns: label, the order-by field, and which direction a first click sorts in. */
export const FIXED_COLUMNS = [
  { label: "Run", field: "name", first: "ASC" },
  { label: "Kind", field: "params.kind", first: "ASC" },
  { label: "Status", field: "status", first: "ASC" },
  { label: "Parent", field: null, first: "ASC" },
  { label: "Started", field: "start_time", first: "DESC" },
];

/**
 * The field and direction of an order-by clause; the server's default (newest first) when empty.
 *
 * @example parseSort("metrics.cv_cost DESC") // { field: "metrics.cv_cost", direction: "DESC" }
 */
export function parseSort(orderBy) {
  const m = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(orderBy.trim());
  if (!m || !m[1]) return { field: "start_time", direction: "DESC" };
  return { field: m[1], direction: (m[2] ?? "ASC").toUpperCase() };
}

/** The clause after clicking `field`: the other direction if it is the sorted one, else `first`. */
export function nextSort(orderBy, field, first) {
  const sort = parseSort(orderBy);
  const direction = sort.field === field ? (sort.direction === "ASC" ? "DESC" : "ASC") : first;
  return `${field} ${direction}`;
}

function headerCell(label, field, first, numeric, sort, onSort) {
  const className = numeric ? "num" : undefined;
  if (field === null) return h("th", { scope: "col", class: className }, label);
  const active = sort.field === field;
  const ariaSort = active ? (sort.direction === "ASC" ? "ascending" : "descending") : "none";
  return h(
    "th",
    { scope: "col", class: className, "aria-sort": ariaSort },
    h(
      "button",
      {
        type: "button",
        class: "sort-button",
        "data-field": field,
        title: `Sort by ${label}`,
        onclick: () => onSort(field, first),
      },
      label,
      h(
        "span",
        { class: "sort-indicator", "aria-hidden": "true" },
        active ? (sort.direction === "ASC" ? "▲" : "▼") : "",
      ),
    ),
  );
}

/**
 * @param {HTMLElement} row the header `<tr>`
 * @param {{ orderBy: string, metricColumns: string[], onSort: (field: string, first: string) => void }} options
 */
export function renderHead(row, options) {
  const sort = parseSort(options.orderBy);
  setChildren(
    row,
    h("th", { scope: "col", class: "select" }, h("span", { class: "visually-hidden" }, "Select")),
    FIXED_COLUMNS.map((c) => headerCell(c.label, c.field, c.first, false, sort, options.onSort)),
    options.metricColumns.map((key) =>
      headerCell(key, `metrics.${key}`, "DESC", true, sort, options.onSort),
    ),
  );
}

/** Opens a run in place on a plain click; other clicks (new tab, new window) follow the link. */
function runLink(id, text, className, onOpen) {
  return h(
    "a",
    {
      class: className,
      href: `?compare=${encodeURIComponent(id)}`,
      onclick: (/** @type {MouseEvent} */ e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        onOpen(id);
      },
    },
    text,
  );
}

/**
 * @param {HTMLElement} body the `<tbody>`
 * @param {any[]} runs runs of one search page
 * @param {{ metricColumns: string[], selected: Map<string,string>, runNames: Map<string,string>,
 *   emptyText: string, onToggle: (info: any, checked: boolean) => void, onOpen: (id: string) => void }} options
 */
export function renderRows(body, runs, options) {
  if (runs.length === 0) {
    const colspan = String(1 + FIXED_COLUMNS.length + options.metricColumns.length);
    setChildren(body, h("tr", {}, h("td", { class: "empty", colspan }, options.emptyText)));
    return;
  }
  setChildren(
    body,
    runs.map((run) => {
      const { info } = run;
      const selected = options.selected.has(info.id);
      const parent = info.parentRunId;
      return h(
        "tr",
        { class: selected ? "is-selected" : undefined, "data-run-id": info.id },
        h(
          "td",
          { class: "select" },
          h("input", {
            type: "checkbox",
            checked: selected,
            "aria-label": `Select run ${info.name}`,
            onchange: (/** @type {Event} */ e) =>
              options.onToggle(info, /** @type {HTMLInputElement} */ (e.target).checked),
          }),
        ),
        h(
          "td",
          {},
          runLink(info.id, info.name, "run-name", options.onOpen),
          h("span", { class: "sub mono" }, shortId(info.id)),
        ),
        h("td", {}, run.params.kind ?? "—"),
        h("td", {}, statusBadge(info.status)),
        h(
          "td",
          {},
          parent === null
            ? h("span", { class: "muted" }, "—")
            : runLink(
                parent,
                options.runNames.get(parent) ?? shortId(parent),
                null,
                options.onOpen,
              ),
        ),
        h("td", {}, timeEl(info.startTime)),
        options.metricColumns.map((key) =>
          h("td", { class: "num" }, formatMetric(run.metrics[key]?.value)),
        ),
      );
    }),
  );
}

/**
 * @param {HTMLElement} fieldset the chooser's `<fieldset>` (its `<legend>` is kept)
 * @param {{ keys: string[], chosen: string[], onChange: (key: string, checked: boolean) => void }} options
 */
export function renderColumnOptions(fieldset, options) {
  const legend = fieldset.querySelector("legend");
  setChildren(
    fieldset,
    legend,
    options.keys.map((key) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          value: key,
          checked: options.chosen.includes(key),
          onchange: (/** @type {Event} */ e) =>
            options.onChange(key, /** @type {HTMLInputElement} */ (e.target).checked),
        }),
        key,
      ),
    ),
  );
}
