/**
 * The compare view: runs in columns, their params and metrics in rows (rows whose values differ
 * are highlighted and labelled, not only coloured), then each run's plots side by side. With
 * one run it is the run's detail page.
 */
import { artifactUrl } from "./api.js";
import {
  formatDuration,
  formatMetric,
  h,
  setChildren,
  shortId,
  statusBadge,
  timeEl,
} from "./dom.js";

/** Plots in the order a reviewer reads them; others follow alphabetically. */
const PLOT_ORDER = [
  "plots/roc.svg",
  "plots/confusion-matrix.svg",
  "plots/calibration.svg",
  "plots/cv-folds.svg",
  "plots/feature-importance.svg",
];

const PLOT_TITLES = {
  "plots/roc.svg": "ROC curve",
  "plots/confusion-matrix.svg": "Confusion matrix",
  "plots/calibration.svg": "Calibration",
  "plots/cv-folds.svg": "Cross-validation folds",
  "plots/feature-importance.svg": "Feature importance",
};

function isPlot(artifact) {
  return artifact.mediaType === "image/svg+xml" || artifact.mediaType === "image/png";
}

function plotTitle(path) {
  if (PLOT_TITLES[path]) return PLOT_TITLES[path];
  const base = path.split("/").pop() ?? path;
  return base.replace(/\.[a-z]+$/i, "").replaceAll(/[-_]/g, " ");
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One table of the comparison. `rows`: [{ label, values: (string|null)[] }]; a null value is
 * shown as "not recorded". With several runs, rows whose values are not all equal get the
 * `diff` class and a visible "differs" marker.
 */
function comparisonTable(caption, runs, rows, options) {
  const comparing = runs.length > 1;
  const shown = rows.filter((row) => !options.onlyDifferences || !comparing || differs(row.values));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "compare-table" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Field"),
          runs.map((run) =>
            h(
              "th",
              { scope: "col" },
              run.info.name,
              h("span", { class: "sub mono" }, shortId(run.info.id)),
            ),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        shown.length === 0
          ? h(
              "tr",
              {},
              h(
                "td",
                { colspan: String(runs.length + 1), class: "empty" },
                options.onlyDifferences && comparing ? "No differences." : "None recorded.",
              ),
            )
          : shown.map((row) => {
              const diff = comparing && row.diffable !== false && differs(row.values);
              return h(
                "tr",
                { class: diff ? "diff" : undefined },
                h(
                  "th",
                  { scope: "row" },
                  row.label,
                  diff ? h("span", { class: "diff-marker" }, "differs") : null,
                ),
                row.values.map((value, i) =>
                  row.cells
                    ? h("td", { class: row.numeric ? "num" : undefined }, row.cells[i])
                    : value === null
                      ? h("td", { class: "missing" }, "not recorded")
                      : h("td", { class: row.numeric ? "num" : undefined }, value),
                ),
              );
            }),
      ),
    ),
  );
}

function differs(values) {
  return new Set(values.map((v) => (v === null ? "\u0000missing" : v))).size > 1;
}

