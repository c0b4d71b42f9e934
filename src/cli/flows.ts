import { userInfo } from "node:os";
import { Command } from "commander";
import { AppError } from "../core/index.js";
import {
  type FlowLogLine,
  type FlowRun,
  type Flows,
  describeFlows,
  openFlows,
  triggerFlow,
} from "../flows/index.js";
import { writeJson } from "./common.js";
import { TOKEN_OPTION_HELP, actingUser, withContext } from "./context.js";
import { intOption } from "./options.js";
import {
  collectKeyValue,
  formatDuration,
  formatFields,
  formatTable,
  indent,
  isoTime,
  print,
  shortId,
} from "./table.js";

/** A flow run as `--json` prints it. */
function runJson(run: FlowRun) {
  return {
    ...run,
    scheduledFor: new Date(run.scheduledFor).toISOString(),
    createdAt: new Date(run.createdAt).toISOString(),
    startedAt: run.startedAt === null ? null : new Date(run.startedAt).toISOString(),
    endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
    heartbeatAt: run.heartbeatAt === null ? null : new Date(run.heartbeatAt).toISOString(),
    durationSeconds:
      run.startedAt === null ? null : ((run.endedAt ?? Date.now()) - run.startedAt) / 1000,
  };
}

function duration(run: FlowRun): string {
  if (run.startedAt === null) return "—";
  return formatDuration((run.endedAt ?? Date.now()) - run.startedAt);
}

/** A run by its id or by a prefix of it (tables show 8 characters). */
async function resolveFlowRun(flows: Flows, idOrPrefix: string): Promise<FlowRun> {
  try {
    return await flows.store.getRun(idOrPrefix);
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== "NOT_FOUND" || idOrPrefix.length < 4) throw e;
  }
  const matches = (await flows.store.listRuns({ limit: 10_000 })).filter((r) =>
    r.id.startsWith(idOrPrefix),
  );
  if (matches.length === 1) return matches[0];
  throw new AppError(
    matches.length === 0 ? "NOT_FOUND" : "INVALID_ARGUMENT",
    matches.length === 0
      ? `no flow run "${idOrPrefix}"`
      : `"${idOrPrefix}" matches ${matches.length} flow runs; give more of the id`,
  );
}

function logLine(line: FlowLogLine): string {
  return `${isoTime(line.at)}  ${line.level.padEnd(5)}  ${line.message}`;
}

