/**
 * The models page: registered models, one model's versions (with the metrics of their runs),
 * its audit history, and the promotion form. The server decides who may move an alias; this
 * page only shows its answer, refusals included, in the server's words.
 */
import { wireTokenField } from "./token-field.js";
import { api } from "./api.js";
import { aliasBadges, formatMetric, h, setChildren, showProblem, timeEl } from "./dom.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const els = {
  pageError: $("page-error"),
  modelsBody: $("models-body"),
  detail: $("model-detail"),
  name: $("model-name"),
  aliases: $("model-aliases"),
  description: $("model-description"),
  versionsBody: $("versions-body"),
  auditBody: $("audit-body"),
  form: /** @type {HTMLFormElement} */ ($("promote-form")),
  version: /** @type {HTMLSelectElement} */ ($("promote-version")),
  alias: /** @type {HTMLInputElement} */ ($("promote-alias")),
  note: /** @type {HTMLTextAreaElement} */ ($("promote-note")),
  token: /** @type {HTMLInputElement} */ ($("promote-token")),
  forgetToken: $("forget-token"),
  submit: /** @type {HTMLButtonElement} */ ($("promote-submit")),
  result: $("promote-result"),
};

/** @type {string | null} */
let currentModel = null;

const metricCell = (metrics, key) => h("td", { class: "num" }, formatMetric(metrics?.[key]));

function modelLink(name) {
  return h(
    "a",
    {
      href: `?model=${encodeURIComponent(name)}`,
      onclick: (/** @type {MouseEvent} */ e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        history.pushState(null, "", `?model=${encodeURIComponent(name)}`);
        void showModel(name, true);
      },
    },
    name,
  );
}

function aliasList(aliases) {
  const entries = Object.entries(aliases).sort(([a], [b]) =>
    a === "champion" ? -1 : b === "champion" ? 1 : a < b ? -1 : 1,
  );
  if (entries.length === 0) return h("span", { class: "muted" }, "none");
  return entries.map(([alias, version]) =>
    h(
      "span",
      { class: `badge alias${alias === "champion" ? " champion" : ""}` },
      `${alias} → v${version}`,
    ),
  );
}

async function loadModels() {
  const { models } = await api("/api/v1/models");
  setChildren(
    els.modelsBody,
    models.length === 0
      ? h(
          "tr",
          {},
          h(
            "td",
            { colspan: "5", class: "empty" },
            "No registered models yet: train one with `riskometer train`.",
          ),
        )
      : models.map((m) =>
          h(
            "tr",
            {},
            h("td", {}, h("strong", {}, modelLink(m.name))),
            h("td", {}, aliasList(m.aliases)),
            h("td", { class: "num" }, m.latestVersion === null ? "—" : `v${m.latestVersion}`),
            metricCell(m.latest?.metrics, "test_auc"),
            h("td", {}, timeEl(m.updatedAt)),
          ),
        ),
  );
  return models;
}

async function showModel(name, focus = false) {
  currentModel = name;
  els.detail.hidden = false;
  try {
    const [model, audit] = await Promise.all([
      api(`/api/v1/models/${encodeURIComponent(name)}`),
      api(`/api/v1/models/${encodeURIComponent(name)}/audit`),
    ]);
    showProblem(els.pageError, null);
    renderModel(model);
    renderAudit(audit.records);
    if (focus) els.name.focus();
  } catch (error) {
    els.detail.hidden = true;
    showProblem(els.pageError, error, `Model "${name}" could not be loaded`);
  }
}

