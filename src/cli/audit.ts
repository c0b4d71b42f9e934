import { Command } from "commander";
import { AccessLog } from "../auth/access-log.js";
import { AppError } from "../core/index.js";
import { writeJson } from "./common.js";
import { TOKEN_OPTION_HELP, actingUser, withContext } from "./context.js";
import { intOption } from "./options.js";
import { formatTable, isoJson, isoTime, print } from "./table.js";

interface AuditOptions {
  user?: string;
  action?: string;
  since?: string;
  limit: number;
  json?: boolean;
  token?: string;
}

function timeOption(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new AppError("INVALID_ARGUMENT", `--since "${text}" is not a date or time (ISO 8601)`);
  }
  return ms;
}

export function auditCommand(): Command {
  return new Command("audit")
    .summary("who accessed applicants' data (the access log)")
    .description(
      "The access log, newest first: who scored, read a decision or batch, downloaded a scored file, recorded an outcome, erased decisions (on request or by the retention flow) or signed in; when, from which address, on which decision or batch. It never holds an applicant's data, and is append-only. Needs an admin's token.",
    )
    .option("--user <name>", "only this user's accesses")
    .option(
      "--action <action>",
      "only this action (score, read-decision, read-batch, download-scored, record-outcome, erase, retention-erase, sign-in, sign-in-failed, read-access-log)",
    )
    .option("--since <time>", "from this time on (ISO 8601, e.g. 2026-12-01)")
    .option("--limit <n>", "at most this many entries", intOption("--limit", 1, 10_000), 100)
    .option("--json", "print a JSON array")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (opts: AuditOptions) => {
      const since = opts.since === undefined ? undefined : timeOption(opts.since);
      await withContext(async (ctx) => {
        await actingUser(ctx, opts.token, "read the access log", "admin");
        const entries = await new AccessLog(ctx.database).list({
          user: opts.user,
          action: opts.action,
          since,
          limit: opts.limit,
        });
        if (opts.json) return writeJson(entries.map((e) => ({ ...e, at: isoJson(e.at) })));
        if (entries.length === 0) return print("no entries");
        print(
          formatTable(
            ["time", "user", "role", "action", "target", "status", "address", "detail"],
            entries.map((e) => [
              isoTime(e.at),
              e.user,
              e.role,
              e.action,
              e.target ?? "—",
              String(e.status),
              e.address,
              e.detail ?? "",
            ]),
          ),
        );
      });
    });
}
