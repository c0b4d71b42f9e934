/**
 * The results table of a scored file: sort by any column, filter by risk and text, and page on
 * the client. Built for files of 100,000 rows: the predictions stay plain objects, sorting and
 * filtering work on arrays of indices, and only the current page has table rows in the DOM.
 */
import { h, setChildren } from "./dom.js";
import {
  confidenceMeter,
  count,
  percent,
  reasonText,
  reasonsList,
  riskBadge,
} from "./riskometer-view.js";

/** key: what a click sorts by; first: the direction of the first click. */
const COLUMNS = [
  { key: "row", label: "Row", first: "asc", numeric: true },
  { key: "risk", label: "Risk", first: "desc", numeric: false },
  { key: "probabilityBad", label: "Probability of bad", first: "desc", numeric: true },
  { key: "confidence", label: "Confidence", first: "desc", numeric: true },
  { key: "reasons", label: "Top reasons towards bad", first: "asc", numeric: false },
];

const rowNumber = (p, i) => (Number.isFinite(p.row) ? p.row : i + 1);

/** A sort key per prediction: numbers for numeric columns, strings otherwise. */
function sortKeys(predictions, key) {
  const n = predictions.length;
  if (key === "reasons") {
    return predictions.map((p) => (p.reasons?.length ? reasonText(p.reasons[0]) : ""));
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = predictions[i];
    if (key === "row") keys[i] = rowNumber(p, i);
    else if (key === "risk") keys[i] = p.risk === "bad" ? 1 : 0;
    else keys[i] = Number.isFinite(p[key]) ? p[key] : -Infinity;
  }
  return keys;
}

