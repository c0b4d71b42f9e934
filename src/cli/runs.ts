import { Command } from "commander";
import { AppError, isAppError } from "../core/index.js";
import type { AppContext } from "../main.js";
import type { Run } from "../tracking/index.js";
import { writeJson } from "./common.js";
import { withContext } from "./context.js";
import { intOption } from "./options.js";
import {
  type Align,
  collect,
  formatDuration,
  formatFields,
  formatNumber,
  formatTable,
  indent,
  isoJson,
  isoTime,
  keyMetrics,
  print,
  runJson,
  shortId,
} from "./table.js";

interface ListOptions {
  experiment: string[];
  filter?: string;
  orderBy: string[];
  maxResults: number;
  pageToken?: string;
  json?: boolean;
}

/**
 * A run by its id or by a prefix of it: tables show 8 digits, and staff copy those. A prefix
 * matching several runs is refused rather than guessed.
 */
export async function resolveRun(ctx: AppContext, idOrPrefix: string): Promise<Run> {
  try {
    return await ctx.tracking.getRun(idOrPrefix);
  } catch (e) {
    if (!isAppError(e) || e.code !== "NOT_FOUND" || !/^[0-9a-f]{4,31}$/.test(idOrPrefix)) throw e;
  }
  const page = await ctx.tracking.store.searchRuns({
    filter: `id LIKE '${idOrPrefix}%'`,
    maxResults: 2,
  });
  if (page.runs.length === 0) throw new AppError("NOT_FOUND", `no run "${idOrPrefix}"`);
  if (page.runs.length > 1) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `run id prefix "${idOrPrefix}" matches several runs; give more of the id`,
    );
  }
  return ctx.tracking.getRun(page.runs[0].info.id);
}

function duration(run: Run, now: number): string {
  const { startTime, endTime } = run.info;
  return endTime === null
    ? `${formatDuration(now - startTime)}+`
    : formatDuration(endTime - startTime);
}

function metricCell(run: Run, key: string): string {
  const m = run.metrics[key];
  return m === undefined ? "—" : formatNumber(m.value);
}

function runsTable(runs: readonly Run[], now: number): string {
  const metrics = keyMetrics(runs);
  const headers = ["id", "name", "status", "start", "duration", ...metrics];
  const rows = runs.map((r) => [
    shortId(r.info.id),
    r.info.name,
    r.info.status,
    isoTime(r.info.startTime),
    duration(r, now),
    ...metrics.map((k) => metricCell(r, k)),
  ]);
  const align = headers.map((_, i): Align => (i >= 4 ? "right" : "left"));
  return formatTable(headers, rows, align);
}

function listCommand(): Command {
  return new Command("list")
    .description(
      `List runs, newest first unless --order-by says otherwise.

Filter examples:
  metrics.test_auc > 0.78 AND params.kind = 'gbdt'
  status = 'FINISHED' AND (params.kind IN ('gbdt', 'forest') OR tags.stage = 'candidate')
  tags.note LIKE '%baseline%'      end_time IS NULL
Order-by examples: "metrics.cv_cost ASC", "start_time DESC" (repeat --order-by for ties).`,
    )
    .option(
      "--experiment <name|id>",
      "only runs of this experiment (repeatable; default: all experiments)",
      collect,
      [],
    )
    .option("--filter <expr>", "search expression over metrics., params., tags. and attributes")
    .option("--order-by <field [ASC|DESC]>", "sort key (repeatable)", collect, [])
    .option("--max-results <n>", "page size", intOption("--max-results", 1, 1000), 100)
    .option("--page-token <token>", "the next-page token a previous call printed")
    .option(
      "--json",
      "print a JSON array of runs on stdout (the total and next-page token go to stderr)",
    )
    .action(async (opts: ListOptions) => {
      await withContext(async (ctx) => {
        const experimentIds =
          opts.experiment.length === 0
            ? undefined
            : await Promise.all(
                opts.experiment.map(async (e) => (await ctx.tracking.store.getExperiment(e)).id),
              );
        const page = await ctx.tracking.store.searchRuns({
          experimentIds,
          filter: opts.filter,
          orderBy: opts.orderBy,
          maxResults: opts.maxResults,
          pageToken: opts.pageToken,
          withTotal: true,
        });
        const more =
          page.nextPageToken === null ? "" : `; next page: --page-token ${page.nextPageToken}`;
        const summary = `${page.runs.length} of ${page.total ?? page.runs.length} matching run(s)${more}`;
        if (opts.json) {
          writeJson(page.runs.map(runJson));
          // stdout stays a pure array for jq and scripts; paging information is for the human.
          process.stderr.write(`${summary}\n`);
          return;
        }
        if (page.runs.length === 0) return print("no runs match");
        print(runsTable(page.runs, ctx.tracking.now()));
        print(summary);
      });
    });
}