function unionKeys(objects) {
  return [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
}

/**
 * Renders the comparison of `runs` (run details from GET /api/v1/runs/:id) into `container`.
 *
 * @param {HTMLElement} container
 * @param {any[]} runs
 * @param {{ experimentNames: Map<string,string>, runNames: Map<string,string>, onlyDifferences: boolean, onOpenRun: (id: string) => void }} options
 */
export function renderCompare(container, runs, options) {
  const runLink = (id) =>
    h(
      "a",
      {
        href: `?compare=${encodeURIComponent(id)}`,
        onclick: (/** @type {MouseEvent} */ e) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
          e.preventDefault();
          options.onOpenRun(id);
        },
      },
      options.runNames.get(id) ?? shortId(id),
    );

  const overviewRows = [
    {
      label: "Experiment",
      values: runs.map(
        (r) => options.experimentNames.get(r.info.experimentId) ?? r.info.experimentId,
      ),
    },
    {
      label: "Status",
      values: runs.map((r) => r.info.status),
      cells: runs.map((r) => [
        statusBadge(r.info.status),
        r.info.statusReason ? h("span", { class: "sub" }, r.info.statusReason) : null,
      ]),
    },
    {
      label: "Started",
      values: runs.map((r) => String(r.info.startTime)),
      cells: runs.map((r) => timeEl(r.info.startTime)),
      diffable: false,
    },
    {
      label: "Duration",
      values: runs.map((r) => formatDuration(r.info.startTime, r.info.endTime)),
      diffable: false,
    },
    {
      label: "Parent run",
      values: runs.map((r) => r.info.parentRunId),
      cells: runs.map((r) => (r.info.parentRunId ? runLink(r.info.parentRunId) : "—")),
    },
    {
      label: "Child runs",
      values: runs.map((r) => String(r.children.length)),
      cells: runs.map((r) =>
        r.children.length === 0
          ? "—"
          : h(
              "ul",
              { class: "artifact-list" },
              r.children.map((id) => h("li", {}, runLink(id))),
            ),
      ),
      diffable: false,
    },
    {
      label: "Code version",
      values: runs.map((r) => r.info.codeVersion),
      cells: runs.map((r) =>
        r.info.codeVersion ? h("span", { class: "mono" }, shortId(r.info.codeVersion)) : "—",
      ),
    },
    {
      label: "Datasets",
      values: runs.map(
        (r) => r.inputs.map((i) => `${i.name}:${i.role}:${i.digest}`).join("|") || null,
      ),
      cells: runs.map((r) =>
        r.inputs.length === 0
          ? "—"
          : h(
              "ul",
              { class: "artifact-list" },
              r.inputs.map((i) =>
                h(
                  "li",
                  {},
                  `${i.name} (${i.role}${i.rows === null ? "" : `, ${i.rows} rows`}) `,
                  h("span", { class: "mono muted", title: i.digest }, shortId(i.digest)),
                ),
              ),
            ),
      ),
    },
    {
      label: "Artifacts",
      values: runs.map(() => ""),
      cells: runs.map((r) =>
        r.artifacts.length === 0
          ? "—"
          : h(
              "ul",
              { class: "artifact-list" },
              r.artifacts.map((a) =>
                h(
                  "li",
                  {},
                  h("a", { href: artifactUrl(r.info.id, a.path) }, a.path),
                  h("span", { class: "muted small" }, ` ${formatBytes(a.size)}`),
                  // The server asks for a clerk's token: these hold the training data's values.
                  a.path.startsWith("model/")
                    ? h("span", { class: "muted small" }, " · needs a clerk's API token")
                    : null,
                ),
              ),
            ),
      ),
      diffable: false,
    },
  ];

  const paramRows = unionKeys(runs.map((r) => r.params)).map((key) => ({
    label: key,
    values: runs.map((r) => (key in r.params ? r.params[key] : null)),
  }));

  const tagRows = unionKeys(runs.map((r) => r.tags)).map((key) => ({
    label: key,
    values: runs.map((r) => (key in r.tags ? r.tags[key] : null)),
  }));

  const metricRows = unionKeys(runs.map((r) => r.metrics)).map((key) => ({
    label: key,
    numeric: true,
    values: runs.map((r) => (key in r.metrics ? formatMetric(r.metrics[key].value) : null)),
  }));

  const plotPaths = [
    ...new Set(runs.flatMap((r) => r.artifacts.filter(isPlot).map((a) => a.path))),
  ].sort((a, b) => {
    const ia = PLOT_ORDER.indexOf(a);
    const ib = PLOT_ORDER.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a < b ? -1 : 1;
  });

  // Each plot is a row: its title where the tables have their row labels, then one figure per
  // run, so the figures sit under the same run columns as the params and metrics above.
  const plots = plotPaths.map((path) => {
    const grid = h(
      "div",
      { class: "plot-grid", role: "group", "aria-label": plotTitle(path) },
      h("h3", { class: "plot-title" }, plotTitle(path)),
      runs.map((run) => {
        const has = run.artifacts.some((a) => a.path === path);
        return h(
          "figure",
          {},
          has
            ? h("img", {
                src: artifactUrl(run.info.id, path),
                alt: `${plotTitle(path)} of run ${run.info.name}`,
                decoding: "async",
              })
            : h("div", { class: "no-plot" }, "not recorded"),
          h("figcaption", {}, run.info.name),
        );
      }),
    );
    // CSSOM, not a style attribute, so the page's CSP (no inline styles) allows it.
    grid.style.gridTemplateColumns = `15rem repeat(${runs.length}, minmax(220px, ${runs.length === 1 ? "560px" : "1fr"}))`;
    return grid;
  });

  const comparing = runs.length > 1;
  setChildren(
    container,
    comparing
      ? h(
          "p",
          { class: "legend" },
          h("span", { class: "swatch", "aria-hidden": "true" }),
          "Highlighted rows (marked “differs”) have different values across the runs.",
        )
      : null,
    h(
      "section",
      { class: "panel", "aria-labelledby": "overview-heading" },
      h("h2", { id: "overview-heading" }, "Overview"),
      comparisonTable("Run information", runs, overviewRows, options),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "params-heading" },
      h("h2", { id: "params-heading" }, "Parameters"),
      comparisonTable("Parameters", runs, paramRows, options),
    ),
    tagRows.length === 0
      ? null
      : h(
          "section",
          { class: "panel", "aria-labelledby": "tags-heading" },
          h("h2", { id: "tags-heading" }, "Tags"),
          comparisonTable("Tags", runs, tagRows, options),
        ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "metrics-heading" },
      h("h2", { id: "metrics-heading" }, "Metrics (latest values)"),
      comparisonTable("Metrics", runs, metricRows, options),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "plots-heading" },
      h("h2", { id: "plots-heading" }, "Plots"),
      plots.length === 0 ? h("p", { class: "muted" }, "No plots recorded.") : plots,
    ),
  );
}
