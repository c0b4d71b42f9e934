/**
 * The monitoring page: the drift reports that the `drift-report` flow makes (every 3 hours by
 * default), as figures over time, one report in detail (the latest unless another is chosen),
 * its per-feature reference-vs-current charts, and the history of reports.
 *
 * A new report comes at most every few hours: the page looks again every minute while the tab
 * is visible, and follows the newest report unless the reader chose another one.
 */
import { api } from "./api.js";
import { h, setChildren, showProblem } from "./dom.js";
import { lineChart } from "./monitoring-charts.js";
import { num, pct, pValue, renderFeatures } from "./monitoring-features.js";

const POLL_MS = 60_000;
const HISTORY_LIMIT = 200;
/** Below this approval-rate ratio the four-fifths rule fails. */
const FOUR_FIFTHS = 0.8;
/** The share of drifted columns from which the dataset counts as drifted (the flow's default). */
const DATASET_SHARE = 0.5;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const els = {
  pageError: $("page-error"),
  loading: $("loading"),
  empty: $("empty-state"),
  content: $("monitoring"),
  trendSummary: $("trend-summary"),
  driftPlot: $("drift-trend-plot"),
  driftTable: /** @type {HTMLElement} */ ($("drift-trend-table").querySelector("tbody")),
  qualityPlot: $("quality-trend-plot"),
  qualityTable: /** @type {HTMLElement} */ ($("quality-trend-table").querySelector("tbody")),
  reportTitle: $("report-title"),
  verdict: $("report-verdict"),
  reportLink: /** @type {HTMLAnchorElement} */ ($("report-link")),
  reportError: $("report-error"),
  reportBody: $("report-body"),
  stats: $("report-stats"),
  facts: $("report-facts"),
  fairness: $("fairness-body"),
  notes: $("report-notes"),
  featuresSummary: $("features-summary"),
  featureGrid: $("feature-grid"),
  reportsSummary: $("reports-summary"),
  reportsBody: $("reports-body"),
};

const state = {
  /** @type {any[]} the report summaries, newest first */
  reports: [],
  /** The report the reader chose; null follows the newest. */
  /** @type {string | null} */
  chosenId: null,
  /** @type {string | null} the report shown in detail */
  shownId: null,
  /** @type {Map<string, any>} full reports by id (a report never changes) */
  details: new Map(),
  listKey: "",
  listSeq: 0,
  reportSeq: 0,
};

// ---- formats -------------------------------------------------------------------------------

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});
const SHORT = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});

const fmtTime = (iso) => DATE_TIME.format(new Date(iso));
const timeEl = (iso, short = false) =>
  h("time", { datetime: iso, title: iso }, (short ? SHORT : DATE_TIME).format(new Date(iso)));
const muted = (text) => h("span", { class: "muted" }, text);
const modelText = (model) => (model ? `${model.name} v${model.version}` : "no model");

function verdictBadge(datasetDrift) {
  if (datasetDrift === null || datasetDrift === undefined) {
    return h("span", { class: "badge flag verdict" }, "no reference");
  }
  return datasetDrift
    ? h("span", { class: "badge verdict drift-yes" }, "dataset drift")
    : h("span", { class: "badge verdict drift-no" }, "no dataset drift");
}

function fact(label, ...value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
}

function stat(label, value, note, tone) {
  return h(
    "div",
    { class: `stat${tone ? ` is-${tone}` : ""}`, "data-stat": label },
    h("dt", {}, label),
    h("dd", {}, value, note ? h("span", { class: "stat-note" }, note) : null),
  );
}

// ---- URL -----------------------------------------------------------------------------------

const urlReport = () => new URLSearchParams(window.location.search).get("report");

function pageUrl(id) {
  return `${window.location.pathname}${id ? `?report=${encodeURIComponent(id)}` : ""}`;
}

// ---- the list ------------------------------------------------------------------------------

