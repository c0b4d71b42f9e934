/**
 * The flows page: each flow with its schedule, the form that queues a run now, the run history,
 * and one run's steps, result and log. A worker runs the flows and the server checks parameters
 * and roles; this page shows what they say, refusals included, in the server's words.
 *
 * The history asks the server again every few seconds only while a run waits or is under way,
 * and not at all while the tab is hidden; otherwise it looks again when the next scheduled slot
 * comes due (that is when the worker creates a run).
 */
import { wireTokenField } from "./token-field.js";
import {
  ACTIVE_STATES,
  LOG_TIME,
  durationText,
  fact,
  formatSeconds,
  ms,
  muted,
  relativeEl,
  shortTimeEl,
  updateRelativeTimes,
  wideFact,
} from "./flows-format.js";
import { clearInvalid, fieldNamed, formParams, markInvalid, paramField } from "./flows-params.js";
import { api } from "./api.js";
import {
  formatDuration,
  h,
  setChildren,
  shortId,
  showProblem,
  statusBadge,
  timeEl,
} from "./dom.js";

/** How often the history is refreshed while a run is scheduled or under way. */
const POLL_MS = 5000;
/** The longest wait for a scheduled slot (timers misbehave far out; a look now and then is cheap). */
const MAX_WAIT_MS = 3_600_000;
/** A slot's run appears once the worker sees it due: look a little after the slot. */
const SLOT_GRACE_MS = 3000;
const HISTORY_LIMIT = 50;

/** What each late-run policy does with slots missed while nothing ran (the config's wording). */
const LATE_POLICY_TEXT = {
  skip: "missed slots are skipped",
  latest: "after downtime, only the latest missed slot runs",
  "catch-up": "every missed slot runs (at most 100)",
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const els = {
  pageError: $("page-error"),
  cards: $("flow-cards"),
  historyFlow: /** @type {HTMLSelectElement} */ ($("history-flow")),
  historySummary: $("history-summary"),
  historyBody: $("history-body"),
  form: /** @type {HTMLFormElement} */ ($("trigger-form")),
  flow: /** @type {HTMLSelectElement} */ ($("trigger-flow")),
  flowHint: $("trigger-flow-hint"),
  params: $("trigger-params"),
  token: /** @type {HTMLInputElement} */ ($("trigger-token")),
  forgetToken: $("forget-token"),
  submit: /** @type {HTMLButtonElement} */ ($("trigger-submit")),
  result: $("trigger-result"),
  detail: $("run-detail"),
  runTitle: $("run-title"),
  runState: $("run-state"),
  closeRun: $("close-run"),
  runError: $("run-error"),
  cancelRun: /** @type {HTMLButtonElement} */ ($("cancel-run")),
  runBody: $("run-body"),
  runFacts: $("run-facts"),
  runParams: $("run-params-body"),
  runSteps: $("run-steps-body"),
  runFailure: $("run-failure"),
  runResult: $("run-result"),
  runLog: $("run-log"),
  runLogLines: $("run-log-lines"),
};

const state = {
  /** @type {any[]} the flows as the server describes them */
  flows: [],
  /** @type {any[]} the runs shown in the history */
  runs: [],
  /** The history's flow filter; empty = all flows. */
  filter: "",
  /** What the cards and the table show, so an unchanged answer leaves the DOM (and focus) alone. */
  flowsKey: "",
  historyKey: "",
  /** @type {string | null} */
  openRunId: null,
  /** @type {any | null} the open run as last loaded */
  openRun: null,
  /** The last log line shown of the open run: a refresh appends only the lines after it. */
  shownLogSeq: 0,
  /** Guards against an older response overwriting a newer one. */
  historySeq: 0,
  flowsSeq: 0,
  runSeq: 0,
  /** @type {ReturnType<typeof setTimeout> | null} */
  timer: null,
  submitting: false,
};

/**
 * Opens a run in place on a plain click; other clicks (new tab, new window) follow the link.
 * The short id is what shows; the name says what the link does.
 */
function runLink(id) {
  return h(
    "a",
    {
      class: "run-link",
      href: `?run=${encodeURIComponent(id)}`,
      "aria-label": `Details of run ${shortId(id)}`,
      onclick: (/** @type {MouseEvent} */ e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        history.pushState(null, "", pageUrl({ run: id }));
        void openRun(id, { focus: true });
      },
    },
    shortId(id),
  );
}

// ---- URL state -----------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(window.location.search);
  return { flow: params.get("flow") ?? "", run: params.get("run") };
}