export class ResultsTable {
  /**
   * @param {{ head: HTMLElement, body: HTMLElement, summary: HTMLElement, pageLabel: HTMLElement,
   *   pageSize: HTMLSelectElement, search: HTMLInputElement, riskInputs: HTMLInputElement[],
   *   counts: { all: HTMLElement, good: HTMLElement, bad: HTMLElement },
   *   first: HTMLButtonElement, prev: HTMLButtonElement, next: HTMLButtonElement,
   *   last: HTMLButtonElement }} els
   */
  constructor(els) {
    this.els = els;
    /** @type {any[]} */
    this.predictions = [];
    this.sort = { key: "row", direction: "asc" };
    /** Indices of all predictions in the current sort order. */
    this.order = new Uint32Array(0);
    /** Indices shown after the filters, in sort order. */
    this.view = new Uint32Array(0);
    /** @type {string[] | null} lower-case text per prediction, built on the first search */
    this.searchText = null;
    this.risk = "all";
    this.query = "";
    this.page = 0;
    this.pageSize = Number(els.pageSize.value) || 25;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.searchTimer = undefined;

    els.pageSize.addEventListener("change", () => {
      // Keep the first row of the current page in view.
      const firstRow = this.page * this.pageSize;
      this.pageSize = Number(els.pageSize.value) || 25;
      this.page = Math.floor(firstRow / this.pageSize);
      this.render();
    });
    for (const input of els.riskInputs) {
      input.addEventListener("change", () => {
        if (!input.checked) return;
        this.risk = input.value;
        this.applyFilters();
      });
    }
    els.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      // Typing in a 100,000-row table: filter once the typing pauses.
      const delay = this.predictions.length > 5000 ? 200 : 60;
      this.searchTimer = setTimeout(() => {
        this.query = els.search.value.trim().toLowerCase();
        this.applyFilters();
      }, delay);
    });
    const go = (button, page, fallback) =>
      button.addEventListener("click", () => {
        this.page = page();
        this.render();
        // A button that just became disabled would drop the focus to the page's top.
        if (button.disabled) fallback.focus();
      });
    go(els.first, () => 0, els.next);
    go(els.prev, () => this.page - 1, els.next);
    go(els.next, () => this.page + 1, els.prev);
    go(els.last, () => this.pageCount() - 1, els.prev);
  }

  /** Shows a new batch: filters and sort back to their defaults. */
  show(predictions) {
    this.predictions = Array.isArray(predictions) ? predictions : [];
    this.searchText = null;
    this.sort = { key: "row", direction: "asc" };
    this.risk = "all";
    this.query = "";
    this.els.search.value = "";
    for (const input of this.els.riskInputs) input.checked = input.value === "all";
    this.applySort();
  }

  pageCount() {
    return Math.max(1, Math.ceil(this.view.length / this.pageSize));
  }

  sortBy(key) {
    const column = COLUMNS.find((c) => c.key === key);
    if (!column) return;
    const direction =
      this.sort.key === key ? (this.sort.direction === "asc" ? "desc" : "asc") : column.first;
    this.sort = { key, direction };
    this.applySort();
    // The header was re-rendered: give the focus back to the same header button.
    /** @type {HTMLElement | null} */ (
      this.els.head.querySelector(`button[data-key="${key}"]`)
    )?.focus();
  }

  applySort() {
    const n = this.predictions.length;
    const keys = sortKeys(this.predictions, this.sort.key);
    const sign = this.sort.direction === "asc" ? 1 : -1;
    const order = Array.from({ length: n }, (_, i) => i);
    const strings = this.sort.key === "reasons";
    order.sort((a, b) => {
      const ka = keys[a];
      const kb = keys[b];
      const c = strings ? (ka < kb ? -1 : ka > kb ? 1 : 0) : ka - kb;
      // Ties keep file order whichever way the column sorts.
      return c !== 0 ? c * sign : a - b;
    });
    this.order = Uint32Array.from(order);
    this.applyFilters();
  }

  buildSearchText() {
    this.searchText = this.predictions.map((p, i) =>
      [
        rowNumber(p, i),
        p.risk,
        p.id ?? "",
        ...(p.reasons ?? []).map((r) => `${reasonText(r)} ${r.value ?? ""}`),
      ]
        .join(" ")
        .toLowerCase(),
    );
  }

  applyFilters() {
    if (this.query && !this.searchText) this.buildSearchText();
    const { order, predictions, query, risk } = this;
    const text = this.searchText;
    const view = new Uint32Array(order.length);
    let shown = 0;
    let good = 0;
    let bad = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (query && text && !text[i].includes(query)) continue;
      const isBad = predictions[i].risk === "bad";
      if (isBad) bad++;
      else good++;
      if (risk === "all" || (risk === "bad") === isBad) view[shown++] = i;
    }
    this.view = view.subarray(0, shown);
    this.els.counts.all.textContent = count(good + bad);
    this.els.counts.good.textContent = count(good);
    this.els.counts.bad.textContent = count(bad);
    this.page = 0;
    this.render();
  }

  render() {
    const { els, view, pageSize } = this;
    const pages = this.pageCount();
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const start = this.page * pageSize;
    const end = Math.min(view.length, start + pageSize);

    this.renderHead();
    if (view.length === 0) {
      setChildren(
        els.body,
        h(
          "tr",
          {},
          h(
            "td",
            { class: "empty", colspan: String(COLUMNS.length) },
            this.predictions.length === 0
              ? "No applicant in this file could be scored."
              : "No applicants match the filter.",
          ),
        ),
      );
    } else {
      const rows = [];
      for (let k = start; k < end; k++) rows.push(this.row(view[k]));
      setChildren(els.body, rows);
    }

    const total = this.predictions.length;
    const filtered = view.length !== total;
    els.summary.textContent =
      view.length === 0
        ? filtered
          ? `No applicants match the filter (${count(total)} scored).`
          : "Nothing to show."
        : `Showing ${count(start + 1)}–${count(end)} of ${count(view.length)} ${
            view.length === 1 ? "applicant" : "applicants"
          }${filtered ? ` (filtered from ${count(total)})` : ""}`;
    els.pageLabel.textContent = `Page ${count(this.page + 1)} of ${count(pages)}`;
    els.first.disabled = this.page === 0;
    els.prev.disabled = this.page === 0;
    els.next.disabled = this.page >= pages - 1;
    els.last.disabled = this.page >= pages - 1;
  }

  renderHead() {
    const { key, direction } = this.sort;
    setChildren(
      this.els.head,
      COLUMNS.map((c) => {
        const active = c.key === key;
        return h(
          "th",
          {
            scope: "col",
            class: `col-${c.key}${c.numeric ? " num" : ""}`,
            "aria-sort": active ? (direction === "asc" ? "ascending" : "descending") : "none",
          },
          h(
            "button",
            {
              type: "button",
              class: "sort-button",
              "data-key": c.key,
              title: `Sort by ${c.label.toLowerCase()}`,
              onclick: () => this.sortBy(c.key),
            },
            c.label,
            h(
              "span",
              { class: "sort-indicator", "aria-hidden": "true" },
              active ? (direction === "asc" ? "▲" : "▼") : "",
            ),
          ),
        );
      }),
    );
  }

  row(i) {
    const p = this.predictions[i];
    return h(
      "tr",
      { "data-index": String(i), class: p.risk === "bad" ? "is-bad" : undefined },
      h("td", { class: "num col-row" }, String(rowNumber(p, i))),
      h("td", { class: "col-risk" }, riskBadge(p.risk)),
      h("td", { class: "num col-probabilityBad" }, percent(p.probabilityBad)),
      h("td", { class: "num col-confidence" }, confidenceMeter(p.confidence, p.risk)),
      h("td", { class: "col-reasons" }, reasonsList(p.reasons, "reasons inline")),
    );
  }
}
