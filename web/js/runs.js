/**
 * The runs page: search (filter language), sort by clicking headers, page with the server's page
 * tokens, pick metric columns, select runs and compare them. The search and the compared runs
 * live in the URL, so a view can be bookmarked or sent to a colleague.
 */
import { ApiError, api } from "./api.js";
import { renderCompare } from "./compare.js";
import { h, setChildren, showProblem } from "./dom.js";
import {
  nextSort,
  renderColumnOptions as renderRunsColumnOptions,
  renderHead as renderRunsHead,
  renderRows as renderRunsRows,
} from "./runs-table.js";

const DEFAULT_METRICS = ["cv_auc", "cv_cost", "test_auc", "test_cost"];
const COLUMNS_KEY = "riskometer.runs.metricColumns";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const els = {
  listView: $("list-view"),
  compareView: $("compare-view"),
  form: /** @type {HTMLFormElement} */ ($("search-form")),
  experiment: /** @type {HTMLSelectElement} */ ($("experiment")),
  filter: /** @type {HTMLInputElement} */ ($("filter")),
  clearFilter: $("clear-filter"),
  searchError: $("search-error"),
  summary: $("result-summary"),
  head: $("runs-head"),
  body: $("runs-body"),
  pageSize: /** @type {HTMLSelectElement} */ ($("page-size")),
  pageLabel: $("page-label"),
  prev: /** @type {HTMLButtonElement} */ ($("prev-page")),
  next: /** @type {HTMLButtonElement} */ ($("next-page")),
  selectionCount: $("selection-count"),
  clearSelection: /** @type {HTMLButtonElement} */ ($("clear-selection")),
  compareButton: /** @type {HTMLButtonElement} */ ($("compare-button")),
  columnOptions: $("column-options"),
  compareHeading: $("compare-heading"),
  compareLede: $("compare-lede"),
  compareError: $("compare-error"),
  compareContent: $("compare-content"),
  onlyDifferences: /** @type {HTMLInputElement} */ ($("only-differences")),
  backToList: $("back-to-list"),
};

const state = {
  experiment: "",
  filter: "",
  /** One clause, e.g. `metrics.test_auc DESC`; empty = newest first (the server's default). */
  orderBy: "",
  pageSize: 25,
  /** tokens[i] opens page i; tokens[0] is the first page (no token). */
  tokens: [undefined],
  page: 0,
  /** @type {Map<string, string>} id → name, kept across pages */
  selected: new Map(),
  metricColumns: loadColumns(),
  knownMetrics: new Set(DEFAULT_METRICS),
  /** @type {Map<string, string>} run id → name, to show parents by name */
  runNames: new Map(),
  /** @type {Map<string, string>} experiment id → name */
  experimentNames: new Map(),
  /** Guards against an older response overwriting a newer one. */
  requestSeq: 0,
};

function loadColumns() {
  try {
    const saved = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? "null");
    if (Array.isArray(saved) && saved.every((s) => typeof s === "string")) return saved;
  } catch {
    // A corrupt preference is not worth an error: fall back to the defaults.
  }
  return [...DEFAULT_METRICS];
}

function saveColumns() {
  localStorage.setItem(COLUMNS_KEY, JSON.stringify(state.metricColumns));
}

// ---- URL state -----------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  state.experiment = params.get("experiment") ?? "";
  state.filter = params.get("filter") ?? "";
  state.orderBy = params.get("orderBy") ?? "";
  const size = Number(params.get("pageSize"));
  state.pageSize = Number.isInteger(size) && size >= 1 && size <= 1000 ? size : 25;
  const compare = params.get("compare");
  return compare ? compare.split(",").filter(Boolean) : null;
}

function searchParams() {
  const params = new URLSearchParams();
  if (state.experiment) params.set("experiment", state.experiment);
  if (state.filter) params.set("filter", state.filter);
  if (state.orderBy) params.set("orderBy", state.orderBy);
  if (state.pageSize !== 25) params.set("pageSize", String(state.pageSize));
  return params;
}

function listUrl() {
  const query = searchParams().toString();
  return `${window.location.pathname}${query ? `?${query}` : ""}`;
}

// ---- table ---------------------------------------------------------------------------------

/** @type {{ runs: any[], nextPageToken: string | null, total: number } | null} */
let lastPage = null;

function sortBy(field, first) {
  state.orderBy = nextSort(state.orderBy, field, first);
  resetPages();
  void load({ focusHeader: field });
}

function renderHead() {
  renderRunsHead(els.head, {
    orderBy: state.orderBy,
    metricColumns: state.metricColumns,
    onSort: sortBy,
  });
}

function renderRows(runs) {
  renderRunsRows(els.body, runs, {
    metricColumns: state.metricColumns,
    selected: state.selected,
    runNames: state.runNames,
    emptyText: state.filter ? "No runs match this filter." : "No runs recorded yet.",
    onToggle: toggleSelection,
    onOpen: (id) => void openCompare([id]),
  });
}