function showCommand(): Command {
  return new Command("show")
    .description(
      "Show one run: its status and times, params, tags, latest metrics, dataset inputs, artifacts, parent and child runs.",
    )
    .argument("<id>", "run id (or a unique prefix of it, as the tables show)")
    .option("--json", "print the run as JSON")
    .action(async (id: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const run = await resolveRun(ctx, id);
        const { info } = run;
        const experiment = await ctx.tracking.store.getExperiment(info.experimentId);
        const children = (
          await ctx.tracking.store.searchRuns({
            experimentIds: [info.experimentId],
            filter: `parent_run_id = '${info.id}'`,
            orderBy: ["start_time ASC"],
            maxResults: 1000,
          })
        ).runs;
        if (opts.json) {
          return writeJson({
            ...runJson(run),
            experimentName: experiment.name,
            children: children.map((c) => ({
              id: c.info.id,
              name: c.info.name,
              status: c.info.status,
              startTime: isoJson(c.info.startTime),
            })),
          });
        }
        const sections: string[] = [];
        sections.push(
          `run ${info.id} "${info.name}"\n${formatFields([
            ["experiment", `${experiment.name} (${experiment.id})`],
            ["status", info.statusReason ? `${info.status}: ${info.statusReason}` : info.status],
            ["start", isoTime(info.startTime)],
            ["end", isoTime(info.endTime)],
            ["duration", duration(run, ctx.tracking.now())],
            ["code version", info.codeVersion ?? "—"],
            ["riskometer", info.packageVersion],
            ["parent run", info.parentRunId ?? "—"],
          ])}`,
        );
        const kv = (title: string, record: Readonly<Record<string, string>>) => {
          const entries = Object.entries(record);
          sections.push(
            entries.length === 0 ? `${title}: none` : `${title}:\n${formatFields(entries)}`,
          );
        };
        kv("params", run.params);
        const metrics = Object.values(run.metrics);
        sections.push(
          metrics.length === 0
            ? "metrics: none"
            : `metrics (latest value):\n${indent(
                formatTable(
                  ["key", "value", "step", "time"],
                  metrics.map((m) => [
                    m.key,
                    formatNumber(m.value, 6),
                    String(m.step),
                    isoTime(m.timestamp),
                  ]),
                  ["left", "right", "right", "left"],
                ),
              )}`,
        );
        kv("tags", run.tags);
        sections.push(
          run.inputs.length === 0
            ? "inputs: none"
            : `inputs:\n${indent(
                formatTable(
                  ["name", "role", "rows", "sha256"],
                  run.inputs.map((i) => [
                    i.name,
                    i.role,
                    i.rows === null ? "—" : String(i.rows),
                    i.digest,
                  ]),
                  ["left", "left", "right", "left"],
                ),
              )}`,
        );
        sections.push(
          run.artifacts.length === 0
            ? "artifacts: none"
            : `artifacts:\n${indent(
                formatTable(
                  ["path", "bytes", "type"],
                  run.artifacts.map((a) => [a.path, String(a.size), a.mediaType]),
                  ["left", "right", "left"],
                ),
              )}`,
        );
        sections.push(
          children.length === 0
            ? "child runs: none"
            : `child runs:\n${indent(runsTable(children, ctx.tracking.now()))}`,
        );
        print(sections.join("\n\n"));
      });
    });
}

