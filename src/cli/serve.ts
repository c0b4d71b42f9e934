import { Command } from "commander";
import type { FastifyInstance } from "fastify";
import { type Config, loadConfig } from "../core/config.js";
import { AppError } from "../core/index.js";
import { type AppContext, openContext } from "../main.js";
import { firstSignInLink, signInLinkLine } from "./first-admin.js";
import { API_DOCS_PATH, LOOPBACK_HOSTS, allowedHostsFor, buildApp } from "../serving/index.js";
import { intOption } from "./options.js";

export interface ServeCliOptions {
  port?: number;
  host?: string;
}

/**
 * Resolves on the first SIGINT or SIGTERM, and keeps the process alive until then: a worker on
 * the embedded store has only unreferenced timers, so without this Node would end it at once.
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const alive = setInterval(() => {}, 2 ** 30);
    const stop = (signal: NodeJS.Signals) => {
      clearInterval(alive);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** `--port` and `--host`, shared by `serve` and `up`; unset, RISKOMETER_PORT and _HOST decide. */
export function withListenOptions(command: Command): Command {
  return command
    .option(
      "--port <n>",
      "TCP port, 0 picks a free one (default: RISKOMETER_PORT, else 9696)",
      intOption("--port", 0, 65_535),
    )
    .option(
      "--host <address>",
      "address to bind, e.g. 0.0.0.0 for every interface (default: RISKOMETER_HOST, else 127.0.0.1)",
    );
}

/** The host names a server started with these options answers to (see `allowedHostsFor`). */
export function hostsFor(
  opts: ServeCliOptions,
  config: Pick<Config, "host" | "allowedHosts">,
): readonly string[] | null {
  return allowedHostsFor(opts.host ?? config.host, config.allowedHosts);
}

/**
 * Refuses open mode on an address other machines can reach: it lets anyone who reaches the
 * server read and score as a clerk.
 */
export function checkAccessMode(opts: ServeCliOptions, config: Pick<Config, "host" | "access">) {
  const host = opts.host ?? config.host;
  if (config.access === "open" && !LOOPBACK_HOSTS.includes(host.toLowerCase())) {
    throw new AppError(
      "CONFIG_INVALID",
      `RISKOMETER_ACCESS=open lets anyone who reaches the server read and score applicants, so it is refused on ${host}: listen on 127.0.0.1 (or ::1), or use the default RISKOMETER_ACCESS=secured`,
    );
  }
}

/**
 * Listens, prints the first admin's one-time sign-in link while no admin can sign in, and says
 * when anyone reaches the server without credentials (open mode).
 */
export async function listen(
  app: FastifyInstance,
  opts: ServeCliOptions,
  ctx: AppContext,
): Promise<string> {
  const host = opts.host ?? ctx.config.host;
  const address = await app.listen({ port: opts.port ?? ctx.config.port, host });
  const link = await firstSignInLink(ctx);
  if (link) process.stdout.write(signInLinkLine(address, link));
  if (ctx.config.access === "open") {
    process.stderr.write(
      "riskometer: note: RISKOMETER_ACCESS=open: anyone on this machine reads and scores as the clerk `local`, without signing in\n",
    );
  }
  return address;
}

export function serveCommand(): Command {
  return withListenOptions(
    new Command("serve")
      .summary("serve the Risk-O-Meter, the scoring API and the web UI")
      .description(
        "Serve the Risk-O-Meter page, the Runs, Models and Flows pages and the JSON API (scoring with reasons and a decision log, outcomes, tracking, registry, flow runs and triggers; OpenAPI explorer at /api/docs) until stopped (Ctrl-C or SIGTERM). Scores with <RISKOMETER_MODEL_NAME>@champion and follows it when it moves. Runs no flows: `riskometer worker` does (or `up`, which does both). Every page and route needs a signed-in user or an API token with the route's role (docs/security.md); on a store where no admin can sign in yet, it prints a one-time sign-in link for the first admin. Binds to 127.0.0.1 unless --host or RISKOMETER_HOST says otherwise.",
      ),
  ).action(async (opts: ServeCliOptions) => {
    const config = loadConfig();
    checkAccessMode(opts, config);
    const ctx = await openContext(config);
    try {
      for (const run of ctx.reaped) {
        process.stderr.write(`riskometer: run ${run.id} marked ${run.status}: ${run.reason}\n`);
      }
      const app = await buildApp(ctx, {
        logLevel: ctx.config.logLevel,
        prettyLogs: process.stdout.isTTY === true,
        allowedHosts: hostsFor(opts, ctx.config),
      });
      // Registered before listening, so a signal during start-up still closes cleanly.
      const stopped = untilStopSignal();
      try {
        const address = await listen(app, opts, ctx);
        process.stdout.write(
          `Riskometer is serving at ${address}/ (API documentation: ${address}${API_DOCS_PATH})\nPress Ctrl-C to stop.\n`,
        );
        const signal = await stopped;
        process.stdout.write(`${signal} received, stopping…\n`);
      } finally {
        // Finishes requests in flight (new ones get 503), then frees the port.
        await app.close();
      }
    } finally {
      await ctx.close();
    }
  });
}
