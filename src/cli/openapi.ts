import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { loadConfig } from "../core/config.js";
import { openContext } from "../main.js";
import { buildApp } from "../serving/index.js";
import { AtomicFile } from "./atomic-file.js";

/** The OpenAPI document of the HTTP API, built from the routes' own schemas. */
export async function openApiDocument(): Promise<unknown> {
  // A throwaway store: the document depends only on the code, never on what a store holds, so
  // writing it must not need (or touch) the configured database.
  const home = await mkdtemp(join(tmpdir(), "riskometer-openapi-"));
  try {
    const ctx = await openContext(
      loadConfig({}, { home, databaseUrl: "sqlite::memory:", artifactsUrl: join(home, "a") }),
    );
    try {
      const app = await buildApp(ctx, { modelPollMs: 0 });
      try {
        await app.ready();
        return app.swagger();
      } finally {
        await app.close();
      }
    } finally {
      await ctx.close();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export function openApiCommand(): Command {
  return new Command("openapi")
    .summary("write the OpenAPI document of the HTTP API")
    .description(
      "Write the OpenAPI 3.1 document of the HTTP API (the one `serve` publishes at /api/docs/json) as JSON, without a server or a store: for client generators and release assets.",
    )
    .option("--output <file>", "write to this file (written whole or not at all) instead of stdout")
    .action(async (opts: { output?: string }) => {
      const text = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
      if (opts.output === undefined) {
        process.stdout.write(text);
        return;
      }
      const file = new AtomicFile(opts.output);
      try {
        await file.write(text);
        await file.commit();
      } catch (e) {
        await file.abort();
        throw e;
      }
    });
}
