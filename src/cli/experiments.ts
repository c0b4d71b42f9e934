import { Command } from "commander";
import { AppError } from "../core/index.js";
import type { Experiment } from "../tracking/index.js";
import { writeJson } from "./common.js";
import { withContext } from "./context.js";
import { collectKeyValue, formatTable, isoJson, isoTime, print } from "./table.js";

function experimentJson(e: Experiment) {
  return {
    id: e.id,
    name: e.name,
    lifecycle: e.lifecycle,
    tags: e.tags,
    createdAt: isoJson(e.createdAt),
    updatedAt: isoJson(e.updatedAt),
  };
}

function formatTags(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function experimentsCommand(): Command {
  const cmd = new Command("experiments")
    .summary("list, create, delete, restore and purge experiments")
    .description(
      "Experiments group the runs of one modelling question. Deleting one hides it and its runs but keeps everything (restore brings it back); purging removes it for good with its runs and their artifacts, and frees its name.",
    );

  cmd
    .command("list")
    .description("List experiments (active ones unless --all).")
    .option("--all", "include deleted experiments")
    .option("--json", "print a JSON array")
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      await withContext(async (ctx) => {
        const list = await ctx.tracking.store.listExperiments(Boolean(opts.all));
        if (opts.json) return writeJson(list.map(experimentJson));
        if (list.length === 0) return print("no experiments");
        const headers = ["id", "name", ...(opts.all ? ["lifecycle"] : []), "created", "tags"];
        const rows = list.map((e) => [
          e.id,
          e.name,
          ...(opts.all ? [e.lifecycle] : []),
          isoTime(e.createdAt),
          formatTags(e.tags),
        ]);
        print(formatTable(headers, rows));
      });
    });

  cmd
    .command("create")
    .description("Create an experiment.")
    .argument("<name>", "experiment name (unique, deleted experiments included)")
    .option("--tag <key=value>", "a tag (repeatable)", collectKeyValue("--tag"), {})
    .option("--json", "print the experiment as JSON")
    .action(async (name: string, opts: { tag: Record<string, string>; json?: boolean }) => {
      await withContext(async (ctx) => {
        const exp = await ctx.tracking.store.createExperiment(name, opts.tag, ctx.tracking.now());
        if (opts.json) return writeJson(experimentJson(exp));
        print(`created experiment "${exp.name}" (id ${exp.id})`);
      });
    });

  cmd
    .command("delete")
    .description(
      "Delete an experiment (soft): it and its runs are hidden but kept, and the name stays taken until it is purged. `restore` undoes it.",
    )
    .argument("<name|id>", "experiment name or id")
    .action(async (idOrName: string) => {
      await withContext(async (ctx) => {
        const exp = await ctx.tracking.store.getExperiment(idOrName);
        if (exp.lifecycle === "deleted") {
          return print(`experiment "${exp.name}" was already deleted`);
        }
        await ctx.tracking.store.setExperimentLifecycle(exp.id, "deleted", ctx.tracking.now());
        print(
          `deleted experiment "${exp.name}" (id ${exp.id}); restore it with \`riskometer experiments restore ${exp.id}\``,
        );
      });
    });

  cmd
    .command("restore")
    .description("Restore a deleted experiment.")
    .argument("<name|id>", "experiment name or id")
    .action(async (idOrName: string) => {
      await withContext(async (ctx) => {
        const exp = await ctx.tracking.store.getExperiment(idOrName);
        if (exp.lifecycle === "active") return print(`experiment "${exp.name}" is not deleted`);
        await ctx.tracking.store.setExperimentLifecycle(exp.id, "active", ctx.tracking.now());
        print(`restored experiment "${exp.name}" (id ${exp.id})`);
      });
    });

  cmd
    .command("purge")
    .description(
      "Delete an experiment for good: its runs, their params, metrics and artifacts are removed and the name becomes free. Refused while a registered model version comes from one of its runs. Needs --yes.",
    )
    .argument("<name|id>", "experiment name or id")
    .option("--yes", "confirm: this cannot be undone")
    .action(async (idOrName: string, opts: { yes?: boolean }) => {
      await withContext(async (ctx) => {
        const exp = await ctx.tracking.store.getExperiment(idOrName);
        if (!opts.yes) {
          throw new AppError(
            "INVALID_ARGUMENT",
            `purging removes experiment "${exp.name}" with all its runs and artifacts and cannot be undone; run again with --yes to confirm`,
          );
        }
        const { runs } = await ctx.tracking.purgeExperiment(exp.id);
        print(
          `purged experiment "${exp.name}" (id ${exp.id}): ${runs} run(s) and their artifacts removed; the name "${exp.name}" is free`,
        );
      });
    });

  return cmd;
}
