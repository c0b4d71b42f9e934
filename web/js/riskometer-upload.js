/**
 * Scoring a file: the drop zone (mouse, keyboard and drag and drop), upload progress with a
 * cancel button, the batch summary with the scored-file download, and the rows the server
 * rejected, each with its row, column, what is wrong and the value it found.
 */
import { h, setChildren, showProblem } from "./dom.js";
import { ScoringError, scoredCsvUrl, uploadFile } from "./riskometer-api.js";
import { count, modelName, percent } from "./riskometer-view.js";

/** How many rejected rows the table lists; the rest are counted. */
const MAX_LISTED_ERRORS = 500;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A reason to refuse the file before sending it, or null. */
function precheck(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".xls")) {
    return "Excel 97–2003 workbooks (.xls) cannot be read. Open the file in Excel and save it as an Excel Workbook (.xlsx) or as CSV.";
  }
  if (!name.endsWith(".csv") && !name.endsWith(".xlsx") && !name.endsWith(".txt")) {
    return `“${file.name}” is not a CSV or Excel file. Choose a .csv or .xlsx file with one applicant per row.`;
  }
  if (file.size === 0) return `“${file.name}” is empty.`;
  return null;
}

export class FileScoring {
  /** @param {{ results: { show: (answer: any) => void, pageSize: number } }} options */
  constructor(options) {
    this.results = options.results;
    /** @type {Map<string, string>} column name → readable label */
    this.labels = new Map();
    /** The registered model that scores (empty: the server's default). */
    this.model = "";
    /** @type {(() => void) | null} */
    this.abort = null;
    this.els = {
      zone: $("drop-zone"),
      input: /** @type {HTMLInputElement} */ ($("file-input")),
      status: $("upload-status"),
      label: $("upload-label"),
      progress: /** @type {HTMLProgressElement} */ ($("upload-progress")),
      cancel: $("upload-cancel"),
      error: $("upload-error"),
      announce: $("upload-announce"),
      summary: $("batch-summary"),
      summaryFile: $("summary-file"),
      stats: $("summary-stats"),
      download: /** @type {HTMLAnchorElement} */ ($("download-link")),
      rejected: $("rejected"),
      rejectedLede: $("rejected-lede"),
      rejectedBody: $("rejected-body"),
      resultsSection: $("results"),
    };
    this.wire();
  }

  /**
   * The model files are scored with from now on and its columns (their labels name the columns
   * of rejected rows). What an earlier model scored is no longer shown; an upload under way is
   * cancelled.
   *
   * @param {any[]} columns
   * @param {string} model
   */
  setModel(columns, model) {
    this.abort?.();
    this.clearOutcome();
    this.model = model;
    this.labels = new Map(columns.map((c) => [c.name, c.label]));
  }

  get busy() {
    return this.abort !== null;
  }