interface CompareRow {
  key: string;
  values: (string | number | null)[];
  differs: boolean;
}

function compareRows(
  runs: readonly Run[],
  pick: (run: Run, key: string) => string | number | null,
  keysOf: (run: Run) => string[],
): CompareRow[] {
  const keys = [...new Set(runs.flatMap(keysOf))].sort();
  return keys.map((key) => {
    const values = runs.map((r) => pick(r, key));
    return { key, values, differs: values.some((v) => v !== values[0]) };
  });
}

function compareCommand(): Command {
  return new Command("compare")
    .description(
      "Compare runs side by side: every param and latest metric, rows whose values differ marked ≠.",
    )
    .argument("<ids...>", "two or more run ids (or unique prefixes)")
    .option("--json", "print { runs, params, metrics } as JSON")
    .action(async (ids: string[], opts: { json?: boolean }) => {
      if (new Set(ids).size < 2) {
        throw new AppError("INVALID_ARGUMENT", "runs compare needs at least two different runs");
      }
      await withContext(async (ctx) => {
        const runs: Run[] = [];
        for (const id of ids) runs.push(await resolveRun(ctx, id));
        const params = compareRows(
          runs,
          (r, k) => r.params[k] ?? null,
          (r) => Object.keys(r.params),
        );
        const metrics = compareRows(
          runs,
          (r, k) => r.metrics[k]?.value ?? null,
          (r) => Object.keys(r.metrics),
        );
        if (opts.json) {
          return writeJson({
            runs: runs.map((r) => ({ id: r.info.id, name: r.info.name, status: r.info.status })),
            params,
            metrics,
          });
        }
        const header = ["", "key", ...runs.map((r) => `${shortId(r.info.id)} ${r.info.name}`)];
        const cell = (v: string | number | null) =>
          v === null ? "—" : typeof v === "number" ? formatNumber(v, 6) : v;
        const rows = (section: string, list: CompareRow[]) => [
          ["", `${section}:`, ...runs.map(() => "")],
          ...list.map((row) => [row.differs ? "≠" : "", row.key, ...row.values.map(cell)]),
        ];
        const align = header.map((_, i): Align => (i >= 2 ? "right" : "left"));
        print(formatTable(header, [...rows("params", params), ...rows("metrics", metrics)], align));
        const differing = [...params, ...metrics].filter((r) => r.differs).length;
        print(`${differing} of ${params.length + metrics.length} row(s) differ (marked ≠)`);
      });
    });
}

function metricCommand(): Command {
  return new Command("metric")
    .description("Show the full history of one metric of a run, by step.")
    .argument("<id>", "run id (or a unique prefix)")
    .argument("<key>", "metric name")
    .option("--json", "print a JSON array of { step, value, timestamp }")
    .action(async (id: string, key: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const run = await resolveRun(ctx, id);
        const history = await ctx.tracking.store.getMetricHistory(run.info.id, key);
        if (history.length === 0) {
          const known = Object.keys(run.metrics);
          throw new AppError(
            "NOT_FOUND",
            `run ${run.info.id} has no metric "${key}"${known.length > 0 ? ` (it has: ${known.join(", ")})` : " (it has no metrics)"}`,
          );
        }
        if (opts.json) {
          return writeJson(
            history.map((p) => ({ step: p.step, value: p.value, timestamp: isoJson(p.timestamp) })),
          );
        }
        print(
          `${key} of run ${shortId(run.info.id)} "${run.info.name}" (${history.length} point(s)):`,
        );
        print(
          formatTable(
            ["step", "value", "time"],
            history.map((p) => [String(p.step), formatNumber(p.value, 6), isoTime(p.timestamp)]),
            ["right", "right", "left"],
          ),
        );
      });
    });
}

export function runsCommand(): Command {
  return new Command("runs")
    .summary("search, show and compare tracked runs")
    .description(
      "Search, show and compare the runs training records: params, metrics, dataset inputs and artifacts.",
    )
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(compareCommand())
    .addCommand(metricCommand());
}
