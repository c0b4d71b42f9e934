/**
 * The Risk-O-Meter page: the model picker and which of its versions serves, scoring a file
 * (upload, summary, rejected rows, results table) and scoring one applicant (form and decision
 * card). The form, the file format and the template come from the chosen model's schema; the
 * choice is kept in the address (`?model=NAME`). The server validates and scores; this page
 * shows its answers, errors in the server's own words.
 */
import { h, setChildren } from "./dom.js";
import { listModels, loadSchema } from "./riskometer-api.js";
import { ApplicantForm, typicalApplicant } from "./riskometer-form.js";
import { ResultsTable } from "./riskometer-results.js";
import { FileScoring, offerTemplate, withdrawTemplate } from "./riskometer-upload.js";
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
  if (location.hash !== hash) {
    history.replaceState(null, "", location.pathname + location.search + hash);
  }
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
const template = /** @type {HTMLAnchorElement} */ ($("template-link"));

// ---- the model picker --------------------------------------------------------------------------

const picker = /** @type {HTMLSelectElement} */ ($("model-select"));
const status = $("model-status");

/** The model the server scores with when none is named ("" until the model list says). */
let defaultModel = "";
/** The chosen model ("" for the server's default while its name is not known). */
let chosen = new URLSearchParams(location.search).get("model") ?? "";
/** Models with a serving version, by name, as the picker lists them. */
let listed = /** @type {string[]} */ ([]);
/** A chosen name the server answered 404 for: the picker says it is not registered. */
let unregistered = "";
/** Counts the choices made: answers for an earlier choice are dropped. */
let generation = 0;
/** What the status strip shows for the chosen model: its serving version, or the problem. */
let shownStatus = "";
/** What the form was built from: the columns (JSON), a problem, or null before either. */
let shownForm = /** @type {string | null} */ (null);
/** @type {ReturnType<typeof setTimeout> | undefined} */
let pollTimer;

/** Keeps the choice in the address, so a link or a reload opens the same model. */
function rememberChoice() {
  const params = new URLSearchParams(location.search);
  if (chosen === "" || chosen === defaultModel) params.delete("model");
  else params.set("model", chosen);
  const search = params.toString();
  const url = `${location.pathname}${search ? `?${search}` : ""}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) {
    history.replaceState(null, "", url);
  }
}

/**
 * Fills the picker: the models with a serving version (the default first), and the chosen one
 * even when it has none or is not registered, so the picker always says what the page shows.
 */
function renderPicker() {
  const names = [...new Set([defaultModel, ...listed, chosen].filter(Boolean))];
  names.sort((a, b) => (a === defaultModel ? -1 : b === defaultModel ? 1 : a.localeCompare(b)));
  const label = (name) => {
    const notes = [
      name === defaultModel ? "default" : "",
      listed.includes(name) ? "" : name === unregistered ? "not registered" : "no serving version",
    ].filter(Boolean);
    return notes.length > 0 ? `${name} (${notes.join(", ")})` : name;
  };
  const wanted = names.map(label).join("\n");
  if ([...picker.options].map((o) => o.textContent).join("\n") !== wanted) {
    setChildren(
      picker,
      names.map((name) => h("option", { value: name }, label(name))),
    );
  }
  picker.value = chosen || defaultModel;
  picker.disabled = names.length === 0;
}

/** Asks which models have a serving version; the picker keeps what it had when that fails. */
async function refreshModels() {
  try {
    const answer = await listModels();
    defaultModel = String(answer?.defaultModel ?? "");
    listed = (Array.isArray(answer?.models) ? answer.models : [])
      .filter((m) => m?.aliases && Number.isInteger(m.aliases.champion))
      .map((m) => String(m.name));
  } catch {
    // The status strip says when the server cannot be reached.
  }
  if (chosen === "") chosen = defaultModel;
  renderPicker();
}

function showStatus(schema, problem) {
  status.classList.remove("is-checking", "is-ready", "is-down");
  if (schema) {
    status.classList.add("is-ready");
    status.removeAttribute("title");
    setChildren(
      status,
      h("span", { class: "model-dot", "aria-hidden": "true" }),
      h(
        "span",
        { class: "model-text" },
        "Serving model ",
        h("strong", {}, modelName(schema.model) || "ready"),
      ),
    );
    return;
  }
  status.classList.add("is-down");
  const unreachable = problem?.status === 0;
  const unknown = problem?.status === 404;
  const named = chosen !== "" && chosen !== defaultModel;
  // The server's own words (which model, why) for whoever hovers; the strip stays short.
  if (problem?.detail) status.title = problem.detail;
  else status.removeAttribute("title");
  const models = h("a", { href: "/models.html" }, "Models page");
  setChildren(
    status,
    h("span", { class: "model-dot", "aria-hidden": "true" }),
    h(
      "span",
      { class: "model-text" },
      h(
        "strong",
        {},
        unreachable
          ? "The server cannot be reached"
          : unknown
            ? `No registered model “${chosen}”`
            : named
              ? `No version of ${chosen} serves`
              : "No model serving yet",
      ),
      h(
        "span",
        { class: "model-help" },
        unreachable
          ? "Check the connection; this page retries on its own."
          : unknown
            ? "Pick another model; the Models page lists the registered ones."
            : named
              ? [
                  "Promote a version to champion on the ",
                  models,
                  ", or pick another model. This page notices on its own.",
                ]
              : [
                  "Train one with ",
                  h("code", {}, "riskometer train"),
                  ", or promote a version to champion on the ",
                  models,
                  ". This page notices on its own.",
                ],
      ),
    ),
  );
}

/** The file format's lines that depend on the model: its columns and those that may be empty. */
function describeFormat(schema) {
  const columns = schema?.columns ?? [];
  const optional = columns.filter((c) => c.allowMissing).map((c) => c.name);
  setChildren(
    $("format-columns"),
    schema
      ? [
          `A header row with the ${columns.length} applicant ${columns.length === 1 ? "column" : "columns"} of `,
          h("code", {}, schema.model?.name ?? chosen),
          ", in any order.",
        ]
      : "A header row with the model's applicant columns, in any order.",
  );
  const missing = $("format-missing");
  missing.hidden = optional.length === 0;
  missing.textContent =
    optional.length === 0
      ? ""
      : `${optional.length === columns.length ? "Every cell" : `Cells of ${optional.join(", ")}`} may be left empty where the value is not known: scored as missing.`;
}

/** Builds the form, the file format and the template from a model's schema. */
function applySchema(schema) {
  const name = schema.model?.name ?? chosen;
  const typical = typicalApplicant(schema.columns);
  form.setColumns(schema.columns, { model: name, dataset: schema.dataset });
  files.setModel(schema.columns, name);
  offerTemplate(template, schema.columns, typical, name);
  describeFormat(schema);
  $("form-hint").textContent = schema.columns.some((c) => "typical" in c)
    ? `Pre-filled with a typical applicant of ${name}'s training data (the most common category, the median number). Change what differs, then score.`
    : "Pre-filled with the first allowed value (or the lowest number) of each field. Change what differs, then score.";
}

