import { Command } from "commander";
import { loadConfig } from "../core/config.js";
import {
  type FlowRun,
  flowWorker,
  lockFlows,
  needsFirstModel,
  openFlows,
  openJobQueue,
  trainFirstModel,
} from "../flows/index.js";
import { openContext } from "../main.js";
import { untilStopSignal } from "./serve.js";
import { isoTime, shortId } from "./table.js";

/** One line per run that starts or ends here, and the worker's problems, on stderr. */
export function workerReporter(prefix: string) {
  return {
    onProblem: (m: string) => process.stderr.write(`${prefix}: ${m}\n`),
    onRunEnded: (runId: string, state: FlowRun["state"]) =>
      process.stderr.write(
        `${prefix}: flow run ${shortId(runId)} ended ${state} at ${isoTime(Date.now())}\n`,
      ),
  };
}

export function workerCommand(): Command {
  return new Command("worker")
    .summary("keep the flow schedules and run the flows")
    .description(
      "Keep the schedules of the flows (retrain, drift-report; see RISKOMETER_*_SCHEDULE) and run the flows' runs, scheduled or triggered, until stopped (Ctrl-C or SIGTERM). On a fresh install with no model version yet, it queues the first training. On Postgres any number of workers on any number of machines share the work through pg-boss: each scheduled slot runs once, a flow never runs twice at once, and a run whose worker dies is declared CRASHED and retried by another. On SQLite one worker (or `riskometer up`) runs per store: a second is refused at start, saying which process holds the store (a lock file beside the database).",
    )
    .action(async () => {
      const ctx = await openContext(loadConfig());
      const report = workerReporter("riskometer worker");
      let release: (() => Promise<void>) | null = null;
      try {
        // Before anything starts: a second flow process on the same SQLite store stops here.
        release = await lockFlows(ctx);
        const flows = openFlows(ctx, { onProblem: report.onProblem });
        const queue = openJobQueue(ctx, flows, (e) => report.onProblem(e.message));
        await queue.start();
        const worker = flowWorker(ctx, flows, queue, report);
        const stopped = untilStopSignal();
        try {
          await worker.start();
          process.stdout.write(
            `Riskometer worker ${flows.runner.worker} is running flows (${queue.kind} queue). Press Ctrl-C to stop.\n`,
          );
          if (await needsFirstModel(ctx)) {
            const run = await trainFirstModel(flows, "worker: first model");
            process.stdout.write(
              `No model yet: the first training is queued (flow run ${shortId(run.id)}, ${isoTime(Date.now())}).${ctx.config.bootstrapChampion ? "" : " A person promotes it to serve (`riskometer models promote`)."}\n`,
            );
          }
          const signal = await stopped;
          process.stdout.write(`${signal} received, finishing the run under way…\n`);
        } finally {
          await worker.stop();
          await queue.stop();
        }
      } finally {
        await release?.();
        await ctx.close();
      }
    });
}
