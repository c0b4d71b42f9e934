import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DatabaseSchema } from "../storage/index.js";
import { isUniqueViolation, newId } from "../tracking/index.js";
import { DECOY_HASH, hashPassword, verifyPassword } from "./passwords.js";

/**
 * Roles, each including the ones before it: a viewer reads runs, models, flows and reports; a
 * clerk also scores applicants and reads decisions; an approver also moves aliases and runs
 * flows; an admin also manages users and reads the access log. Which route needs which role is
 * decided in serving/routes/roles.ts.
 */
export const ROLES = ["viewer", "clerk", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function hasRole(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/**
 * Refuses (FORBIDDEN) a user whose role is below `needed`, saying what they tried.
 *
 * @example requireRole(user, "approver", 'move "champion"')
 */
export function requireRole(user: User, needed: Role, action: string): void {
  if (!hasRole(user.role, needed)) {
    throw new AppError(
      "FORBIDDEN",
      `${user.name} (${user.role}) may not ${action}: it needs the ${needed} role`,
    );
  }
}

export function parseRole(text: string): Role {
  if (!(ROLES as readonly string[]).includes(text)) {
    throw new AppError("INVALID_ARGUMENT", `role "${text}" is not one of ${ROLES.join(", ")}`);
  }
  return text as Role;
}

export interface User {
  readonly name: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly disabled: boolean;
  /** Whether the user can sign in with a password (else only by a one-time link or SSO). */
  readonly hasPassword: boolean;
}

export interface IssuedToken {
  readonly id: string;
  readonly user: string;
  /** Shown once; only its SHA-256 is stored. */
  readonly token: string;
  /** When it stops working (ms), or null if never. */
  readonly expiresAt: number | null;
}

/** How long a token lives unless its issuer says otherwise. */
export const DEFAULT_TOKEN_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TOKEN_PREFIX = "rk_";

/** Tokens carry 256 random bits, so a fast hash is enough (no password stretching needed). */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Users and their API tokens on the metadata database. */
export class SqlUserStore {
  private readonly db: Kysely<DatabaseSchema>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async createUser(name: string, role: Role, now = Date.now()): Promise<User> {
    if (!USER_NAME.test(name)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `user name "${name}" must be 1–64 letters, digits, ".", "_", "@" or "-"`,
      );
    }
    parseRole(role);
    const exists = await this.db
      .selectFrom("users")
      .select("name")
      .where("name", "=", name)
      .executeTakeFirst();
    if (exists) throw new AppError("CONFLICT", `user "${name}" already exists`);
    try {
      await this.db
        .insertInto("users")
        .values({ name, role, created_at: now, disabled_at: null, password_hash: null })
        .execute();
    } catch (e) {
      // Made by someone else between the look and the insert.
      if (isUniqueViolation(e)) throw new AppError("CONFLICT", `user "${name}" already exists`);
      throw e;
    }
    return this.getUser(name);
  }

  async getUser(name: string): Promise<User> {
    const row = await this.db
      .selectFrom("users")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    if (!row) throw new AppError("NOT_FOUND", `no user "${name}"`);
    return toUser(row);
  }

  async listUsers(): Promise<User[]> {
    return (await this.db.selectFrom("users").selectAll().orderBy("name").execute()).map(toUser);
  }

  /** The active admins, each with whether they hold a live API token (one that works now). */
  async activeAdmins(now = Date.now()): Promise<{ user: User; holdsToken: boolean }[]> {
    const admins = (await this.listUsers()).filter((u) => u.role === "admin" && !u.disabled);
    if (admins.length === 0) return [];
    const holders = await this.db
      .selectFrom("api_tokens")
      .select("user_name")
      .distinct()
      .where(
        "user_name",
        "in",
        admins.map((a) => a.name),
      )
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
      .execute();
    const holding = new Set(holders.map((h) => h.user_name));
    return admins.map((user) => ({ user, holdsToken: holding.has(user.name) }));
  }

  async countActiveAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("role", "=", "admin")
      .where("disabled_at", "is", null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async setRole(name: string, role: Role): Promise<User> {
    parseRole(role);
    await this.getUser(name);
    await this.db.updateTable("users").set({ role }).where("name", "=", name).execute();
    return this.getUser(name);
  }

  async disableUser(name: string, now = Date.now()): Promise<User> {
    await this.getUser(name);
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable("users").set({ disabled_at: now }).where("name", "=", name).execute();
      await endSessions(tx, name, now);
      await tx
        .updateTable("api_tokens")
        .set({ revoked_at: now })
        .where("user_name", "=", name)
        .where("revoked_at", "is", null)
        .execute();
    });
    return this.getUser(name);
  }

  /**
   * The user a single sign-on vouched for, with the role the provider's claim gives: created on
   * their first sign-in, their role kept in step after. A disabled user stays refused.
   */
  async signedInBySso(name: string, role: Role, now = Date.now()): Promise<User> {
    let existing = await this.getUser(name).catch(() => null);
    if (existing === null) {
      try {
        return await this.createUser(name, role, now);
      } catch (e) {
        // Their first sign-in in two browsers at once: the other made the user.
        if (!(e instanceof AppError && e.code === "CONFLICT")) throw e;
        existing = await this.getUser(name);
      }
    }
    if (existing.disabled) throw new AppError("FORBIDDEN", `user "${name}" is disabled`);
    return existing.role === role ? existing : this.setRole(name, role);
  }

  /** Sets (or replaces) a user's password; the user's browser sessions end. */
  async setPassword(name: string, password: string, now = Date.now()): Promise<User> {
    await this.getUser(name);
    const hash = await hashPassword(password);
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable("users").set({ password_hash: hash }).where("name", "=", name).execute();
      await endSessions(tx, name, now);
    });
    return this.getUser(name);
  }

  /**
   * The active user with this name and password; UNAUTHENTICATED otherwise, with one message
   * for every cause (and as slow for an unknown name), so it tells no one which names exist.
   */
  async checkPassword(name: string, password: string): Promise<User> {
    const row = await this.db
      .selectFrom("users")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? DECOY_HASH);
    if (!row || !ok || row.password_hash === null || row.disabled_at !== null) {
      throw new AppError("UNAUTHENTICATED", "the user name or the password is wrong");
    }
    return toUser(row);
  }

  /**
   * A new token for `user`, valid for `days` (0: until revoked, which a person must ask for;
   * a token a machine keeps is then a standing credential).
   */
  async issueToken(
    user: string,
    label = "",
    now = Date.now(),
    days = DEFAULT_TOKEN_DAYS,
  ): Promise<IssuedToken> {
    if (!(Number.isInteger(days) && days >= 0)) {
      throw new AppError("INVALID_ARGUMENT", `token lifetime must be whole days ≥ 0, got ${days}`);
    }
    const u = await this.getUser(user);
    if (u.disabled) throw new AppError("CONFLICT", `user "${user}" is disabled`);
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const id = newId().slice(0, 12);
    const expiresAt = days === 0 ? null : now + days * DAY_MS;
    await this.db
      .insertInto("api_tokens")
      .values({
        id,
        user_name: user,
        token_hash: hashToken(token),
        label,
        created_at: now,
        revoked_at: null,
        expires_at: expiresAt,
      })
      .execute();
    return { id, user, token, expiresAt };
  }

  async revokeToken(id: string, now = Date.now()): Promise<void> {
    const res = await this.db
      .updateTable("api_tokens")
      .set({ revoked_at: now })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0)
      throw new AppError("NOT_FOUND", `no active token "${id}"`);
  }

  async listTokens(user: string): Promise<
    {
      id: string;
      label: string;
      createdAt: number;
      expiresAt: number | null;
      revoked: boolean;
    }[]
  > {
    await this.getUser(user);
    const rows = await this.db
      .selectFrom("api_tokens")
      .select(["id", "label", "created_at", "revoked_at", "expires_at"])
      .where("user_name", "=", user)
      .orderBy("created_at")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      label: r.label,
      createdAt: Number(r.created_at),
      expiresAt: r.expires_at === null ? null : Number(r.expires_at),
      revoked: r.revoked_at !== null,
    }));
  }

  /**
   * The active user a token belongs to; UNAUTHENTICATED for an unknown, revoked, expired or
   * disabled one.
   */
  async authenticate(token: string | undefined, now = Date.now()): Promise<User> {
    if (token === undefined || token.trim() === "") {
      throw new AppError(
        "UNAUTHENTICATED",
        "an API token is required (Authorization: Bearer <token>, or RISKOMETER_TOKEN)",
      );
    }
    const row = await this.db
      .selectFrom("api_tokens")
      .innerJoin("users", "users.name", "api_tokens.user_name")
      .select([
        "users.name",
        "users.role",
        "users.created_at",
        "users.disabled_at",
        "users.password_hash",
        "api_tokens.revoked_at",
        "api_tokens.expires_at",
      ])
      .where("api_tokens.token_hash", "=", hashToken(token.trim()))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || row.disabled_at !== null) {
      throw new AppError(
        "UNAUTHENTICATED",
        "the API token is unknown, revoked, or its user is disabled",
      );
    }
    if (row.expires_at !== null && Number(row.expires_at) <= now) {
      throw new AppError(
        "UNAUTHENTICATED",
        `the API token expired on ${new Date(Number(row.expires_at)).toISOString().slice(0, 10)}; an admin issues a new one (riskometer users token ${row.name})`,
      );
    }
    return toUser(row);
  }
}

/** Ends every browser session of a user (a new password, a disabled user). */
async function endSessions(tx: Kysely<DatabaseSchema>, name: string, now: number): Promise<void> {
  await tx
    .updateTable("sessions")
    .set({ ended_at: now })
    .where("user_name", "=", name)
    .where("ended_at", "is", null)
    .execute();
}

export function toUser(row: {
  name: string;
  role: string;
  created_at: number;
  disabled_at: number | null;
  password_hash?: string | null;
}): User {
  return {
    name: row.name,
    role: row.role as Role,
    createdAt: Number(row.created_at),
    disabled: row.disabled_at !== null,
    hasPassword: row.password_hash !== undefined && row.password_hash !== null,
  };
}
