/** The start page: which version of each model serves applicants right now. */
import { api } from "./api.js";
import { h, setChildren, showProblem } from "./dom.js";

const target = /** @type {HTMLElement} */ (document.getElementById("serving"));

async function start() {
  try {
    const { models } = await api("/api/v1/models");
    if (models.length === 0) {
      setChildren(target, h("p", { class: "muted" }, "No registered models yet."));
      return;
    }
    setChildren(
      target,
      h(
        "ul",
        { class: "artifact-list" },
        models.map((m) =>
          h(
            "li",
            {},
            h("a", { href: `/models.html?model=${encodeURIComponent(m.name)}` }, m.name),
            ": ",
            m.aliases.champion === undefined
              ? h("span", { class: "muted" }, "nothing serves yet")
              : h("span", { class: "badge alias champion" }, `champion → v${m.aliases.champion}`),
          ),
        ),
      ),
    );
  } catch (error) {
    showProblem(target, error, "Models could not be loaded");
  }
}

void start();
