import { Command } from "commander";
import type { AppContext } from "../main.js";
import {
  SERVING_ALIAS,
  parseModelRef,
  type AliasAuditRecord,
  type ModelVersion,
  type RegisteredModel,
} from "../registry/index.js";
import type { Run } from "../tracking/index.js";
import { writeJson } from "./common.js";
import { TOKEN_OPTION_HELP, actingUser, withContext } from "./context.js";
import { intOption } from "./options.js";
import {
  type Align,
  formatFields,
  formatNumber,
  formatTable,
  indent,
  isoJson,
  isoTime,
  keyMetrics,
  print,
  shortId,
} from "./table.js";

function formatAliases(aliases: Readonly<Record<string, number>>): string {
  const entries = Object.entries(aliases);
  return entries.length === 0 ? "—" : entries.map(([a, v]) => `${a} → v${v}`).join(", ");
}

function versionJson(v: ModelVersion, run: Run | undefined, full: boolean) {
  return {
    name: v.name,
    version: v.version,
    aliases: v.aliases,
    runId: v.runId,
    metrics: run ? Object.fromEntries(Object.values(run.metrics).map((m) => [m.key, m.value])) : {},
    createdBy: v.createdBy,
    createdAt: isoJson(v.createdAt),
    description: v.description,
    tags: v.tags,
    artifactPath: v.artifactPath,
    sha256: v.sha256,
    ...(full ? { signature: v.signature, inputExample: v.inputExample } : {}),
  };
}

function auditJson(a: AliasAuditRecord) {
  return { ...a, at: isoJson(a.at) };
}

/** The runs behind these versions, by id, in one search. */
async function runsOf(
  ctx: AppContext,
  versions: readonly ModelVersion[],
): Promise<Map<string, Run>> {
  const ids = [...new Set(versions.map((v) => v.runId))];
  if (ids.length === 0) return new Map();
  // Run ids are 32 hex digits from the store, safe to quote into the filter.
  const page = await ctx.tracking.store.searchRuns({
    filter: `id IN (${ids.map((id) => `'${id}'`).join(", ")})`,
    maxResults: 1000,
  });
  return new Map(page.runs.map((r) => [r.info.id, r]));
}

function listCommand(): Command {
  return new Command("list")
    .description("List registered models with their latest version and aliases.")
    .option("--json", "print a JSON array of { name, latestVersion, aliases, … }")
    .action(async (opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const models = await ctx.registry.store.listRegisteredModels();
        if (opts.json) {
          return writeJson(
            models.map((m: RegisteredModel) => ({
              name: m.name,
              latestVersion: m.latestVersion,
              aliases: m.aliases,
              description: m.description,
              createdBy: m.createdBy,
              createdAt: isoJson(m.createdAt),
              updatedAt: isoJson(m.updatedAt),
            })),
          );
        }
        if (models.length === 0) return print("no registered models");
        print(
          formatTable(
            ["name", "latest", "aliases", "updated"],
            models.map((m) => [
              m.name,
              m.latestVersion === null ? "—" : `v${m.latestVersion}`,
              formatAliases(m.aliases),
              isoTime(m.updatedAt),
            ]),
            ["left", "right", "left", "left"],
          ),
        );
      });
    });
}

function printVersion(v: ModelVersion, run: Run | undefined): void {
  const metrics = run ? Object.values(run.metrics) : [];
  const parts = [
    `${v.name}/${v.version}${v.aliases.length > 0 ? ` (${v.aliases.join(", ")})` : ""}\n${formatFields(
      [
        ["registered", `${isoTime(v.createdAt)} by ${v.createdBy}`],
        ["run", run ? `${v.runId} "${run.info.name}"` : v.runId],
        ["model file", v.artifactPath],
        ["sha256", v.sha256],
        ["description", v.description || "—"],
        ...Object.entries(v.tags).map(([k, t]): [string, string] => [`tag ${k}`, t]),
      ],
    )}`,
    metrics.length === 0
      ? "run metrics: none"
      : `run metrics:\n${formatFields(metrics.map((m) => [m.key, formatNumber(m.value, 6)]))}`,
    `signature (inputs the version accepts → ${v.signature.output.name}: ${v.signature.output.values.join(" / ")}):\n${indent(
      formatTable(
        ["column", "type", "label", "allowed values"],
        v.signature.inputs.map((c) => [
          c.name,
          c.type,
          c.label ?? "",
          c.values ? c.values.join(" | ") : "",
        ]),
      ),
    )}`,
    Object.keys(v.inputExample).length === 0
      ? "input example: none"
      : `input example:\n${formatFields(Object.entries(v.inputExample).map(([k, x]) => [k, String(x)]))}`,
  ];
  print(parts.join("\n\n"));
}

