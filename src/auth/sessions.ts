import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema } from "../storage/index.js";
import { hashToken, toUser, type User } from "./users.js";

export interface SessionPolicy {
  /** A session unused this long ends (ms). */
  readonly idleMs: number;
  /** A session ends this long after sign-in, used or not (ms). */
  readonly absoluteMs: number;
}

export interface Session {
  readonly user: User;
  /** What the pages send back in X-CSRF-Token on every write. */
  readonly csrfToken: string;
  /** How the user signed in: password, link or sso. */
  readonly via: string;
  readonly createdAt: number;
  /** When the session ends unless used before (idle expiry, capped by the absolute one). */
  readonly expiresAt: number;
}

/** How long a first admin's sign-in link works. */
export const SIGN_IN_LINK_MS = 24 * 60 * 60 * 1000;

/**
 * last_seen_at is written at most this often (or a tenth of the idle time, if shorter), so
 * reading pages costs no write each time.
 */
const TOUCH_EVERY_MS = 60_000;

function secret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Browser sessions and one-time sign-in links, kept server-side on the metadata database so
 * that sign-out, a disabled user or a new password end a session at once, on every replica.
 * The cookie carries 256 random bits; only their SHA-256 is stored. (A cookie-session library
 * would keep the session in the cookie, which sign-out cannot revoke, or in a store of its own
 * beside ours.)
 */
export class SqlSessionStore {
  private readonly db: Kysely<DatabaseSchema>;

  constructor(
    database: Database,
    private readonly policy: SessionPolicy,
  ) {
    this.db = database.db;
  }

  /** A new session (a new secret each sign-in: a session id planted before it is worthless). */
  async start(
    user: string,
    via: string,
    now = Date.now(),
  ): Promise<{ secret: string; session: Session }> {
    const value = secret();
    const csrfToken = secret();
    await this.db
      .insertInto("sessions")
      .values({
        id_hash: hashToken(value),
        user_name: user,
        csrf_token: csrfToken,
        via,
        created_at: now,
        last_seen_at: now,
        ended_at: null,
      })
      .execute();
    const found = await this.find(value, now);
    if (!found) throw new AppError("INTERNAL", "a session just started was not found");
    return { secret: value, session: found };
  }

  /** The live session behind a cookie's secret, or null (unknown, ended, expired, user disabled). */
  async find(value: string, now = Date.now()): Promise<Session | null> {
    const idHash = hashToken(value);
    const row = await this.db
      .selectFrom("sessions")
      .innerJoin("users", "users.name", "sessions.user_name")
      .select([
        "users.name",
        "users.role",
        "users.created_at as user_created_at",
        "users.disabled_at",
        "users.password_hash",
        "sessions.csrf_token",
        "sessions.via",
        "sessions.created_at",
        "sessions.last_seen_at",
        "sessions.ended_at",
      ])
      .where("sessions.id_hash", "=", idHash)
      .executeTakeFirst();
    if (!row || row.ended_at !== null || row.disabled_at !== null) return null;
    const createdAt = Number(row.created_at);
    const lastSeen = Number(row.last_seen_at);
    const absoluteEnd = createdAt + this.policy.absoluteMs;
    if (now >= absoluteEnd || now >= lastSeen + this.policy.idleMs) return null;
    if (now - lastSeen >= Math.min(TOUCH_EVERY_MS, this.policy.idleMs / 10)) {
      await this.db
        .updateTable("sessions")
        .set({ last_seen_at: now })
        .where("id_hash", "=", idHash)
        .execute();
    }
    return {
      user: toUser({ ...row, created_at: Number(row.user_created_at) }),
      csrfToken: row.csrf_token,
      via: row.via,
      createdAt,
      expiresAt: Math.min(absoluteEnd, Math.max(now, lastSeen) + this.policy.idleMs),
    };
  }

  /** Ends the session (sign-out); an unknown or ended one is left as it is. */
  async end(value: string, now = Date.now()): Promise<void> {
    await this.db
      .updateTable("sessions")
      .set({ ended_at: now })
      .where("id_hash", "=", hashToken(value))
      .where("ended_at", "is", null)
      .execute();
  }

  /** A one-time sign-in link's secret for `user`, valid for `ms`. */
  async issueLink(user: string, now = Date.now(), ms = SIGN_IN_LINK_MS): Promise<string> {
    const value = secret();
    await this.db
      .insertInto("sign_in_links")
      .values({
        id_hash: hashToken(value),
        user_name: user,
        created_at: now,
        expires_at: now + ms,
        used_at: null,
      })
      .execute();
    return value;
  }

  /**
   * The user a sign-in link is for, spending it: a link works once, before it expires, for a
   * user still active. UNAUTHENTICATED otherwise.
   */
  async redeemLink(value: string, now = Date.now()): Promise<string> {
    const idHash = hashToken(value);
    const res = await this.db
      .updateTable("sign_in_links")
      .set({ used_at: now })
      .where("id_hash", "=", idHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    const row = await this.db
      .selectFrom("sign_in_links")
      .innerJoin("users", "users.name", "sign_in_links.user_name")
      .select(["users.name", "users.disabled_at"])
      .where("sign_in_links.id_hash", "=", idHash)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1 || !row || row.disabled_at !== null) {
      throw new AppError(
        "UNAUTHENTICATED",
        "this sign-in link is unknown, used or expired; `riskometer users link NAME` makes a new one",
      );
    }
    return row.name;
  }
}
