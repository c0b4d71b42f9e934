import { type Role, type User, requireRole } from "../auth/index.js";
import { loadConfig } from "../core/config.js";
import { AppError } from "../core/index.js";
import { type AppContext, openContext } from "../main.js";

/**
 * Opens the stores from the environment's configuration, runs `fn`, and closes them whatever
 * happens, so a failed command never leaves a database pool holding the process open.
 */
export async function withContext<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig());
  try {
    // Opening ends runs whose process died; say so, or a run would silently change status.
    for (const run of ctx.reaped) {
      process.stderr.write(`note: run ${run.id} was marked ${run.status}: ${run.reason}\n`);
    }
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

export const TOKEN_OPTION_HELP =
  "API token to act with (default: RISKOMETER_TOKEN; prefer the variable, a command line shows in the process list)";

/**
 * The user the command acts for: the token from `--token`, else RISKOMETER_TOKEN. `needed`
 * checks the role here when the service does not (user management); `hint` tells someone
 * without a token how to get one.
 */
export async function actingUser(
  ctx: AppContext,
  token: string | undefined,
  action: string,
  needed?: Role,
  hint = "An admin creates a user with a token by `riskometer users add <name> --role approver`.",
): Promise<User> {
  const given = token ?? ctx.config.token;
  if (given === undefined || given.trim() === "") {
    throw new AppError(
      "UNAUTHENTICATED",
      `an API token is needed to ${action}: pass --token or set RISKOMETER_TOKEN. ${hint}`,
    );
  }
  const user = await ctx.users.authenticate(given);
  if (needed !== undefined) requireRole(user, needed, action);
  return user;
}
