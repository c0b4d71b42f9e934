import { Command } from "commander";
import {
  DEFAULT_TOKEN_DAYS,
  ROLES,
  type IssuedToken,
  type Role,
  type User,
  checkPassword,
  parseRole,
} from "../auth/index.js";
import { AppError } from "../core/index.js";
import type { AppContext } from "../main.js";
import { writeJson } from "./common.js";
import { TOKEN_OPTION_HELP, actingUser, withContext } from "./context.js";
import { choiceOption, intOption } from "./options.js";
import { formatTable, isoJson, isoTime, print } from "./table.js";

interface TokenOption {
  token?: string;
}

/**
 * User management needs an admin's token, except while no active admin holds one: on a new
 * install, or after `riskometer up` made the first admin, who signs in with a link and a
 * password but has no token yet. Then nobody could hand one out, so the command runs without
 * one (anyone able to run it against this database could change the tables directly anyway).
 */
async function requireAdmin(ctx: AppContext, token: string | undefined): Promise<User | null> {
  const admins = await ctx.users.activeAdmins(ctx.tracking.now());
  if (!admins.some((a) => a.holdsToken)) {
    process.stderr.write(
      admins.length === 0
        ? "note: no active admin exists yet, so no token is needed; create one first with `riskometer users add <name> --role admin`\n"
        : `note: no admin holds an API token yet, so no token is needed; give one to an admin first with \`riskometer users token ${admins[0].user.name}\`\n`,
    );
    return null;
  }
  return actingUser(
    ctx,
    token,
    "manage users",
    "admin",
    "An admin issues tokens with `riskometer users token <name>`.",
  );
}

/** Refuses a change that would leave no active admin (that would reopen the tokenless setup). */
async function keepAnAdmin(ctx: AppContext, name: string, what: string): Promise<void> {
  const user = await ctx.users.getUser(name);
  if (user.role === "admin" && !user.disabled && (await ctx.users.countActiveAdmins()) <= 1) {
    throw new AppError(
      "CONFLICT",
      `${name} is the only active admin; ${what} would leave nobody to manage users (make another user admin first)`,
    );
  }
}

function printIssued(issued: IssuedToken): void {
  print(`token id: ${issued.id}`);
  print(`token: ${issued.token}`);
  print(
    issued.expiresAt === null
      ? "It works until revoked (--days 0)."
      : `It works until ${isoTime(issued.expiresAt)}; then an admin issues a new one.`,
  );
  print(
    "This token is not stored (only its hash is) and cannot be shown again: copy it now. Use it as RISKOMETER_TOKEN or with --token.",
  );
}

/** The password a command was given on standard input (its first line, as typed). */
async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new AppError(
      "INVALID_ARGUMENT",
      "--password-stdin reads the password from standard input: pipe it in (e.g. from a secret file), it is never taken from the command line",
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  checkPassword(password);
  return password;
}

const PASSWORD_STDIN_HELP =
  "read a password for the sign-in page from standard input (at least 12 characters)";

const roleOption = choiceOption("--role", ROLES);

const DAYS_HELP = `days the token works (0: until revoked)`;
const daysOption = intOption("--days", 0, 3650);

function addCommand(): Command {
  return new Command("add")
    .description(
      "Create a user and print their first API token (once). While no admin holds a token (a new install), the first admin is created without one: `riskometer users add <name> --role admin`.",
    )
    .argument("<name>", "user name (letters, digits, . _ @ -)")
    .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`, roleOption)
    .option("--days <n>", DAYS_HELP, daysOption, DEFAULT_TOKEN_DAYS)
    .option("--password-stdin", PASSWORD_STDIN_HELP)
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(
      async (
        name: string,
        opts: TokenOption & { role: Role; days: number; passwordStdin?: boolean },
      ) => {
        const password = opts.passwordStdin ? await passwordFromStdin() : undefined;
        await withContext(async (ctx) => {
          await requireAdmin(ctx, opts.token);
          const now = ctx.tracking.now();
          const user = await ctx.users.createUser(name, opts.role, now);
          if (password !== undefined) await ctx.users.setPassword(user.name, password, now);
          const issued = await ctx.users.issueToken(
            user.name,
            "created with the user",
            now,
            opts.days,
          );
          print(
            `created user ${user.name} (${user.role})${password === undefined ? "" : ", who signs in with the password given"}`,
          );
          printIssued(issued);
        });
      },
    );
}

function passwordCommand(): Command {
  return new Command("password")
    .description(
      "Set a user's password for the sign-in page, read from standard input (never from the command line); the user's browser sessions end.",
    )
    .argument("<name>", "user name")
    .requiredOption("--password-stdin", PASSWORD_STDIN_HELP)
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, opts: TokenOption) => {
      const password = await passwordFromStdin();
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        await ctx.users.setPassword(name, password, ctx.tracking.now());
        print(`set the password of ${name}; their browser sessions have ended`);
      });
    });
}

function linkCommand(): Command {
  return new Command("link")
    .description(
      "Print a one-time sign-in link for a user (it works once, for 24 hours): for a user who has no password yet or forgot it; the page then asks for a new one.",
    )
    .argument("<name>", "user name")
    .option(
      "--url <base>",
      "the server's address as users reach it (default: from RISKOMETER_HOST and RISKOMETER_PORT)",
    )
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, opts: TokenOption & { url?: string }) => {
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        const user = await ctx.users.getUser(name);
        if (user.disabled) throw new AppError("CONFLICT", `user "${name}" is disabled`);
        const secret = await ctx.sessions.issueLink(name, ctx.tracking.now());
        const host = ["0.0.0.0", "::"].includes(ctx.config.host) ? "127.0.0.1" : ctx.config.host;
        const base = (opts.url ?? `http://${host}:${ctx.config.port}`).replace(/\/+$/, "");
        print(`one-time sign-in link for ${name} (works once, for 24 hours):`);
        print(`  ${base}/sign-in/link?token=${secret}`);
      });
    });
}