function renderColumnOptions() {
  renderRunsColumnOptions(els.columnOptions, {
    keys: [...new Set([...state.knownMetrics, ...state.metricColumns])].sort(),
    chosen: state.metricColumns,
    // The checkboxes are not re-rendered here, so keyboard focus stays on the one toggled.
    onChange: (key, checked) => {
      state.metricColumns = checked
        ? [...state.metricColumns.filter((k) => k !== key), key]
        : state.metricColumns.filter((k) => k !== key);
      saveColumns();
      renderHead();
      renderRows(lastPage?.runs ?? []);
    },
  });
}

function toggleSelection(info, checked) {
  if (checked) state.selected.set(info.id, info.name);
  else state.selected.delete(info.id);
  const row = els.body.querySelector(`tr[data-run-id="${CSS.escape(info.id)}"]`);
  row?.classList.toggle("is-selected", checked);
  renderSelection();
}

function renderSelection() {
  const n = state.selected.size;
  els.selectionCount.textContent =
    n === 0 ? "No runs selected" : `${n} run${n === 1 ? "" : "s"} selected`;
  els.compareButton.disabled = n < 2;
  els.compareButton.textContent = n >= 2 ? `Compare ${n} runs` : "Compare selected";
  els.clearSelection.disabled = n === 0;
}

// ---- loading -------------------------------------------------------------------------------

function resetPages() {
  state.tokens = [undefined];
  state.page = 0;
}

function setFilterInvalid(invalid) {
  if (invalid) {
    els.filter.setAttribute("aria-invalid", "true");
    els.filter.setAttribute("aria-describedby", "search-error filter-help");
  } else {
    els.filter.removeAttribute("aria-invalid");
    els.filter.setAttribute("aria-describedby", "filter-help");
  }
}

async function load(options = {}) {
  const seq = ++state.requestSeq;
  // The compare view owns the URL while it is open (its runs are in it).
  if (els.compareView.hidden) history.replaceState(null, "", listUrl());
  renderHead();
  els.summary.textContent = "Loading runs…";
  const body = {
    experiment: state.experiment ? [state.experiment] : undefined,
    filter: state.filter || undefined,
    orderBy: state.orderBy ? [state.orderBy] : undefined,
    maxResults: state.pageSize,
    pageToken: state.tokens[state.page],
  };
  try {
    const page = await api("/api/v1/runs/search", { method: "POST", body });
    if (seq !== state.requestSeq) return;
    lastPage = page;
    showProblem(els.searchError, null);
    setFilterInvalid(false);
    for (const run of page.runs) {
      state.runNames.set(run.info.id, run.info.name);
      for (const key of Object.keys(run.metrics)) state.knownMetrics.add(key);
    }
    renderColumnOptions();
    renderRows(page.runs);
    renderPager(page);
    // Parents on another page show as short ids until their names arrive.
    const parents = page.runs.map((r) => r.info.parentRunId).filter((id) => id !== null);
    if (parents.some((id) => !state.runNames.has(id))) {
      await loadRunNames(parents);
      if (seq === state.requestSeq) renderRows(page.runs);
    }
  } catch (error) {
    if (seq !== state.requestSeq) return;
    lastPage = null;
    const isQuery = error instanceof ApiError && error.status === 400;
    showProblem(
      els.searchError,
      error,
      isQuery ? "The search could not run" : "Runs could not be loaded",
    );
    setFilterInvalid(isQuery && state.filter !== "");
    setChildren(els.body);
    els.summary.textContent = "No runs shown.";
    els.pageLabel.textContent = "";
    els.prev.disabled = true;
    els.next.disabled = true;
  }
  if (options.focusHeader) {
    /** @type {HTMLElement | null} */ (
      els.head.querySelector(`button[data-field="${CSS.escape(options.focusHeader)}"]`)
    )?.focus();
  }
}

function renderPager(page) {
  const first = state.page * state.pageSize + 1;
  const last = state.page * state.pageSize + page.runs.length;
  const total = page.total;
  els.summary.textContent =
    total === 0
      ? "No matching runs."
      : `Showing ${first}–${last} of ${total} run${total === 1 ? "" : "s"}`;
  const pages = Math.max(1, Math.ceil(total / state.pageSize));
  els.pageLabel.textContent = `Page ${state.page + 1} of ${pages}`;
  els.prev.disabled = state.page === 0;
  els.next.disabled = page.nextPageToken === null;
  if (page.nextPageToken !== null) state.tokens[state.page + 1] = page.nextPageToken;
}

async function loadExperiments() {
  try {
    const { experiments } = await api("/api/v1/experiments");
    for (const e of experiments) state.experimentNames.set(e.id, e.name);
    setChildren(
      els.experiment,
      h("option", { value: "" }, "All experiments"),
      experiments.map((e) => h("option", { value: e.id }, e.name)),
    );
    els.experiment.value = state.experiment;
  } catch (error) {
    showProblem(els.searchError, error, "Experiments could not be loaded");
  }
}

