/**
 * Scoring one applicant: a form built from the server's schema (readable labels, value labels in
 * the dropdowns, numeric ranges), pre-filled with a typical applicant, with the server's field
 * errors shown next to their fields and the decision shown in a card beside the form.
 */
import { h, setChildren, showProblem } from "./dom.js";
import { scoreApplicant } from "./riskometer-api.js";
import { confidenceMeter, modelName, percent, reasonsList, riskBadge } from "./riskometer-view.js";

/**
 * The value a field starts with: the column's typical value in the model's training data (the
 * server's schema gives the most common category and the median number; empty when that was
 * missing), else the first allowed value or the lower bound.
 */
export function typicalValue(column) {
  const values = column.values ?? [];
  if ("typical" in column) {
    const known = column.typical;
    if (known === null) return column.allowMissing ? "" : fallbackValue(column);
    if (column.kind !== "categorical" || values.some((v) => v.value === known)) return known;
  }
  return fallbackValue(column);
}

function fallbackValue(column) {
  if (column.kind === "categorical") return column.values?.[0]?.value ?? "";
  return Number.isFinite(column.min) ? column.min : 0;
}

/** A typical applicant for all `columns`, keyed by column name. */
export function typicalApplicant(columns) {
  return Object.fromEntries(columns.map((c) => [c.name, typicalValue(c)]));
}

/** What an empty choice says in the dropdown of a field that may be missing. */
export const MISSING_CHOICE = "Not known (missing)";

const NUMBER = new Intl.NumberFormat();

function rangeText(column) {
  const unit = column.unit ? ` ${column.unit}` : "";
  const range =
    Number.isFinite(column.min) && Number.isFinite(column.max)
      ? `${NUMBER.format(column.min)} to ${NUMBER.format(column.max)}${unit}`
      : Number.isFinite(column.min)
        ? `${NUMBER.format(column.min)} or more${unit}`
        : unit.trim();
  const optional = column.allowMissing ? "empty if not known" : "";
  return [range, optional].filter(Boolean).join("; ");
}

/**
 * Whether a field's description must be visible: small ordinal scales (1…4) are codes whose
 * meaning the label does not carry; other descriptions only repeat the label and unit, so
 * they go to screen readers only.
 */
function describesCodes(column) {
  return (
    column.kind === "numeric" &&
    column.integer &&
    Number.isFinite(column.min) &&
    Number.isFinite(column.max) &&
    column.max - column.min <= 5 &&
    Boolean(column.description)
  );
}

