/**
 * The trigger form's parameter fields: one per parameter of the flow, typed by its spec, read
 * back as the server expects them, and marked when a refusal names one.
 */
import { h } from "./dom.js";

/** e.g. "whole number, 1–500, default 20". */
function paramRules(spec) {
  const parts = [];
  if (spec.type === "integer") parts.push("whole number");
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`${spec.min}–${spec.max}`);
  else if (spec.min !== undefined) parts.push(`at least ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`at most ${spec.max}`);
  parts.push(`default ${spec.default}`);
  return parts.join(", ");
}

export function paramField(name, spec) {
  const id = `param-${name}`;
  const hintId = `${id}-hint`;
  const common = {
    id,
    name,
    "data-param": name,
    "data-type": spec.type,
    "aria-describedby": hintId,
  };
  const hint = h("p", { class: "hint", id: hintId }, `${spec.description} (${paramRules(spec)})`);
  if (spec.type === "boolean") {
    return h(
      "div",
      { class: "field" },
      h(
        "label",
        { class: "check", for: id },
        h("input", { ...common, type: "checkbox", checked: spec.default === true }),
        name,
      ),
      hint,
    );
  }
  let control;
  if (Array.isArray(spec.values)) {
    control = h(
      "select",
      common,
      spec.values.map((v) => h("option", { value: v, selected: v === spec.default }, v)),
    );
  } else if (spec.type === "string") {
    control = h("input", {
      ...common,
      type: "text",
      value: String(spec.default),
      autocomplete: "off",
      spellcheck: "false",
    });
  } else {
    control = h("input", {
      ...common,
      type: "number",
      inputmode: spec.type === "integer" ? "numeric" : "decimal",
      step: spec.type === "integer" ? "1" : "any",
      min: spec.min,
      max: spec.max,
      value: String(spec.default),
    });
  }
  return h("div", { class: "field" }, h("label", { for: id }, name), control, hint);
}

/**
 * The parameters as typed. A blank number is left out (the server fills the default); the
 * server checks the rest and names any value it refuses. `unreadable` is a number field whose
 * text is not a number: a number input reads it as blank, and running with the default the
 * user did not ask for would be wrong.
 *
 * @param {HTMLElement} container
 * @returns {{ params: Record<string, unknown>, unreadable: HTMLInputElement | null }}
 */
export function formParams(container) {
  /** @type {Record<string, unknown>} */
  const params = {};
  for (const el of container.querySelectorAll("[data-param]")) {
    const input = /** @type {HTMLInputElement} */ (el);
    const name = input.dataset.param ?? "";
    const type = input.dataset.type;
    if (type === "boolean") params[name] = input.checked;
    else if (type === "integer" || type === "number") {
      if (input.validity.badInput) return { params, unreadable: input };
      if (input.value.trim() !== "") params[name] = Number(input.value);
    } else params[name] = input.value;
  }
  return { params, unreadable: null };
}

/** Marks the field a refusal names (`parameter "trials" of flow …`), so it is easy to find. */
export function markInvalid(field) {
  if (!field) return;
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", `${field.id}-hint trigger-result`);
}

export function clearInvalid(container) {
  for (const el of container.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.setAttribute("aria-describedby", `${el.id}-hint`);
  }
}

export function fieldNamed(container, detail) {
  const name = /parameter "([^"]+)"/.exec(detail ?? "")?.[1];
  if (!name) return null;
  return /** @type {HTMLElement | null} */ (
    container.querySelector(`[data-param="${CSS.escape(name)}"]`)
  );
}