function showCommand(): Command {
  return new Command("show")
    .description(
      "Show a registered model's versions with their run's key metrics and aliases, or one version (name@alias, name/version) with its signature and input example.",
    )
    .argument("<ref>", "name, name@alias (credit-risk@champion) or name/version (credit-risk/3)")
    .option("--json", "print as JSON")
    .action(async (ref: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        if (/[@/]/.test(ref.replace(/^models:\//, ""))) {
          const version = await ctx.registry.resolve(parseModelRef(ref));
          const run = (await runsOf(ctx, [version])).get(version.runId);
          if (opts.json) return writeJson(versionJson(version, run, true));
          return printVersion(version, run);
        }
        const model = await ctx.registry.store.getRegisteredModel(ref);
        const versions = await ctx.registry.store.listModelVersions(ref);
        const runs = await runsOf(ctx, versions);
        if (opts.json) {
          return writeJson({
            name: model.name,
            description: model.description,
            latestVersion: model.latestVersion,
            aliases: model.aliases,
            createdBy: model.createdBy,
            createdAt: isoJson(model.createdAt),
            versions: versions.map((v) => versionJson(v, runs.get(v.runId), false)),
          });
        }
        print(
          `${model.name}: ${versions.length} version(s); aliases: ${formatAliases(model.aliases)}`,
        );
        if (versions.length === 0) return;
        const metrics = keyMetrics([...runs.values()]);
        const headers = ["version", "aliases", "registered", "by", "run", ...metrics];
        const rows = versions.map((v) => {
          const run = runs.get(v.runId);
          return [
            `v${v.version}`,
            v.aliases.join(", ") || "—",
            isoTime(v.createdAt),
            v.createdBy,
            shortId(v.runId),
            ...metrics.map((k) => {
              const m = run?.metrics[k];
              return m === undefined ? "—" : formatNumber(m.value);
            }),
          ];
        });
        const align = headers.map((_, i): Align => (i === 0 || i >= 5 ? "right" : "left"));
        print(formatTable(headers, rows, align));
        print(`details of one version: riskometer models show ${model.name}/<version>`);
      });
    });
}

interface PromoteOptions {
  alias: string;
  note: string;
  token?: string;
}

function promoteCommand(): Command {
  return new Command("promote")
    .description(
      `Point an alias at a version. Moving "${SERVING_ALIAS}" (what serving loads) needs an approver's token and a note, and an approver other than the person who registered the version (four-eyes). Other aliases need a clerk. Every move is recorded in the audit log.`,
    )
    .argument("<name>", "registered model name")
    .argument("<version>", "version number", intOption("<version>", 1))
    .option("--alias <alias>", "alias to move", SERVING_ALIAS)
    .option("--note <why>", "why (kept in the audit log; required for champion)", "")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, version: number, opts: PromoteOptions) => {
      await withContext(async (ctx) => {
        const actor = await actingUser(ctx, opts.token, `move the alias "${opts.alias}"`);
        const record = await ctx.registry.promote({
          name,
          version,
          alias: opts.alias,
          note: opts.note,
          actor,
        });
        const from = record.fromVersion === null ? "unset" : `v${record.fromVersion}`;
        print(
          `${name}@${record.alias}: ${from} → v${record.toVersion}, by ${record.actor} (${record.actorRole}) at ${isoTime(record.at)}${record.selfApproved ? " (self-approved, allowed by RISKOMETER_ALLOW_SELF_APPROVAL)" : ""}; audit record #${record.id}`,
        );
      });
    });
}

function demoteCommand(): Command {
  return new Command("demote")
    .description(
      `Remove an alias from a model (for "${SERVING_ALIAS}": nothing serves until an approver promotes a version). The same roles and note rule as promote apply; the removal is audited.`,
    )
    .argument("<name>", "registered model name")
    .requiredOption("--alias <alias>", "alias to remove")
    .option("--note <why>", "why (kept in the audit log; required for champion)", "")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, opts: PromoteOptions) => {
      await withContext(async (ctx) => {
        const actor = await actingUser(ctx, opts.token, `remove the alias "${opts.alias}"`);
        const record = await ctx.registry.removeAlias({
          name,
          alias: opts.alias,
          note: opts.note,
          actor,
        });
        print(
          `${name}@${record.alias} removed (was v${record.fromVersion}), by ${record.actor} (${record.actorRole}) at ${isoTime(record.at)}; audit record #${record.id}`,
        );
      });
    });
}

function auditCommand(): Command {
  return new Command("audit")
    .description("Show every alias move of a model, newest first: who, when, from and to, why.")
    .argument("<name>", "registered model name")
    .option("--json", "print a JSON array of audit records")
    .action(async (name: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        await ctx.registry.store.getRegisteredModel(name);
        const records = await ctx.registry.store.listAudit({ name });
        if (opts.json) return writeJson(records.map(auditJson));
        if (records.length === 0) return print(`no alias moves recorded for ${name}`);
        const v = (n: number | null) => (n === null ? "—" : `v${n}`);
        print(
          formatTable(
            ["#", "time", "alias", "from", "to", "by", "flags", "note"],
            records.map((r) => [
              String(r.id),
              isoTime(r.at),
              r.alias,
              v(r.fromVersion),
              v(r.toVersion),
              `${r.actor} (${r.actorRole})`,
              [r.selfApproved ? "self-approved" : "", r.bootstrap ? "bootstrap" : ""]
                .filter(Boolean)
                .join(", "),
              r.note,
            ]),
            ["right", "left", "left", "right", "right", "left", "left", "left"],
          ),
        );
      });
    });
}

export function modelsCommand(): Command {
  return new Command("models")
    .summary("list, inspect, promote and demote registered models")
    .description(
      `The model registry: numbered versions of each model, aliases pointing at versions (serving loads <name>@${SERVING_ALIAS}), and the audit log of every alias move.`,
    )
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(promoteCommand())
    .addCommand(demoteCommand())
    .addCommand(auditCommand());
}