/** No fields for the chosen model: the form and the template say why. */
function withdrawSchema(problem) {
  files.setModel([], chosen);
  withdrawTemplate(template);
  describeFormat(null);
  const name = chosen || "the model";
  const named = chosen !== "" && chosen !== defaultModel;
  $("form-hint").textContent = "The fields appear once a version of the model serves.";
  const [heading, message] =
    problem?.status === 503
      ? [
          named ? `No version of ${chosen} serves` : "No model is serving",
          `No applicant fields: ${name} has no serving version.`,
        ]
      : problem?.status === 404
        ? ["This model is not registered", `No applicant fields: “${name}” is not registered.`]
        : ["The applicant fields could not be loaded", "No applicant fields yet."];
  form.clear(message, problem, heading);
}

/**
 * Asks the server what the chosen model's serving version expects, and shows it. A new
 * version with other columns rebuilds the form; the same columns keep what the clerk typed, and
 * so does a moment when the server cannot be reached.
 */
async function refreshSchema(mine) {
  let schema = null;
  let problem = null;
  try {
    schema = await loadSchema(chosen);
  } catch (e) {
    problem = /** @type {any} */ (e);
  }
  if (mine !== generation) return;
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => void poll(mine), schema ? POLL_READY_MS : POLL_NOT_READY_MS);
  const statusKey = schema
    ? `ready ${JSON.stringify(schema.model)}`
    : `down ${problem?.status} ${problem?.detail ?? ""}`;
  if (statusKey !== shownStatus) {
    shownStatus = statusKey;
    unregistered = problem?.status === 404 ? chosen : "";
    renderPicker();
    showStatus(schema, problem);
  }
  const keepForm = !schema && problem?.status === 0 && shownForm?.startsWith("[");
  const formKey = schema ? JSON.stringify(schema.columns) : keepForm ? shownForm : statusKey;
  if (formKey === shownForm) return;
  shownForm = formKey;
  if (schema) applySchema(schema);
  else withdrawSchema(problem);
}

async function poll(mine) {
  await refreshModels();
  if (mine === generation) await refreshSchema(mine);
}

/** Shows the model the picker names: its status, form, file format and template. */
function choose(name) {
  generation++;
  clearTimeout(pollTimer);
  chosen = name;
  shownStatus = "";
  shownForm = null;
  rememberChoice();
  renderPicker();
  status.classList.remove("is-ready", "is-down");
  status.classList.add("is-checking");
  setChildren(
    status,
    h("span", { class: "model-dot", "aria-hidden": "true" }),
    h("span", { class: "model-text" }, `Checking which version of ${name} serves…`),
  );
  return refreshSchema(generation);
}

picker.addEventListener("change", () => void choose(picker.value));

async function start() {
  await refreshModels();
  await choose(chosen);
}

void start();
