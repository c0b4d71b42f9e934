import { Command } from "commander";
import { loadConfig } from "../core/config.js";
import {
  flowWorker,
  lockFlows,
  needsFirstModel,
  openFlows,
  openJobQueue,
  trainFirstModel,
} from "../flows/index.js";
import { openContext } from "../main.js";
import { API_DOCS_PATH, buildApp } from "../serving/index.js";
import {
  type ServeCliOptions,
  checkAccessMode,
  hostsFor,
  listen,
  untilStopSignal,
  withListenOptions,
} from "./serve.js";
import { isoTime, shortId } from "./table.js";
import { workerReporter } from "./worker.js";

export function upCommand(): Command {
  return withListenOptions(
    new Command("up")
      .summary("everything in one process: the Risk-O-Meter, the API and the flows")
      .description(
        "Serve the Risk-O-Meter, the API and the web pages (as `serve`) and keep the flows' schedules and run them (as `worker`), in one process on the embedded store: the way to start on a laptop. On a fresh install it prints a one-time sign-in link for the first admin, and with no model yet it trains one first, showing progress; the Risk-O-Meter scores with it as soon as it is registered. Stops on Ctrl-C or SIGTERM after the run under way.",
      ),
  ).action(async (opts: ServeCliOptions) => {
    const config = loadConfig();
    checkAccessMode(opts, config);
    const ctx = await openContext(config);
    const report = workerReporter("riskometer");
    let release: (() => Promise<void>) | null = null;
    try {
      // Before anything starts: a second `up` on the same SQLite store stops here, saying why.
      release = await lockFlows(ctx);
      let firstRun: string | null = null;
      const flows = openFlows(ctx, {
        onProblem: report.onProblem,
        // The first model's training is what a newcomer waits for: its log is the progress.
        onLog: (runId, line) => {
          if (runId === firstRun) process.stderr.write(`  training: ${line.message}\n`);
        },
      });
      const queue = openJobQueue(ctx, flows, (e) => report.onProblem(e.message));
      await queue.start();
      const worker = flowWorker(ctx, flows, queue, {
        ...report,
        onRunEnded: (runId, state) => {
          report.onRunEnded(runId, state);
          if (runId === firstRun && state === "COMPLETED") {
            process.stdout.write(
              "The first model is registered and serving: the Risk-O-Meter is ready.\n",
            );
          }
        },
      });
      const app = await buildApp(ctx, {
        logLevel: ctx.config.logLevel,
        prettyLogs: process.stdout.isTTY === true,
        flows,
        allowedHosts: hostsFor(opts, ctx.config),
      });
      const stopped = untilStopSignal();
      try {
        const address = await listen(app, opts, ctx);
        if (await needsFirstModel(ctx)) {
          const run = await trainFirstModel(flows, "up: first model");
          firstRun = run.id;
          process.stdout.write(
            `No model yet: training the first one (flow run ${shortId(run.id)}, started ${isoTime(Date.now())}); the Risk-O-Meter scores as soon as it is registered.\n`,
          );
        }
        await worker.start();
        process.stdout.write(
          `Riskometer is serving at ${address}/ (API documentation: ${address}${API_DOCS_PATH}) and running the flows.\nPress Ctrl-C to stop.\n`,
        );
        const signal = await stopped;
        process.stdout.write(`${signal} received, stopping…\n`);
      } finally {
        await app.close();
        await worker.stop();
        await queue.stop();
      }
    } finally {
      await release?.();
      await ctx.close();
    }
  });
}