async function loadReports() {
  const seq = ++state.listSeq;
  try {
    const { reports } = await api("/api/v1/reports", { query: { limit: HISTORY_LIMIT } });
    if (seq !== state.listSeq) return false;
    showProblem(els.pageError, null);
    state.reports = reports;
    return true;
  } catch (error) {
    if (seq !== state.listSeq) return false;
    showProblem(els.pageError, error, "The drift reports could not be loaded");
    return false;
  }
}

/** The id to show: the chosen one if it is still listed (or fetched directly), else the newest. */
const targetId = () => state.chosenId ?? state.reports[0]?.id ?? null;

function renderList() {
  els.loading.hidden = true;
  const empty = state.reports.length === 0;
  els.empty.hidden = !empty || state.chosenId !== null;
  els.content.hidden = empty && state.chosenId === null;
  const key = JSON.stringify([state.reports.map((r) => r.id), state.shownId]);
  if (key === state.listKey) return;
  state.listKey = key;
  renderTrends();
  renderHistory();
}

// ---- over time -----------------------------------------------------------------------------

function renderTrends() {
  const oldestFirst = [...state.reports].reverse();
  const n = oldestFirst.length;
  const selected = oldestFirst.findIndex((r) => r.id === state.shownId);
  const xLabels = /** @type {[string, string]} */ (
    n === 0
      ? ["", ""]
      : [SHORT.format(new Date(oldestFirst[0].at)), SHORT.format(new Date(oldestFirst[n - 1].at))]
  );
  const drift = oldestFirst
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => r.driftShare !== null);
  const withOutcomes = oldestFirst
    .map((r, index) => ({ r, index }))
    .filter(({ r }) => r.quality.rows > 0 && r.quality.rocAuc !== null);

  els.trendSummary.textContent =
    n === 0
      ? ""
      : `${n} report${n === 1 ? "" : "s"} from ${fmtTime(oldestFirst[0].at)} to ${fmtTime(oldestFirst[n - 1].at)}; ` +
        `${drift.filter(({ r }) => r.datasetDrift).length} with dataset drift.`;

  setChildren(
    els.driftPlot,
    lineChart({
      label: `Drift share of ${drift.length} report${drift.length === 1 ? "" : "s"}, oldest first: ${drift
        .map(({ r }) => num(r.driftShare, 2))
        .join(", ")}. Dataset drift from ${DATASET_SHARE}.`,
      count: n,
      xLabels,
      selected: selected < 0 ? undefined : selected,
      threshold: { value: DATASET_SHARE, label: `dataset drift from a share of ${DATASET_SHARE}` },
      series: [
        {
          name: "drift share",
          className: "series-drift",
          points: drift.map(({ r, index }) => ({
            index,
            value: r.driftShare,
            id: r.id,
            title: `${fmtTime(r.at)}: drift share ${num(r.driftShare, 2)} (${r.driftedColumns.length} columns)`,
          })),
        },
      ],
    }),
  );
  setChildren(
    els.driftTable,
    drift.map(({ r }) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, timeEl(r.at)),
        h("td", {}, num(r.driftShare, 2)),
        h("td", {}, r.datasetDrift ? "yes" : "no"),
      ),
    ),
  );

  const qualityPoints = (field, name) =>
    withOutcomes
      .filter(({ r }) => r.quality[field] !== null)
      .map(({ r, index }) => ({
        index,
        value: r.quality[field],
        id: r.id,
        title: `${fmtTime(r.at)}: ${name} ${num(r.quality[field])} on ${r.quality.rows} outcomes`,
      }));
  setChildren(
    els.qualityPlot,
    withOutcomes.length === 0
      ? h("p", { class: "muted no-plot" }, "No report has known outcomes yet.")
      : lineChart({
          label: `ROC AUC and accuracy of ${withOutcomes.length} report${withOutcomes.length === 1 ? "" : "s"} with outcomes, oldest first: ROC AUC ${withOutcomes
            .map(({ r }) => num(r.quality.rocAuc))
            .join(", ")}.`,
          count: n,
          xLabels,
          selected: selected < 0 ? undefined : selected,
          series: [
            {
              name: "ROC AUC",
              className: "series-auc",
              points: qualityPoints("rocAuc", "ROC AUC"),
            },
            {
              name: "accuracy",
              className: "series-accuracy",
              points: qualityPoints("accuracy", "accuracy"),
            },
          ],
        }),
  );
  setChildren(
    els.qualityTable,
    withOutcomes.map(({ r }) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, timeEl(r.at)),
        h("td", {}, String(r.quality.rows)),
        h("td", {}, num(r.quality.rocAuc)),
        h("td", {}, num(r.quality.accuracy)),
      ),
    ),
  );
}

