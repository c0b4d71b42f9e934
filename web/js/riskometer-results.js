/**
 * The results table of a scored file: sort by any column, filter by risk and text, and page. The
 * server answers the upload with the first page and keeps every decision in its log, so sorting,
 * filtering and paging ask it for one page at a time (`GET /api/v1/batches/{id}/predictions`):
 * a file of 100,000 rows costs the browser no more than one of 100.
 */
import { h, setChildren } from "./dom.js";
import { batchPage } from "./riskometer-api.js";
import { confidenceMeter, count, percent, reasonsList, riskBadge } from "./riskometer-view.js";

/** key: the server's sort key; first: the direction of the first click. */
const COLUMNS = [
  { key: "row", label: "Row", first: "asc", numeric: true },
  { key: "risk", label: "Risk", first: "desc", numeric: false },
  { key: "probabilityBad", label: "Probability of bad", first: "desc", numeric: true },
  { key: "confidence", label: "Confidence", first: "desc", numeric: true },
  { key: "reason", label: "Top reasons towards bad", first: "asc", numeric: false, css: "reasons" },
];

export class ResultsTable {
  /**
   * @param {{ table: HTMLElement, head: HTMLElement, body: HTMLElement, summary: HTMLElement,
   *   pageLabel: HTMLElement, pageSize: HTMLSelectElement, search: HTMLInputElement,
   *   riskInputs: HTMLInputElement[], counts: { all: HTMLElement, good: HTMLElement, bad: HTMLElement },
   *   error: HTMLElement, first: HTMLButtonElement, prev: HTMLButtonElement,
   *   next: HTMLButtonElement, last: HTMLButtonElement }} els
   */
  constructor(els) {
    this.els = els;
    /** @type {string | null} */
    this.batchId = null;
    /** Scored rows in the batch (no filter). */
    this.scored = 0;
    /** @type {any[]} the page shown */
    this.predictions = [];
    /** Rows matching the filters, and by risk class those matching the search. */
    this.total = 0;
    this.counts = { good: 0, bad: 0 };
    this.sort = { key: "row", direction: "asc" };
    this.risk = "all";
    this.query = "";
    this.page = 0;
    this.pageSize = Number(els.pageSize.value) || 25;
    /** Answers to older requests are dropped: only the latest one is shown. */
    this.sequence = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.searchTimer = undefined;

    els.pageSize.addEventListener("change", () => {
      // Keep the first row of the current page in view.
      const firstRow = this.page * this.pageSize;
      this.pageSize = Number(els.pageSize.value) || 25;
      this.page = Math.floor(firstRow / this.pageSize);
      void this.load();
    });
    for (const input of els.riskInputs) {
      input.addEventListener("change", () => {
        if (!input.checked) return;
        this.risk = input.value;
        this.page = 0;
        void this.load();
      });
    }
    els.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      // One request once the typing pauses, not one per key.
      this.searchTimer = setTimeout(() => {
        this.query = els.search.value.trim();
        this.page = 0;
        void this.load();
      }, 250);
    });
    const go = (button, page, fallback) =>
      button.addEventListener("click", () => {
        this.page = page();
        void this.load().then(() => {
          // A button that just became disabled would drop the focus to the page's top.
          if (button.disabled) fallback.focus();
        });
      });
    go(els.first, () => 0, els.next);
    go(els.prev, () => this.page - 1, els.next);
    go(els.next, () => this.page + 1, els.prev);
    go(els.last, () => this.pageCount() - 1, els.prev);
  }

  /**
   * Shows a new batch from the upload's answer: its summary and first page (the server lists
   * the first `pageSize` rows in file order), filters and sort back to their defaults.
   */
  show(answer) {
    const predictions = Array.isArray(answer?.predictions) ? answer.predictions : [];
    const summary = answer?.summary ?? {};
    this.batchId = answer?.batchId ?? null;
    this.sequence++;
    this.scored = summary.scored ?? predictions.length;
    this.counts = {
      good: summary.good ?? predictions.filter((p) => p.risk === "good").length,
      bad: summary.bad ?? predictions.filter((p) => p.risk === "bad").length,
    };
    this.total = this.scored;
    this.predictions = predictions.slice(0, this.pageSize);
    this.sort = { key: "row", direction: "asc" };
    this.risk = "all";
    this.query = "";
    this.page = 0;
    this.els.search.value = "";
    for (const input of this.els.riskInputs) input.checked = input.value === "all";
    this.render();
  }

  /** The page the controls ask for, from the server; then shown. */
  async load() {
    if (this.batchId === null) return;
    const sequence = ++this.sequence;
    const { els } = this;
    els.table.setAttribute("aria-busy", "true");
    try {
      this.page = Math.max(0, Math.min(this.page, this.pageCount() - 1));
      const answer = await batchPage(this.batchId, {
        offset: this.page * this.pageSize,
        limit: this.pageSize,
        sort: this.sort.key,
        direction: this.sort.direction,
        risk: this.risk === "all" ? undefined : this.risk,
        search: this.query || undefined,
      });
      if (sequence !== this.sequence) return;
      this.total = answer.total;
      this.counts = answer.counts;
      this.predictions = answer.predictions;
      // A filter can leave fewer pages than the one asked for: show its last page instead.
      if (this.predictions.length === 0 && this.total > 0 && this.page > 0) {
        this.page = this.pageCount() - 1;
        return this.load();
      }
      showError(els.error, null);
      this.render();
    } catch (error) {
      if (sequence === this.sequence) showError(els.error, error);
    } finally {
      if (sequence === this.sequence) els.table.setAttribute("aria-busy", "false");
    }
  }

  pageCount() {
    return Math.max(1, Math.ceil(this.total / this.pageSize));
  }

  sortBy(key) {
    const column = COLUMNS.find((c) => c.key === key);
    if (!column) return;
    const direction =
      this.sort.key === key ? (this.sort.direction === "asc" ? "desc" : "asc") : column.first;
    this.sort = { key, direction };
    this.page = 0;
    // The header is drawn at once (and keeps the focus); the rows follow from the server.
    this.renderHead();
    /** @type {HTMLElement | null} */ (
      this.els.head.querySelector(`button[data-key="${key}"]`)
    )?.focus();
    void this.load();
  }

  render() {
    const { els, pageSize, predictions, total } = this;
    const pages = this.pageCount();
    const start = this.page * pageSize;
    const end = start + predictions.length;

    this.renderHead();
    if (predictions.length === 0) {
      setChildren(
        els.body,
        h(
          "tr",
          {},
          h(
            "td",
            { class: "empty", colspan: String(COLUMNS.length) },
            this.scored === 0
              ? "No applicant in this file could be scored."
              : "No applicants match the filter.",
          ),
        ),
      );
    } else {
      setChildren(
        els.body,
        predictions.map((p) => this.row(p)),
      );
    }

    const filtered = total !== this.scored;
    els.counts.all.textContent = count(this.counts.good + this.counts.bad);
    els.counts.good.textContent = count(this.counts.good);
    els.counts.bad.textContent = count(this.counts.bad);
    els.summary.textContent =
      predictions.length === 0
        ? filtered
          ? `No applicants match the filter (${count(this.scored)} scored).`
          : "Nothing to show."
        : `Showing ${count(start + 1)}–${count(end)} of ${count(total)} ${
            total === 1 ? "applicant" : "applicants"
          }${filtered ? ` (filtered from ${count(this.scored)})` : ""}`;
    els.pageLabel.textContent = `Page ${count(this.page + 1)} of ${count(pages)}`;
    els.first.disabled = this.page === 0;
    els.prev.disabled = this.page === 0;
    els.next.disabled = this.page >= pages - 1;
    els.last.disabled = this.page >= pages - 1;
  }

  renderHead() {
    const { key, direction } = this.sort;
    // Redrawing the header must not take the focus from a keyboard user on a sort button.
    const focused = /** @type {HTMLElement | null} */ (document.activeElement);
    const focusedKey = this.els.head.contains(focused) ? focused?.dataset.key : undefined;
    setChildren(
      this.els.head,
      COLUMNS.map((c) => {
        const active = c.key === key;
        return h(
          "th",
          {
            scope: "col",
            class: `col-${c.css ?? c.key}${c.numeric ? " num" : ""}`,
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
    if (focusedKey) {
      /** @type {HTMLElement | null} */ (
        this.els.head.querySelector(`button[data-key="${focusedKey}"]`)
      )?.focus();
    }
  }

  row(p) {
    return h(
      "tr",
      { class: p.risk === "bad" ? "is-bad" : undefined },
      h("td", { class: "num col-row" }, p.row === undefined ? "" : String(p.row)),
      h("td", { class: "col-risk" }, riskBadge(p.risk)),
      h("td", { class: "num col-probabilityBad" }, percent(p.probabilityBad)),
      h("td", { class: "num col-confidence" }, confidenceMeter(p.confidence, p.risk)),
      h("td", { class: "col-reasons" }, reasonsList(p.reasons, "reasons inline")),
    );
  }
}

/** Shows why a page could not be loaded (the server's words), or clears it. */
function showError(el, error) {
  if (!error) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.hidden = false;
  el.textContent = `The page could not be loaded: ${error.detail || error.message || error}`;
}