/** This page's URL with the filter and, when given, an open run. */
function pageUrl({ run = state.openRunId } = {}) {
  const params = new URLSearchParams();
  if (state.filter) params.set("flow", state.filter);
  if (run) params.set("run", run);
  const query = params.toString();
  return `${window.location.pathname}${query ? `?${query}` : ""}`;
}

// ---- flows ---------------------------------------------------------------------------------

async function loadFlows() {
  const seq = ++state.flowsSeq;
  try {
    const { flows } = await api("/api/v1/flows");
    if (seq !== state.flowsSeq) return;
    showProblem(els.pageError, null);
    const first = state.flows.length === 0;
    state.flows = flows;
    renderFlows(flows);
    if (first) setUpFlowChoices(flows);
  } catch (error) {
    if (seq !== state.flowsSeq) return;
    if (state.flows.length === 0) setChildren(els.cards);
    showProblem(els.pageError, error, "Flows could not be loaded");
  }
}

function renderFlows(flows) {
  const key = JSON.stringify(flows);
  if (key === state.flowsKey) return;
  state.flowsKey = key;
  setChildren(
    els.cards,
    flows.length === 0 ? h("p", { class: "muted" }, "No flows are defined.") : flows.map(flowCard),
  );
}

function flowCard(flow) {
  const headingId = `flow-${flow.name}-heading`;
  const next = ms(flow.nextRun);
  const last = flow.lastRun;
  return h(
    "article",
    { class: "panel flow-card", "data-flow": flow.name, "aria-labelledby": headingId },
    h("h3", { id: headingId }, flow.name),
    h("p", { class: "flow-description" }, flow.description),
    h(
      "dl",
      { class: "facts" },
      fact(
        "Schedule",
        flow.schedule
          ? h("span", { class: "schedule" }, flow.schedule.description)
          : muted("not scheduled"),
      ),
      fact("Next run", next === null ? muted("—") : [timeEl(next), " ", relativeEl(next)]),
      fact(
        "Late runs",
        flow.latePolicy
          ? [
              h("code", {}, flow.latePolicy),
              LATE_POLICY_TEXT[flow.latePolicy]
                ? [" ", muted(`— ${LATE_POLICY_TEXT[flow.latePolicy]}`)]
                : null,
            ]
          : muted("—"),
      ),
      fact(
        "Attempts",
        `${flow.maxAttempts} in all · times out after ${formatSeconds(flow.timeoutSeconds)}`,
      ),
      fact(
        "Last run",
        last
          ? h(
              "span",
              { class: "last-run" },
              statusBadge(last.state),
              " ",
              timeEl(ms(last.at)),
              " ",
              relativeEl(ms(last.at)),
              " ",
              runLink(last.id),
            )
          : muted("none yet"),
      ),
    ),
  );
}

/** The flow choices of the history filter and the trigger form, once the flows are known. */
function setUpFlowChoices(flows) {
  setChildren(
    els.historyFlow,
    h("option", { value: "" }, "All flows"),
    flows.map((f) => h("option", { value: f.name }, f.name)),
  );
  // A filter from a shared link may name a flow that is gone: offer it anyway, it shows nothing.
  if (state.filter && !flows.some((f) => f.name === state.filter)) {
    els.historyFlow.append(h("option", { value: state.filter }, state.filter));
  }
  els.historyFlow.value = state.filter;
  setChildren(
    els.flow,
    flows.map((f) => h("option", { value: f.name }, f.name)),
  );
  if (state.filter && flows.some((f) => f.name === state.filter)) els.flow.value = state.filter;
  renderParams();
}