function renderModel(model) {
  els.name.textContent = model.name;
  setChildren(els.aliases, aliasList(model.aliases));
  els.description.textContent = model.description || `Registered by ${model.createdBy}.`;
  setChildren(
    els.versionsBody,
    model.versions.length === 0
      ? h("tr", {}, h("td", { colspan: "10", class: "empty" }, "No versions."))
      : model.versions.map((v) =>
          h(
            "tr",
            { "data-version": String(v.version) },
            h(
              "th",
              { scope: "row" },
              `v${v.version}`,
              v.description ? h("span", { class: "sub" }, v.description) : null,
            ),
            h(
              "td",
              {},
              v.aliases.length === 0 ? h("span", { class: "muted" }, "—") : aliasBadges(v.aliases),
            ),
            metricCell(v.metrics, "test_auc"),
            metricCell(v.metrics, "test_cost"),
            metricCell(v.metrics, "cv_auc"),
            metricCell(v.metrics, "cv_cost"),
            metricCell(v.metrics, "test_recall"),
            metricCell(v.metrics, "test_specificity"),
            h("td", {}, timeEl(v.createdAt), h("span", { class: "sub" }, `by ${v.createdBy}`)),
            h(
              "td",
              {},
              h("a", { href: `/runs.html?compare=${encodeURIComponent(v.runId)}` }, "View run"),
            ),
          ),
        ),
  );
  const previous = els.version.value;
  setChildren(
    els.version,
    model.versions.map((v) =>
      h(
        "option",
        { value: String(v.version) },
        `v${v.version}${v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}`,
      ),
    ),
  );
  if (previous && model.versions.some((v) => String(v.version) === previous)) {
    els.version.value = previous;
  }
}

function renderAudit(records) {
  setChildren(
    els.auditBody,
    records.length === 0
      ? h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No alias has moved yet."))
      : records.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, timeEl(r.at)),
            h("td", {}, aliasBadges([r.alias])),
            h(
              "td",
              { class: "mono" },
              `${r.fromVersion === null ? "—" : `v${r.fromVersion}`} → ${r.toVersion === null ? "removed" : `v${r.toVersion}`}`,
            ),
            h("td", {}, r.actor, h("span", { class: "sub" }, r.actorRole)),
            h(
              "td",
              { class: "note-cell" },
              r.note || h("span", { class: "muted" }, "(no note)"),
              r.bootstrap ? [" ", h("span", { class: "badge flag" }, "bootstrap")] : null,
              r.selfApproved ? [" ", h("span", { class: "badge flag" }, "self-approved")] : null,
            ),
          ),
        ),
  );
}

// ---- promotion -----------------------------------------------------------------------------

wireTokenField(els.token, els.forgetToken);

els.form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (currentModel === null) return;
  const alias = els.alias.value.trim();
  const version = Number(els.version.value);
  els.submit.disabled = true;
  setChildren(els.result, h("p", { class: "muted" }, "Sending…"));
  try {
    const record = await api(
      `/api/v1/models/${encodeURIComponent(currentModel)}/aliases/${encodeURIComponent(alias)}`,
      {
        method: "PUT",
        body: { version, note: els.note.value },
        token: els.token.value.trim() || undefined,
      },
    );
    setChildren(
      els.result,
      h(
        "div",
        { class: "notice", role: "status" },
        h("strong", {}, "Done. "),
        `${record.alias} now points to v${record.toVersion}${record.fromVersion === null ? "" : ` (was v${record.fromVersion})`}; recorded in the audit log as #${record.id} by ${record.actor}.`,
      ),
    );
    els.note.value = "";
    await Promise.all([showModel(currentModel), loadModels()]);
  } catch (error) {
    const box = h("div", { role: "alert" });
    showProblem(box, error, "The promotion was refused");
    setChildren(els.result, box);
  } finally {
    els.submit.disabled = false;
  }
});

// ---- start ---------------------------------------------------------------------------------

function requestedModel() {
  return new URLSearchParams(window.location.search).get("model");
}

window.addEventListener("popstate", () => {
  const name = requestedModel();
  if (name) void showModel(name);
  else els.detail.hidden = true;
});

async function start() {
  try {
    const models = await loadModels();
    const name = requestedModel() ?? (models.length === 1 ? models[0].name : null);
    if (name) await showModel(name);
  } catch (error) {
    setChildren(els.modelsBody);
    showProblem(els.pageError, error, "Models could not be loaded");
  }
}

void start();