// ---- history -------------------------------------------------------------------------------

function renderHistory() {
  const n = state.reports.length;
  els.reportsSummary.textContent =
    n >= HISTORY_LIMIT
      ? `The latest ${n} reports, newest first.`
      : `${n} report${n === 1 ? "" : "s"}, newest first.`;
  const focused = els.reportsBody.contains(document.activeElement)
    ? /** @type {HTMLElement} */ (document.activeElement).closest("tr")?.dataset.reportId
    : null;
  setChildren(els.reportsBody, state.reports.map(historyRow));
  if (focused) {
    /** @type {HTMLElement | null} */ (
      els.reportsBody.querySelector(`tr[data-report-id="${CSS.escape(focused)}"] button`)
    )?.focus();
  }
}

function historyRow(r, i) {
  const shown = r.id === state.shownId;
  const when = fmtTime(r.at);
  return h(
    "tr",
    { "data-report-id": r.id, class: shown ? "is-selected" : undefined },
    h(
      "td",
      {},
      h(
        "button",
        {
          type: "button",
          class: "link-button report-button",
          "aria-current": shown ? "true" : undefined,
          "aria-label": `Show the report of ${when}${i === 0 ? " (latest)" : ""}`,
          onclick: () => choose(r.id),
        },
        timeEl(r.at, true),
      ),
      i === 0 ? h("span", { class: "badge latest" }, "latest") : null,
    ),
    h("td", {}, modelText(r.model)),
    h("td", { class: "num" }, String(r.decisions)),
    h(
      "td",
      { class: "num" },
      r.driftShare === null ? muted("—") : num(r.driftShare, 2),
      r.datasetDrift ? h("span", { class: "badge drift-yes small-badge" }, "drift") : null,
    ),
    h(
      "td",
      { class: "drifted-cell" },
      r.driftedColumns.length === 0 ? muted("none") : r.driftedColumns.join(", "),
    ),
    h("td", { class: "num" }, num(r.quality.rocAuc)),
    h(
      "td",
      {},
      h(
        "a",
        {
          href: r.html,
          target: "_blank",
          rel: "noopener",
          "aria-label": `Full report of ${when} (opens in a new tab)`,
        },
        "HTML page",
      ),
    ),
  );
}

/** Shows a report the reader picked (the newest one means: follow the newest). */
function choose(id) {
  state.chosenId = id === state.reports[0]?.id ? null : id;
  history.pushState(null, "", pageUrl(state.chosenId));
  void showReport(id, { focus: true });
}

// ---- one report ----------------------------------------------------------------------------

async function showReport(id, { focus = false } = {}) {
  const seq = ++state.reportSeq;
  state.shownId = id;
  renderList();
  if (focus) els.reportTitle.focus();
  try {
    let detail = state.details.get(id);
    if (!detail) {
      els.reportBody.setAttribute("aria-busy", "true");
      detail = await api(`/api/v1/reports/${encodeURIComponent(id)}`);
      state.details.set(id, detail);
    }
    if (seq !== state.reportSeq) return;
    showProblem(els.reportError, null);
    renderReport(detail.summary, detail.report);
    renderFeatures(detail.report, els.featureGrid, els.featuresSummary);
  } catch (error) {
    if (seq !== state.reportSeq) return;
    showProblem(els.reportError, error, "This report could not be loaded");
  } finally {
    if (seq === state.reportSeq) els.reportBody.removeAttribute("aria-busy");
  }
}