// ---- history -------------------------------------------------------------------------------

async function loadHistory() {
  const seq = ++state.historySeq;
  try {
    const { runs } = await api("/api/v1/flows/runs", {
      query: { flow: state.filter || undefined, limit: HISTORY_LIMIT },
    });
    if (seq !== state.historySeq) return;
    showProblem(els.pageError, null);
    state.runs = runs;
    renderHistory(runs);
  } catch (error) {
    if (seq !== state.historySeq) return;
    showProblem(els.pageError, error, "Flow runs could not be loaded");
  }
}

function renderHistory(runs) {
  const summary =
    runs.length === 0
      ? "No runs yet."
      : runs.length >= HISTORY_LIMIT
        ? `The latest ${runs.length} runs, newest first.`
        : `${runs.length} run${runs.length === 1 ? "" : "s"}, newest first.`;
  if (els.historySummary.textContent !== summary) els.historySummary.textContent = summary;

  // A run under way only changes its duration from one refresh to the next: update those cells
  // and leave the rows (and the focus a keyboard user has in them) alone.
  const key = JSON.stringify([
    state.openRunId,
    runs.map((r) => (ACTIVE_STATES.has(r.state) ? { ...r, durationSeconds: null } : r)),
  ]);
  if (key === state.historyKey) {
    for (const run of runs) {
      const cell = els.historyBody.querySelector(
        `tr[data-run-id="${CSS.escape(run.id)}"] td[data-duration]`,
      );
      if (cell) cell.textContent = durationText(run);
    }
    return;
  }
  state.historyKey = key;

  const focusedRow = /** @type {HTMLElement | null} */ (
    els.historyBody.contains(document.activeElement)
      ? /** @type {HTMLElement} */ (document.activeElement).closest("tr")
      : null
  )?.dataset.runId;

  setChildren(
    els.historyBody,
    runs.length === 0
      ? h(
          "tr",
          {},
          h(
            "td",
            { colspan: "8", class: "empty" },
            state.filter ? `No runs of ${state.filter} yet.` : "No flow has run yet.",
          ),
        )
      : runs.map(historyRow),
  );

  if (focusedRow) {
    /** @type {HTMLElement | null} */ (
      els.historyBody.querySelector(`tr[data-run-id="${CSS.escape(focusedRow)}"] a`)
    )?.focus();
  }
}

function historyRow(run) {
  const open = run.id === state.openRunId;
  const link = runLink(run.id);
  if (open) link.setAttribute("aria-current", "true");
  const by =
    run.trigger === "retry" && run.retryOf
      ? `of ${shortId(run.retryOf)}`
      : run.requestedBy
        ? `by ${run.requestedBy}`
        : null;
  return h(
    "tr",
    {
      "data-run-id": run.id,
      "data-state": run.state,
      class: open ? "is-selected" : undefined,
    },
    h("td", {}, link),
    h("td", {}, statusBadge(run.state)),
    h("td", {}, run.flow),
    h("td", {}, run.trigger, by ? h("span", { class: "sub" }, by) : null),
    h("td", { class: "num" }, `${run.attempt}/${run.maxAttempts}`),
    h("td", {}, shortTimeEl(ms(run.scheduledFor))),
    h("td", { class: "num", "data-duration": "" }, durationText(run)),
    h("td", {}, run.worker ? h("span", { class: "mono" }, run.worker) : muted("—")),
  );
}

// ---- one run -------------------------------------------------------------------------------

/**
 * Shows a run's details. Opening the run already shown (a refresh) appends the new log lines
 * only, so the log keeps its scroll position and a screen reader hears only what is new.
 */
