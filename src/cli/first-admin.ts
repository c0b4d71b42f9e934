import { isAppError } from "../core/index.js";
import type { AppContext } from "../main.js";

/**
 * The first admin's way in, on a store where no admin can sign in yet (no admin with a password
 * or a live API token): creates the admin `admin` if there is none, and returns a one-time
 * sign-in link's secret for them (the page then asks for a password). Null once an admin can
 * sign in, and in open mode.
 */
export async function firstSignInLink(
  ctx: AppContext,
  now = Date.now(),
): Promise<{ user: string; secret: string } | null> {
  if (ctx.config.access === "open") return null;
  const admins = await ctx.users.activeAdmins(now);
  if (admins.some((a) => a.user.hasPassword || a.holdsToken)) return null;
  let name = admins[0]?.user.name;
  if (name === undefined) {
    const taken = new Set((await ctx.users.listUsers()).map((u) => u.name));
    name = ["admin", "first-admin", `admin-${now}`].find((n) => !taken.has(n)) as string;
    try {
      await ctx.users.createUser(name, "admin", now);
    } catch (e) {
      // Another replica starting at the same moment made it: theirs is as good.
      const made = await ctx.users.getUser(name).catch(() => null);
      if (!(isAppError(e) && e.code === "CONFLICT" && made?.role === "admin")) throw e;
    }
  }
  return { user: name, secret: await ctx.sessions.issueLink(name, now) };
}

/** The line `serve` and `up` print for it. */
export function signInLinkLine(address: string, link: { user: string; secret: string }): string {
  return `No admin can sign in yet: open this one-time link to sign in as ${link.user} and set a password (it works once, for 24 hours):\n  ${address}/sign-in/link?token=${link.secret}\n`;
}