  wire() {
    const { zone, input, cancel } = this.els;
    const choose = () => {
      if (!this.busy) input.click();
    };
    zone.addEventListener("click", choose);
    zone.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        choose();
      }
    });
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      if (file) void this.score(file);
      // The same file can be chosen again after it was fixed.
      input.value = "";
    });
    // Dragging over any part of the page must not open the file in the tab instead.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (e) => {
        if (e.dataTransfer?.types?.includes("Files")) e.preventDefault();
      });
    }
    let depth = 0;
    zone.addEventListener("dragenter", (e) => {
      e.preventDefault();
      depth++;
      zone.classList.add("is-dragging");
    });
    zone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove("is-dragging");
    });
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = this.busy ? "none" : "copy";
    });
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0;
      zone.classList.remove("is-dragging");
      const files = e.dataTransfer?.files;
      if (!files || files.length === 0 || this.busy) return;
      void this.score(files[0], files.length > 1);
    });
    cancel.addEventListener("click", () => this.abort?.());
  }

  /** Uploads and scores one file, showing progress, then the outcome. */
  async score(file, droppedSeveral = false) {
    const { els } = this;
    this.clearOutcome();
    const refusal = precheck(file);
    if (refusal) {
      this.showError(new ScoringError({ title: "This file cannot be scored", detail: refusal }));
      return;
    }
    this.setBusy(true, file);
    const upload = uploadFile(file, {
      model: this.model,
      // Only the first page comes back with the answer; the table asks for the others.
      limit: this.results.pageSize,
      onProgress: (fraction) => {
        // All bytes sent (the server reads and scores as they arrive): what is left is scoring.
        if (fraction === null || fraction >= 1) {
          els.progress.removeAttribute("value");
          els.label.textContent = `Scoring ${file.name} (${fileSize(file.size)})…`;
        } else {
          els.progress.value = Math.round(fraction * 100);
          els.label.textContent = `Uploading ${file.name}: ${Math.round(fraction * 100)}%`;
        }
      },
    });
    this.abort = upload.abort;
    try {
      const result = await upload.promise;
      this.showResult(file, result ?? {});
      if (droppedSeveral) {
        els.announce.textContent += ` Only ${file.name} was scored: drop one file at a time.`;
      }
    } catch (error) {
      if (error instanceof ScoringError && error.status === -1) {
        els.announce.textContent = "Upload cancelled; nothing was scored.";
      } else {
        this.showError(error);
      }
    } finally {
      this.setBusy(false, file);
    }
  }

  setBusy(busy, file) {
    const { els } = this;
    if (!busy) this.abort = null;
    els.status.hidden = !busy;
    els.zone.setAttribute("aria-disabled", String(busy));
    els.zone.classList.toggle("is-busy", busy);
    els.resultsSection.setAttribute("aria-busy", String(busy));
    if (busy) {
      els.progress.value = 0;
      els.label.textContent = `Uploading ${file.name}…`;
    } else if (document.activeElement === els.cancel || document.activeElement === document.body) {
      els.zone.focus();
    }
  }

  clearOutcome() {
    const { els } = this;
    showProblem(els.error, null);
    els.announce.textContent = "";
    els.summary.hidden = true;
    els.rejected.hidden = true;
    els.resultsSection.hidden = true;
  }

  showError(error) {
    const heading =
      error?.status === 503
        ? "No model is serving"
        : (error?.title ?? "The file could not be scored");
    showProblem(this.els.error, error, heading);
    if (Array.isArray(error?.errors) && error.errors.length > 0) this.showRejected(error.errors);
  }

  showResult(file, result) {
    const { els } = this;
    const predictions = Array.isArray(result.predictions) ? result.predictions : [];
    const errors = Array.isArray(result.errors) ? result.errors : [];
    const s = result.summary ?? {};
    const good = s.good ?? predictions.filter((p) => p.risk === "good").length;
    const bad = s.bad ?? predictions.length - good;
    const scored = s.scored ?? predictions.length;
    const rejected = s.rejected ?? new Set(errors.map((e) => e.row)).size;
    const rows = s.rows ?? scored + rejected;
    const model = modelName(predictions[0]?.model);

    els.summaryFile.textContent = [file.name, fileSize(file.size), model && `scored with ${model}`]
      .filter(Boolean)
      .join(" · ");
    const stat = (label, value, className, note) =>
      h(
        "div",
        { class: `stat${className ? ` ${className}` : ""}` },
        h("dt", {}, label),
        h("dd", {}, count(value), note ? h("span", { class: "stat-note" }, note) : null),
      );
    setChildren(
      els.stats,
      stat("Rows", rows),
      stat("Scored", scored),
      stat("Rejected", rejected, rejected > 0 ? "is-warning" : ""),
      stat("Good", good, "is-good", scored > 0 ? percent(good / scored) : ""),
      stat("Bad", bad, "is-bad", scored > 0 ? percent(bad / scored) : ""),
    );
    if (result.batchId) {
      els.download.href = scoredCsvUrl(result.batchId);
      // The server names the file (content-disposition); the attribute only makes it a download.
      els.download.setAttribute("download", "");
      els.download.hidden = false;
    } else {
      els.download.hidden = true;
    }
    els.summary.hidden = false;

    if (errors.length > 0) this.showRejected(errors, result.errorCounts);
    els.resultsSection.hidden = scored === 0;
    this.results.show(result);
    els.announce.textContent =
      `Scored ${count(scored)} of ${count(rows)} rows from ${file.name}: ` +
      `${count(good)} good, ${count(bad)} bad` +
      (rejected > 0 ? `, ${count(rejected)} rejected (listed below the summary).` : ".");
  }

  /**
   * The rejected rows' errors; `counts` (the server's `errorCounts`) counts them all when the
   * answer lists only the first ones.
   */
  showRejected(errors, counts) {
    const { els } = this;
    const total = counts?.total ?? errors.length;
    const rows = counts?.rows ?? new Set(errors.map((e) => e.row)).size;
    const listed = errors.slice(0, MAX_LISTED_ERRORS);
    els.rejectedLede.textContent =
      `${count(total)} ${total === 1 ? "problem" : "problems"} in ` +
      `${count(rows)} ${rows === 1 ? "row" : "rows"}; these rows were not scored. ` +
      "Row numbers count data rows from 1 (the header is not counted). Fix them and upload the file again." +
      (total > listed.length ? ` The first ${count(listed.length)} are listed.` : "");
    setChildren(
      els.rejectedBody,
      listed.map((e) => {
        const label = e.column ? this.labels.get(e.column) : undefined;
        const value = e.value === undefined || e.value === null ? null : String(e.value);
        return h(
          "tr",
          {},
          h("td", { class: "num" }, e.row === undefined || e.row === null ? "—" : String(e.row)),
          h(
            "td",
            {},
            e.column
              ? [label ?? e.column, label ? h("span", { class: "sub mono" }, e.column) : null]
              : h("span", { class: "muted" }, "whole row"),
          ),
          h("td", {}, e.message ?? ""),
          h(
            "td",
            {},
            value === null
              ? h("span", { class: "muted" }, "—")
              : value === ""
                ? h("span", { class: "muted" }, "(empty)")
                : h("code", { class: "cell-value" }, value),
          ),
        );
      }),
    );
    els.rejected.hidden = false;
  }
}

/**
 * A link that downloads a one-row CSV template (the header and a typical applicant) for a model,
 * made in the browser from its schema so it always matches what the server expects. Called
 * again for another model, it replaces the previous template.
 *
 * @param {HTMLAnchorElement} link
 * @param {any[]} columns
 * @param {Record<string, unknown>} typical
 * @param {string} model
 */
export function offerTemplate(link, columns, typical, model) {
  const quote = (v) => {
    const s = String(v ?? "");
    return /[",\n\r]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const csv = [
    columns.map((c) => quote(c.name)).join(","),
    columns.map((c) => quote(typical[c.name])).join(","),
  ].join("\r\n");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([`${csv}\r\n`], { type: "text/csv" }));
  link.setAttribute("download", `${model.replace(/[^\w.-]+/g, "-")}-template.csv`);
  link.hidden = false;
}

/** Takes the template link away while no model's columns are known. */
export function withdrawTemplate(link) {
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = "#";
  link.removeAttribute("download");
  link.hidden = true;
}