async function openRun(id, { focus = false } = {}) {
  const seq = ++state.runSeq;
  const again = state.openRunId === id && state.openRun !== null;
  if (state.openRunId !== id) {
    state.openRunId = id;
    state.openRun = null;
    markOpenRow();
  }
  els.detail.hidden = false;
  if (!again) {
    els.runTitle.textContent = `Run ${shortId(id)}`;
    setChildren(els.runState);
    els.runBody.hidden = true;
  }
  if (focus) els.runTitle.focus();
  try {
    const { run, logs } = await api(`/api/v1/flows/runs/${encodeURIComponent(id)}`);
    if (seq !== state.runSeq) return;
    showProblem(els.runError, null);
    state.openRun = run;
    renderRun(run);
    renderLogs(logs, again);
    els.runBody.hidden = false;
  } catch (error) {
    if (seq !== state.runSeq) return;
    state.openRun = null;
    els.runBody.hidden = true;
    showProblem(els.runError, error, `Run ${shortId(id)} could not be loaded`);
  }
}

function closeRun() {
  state.runSeq += 1;
  const id = state.openRunId;
  state.openRunId = null;
  state.openRun = null;
  els.detail.hidden = true;
  markOpenRow();
  return id;
}

/** Marks the open run's row (and its link, for screen readers) in the history. */
function markOpenRow() {
  for (const row of els.historyBody.querySelectorAll("tr[data-run-id]")) {
    const open = /** @type {HTMLElement} */ (row).dataset.runId === state.openRunId;
    row.classList.toggle("is-selected", open);
    const link = row.querySelector("a.run-link");
    if (open) link?.setAttribute("aria-current", "true");
    else link?.removeAttribute("aria-current");
  }
}

function renderRun(run) {
  els.runTitle.textContent = `Run ${shortId(run.id)} · ${run.flow}`;
  // Only a run that has not ended can be cancelled (an approver's token, as for triggers).
  els.cancelRun.hidden = !ACTIVE_STATES.has(run.state);
  els.cancelRun.dataset.run = run.id;
  setChildren(els.runState, statusBadge(run.state));
  setChildren(
    els.runFacts,
    wideFact("Run id", h("span", { class: "mono" }, run.id)),
    fact(
      "Trigger",
      run.trigger,
      run.requestedBy ? ` by ${run.requestedBy}` : null,
      run.retryOf ? [" of ", runLink(run.retryOf)] : null,
    ),
    fact("Attempt", `${run.attempt} of ${run.maxAttempts}`),
    fact("Scheduled for", timeEl(ms(run.scheduledFor))),
    fact("Started", run.startedAt ? timeEl(ms(run.startedAt)) : muted("not yet")),
    fact("Ended", run.endedAt ? timeEl(ms(run.endedAt)) : muted("not yet")),
    fact("Duration", durationText(run, { soFar: true })),
    fact("Worker", run.worker ? h("span", { class: "mono" }, run.worker) : muted("none yet")),
  );

  const params = Object.entries(run.params ?? {});
  setChildren(
    els.runParams,
    params.length === 0
      ? h("tr", {}, h("td", { colspan: "2", class: "empty" }, "No parameters."))
      : params.map(([name, value]) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, name),
            h("td", { class: "mono" }, JSON.stringify(value)),
          ),
        ),
  );

  setChildren(
    els.runSteps,
    run.steps.length === 0
      ? h(
          "tr",
          {},
          h(
            "td",
            { colspan: "4", class: "empty" },
            run.startedAt ? "No step recorded." : "Not started.",
          ),
        )
      : run.steps.map((step) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, step.name),
            h("td", {}, statusBadge(step.state)),
            h(
              "td",
              {},
              h(
                "time",
                { datetime: step.startedAt, title: step.startedAt },
                LOG_TIME.format(new Date(step.startedAt)),
              ),
            ),
            h(
              "td",
              { class: "num" },
              step.endedAt === null
                ? "under way"
                : formatDuration(ms(step.startedAt), ms(step.endedAt)),
            ),
          ),
        ),
  );

  if (run.error) {
    setChildren(
      els.runFailure,
      h(
        "div",
        { class: "problem" },
        h("p", { class: "problem-title" }, `The run ended ${run.state.toLowerCase()}`),
        h("p", { class: "problem-detail run-error-text" }, run.error),
      ),
    );
  } else setChildren(els.runFailure);

  setChildren(
    els.runResult,
    run.result === null || run.result === undefined
      ? h("p", { class: "muted" }, ACTIVE_STATES.has(run.state) ? "No result yet." : "No result.")
      : // A scrollable region must be reachable from the keyboard to be scrolled.
        h("pre", { class: "json-block", tabindex: "0" }, JSON.stringify(run.result, null, 2)),
  );
}