// ---- compare view --------------------------------------------------------------------------

async function openCompare(ids, push = true) {
  if (push) {
    const params = searchParams();
    params.set("compare", ids.join(","));
    history.pushState(null, "", `${window.location.pathname}?${params}`);
  }
  els.listView.hidden = true;
  els.compareView.hidden = false;
  els.compareHeading.textContent =
    ids.length === 1 ? "Run details" : `Comparing ${ids.length} runs`;
  els.compareLede.textContent = "Loading…";
  showProblem(els.compareError, null);
  setChildren(els.compareContent);
  els.compareHeading.focus();
  try {
    const runs = await Promise.all(ids.map((id) => api(`/api/v1/runs/${encodeURIComponent(id)}`)));
    for (const run of runs) state.runNames.set(run.info.id, run.info.name);
    await loadRunNames(runs.flatMap((r) => [...r.children, r.info.parentRunId ?? []].flat()));
    els.compareLede.textContent =
      runs.length === 1
        ? `${runs[0].info.name} · ${state.experimentNames.get(runs[0].info.experimentId) ?? ""}`
        : "Parameters and metrics side by side; rows that differ are highlighted.";
    renderCompare(els.compareContent, runs, {
      experimentNames: state.experimentNames,
      runNames: state.runNames,
      onlyDifferences: els.onlyDifferences.checked,
      onOpenRun: (id) => openCompare([id]),
    });
  } catch (error) {
    els.compareLede.textContent = "";
    showProblem(els.compareError, error, "The runs could not be loaded");
  }
}

/** Names of related runs (parents, children) not seen yet, so links read as names, not ids. */
async function loadRunNames(ids) {
  const missing = [...new Set(ids)].filter((id) => !state.runNames.has(id)).slice(0, 1000);
  if (missing.length === 0) return;
  try {
    const quoted = missing.map((id) => `'${id.replaceAll("'", "''")}'`).join(", ");
    const page = await api("/api/v1/runs/search", {
      method: "POST",
      body: { filter: `id IN (${quoted})`, maxResults: missing.length },
    });
    for (const run of page.runs) state.runNames.set(run.info.id, run.info.name);
  } catch {
    // Names are a nicety: the links still work with short ids.
  }
}

function closeCompare() {
  els.compareView.hidden = true;
  els.listView.hidden = false;
}

// ---- wiring --------------------------------------------------------------------------------

els.form.addEventListener("submit", (e) => {
  e.preventDefault();
  state.filter = els.filter.value.trim();
  state.experiment = els.experiment.value;
  resetPages();
  void load();
});

els.experiment.addEventListener("change", () => {
  state.experiment = els.experiment.value;
  resetPages();
  void load();
});

els.clearFilter.addEventListener("click", () => {
  els.filter.value = "";
  state.filter = "";
  resetPages();
  void load();
  els.filter.focus();
});

els.pageSize.addEventListener("change", () => {
  state.pageSize = Number(els.pageSize.value);
  resetPages();
  void load();
});

els.prev.addEventListener("click", () => {
  if (state.page === 0) return;
  state.page -= 1;
  void load();
});

els.next.addEventListener("click", () => {
  if (state.tokens[state.page + 1] === undefined) return;
  state.page += 1;
  void load();
});

els.clearSelection.addEventListener("click", () => {
  state.selected.clear();
  for (const box of els.body.querySelectorAll("input[type=checkbox]")) {
    /** @type {HTMLInputElement} */ (box).checked = false;
  }
  for (const row of els.body.querySelectorAll("tr.is-selected")) {
    row.classList.remove("is-selected");
  }
  renderSelection();
});

els.compareButton.addEventListener("click", () => {
  if (state.selected.size >= 2) void openCompare([...state.selected.keys()]);
});

els.backToList.addEventListener("click", () => {
  history.pushState(null, "", listUrl());
  closeCompare();
  els.compareButton.focus();
});

els.onlyDifferences.addEventListener("change", () => {
  const ids = new URLSearchParams(window.location.search).get("compare");
  if (ids) void openCompare(ids.split(","), false);
});

window.addEventListener("popstate", () => {
  const compare = readUrl();
  syncControls();
  if (compare) void openCompare(compare, false);
  else {
    closeCompare();
    resetPages();
    void load();
  }
});

function syncControls() {
  els.filter.value = state.filter;
  els.experiment.value = state.experiment;
  const size = String(state.pageSize);
  // A page size from a shared link may not be one of the menu's choices: offer it too.
  if (![...els.pageSize.options].some((o) => o.value === size)) {
    els.pageSize.append(h("option", { value: size }, size));
  }
  els.pageSize.value = size;
}

async function start() {
  const compare = readUrl();
  syncControls();
  renderSelection();
  renderHead();
  await loadExperiments();
  if (compare) void openCompare(compare, false);
  await load();
}

void start();