export function flowsCommand(): Command {
  const flows = new Command("flows")
    .summary("scheduled flows: list them, run one, see their runs")
    .description(
      "The flows (retrain, drift-report), their schedules and their runs. `riskometer worker` (or `riskometer up`) keeps the schedules and runs the flows; `flows run` starts one now.",
    );

  flows
    .command("list")
    .description("each flow with its schedule, next run, parameters and last run")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const info = await describeFlows(openFlows(ctx));
        if (opts.json) return writeJson(info);
        print(
          formatTable(
            ["flow", "schedule", "next run", "last run"],
            info.map((f) => [
              f.name,
              f.schedule?.description ?? "not scheduled",
              f.nextRun ? isoTime(Date.parse(f.nextRun)) : "—",
              f.lastRun ? `${f.lastRun.state} ${isoTime(Date.parse(f.lastRun.at))}` : "never",
            ]),
          ),
        );
        for (const f of info) {
          print(`\n${f.name}: ${f.description}`);
          const params = Object.entries(f.params).map(
            ([k, p]) =>
              [`--param ${k}=`, `${p.description} (${p.type}, default ${p.default})`] as const,
          );
          if (params.length > 0) print(formatFields(params));
        }
      }),
    );

  flows
    .command("run")
    .argument("<flow>", "retrain or drift-report")
    .description(
      "Start a run of the flow now, in this process, showing its log; exits 0 if it completes and 1 if it fails (a retry, if any attempt is left, is left to the workers). With --queue, only queue the run for a running worker.",
    )
    .option(
      "--param <key=value>",
      "a parameter (repeatable), e.g. --param trials=20",
      collectKeyValue("--param"),
      {},
    )
    .option("--queue", "only queue the run; `riskometer worker` or `up` runs it")
    .option("--json", "print the finished (or queued) run as JSON")
    .action(
      async (
        name: string,
        opts: { param: Record<string, string>; queue?: boolean; json?: boolean },
      ) =>
        withContext(async (ctx) => {
          const echo = !opts.json;
          const f = openFlows(ctx, {
            onLog: echo ? (_id, line) => process.stderr.write(`${logLine(line)}\n`) : undefined,
            onProblem: (m) => process.stderr.write(`riskometer: ${m}\n`),
          });
          await refuseOverlap(f, name, opts.queue === true);
          const run = await triggerFlow(f, name, opts.param, `cli:${userInfo().username}`);
          if (opts.queue) {
            if (opts.json) return writeJson(runJson(run));
            print(`queued ${run.flow} run ${run.id}`);
            return;
          }
          const ended = await runHere(f, run);
          if (opts.json) writeJson(runJson(ended));
          else {
            print(`${ended.flow} run ${ended.id}: ${ended.state} in ${duration(ended)}`);
            if (ended.result !== null) print(JSON.stringify(ended.result, null, 2));
          }
          if (ended.state !== "COMPLETED") {
            const retry = (await f.store.listRuns({ flow: name, limit: 5 })).find(
              (r) => r.retryOf === ended.id,
            );
            if (retry && echo) {
              process.stderr.write(
                `a retry is scheduled for ${isoTime(retry.scheduledFor)} (run ${shortId(retry.id)}); a worker will run it\n`,
              );
            }
            process.exitCode = 1;
          }
        }),
    );

  flows
    .command("runs")
    .description("the history of flow runs, newest first")
    .option("--flow <name>", "only this flow's runs")
    .option("--limit <n>", "at most this many", intOption("--limit", 1, 10_000), 50)
    .option("--json", "print a JSON array")
    .action(async (opts: { flow?: string; limit: number; json?: boolean }) =>
      withContext(async (ctx) => {
        const runs = await openFlows(ctx).store.listRuns({ flow: opts.flow, limit: opts.limit });
        if (opts.json) return writeJson(runs.map(runJson));
        if (runs.length === 0) return print("no flow runs yet");
        print(
          formatTable(
            ["run", "flow", "state", "trigger", "attempt", "scheduled", "duration", "worker"],
            runs.map((r) => [
              shortId(r.id),
              r.flow,
              r.state,
              r.trigger,
              `${r.attempt}/${r.maxAttempts}`,
              isoTime(r.scheduledFor),
              duration(r),
              r.worker ?? "—",
            ]),
          ),
        );
      }),
    );

  flows
    .command("show")
    .argument("<run>", "a flow run id, or its first characters")
    .description("one flow run: parameters, steps with timings, result or error, and its log")
    .option("--json", "print it as JSON (with the log)")
    .action(async (id: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const f = openFlows(ctx);
        const run = await resolveFlowRun(f, id);
        const logs = await f.store.logs(run.id);
        if (opts.json) return writeJson({ ...runJson(run), logs });
        print(`${run.flow} run ${run.id}`);
        print(
          formatFields([
            ["state", run.state],
            ["trigger", `${run.trigger}${run.requestedBy ? ` by ${run.requestedBy}` : ""}`],
            [
              "attempt",
              `${run.attempt} of ${run.maxAttempts}${run.retryOf ? ` (retries ${shortId(run.retryOf)})` : ""}`,
            ],
            ["scheduled", isoTime(run.scheduledFor)],
            ["started", isoTime(run.startedAt)],
            ["ended", isoTime(run.endedAt)],
            ["duration", duration(run)],
            ["worker", run.worker ?? "—"],
            ["params", JSON.stringify(run.params)],
            ...(run.error ? ([["error", run.error]] as const) : []),
          ]),
        );
        if (run.steps.length > 0) {
          print("\nsteps:");
          print(
            indent(
              formatTable(
                ["step", "state", "duration"],
                run.steps.map((s) => [
                  s.name,
                  s.state,
                  s.endedAt === null ? "—" : formatDuration(s.endedAt - s.startedAt),
                ]),
              ),
            ),
          );
        }
        if (run.result !== null) print(`\nresult:\n${indent(JSON.stringify(run.result, null, 2))}`);
        print(`\nlog:`);
        print(logs.length === 0 ? "  (empty)" : indent(logs.map(logLine).join("\n")));
      }),
    );
  flows
    .command("cancel")
    .argument("<run>", "a flow run id, or its first characters")
    .description(
      "Cancel a run that has not ended: a scheduled run never starts; a running one stops at its worker's next heartbeat. Needs an approver's token.",
    )
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (id: string, opts: { token?: string }) =>
      withContext(async (ctx) => {
        const user = await actingUser(ctx, opts.token, "cancel a flow run", "approver");
        const f = openFlows(ctx);
        const run = await resolveFlowRun(f, id);
        if (!(await f.store.cancel(run.id, user.name, Date.now()))) {
          throw new AppError("CONFLICT", `run ${shortId(run.id)} has already ended (${run.state})`);
        }
        print(`cancelled ${run.flow} run ${run.id}`);
      }),
    );
  return flows;
}

/** A flow never runs twice at once: refuse to start one here while a run of it is under way. */
async function refuseOverlap(flows: Flows, name: string, queueing: boolean): Promise<void> {
  if (queueing) return;
  const [running] = await flows.store.listRuns({ flow: name, states: ["RUNNING"], limit: 1 });
  if (running) {
    throw new AppError(
      "CONFLICT",
      `${name} is already running (run ${shortId(running.id)} on ${running.worker ?? "?"}); wait for it, or add --queue to run it after`,
    );
  }
}

/** Claims the run for this process and executes it. */
async function runHere(flows: Flows, run: FlowRun): Promise<FlowRun> {
  if (!(await flows.store.claim(run.id, flows.runner.worker, Date.now()))) {
    throw new AppError(
      "CONFLICT",
      `run ${run.id} was taken by a worker before it could start here`,
    );
  }
  await flows.runner.execute(await flows.store.getRun(run.id));
  return flows.store.getRun(run.id);
}