function renderLogs(logs, append) {
  const panel = els.runLog;
  // Follow the log as it grows, unless the reader has scrolled up to read something.
  const atBottom = panel.scrollHeight - panel.scrollTop - panel.clientHeight < 8;
  const fresh = append ? logs.filter((l) => l.seq > state.shownLogSeq) : logs;
  if (!append) {
    setChildren(
      els.runLogLines,
      logs.length === 0 ? h("li", { class: "log-empty" }, "No log lines.") : null,
    );
  } else if (fresh.length > 0) {
    els.runLogLines.querySelector(".log-empty")?.remove();
  }
  for (const line of fresh) {
    els.runLogLines.append(
      h(
        "li",
        { class: `log-line level-${line.level}` },
        h("time", { datetime: line.at, title: line.at }, LOG_TIME.format(new Date(line.at))),
        h("span", { class: "log-level" }, line.level),
        h("span", { class: "log-message" }, line.message),
      ),
    );
  }
  state.shownLogSeq = logs.reduce((max, l) => Math.max(max, l.seq), append ? state.shownLogSeq : 0);
  if (!append || (atBottom && fresh.length > 0)) panel.scrollTop = panel.scrollHeight;
}

// ---- refreshing ----------------------------------------------------------------------------

/** True while something shown may still change on its own. */
function somethingActive() {
  return (
    state.runs.some((r) => ACTIVE_STATES.has(r.state)) ||
    state.flows.some((f) => f.lastRun && ACTIVE_STATES.has(f.lastRun.state)) ||
    (state.openRun !== null && ACTIVE_STATES.has(state.openRun.state))
  );
}

/** Milliseconds until the next look at the server, or null when nothing will change. */
function refreshDelay(now = Date.now()) {
  if (somethingActive()) return POLL_MS;
  const slots = state.flows.map((f) => ms(f.nextRun)).filter((t) => t !== null);
  if (slots.length === 0) return null;
  return Math.min(Math.max(Math.min(...slots) - now + SLOT_GRACE_MS, POLL_MS), MAX_WAIT_MS);
}

function scheduleRefresh() {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
  if (document.visibilityState === "hidden") return;
  const delay = refreshDelay();
  if (delay !== null) state.timer = setTimeout(() => void refresh(), delay);
}

async function refresh() {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
  const openActive = state.openRun !== null && ACTIVE_STATES.has(state.openRun.state);
  await Promise.all([
    loadFlows(),
    loadHistory(),
    openActive && state.openRunId ? openRun(state.openRunId) : null,
  ]);
  scheduleRefresh();
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") {
    if (state.timer !== null) clearTimeout(state.timer);
    state.timer = null;
    return;
  }
  updateRelativeTimes();
  // Back on the tab: catch up at once if something could have changed meanwhile.
  const slots = state.flows.map((f) => ms(f.nextRun)).filter((t) => t !== null);
  if (somethingActive() || slots.some((t) => t + SLOT_GRACE_MS <= Date.now())) void refresh();
  else scheduleRefresh();
});

// Relative times ("in 2 h") drift as the page stays open; refreshing them needs no request.
setInterval(() => {
  if (document.visibilityState === "visible") updateRelativeTimes();
}, 30_000);

// ---- trigger form --------------------------------------------------------------------------

function selectedFlow() {
  return state.flows.find((f) => f.name === els.flow.value) ?? null;
}

function renderParams() {
  const flow = selectedFlow();
  const legend = els.params.querySelector("legend");
  els.flowHint.textContent = flow?.description ?? "";
  const fields = flow ? Object.entries(flow.params).map(([n, spec]) => paramField(n, spec)) : [];
  setChildren(
    els.params,
    legend,
    fields.length === 0 ? h("p", { class: "hint" }, "This flow takes no parameters.") : fields,
  );
}