export class ApplicantForm {
  constructor() {
    const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
    this.form = /** @type {HTMLFormElement} */ ($("applicant-form"));
    this.fields = $("form-fields");
    this.error = $("form-error");
    this.result = $("single-result");
    this.submit = /** @type {HTMLButtonElement} */ ($("score-button"));
    this.reset = /** @type {HTMLButtonElement} */ ($("reset-button"));
    /** @type {any[]} */
    this.columns = [];
    /** @type {Map<string, HTMLInputElement | HTMLSelectElement>} */
    this.controls = new Map();
    /** The registered model that scores the applicant. */
    this.model = "";
    /** Counts the sets of fields shown: an answer for an older set is dropped. */
    this.generation = 0;
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.score();
    });
    this.reset.addEventListener("click", () => this.fillTypical());
  }

  /**
   * Builds the fields from a model's schema, pre-filled with its typical applicant; applicants
   * are then scored with `model`. A decision asked for before is no longer shown.
   *
   * @param {any[]} columns
   * @param {{ model: string, dataset?: { name: string, version: number } | null }} about
   */
  setColumns(columns, about) {
    this.generation++;
    this.model = about.model;
    this.columns = columns;
    this.controls.clear();
    const dataset = about.dataset?.name ?? about.model;
    setChildren(
      this.fields,
      h(
        "fieldset",
        { class: "field-group" },
        h(
          "legend",
          {},
          `${dataset} · ${columns.length} ${columns.length === 1 ? "field" : "fields"}`,
        ),
        h(
          "div",
          { class: "field-grid" },
          columns.map((c) => this.field(c)),
        ),
      ),
    );
    this.showPlaceholder();
    this.fillTypical();
    this.submit.disabled = false;
    this.reset.disabled = false;
  }

  /**
   * No fields to offer (the model has no serving version, or is unknown): says why in the
   * server's words, and nothing can be scored until fields are set again.
   */
  clear(message, error, heading) {
    this.generation++;
    this.columns = [];
    this.controls.clear();
    setChildren(this.fields, h("p", { class: "muted" }, message));
    this.showPlaceholder();
    showProblem(this.error, error ?? null, heading);
    this.submit.disabled = true;
    this.reset.disabled = true;
  }

  showPlaceholder() {
    setChildren(
      this.result,
      h(
        "p",
        { class: "muted" },
        "The result appears here: the risk class, how confident the model is, and the main factors towards a bad risk.",
      ),
    );
  }

  field(column) {
    const id = `f-${column.name}`;
    const hintId = `${id}-hint`;
    const numeric = column.kind === "numeric";
    const hint = numeric ? (describesCodes(column) ? column.description : rangeText(column)) : "";
    const described =
      column.description && column.description !== column.label && !describesCodes(column)
        ? column.description
        : "";
    const describedId = `${id}-description`;
    const describedBy = [hint ? hintId : "", described ? describedId : ""]
      .filter(Boolean)
      .join(" ");
    const control = numeric
      ? h("input", {
          id,
          name: column.name,
          type: "number",
          inputmode: column.integer ? "numeric" : "decimal",
          min: Number.isFinite(column.min) ? String(column.min) : undefined,
          max: Number.isFinite(column.max) ? String(column.max) : undefined,
          step: column.integer ? "1" : "any",
          required: !column.allowMissing,
          "aria-describedby": describedBy || undefined,
        })
      : h(
          "select",
          {
            id,
            name: column.name,
            required: !column.allowMissing,
            "aria-describedby": describedBy || undefined,
          },
          column.allowMissing ? h("option", { value: "" }, MISSING_CHOICE) : null,
          (column.values ?? []).map((v) => h("option", { value: v.value }, v.label ?? v.value)),
        );
    control.addEventListener("input", () => {
      this.clearFieldError(column.name);
      this.markStale();
    });
    control.addEventListener("change", () => this.markStale());
    this.controls.set(column.name, control);
    return h(
      "div",
      { class: `field${numeric ? " is-numeric" : ""}`, "data-field": column.name },
      h("label", { for: id }, column.label ?? column.name),
      control,
      hint ? h("p", { class: `hint${numeric ? "" : " visually-hidden"}`, id: hintId }, hint) : null,
      h("p", { class: "field-error", id: `${id}-error`, hidden: true }),
    );
  }

  fillTypical() {
    for (const column of this.columns) {
      const control = this.controls.get(column.name);
      if (control) control.value = String(typicalValue(column));
      this.clearFieldError(column.name);
    }
    showProblem(this.error, null);
    this.markStale();
  }

  /**
   * The applicant as JSON: numbers as numbers, an empty field that may be missing as null;
   * anything else as typed, for the server to judge.
   */
  values() {
    const applicant = {};
    for (const column of this.columns) {
      const control = this.controls.get(column.name);
      if (!control) continue;
      const raw = control.value.trim();
      const n = Number(raw);
      applicant[column.name] =
        raw === "" && column.allowMissing
          ? null
          : column.kind === "numeric" && raw !== "" && Number.isFinite(n)
            ? n
            : raw;
    }
    return applicant;
  }

  async score() {
    if (this.submit.disabled) return;
    for (const column of this.columns) this.clearFieldError(column.name);
    showProblem(this.error, null);
    this.submit.disabled = true;
    this.submit.textContent = "Scoring…";
    this.form.setAttribute("aria-busy", "true");
    const generation = this.generation;
    try {
      const response = await scoreApplicant(this.values(), this.model);
      // The clerk picked another model meanwhile: this answer is for fields no longer shown.
      if (generation !== this.generation) return;
      const prediction = response?.predictions?.[0];
      if (prediction) this.showResult(prediction);
      else if (response?.errors?.length) this.showErrors({ detail: "", errors: response.errors });
    } catch (error) {
      if (generation === this.generation) this.showErrors(error);
    } finally {
      this.submit.disabled = this.columns.length === 0;
      this.submit.textContent = "Score applicant";
      this.form.removeAttribute("aria-busy");
    }
  }

  showErrors(error) {
    const errors = Array.isArray(error?.errors) ? error.errors : [];
    const unplaced = [];
    /** @type {HTMLElement | null} */
    let first = null;
    for (const e of errors) {
      const control = e.column ? this.controls.get(e.column) : undefined;
      if (!control) {
        unplaced.push(e.column ? `${e.column}: ${e.message}` : e.message);
        continue;
      }
      this.setFieldError(e.column, e.message ?? "invalid value");
      first ??= control;
    }
    const placed = errors.length - unplaced.length;
    if (placed > 0) {
      showProblem(this.error, {
        title: placed === 1 ? "One field needs attention" : `${placed} fields need attention`,
        detail:
          unplaced.join("; ") || "The highlighted fields were not accepted; nothing was scored.",
        code: error?.code,
        status: error?.status,
      });
    } else {
      const heading =
        error?.status === 503 ? "No model is serving" : "The applicant could not be scored";
      showProblem(this.error, error, heading);
    }
    if (first) first.focus();
    else this.error.scrollIntoView({ block: "nearest" });
  }

  setFieldError(name, message) {
    const control = this.controls.get(name);
    if (!control) return;
    const note = /** @type {HTMLElement} */ (document.getElementById(`f-${name}-error`));
    note.textContent = message;
    note.hidden = false;
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    if (!described.includes(note.id)) described.unshift(note.id);
    control.setAttribute("aria-describedby", described.join(" "));
    control.closest(".field")?.classList.add("has-error");
  }

  clearFieldError(name) {
    const control = this.controls.get(name);
    const note = document.getElementById(`f-${name}-error`);
    if (!control || !note || note.hidden) return;
    note.hidden = true;
    note.textContent = "";
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && id !== note.id);
    if (described.length > 0) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
    control.closest(".field")?.classList.remove("has-error");
  }

  /** A result stays visible after an edit, but says that it no longer matches the form. */
  markStale() {
    const card = this.result.querySelector(".decision");
    if (!card || card.classList.contains("is-stale")) return;
    card.classList.add("is-stale");
    card.prepend(
      h(
        "p",
        { class: "stale-note" },
        "The form changed since this result: score again to update it.",
      ),
    );
  }

  showResult(p) {
    const bad = p.risk === "bad";
    setChildren(
      this.result,
      h(
        "div",
        { class: `decision ${bad ? "is-bad" : "is-good"}` },
        h(
          "div",
          { class: "decision-head" },
          riskBadge(p.risk, "large"),
          h("p", { class: "decision-title" }, bad ? "Bad credit risk" : "Good credit risk"),
        ),
        h(
          "dl",
          { class: "decision-figures" },
          h("div", {}, h("dt", {}, "Probability of bad"), h("dd", {}, percent(p.probabilityBad))),
          h(
            "div",
            {},
            h("dt", {}, "Confidence"),
            h("dd", {}, confidenceMeter(p.confidence, p.risk)),
          ),
        ),
        bad && Number.isFinite(p.confidence) && p.confidence < 0.5
          ? h(
              "p",
              { class: "hint decision-note" },
              "Classed bad although a bad outcome is less likely than not: the model's threshold weighs a missed bad risk more heavily than a lost good one.",
            )
          : null,
        h("h3", {}, "Main factors towards bad"),
        reasonsList(p.reasons, "reasons decision-reasons"),
        h(
          "p",
          { class: "muted small decision-model" },
          `Scored by ${modelName(p.model) || "the serving model"}`,
          p.id ? [" · prediction ", h("span", { class: "mono" }, String(p.id).slice(0, 8))] : null,
        ),
      ),
    );
  }
}
