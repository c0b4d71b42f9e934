/**
 * The Risk-O-Meter page: which model serves, scoring a file (upload, summary, rejected rows,
 * results table) and scoring one applicant (form and decision card). The server validates and
 * scores; this page shows its answers, errors in the server's own words.
 */
import { h, setChildren, showProblem } from "./dom.js";
import { loadSchema, readiness } from "./riskometer-api.js";
import { ApplicantForm, typicalApplicant } from "./riskometer-form.js";
import { ResultsTable } from "./riskometer-results.js";
import { FileScoring, offerTemplate } from "./riskometer-upload.js";
import { modelName } from "./riskometer-view.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** How often the model strip asks again: often while nothing serves, rarely once one does. */
const POLL_NOT_READY_MS = 10_000;
const POLL_READY_MS = 60_000;

// ---- tabs (WAI-ARIA tabs pattern: arrows move between tabs, Tab goes into the panel) ----------

const tabs = /** @type {HTMLButtonElement[]} */ ([$("tab-file"), $("tab-single")]);

function selectTab(tab, focus = false) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    $(/** @type {string} */ (t.getAttribute("aria-controls"))).hidden = !selected;
  }
  if (focus) tab.focus();
  const hash = tab.id === "tab-single" ? "#applicant" : "";
  if (location.hash !== hash) history.replaceState(null, "", hash || location.pathname);
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(tab);
    const next =
      e.key === "ArrowRight"
        ? tabs[(i + 1) % tabs.length]
        : e.key === "ArrowLeft"
          ? tabs[(i - 1 + tabs.length) % tabs.length]
          : e.key === "Home"
            ? tabs[0]
            : e.key === "End"
              ? tabs[tabs.length - 1]
              : null;
    if (!next) return;
    e.preventDefault();
    selectTab(next, true);
  });
}
selectTab(location.hash === "#applicant" ? tabs[1] : tabs[0]);

// ---- which model serves ----------------------------------------------------------------------

const status = $("model-status");
/** What the strip shows now; it is redrawn (and announced) only when that changes. */
let shown = "";

async function refreshStatus() {
  const state = await readiness();
  const problem = /** @type {any} */ (state.problem);
  const key = state.ready
    ? `ready ${modelName(state.model)}`
    : `down ${problem?.status === 0} ${problem?.detail ?? ""}`;
  setTimeout(() => void refreshStatus(), state.ready ? POLL_READY_MS : POLL_NOT_READY_MS);
  if (key === shown) return;
  shown = key;
  status.classList.remove("is-checking", "is-ready", "is-down");
  if (state.ready) {
    status.classList.add("is-ready");
    status.removeAttribute("title");
    setChildren(
      status,
      h("span", { class: "model-dot", "aria-hidden": "true" }),
      h(
        "span",
        { class: "model-text" },
        "Serving model ",
        h("strong", {}, modelName(state.model) || "ready"),
      ),
    );
  } else {
    status.classList.add("is-down");
    const unreachable = problem?.status === 0;
    // The server's own words (which model, why) for whoever hovers; the strip stays short.
    if (problem?.detail) status.title = problem.detail;
    else status.removeAttribute("title");
    setChildren(
      status,
      h("span", { class: "model-dot", "aria-hidden": "true" }),
      h(
        "span",
        { class: "model-text" },
        h("strong", {}, unreachable ? "The server cannot be reached" : "No model serving yet"),
        h(
          "span",
          { class: "model-help" },
          unreachable
            ? "Check the connection; this page retries on its own."
            : [
                "Train one with ",
                h("code", {}, "riskometer train"),
                ", or promote a version to champion on the ",
                h("a", { href: "/models.html" }, "Models page"),
                ". This page notices on its own.",
              ],
        ),
      ),
    );
  }
}

// ---- the two ways of scoring -------------------------------------------------------------------

const results = new ResultsTable({
  table: $("results-table"),
  error: $("results-error"),
  head: $("results-head"),
  body: $("results-body"),
  summary: $("results-summary"),
  pageLabel: $("results-page-label"),
  pageSize: /** @type {HTMLSelectElement} */ ($("results-page-size")),
  search: /** @type {HTMLInputElement} */ ($("results-search")),
  riskInputs: /** @type {HTMLInputElement[]} */ ([
    ...document.querySelectorAll('#risk-filter input[name="risk"]'),
  ]),
  counts: { all: $("count-all"), good: $("count-good"), bad: $("count-bad") },
  first: /** @type {HTMLButtonElement} */ ($("results-first")),
  prev: /** @type {HTMLButtonElement} */ ($("results-prev")),
  next: /** @type {HTMLButtonElement} */ ($("results-next")),
  last: /** @type {HTMLButtonElement} */ ($("results-last")),
});
const files = new FileScoring({ results });
const form = new ApplicantForm();

async function start() {
  void refreshStatus();
  try {
    const columns = await loadSchema();
    form.setColumns(columns);
    files.setColumns(columns);
    offerTemplate(
      /** @type {HTMLAnchorElement} */ ($("template-link")),
      columns,
      typicalApplicant(columns),
    );
  } catch (error) {
    setChildren($("form-fields"));
    showProblem($("form-error"), error, "The applicant fields could not be loaded");
  }
}

void start();