function listCommand(): Command {
  return new Command("list")
    .description("List users with their role, status and tokens (never the tokens themselves).")
    .option("--json", "print a JSON array")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (opts: TokenOption & { json?: boolean }) => {
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        const users = await ctx.users.listUsers();
        const withTokens = await Promise.all(
          users.map(async (u) => ({ user: u, tokens: await ctx.users.listTokens(u.name) })),
        );
        if (opts.json) {
          return writeJson(
            withTokens.map(({ user, tokens }) => ({
              name: user.name,
              role: user.role,
              disabled: user.disabled,
              hasPassword: user.hasPassword,
              createdAt: isoJson(user.createdAt),
              tokens: tokens.map((t) => ({
                ...t,
                createdAt: isoJson(t.createdAt),
                expiresAt: t.expiresAt === null ? null : isoJson(t.expiresAt),
              })),
            })),
          );
        }
        if (users.length === 0) return print("no users");
        const now = ctx.tracking.now();
        print(
          formatTable(
            ["name", "role", "status", "password", "created", "active tokens (until)"],
            withTokens.map(({ user, tokens }) => [
              user.name,
              user.role,
              user.disabled ? "disabled" : "active",
              user.hasPassword ? "set" : "—",
              isoTime(user.createdAt),
              tokens
                .filter((t) => !t.revoked && (t.expiresAt === null || t.expiresAt > now))
                .map(
                  (t) =>
                    `${t.id}${t.label ? ` (${t.label})` : ""} ${t.expiresAt === null ? "no expiry" : isoTime(t.expiresAt).slice(0, 10)}`,
                )
                .join(", ") || "—",
            ]),
          ),
        );
      });
    });
}

function roleCommand(): Command {
  return new Command("role")
    .description("Change a user's role.")
    .argument("<name>", "user name")
    .argument("<role>", `one of ${ROLES.join(", ")}`)
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, roleText: string, opts: TokenOption) => {
      const role = parseRole(roleText);
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        if (role !== "admin") await keepAnAdmin(ctx, name, `making them ${role}`);
        const before = await ctx.users.getUser(name);
        const user = await ctx.users.setRole(name, role);
        print(`${user.name}: ${before.role} → ${user.role}`);
      });
    });
}

function disableCommand(): Command {
  return new Command("disable")
    .description("Disable a user and revoke all their tokens (the user stays in the audit log).")
    .argument("<name>", "user name")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, opts: TokenOption) => {
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        await keepAnAdmin(ctx, name, "disabling them");
        await ctx.users.disableUser(name, ctx.tracking.now());
        print(`disabled ${name}; their tokens are revoked`);
      });
    });
}

function tokenCommand(): Command {
  return new Command("token")
    .description("Issue another API token for a user (printed once).")
    .argument("<name>", "user name")
    .option("--label <label>", "what the token is for (e.g. the machine it lives on)", "")
    .option("--days <n>", DAYS_HELP, daysOption, DEFAULT_TOKEN_DAYS)
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (name: string, opts: TokenOption & { label: string; days: number }) => {
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        const issued = await ctx.users.issueToken(name, opts.label, ctx.tracking.now(), opts.days);
        print(`issued a token for ${issued.user}`);
        printIssued(issued);
      });
    });
}

function revokeCommand(): Command {
  return new Command("revoke")
    .description("Revoke one API token by its id (`users list` shows the ids).")
    .argument("<tokenId>", "token id")
    .option("--token <token>", TOKEN_OPTION_HELP)
    .action(async (tokenId: string, opts: TokenOption) => {
      await withContext(async (ctx) => {
        await requireAdmin(ctx, opts.token);
        await ctx.users.revokeToken(tokenId, ctx.tracking.now());
        print(`revoked token ${tokenId}`);
      });
    });
}

export function usersCommand(): Command {
  return new Command("users")
    .summary("manage users, roles, passwords and API tokens")
    .description(
      `Users, their passwords for the sign-in page, and their API tokens. Roles, each including the ones before: viewer (reads runs, models, flows and reports), clerk (also scores applicants and reads decisions), approver (also moves aliases and runs flows), admin (also manages users and reads the access log); docs/security.md lists every route's role.

Managing users needs an admin's token (--token or RISKOMETER_TOKEN). While no admin holds one (a new install, or the first admin \`riskometer up\` made, who signs in with a link and a password), no token is needed, e.g. to create the first admin or give them a token:
  riskometer users add <name> --role admin`,
    )
    .addCommand(addCommand())
    .addCommand(listCommand())
    .addCommand(roleCommand())
    .addCommand(disableCommand())
    .addCommand(passwordCommand())
    .addCommand(linkCommand())
    .addCommand(tokenCommand())
    .addCommand(revokeCommand());
}