function refuse(error, field) {
  const box = h("div", { role: "alert" });
  showProblem(box, error, "The run was not queued");
  setChildren(els.result, box);
  markInvalid(field);
}

wireTokenField(els.token, els.forgetToken);

els.flow.addEventListener("change", () => {
  renderParams();
  setChildren(els.result);
});

els.params.addEventListener("input", (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  if (target.hasAttribute("aria-invalid")) {
    target.removeAttribute("aria-invalid");
    target.setAttribute("aria-describedby", `${target.id}-hint`);
  }
});

els.cancelRun.addEventListener("click", async () => {
  const id = els.cancelRun.dataset.run;
  if (!id) return;
  try {
    await api(`/api/v1/flows/runs/${encodeURIComponent(id)}/cancel`, {
      method: "POST",
      token: els.token.value.trim() || undefined,
    });
    showProblem(els.runError, null);
    await refresh();
    els.runTitle.focus();
  } catch (error) {
    showProblem(els.runError, error, `Run ${shortId(id)} could not be cancelled`);
  }
});

els.form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const flow = els.flow.value;
  // aria-disabled rather than disabled: a disabled button drops the keyboard focus.
  if (!flow || state.submitting) return;
  clearInvalid(els.params);
  const { params, unreadable } = formParams(els.params);
  if (unreadable) {
    refuse({ detail: `${unreadable.dataset.param} must be a number` }, unreadable);
    return;
  }
  state.submitting = true;
  els.submit.setAttribute("aria-disabled", "true");
  setChildren(els.result, h("p", { class: "muted" }, "Sending…"));
  try {
    const run = await api(`/api/v1/flows/${encodeURIComponent(flow)}/runs`, {
      method: "POST",
      body: { params },
      token: els.token.value.trim() || undefined,
    });
    const given = Object.entries(run.params)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    setChildren(
      els.result,
      h(
        "div",
        { class: "notice", role: "status" },
        h("strong", {}, `Queued run ${shortId(run.id)}`),
        ` of ${run.flow}${given ? ` (${given})` : ""}, requested by ${run.requestedBy}. A worker starts it when it is free. `,
        runLink(run.id),
      ),
    );
    // The new run must be visible: a filter on another flow would hide it.
    if (state.filter && state.filter !== run.flow) {
      state.filter = "";
      els.historyFlow.value = "";
      history.replaceState(null, "", pageUrl());
    }
    await refresh();
  } catch (error) {
    refuse(error, fieldNamed(els.params, /** @type {any} */ (error).detail));
  } finally {
    state.submitting = false;
    els.submit.removeAttribute("aria-disabled");
  }
});

// ---- wiring --------------------------------------------------------------------------------

els.historyFlow.addEventListener("change", () => {
  state.filter = els.historyFlow.value;
  history.replaceState(null, "", pageUrl());
  void loadHistory().then(scheduleRefresh);
});

els.closeRun.addEventListener("click", () => {
  const id = closeRun();
  history.pushState(null, "", pageUrl({ run: null }));
  // Back to where the reader came from: the run's row, else the history.
  const link = id
    ? /** @type {HTMLElement | null} */ (
        els.historyBody.querySelector(`tr[data-run-id="${CSS.escape(id)}"] a.run-link`)
      )
    : null;
  (link ?? els.historyFlow).focus();
});

window.addEventListener("popstate", () => {
  const url = readUrl();
  if (url.flow !== state.filter) {
    state.filter = url.flow;
    els.historyFlow.value = url.flow;
    void loadHistory();
  }
  if (url.run) void openRun(url.run);
  else closeRun();
});

async function start() {
  const url = readUrl();
  state.filter = url.flow;
  await Promise.all([loadFlows(), loadHistory(), url.run ? openRun(url.run) : null]);
  scheduleRefresh();
}

void start();
