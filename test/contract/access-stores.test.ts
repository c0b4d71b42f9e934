/**
 * Sign-in and access stores on both metadata databases (SQLite and Postgres): passwords,
 * sessions with idle and absolute expiry, one-time links that work once even when two
 * browsers redeem them at the same moment, and the access log (append-only, newest first).
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessLog } from "../../src/auth/access-log.js";
import { SqlSessionStore, SqlUserStore } from "../../src/auth/index.js";
import { type Database, openDatabase } from "../../src/storage/index.js";
import { TEST_DATABASES, type TestDatabase } from "../support/databases.js";
import { expectCode } from "../support/expect-code.js";

describe.each(TEST_DATABASES)("access stores: $name", ({ create }) => {
  let target: TestDatabase;
  let database: Database;
  let users: SqlUserStore;
  let sessions: SqlSessionStore;

  beforeAll(async () => {
    target = await create();
    database = await openDatabase(target.url);
    users = new SqlUserStore(database);
    sessions = new SqlSessionStore(database, { idleMs: 60_000, absoluteMs: 600_000 });
    await users.createUser("clara", "clerk");
  });

  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it("checks passwords, and a new password ends the user's sessions", async () => {
    await users.setPassword("clara", "first passphrase here");
    expect((await users.checkPassword("clara", "first passphrase here")).name).toBe("clara");
    await expectCode(users.checkPassword("clara", "wrong passphrase"), "UNAUTHENTICATED");
    const { secret } = await sessions.start("clara", "password");
    expect(await sessions.find(secret)).not.toBeNull();
    await users.setPassword("clara", "second passphrase here");
    expect(await sessions.find(secret)).toBeNull();
  });

  it("ends sessions when signed out, idle, past their limit, or their user is disabled", async () => {
    const t0 = Date.now();
    const a = await sessions.start("clara", "password", t0);
    expect((await sessions.find(a.secret, t0 + 30_000))?.user.name).toBe("clara");
    await sessions.end(a.secret);
    expect(await sessions.find(a.secret, t0 + 31_000)).toBeNull();
    const b = await sessions.start("clara", "password", t0);
    expect(await sessions.find(b.secret, t0 + 61_000)).toBeNull();
    await users.createUser("dora", "viewer");
    const c = await sessions.start("dora", "sso", t0);
    await users.disableUser("dora");
    expect(await sessions.find(c.secret, t0 + 1_000)).toBeNull();
  });

  it("spends a one-time link once, even when two browsers open it at the same moment", async () => {
    const secret = await sessions.issueLink("clara");
    const results = await Promise.allSettled([
      sessions.redeemLink(secret),
      sessions.redeemLink(secret),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    await expectCode(sessions.redeemLink(secret), "UNAUTHENTICATED");
  });

  it("keeps the access log append-only, and lists it newest first by user and action", async () => {
    const log = new AccessLog(database);
    const base = { role: "clerk", status: 200, address: "10.0.0.1", target: null, detail: null };
    log.record({ ...base, at: 1_000, user: "clara", action: "read-decision" });
    log.record({ ...base, at: 2_000, user: "clara", action: "download-scored" });
    log.recordScoring({
      at: 3_000,
      user: "clara",
      role: "clerk",
      status: 200,
      address: "10.0.0.1",
      target: "b1",
      rows: 10,
      scored: 9,
      rejected: 1,
    });
    log.recordScoring({
      at: 3_001,
      user: "clara",
      role: "clerk",
      status: 200,
      address: "10.0.0.1",
      target: "b2",
      rows: 5,
      scored: 5,
      rejected: 0,
    });
    await log.close();
    const all = await log.list({ user: "clara" });
    expect(all.map((e) => e.action)).toEqual(["score", "download-scored", "read-decision"]);
    expect(all[0]).toMatchObject({
      target: null,
      detail: "2 requests, 15 rows: 14 scored, 1 rejected",
    });
    expect(await log.list({ action: "read-decision", since: 500, until: 1_500 })).toHaveLength(1);
    await expect(sql`UPDATE access_log SET action = 'x'`.execute(database.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM access_log`.execute(database.db)).rejects.toThrow(/append-only/);
  });
});
