// @ts-check
/**
 * The access log page (admins): the newest entries of `GET /api/v1/access-log`, filtered by
 * user and action.
 */
import { api } from "./api.js";
import { h, setChildren, showProblem, timeEl } from "./dom.js";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const LIMIT = 500;

/**
 * @typedef {{ at: string, user: string, role: string, action: string, target: string | null, status: number, address: string, detail: string | null }} Entry
 */

async function load() {
  const user = /** @type {HTMLInputElement} */ ($("log-user")).value.trim();
  const action = /** @type {HTMLSelectElement} */ ($("log-action")).value;
  $("log-summary").textContent = "Loading…";
  try {
    /** @type {{ entries: Entry[] }} */
    const data = await api("/api/v1/access-log", { query: { user, action, limit: LIMIT } });
    showProblem($("page-error"), null);
    setChildren(
      $("log-body"),
      data.entries.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, timeEl(Date.parse(e.at))),
          h("td", {}, e.user),
          h("td", {}, e.role),
          h("td", {}, e.action),
          h("td", { class: "mono" }, e.target ?? "—"),
          h("td", { class: "num" }, String(e.status)),
          h("td", {}, e.address),
          h("td", {}, e.detail ?? ""),
        ),
      ),
    );
    $("log-summary").textContent =
      data.entries.length === 0
        ? "No entries."
        : `${data.entries.length} ${data.entries.length === 1 ? "entry" : "entries"}, newest first${data.entries.length === LIMIT ? ` (the newest ${LIMIT}; filter to see older ones)` : ""}.`;
  } catch (e) {
    $("log-summary").textContent = "";
    showProblem($("page-error"), e);
  }
}

$("log-filters").addEventListener("submit", (event) => {
  event.preventDefault();
  void load();
});
void load();