function renderReport(summary, report) {
  const latest = summary.id === state.reports[0]?.id;
  els.reportTitle.textContent = `${latest ? "Latest report" : "Report"} · ${fmtTime(summary.at)}`;
  setChildren(els.verdict, verdictBadge(summary.datasetDrift));
  els.reportLink.href = summary.html;
  els.reportLink.setAttribute(
    "aria-label",
    `Open the full report of ${fmtTime(summary.at)} (opens in a new tab)`,
  );

  const dd = report.dataDrift;
  const pd = report.predictionDrift;
  const q = report.quality;
  const cut = q.atCuts.at(-1);
  setChildren(
    els.stats,
    stat(
      "Drift share",
      dd ? num(dd.driftShare, 2) : "—",
      dd ? `${dd.driftedColumns} of ${dd.countedColumns} columns` : "no reference",
      dd ? (dd.datasetDrift ? "bad" : "good") : "warning",
    ),
    stat(
      "Prediction drift",
      pd ? (pd.drift ? "drift" : "none") : "—",
      pd && pd.test ? `${pd.test} p ${pValue(pd.pValue)}` : null,
      pd ? (pd.drift ? "bad" : "good") : undefined,
    ),
    stat("Decisions", String(report.decisions), `${pct(report.refusedShare)} refused`),
    stat("ROC AUC", num(q.rocAuc), `${q.rows} outcome${q.rows === 1 ? "" : "s"}`),
    stat("Accuracy", num(cut?.accuracy ?? null), cut ? `at ${num(cut.cut, 2)}` : null),
  );

  const drifted = summary.driftedColumns;
  const w = report.window;
  setChildren(
    els.facts,
    fact("Model", modelText(report.model)),
    fact(
      "Window",
      w.since ? [timeEl(w.since), " → ", timeEl(w.until)] : ["until ", timeEl(w.until)],
      w.widenedToLatest ? muted(` (too few decisions: the latest ${report.decisions})`) : null,
    ),
    fact(
      "Drifted columns",
      drifted.length === 0
        ? muted("none")
        : h(
            "span",
            { class: "drifted-list" },
            drifted.map((c) => h("code", { class: "chip" }, c)),
          ),
    ),
    fact("Mean P(bad)", pct(report.meanProbabilityBad)),
    fact(
      "Precision / recall",
      cut ? `${num(cut.precision)} / ${num(cut.recall)}` : "—",
      cut ? muted(` at ${num(cut.cut, 2)}`) : null,
    ),
  );

  setChildren(
    els.fairness,
    report.fairness.length === 0
      ? h("tr", {}, h("td", { colspan: "4", class: "empty" }, "No fairness comparison."))
      : report.fairness.map((f) => {
          const low = f.approvalRateRatio !== null && f.approvalRateRatio < FOUR_FIFTHS;
          return h(
            "tr",
            { "data-attribute": f.attribute, class: low ? "is-flagged" : undefined },
            h("th", { scope: "row" }, f.label ?? f.attribute),
            h("td", {}, `${f.group.group} vs ${f.reference.group}`),
            h(
              "td",
              { class: "num" },
              num(f.approvalRateRatio, 2),
              low ? h("span", { class: "badge drift-yes small-badge" }, "below 0.8") : null,
            ),
            h("td", { class: "num" }, num(f.equalOpportunityDifference, 2)),
          );
        }),
  );

  const notes = [...report.notes, ...(q.notes ?? [])];
  setChildren(
    els.notes,
    notes.length === 0
      ? h("li", { class: "muted" }, "No notes.")
      : notes.map((n) => h("li", {}, n)),
  );
}

// ---- refreshing and wiring -----------------------------------------------------------------

async function refresh() {
  if (!(await loadReports())) {
    els.loading.hidden = true;
    return;
  }
  const id = targetId();
  if (id && id !== state.shownId) await showReport(id);
  else renderList();
}

window.addEventListener("popstate", () => {
  state.chosenId = urlReport();
  const id = targetId();
  if (id) void showReport(id);
});

setInterval(() => {
  if (document.visibilityState === "visible") void refresh();
}, POLL_MS);

state.chosenId = urlReport();
void refresh();
