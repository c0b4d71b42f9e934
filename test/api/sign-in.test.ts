/**
 * People sign in: passwords (scrypt), the session cookie and its CSRF token, sign-out that ends
 * the session everywhere, the lock-out after failures, the first admin's one-time link, idle and
 * absolute expiry, and /metrics behind Prometheus' own token.
 */
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqlSessionStore } from "../../src/auth/index.js";
import { loadConfig } from "../../src/core/config.js";
import { buildApp } from "../../src/serving/index.js";
import { firstSignInLink } from "../../src/cli/first-admin.js";
import { type SeededWorld, seedWorld } from "./fixtures.js";

let world: SeededWorld;
let app: FastifyInstance;
const PASSWORD = "correct horse battery staple";

beforeAll(async () => {
  world = await seedWorld();
  await world.ctx.users.setPassword("carol", PASSWORD);
  await world.ctx.users.setPassword("bob", PASSWORD);
  app = await buildApp(world.ctx, { modelPollMs: 0, access: "secured" });
});

afterAll(async () => {
  await app?.close();
  await world?.close();
});

function cookieOf(res: LightMyRequestResponse): string {
  const header = res.headers["set-cookie"];
  const line = Array.isArray(header) ? header[0] : (header ?? "");
  return line.split(";")[0];
}

async function signIn(user: string, password: string, address = "198.51.100.1") {
  return app.inject({
    method: "POST",
    url: "/api/v1/session",
    payload: { user, password },
    remoteAddress: address,
  });
}

describe("sign-in with a password", () => {
  it("starts a session: an HttpOnly SameSite cookie, the user and role, a CSRF token", async () => {
    const res = await signIn("carol", PASSWORD);
    expect(res.statusCode, res.body).toBe(200);
    const setCookie = String(res.headers["set-cookie"]);
    expect(setCookie).toMatch(/^riskometer_session=[\w-]{40,};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(res.json()).toMatchObject({
      signedIn: true,
      user: { name: "carol", role: "clerk", hasPassword: true },
      via: "password",
    });
    const cookie = cookieOf(res);
    const me = await app.inject({ url: "/api/v1/session", headers: { cookie } });
    expect(me.json()).toMatchObject({ user: { name: "carol" }, csrfToken: res.json().csrfToken });
    const page = await app.inject({ url: "/", headers: { cookie } });
    expect(page.statusCode).toBe(200);
  });

  it("marks the cookie Secure behind TLS", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/session",
      payload: { user: "carol", password: PASSWORD },
      headers: { "x-forwarded-proto": "https" },
      remoteAddress: "198.51.100.2",
    });
    expect(String(res.headers["set-cookie"])).toMatch(/Secure/);
  });

  it("refuses a wrong password or an unknown name with one message, as 401", async () => {
    const wrong = await signIn("carol", "not the password", "198.51.100.3");
    const unknown = await signIn("nobody", PASSWORD, "198.51.100.3");
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toBe("the user name or the password is wrong");
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
    // A user with no password (victor has only a token) cannot sign in with any.
    expect((await signIn("victor", "", "198.51.100.3")).statusCode).toBe(400);
    expect((await signIn("victor", PASSWORD, "198.51.100.3")).statusCode).toBe(401);
  });

  it("needs the session's CSRF token for a write made with the cookie", async () => {
    const res = await signIn("bob", PASSWORD, "198.51.100.4");
    const cookie = cookieOf(res);
    const csrf = res.json().csrfToken as string;
    const trigger = (headers: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/api/v1/flows/nothing-here/runs",
        headers: { cookie, ...headers },
        payload: {},
      });
    const without = await trigger({});
    expect(without.statusCode).toBe(403);
    expect(without.json().detail).toMatch(/CSRF token in the x-csrf-token header/);
    expect((await trigger({ "x-csrf-token": "forged" })).statusCode).toBe(403);
    // With it, the request gets past access control (an unknown flow: 404).
    expect((await trigger({ "x-csrf-token": csrf })).statusCode).toBe(404);
    // An API token needs none: it is not sent by browsers on their own.
    const viaToken = await app.inject({
      method: "POST",
      url: "/api/v1/flows/nothing-here/runs",
      headers: { authorization: `Bearer ${world.tokens.bob}` },
      payload: {},
    });
    expect(viaToken.statusCode).toBe(404);
  });

  it("ends the session on sign-out: the old cookie gets 401 at once", async () => {
    const res = await signIn("carol", PASSWORD, "198.51.100.5");
    const cookie = cookieOf(res);
    expect((await app.inject({ url: "/api/v1/models", headers: { cookie } })).statusCode).toBe(200);
    const out = await app.inject({ method: "DELETE", url: "/api/v1/session", headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers["set-cookie"])).toMatch(/Max-Age=0/);
    const after = await app.inject({ url: "/api/v1/models", headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().detail).toMatch(/session has ended/);
    const page = await app.inject({ url: "/runs.html", headers: { cookie } });
    expect(page.statusCode).toBe(303);
  });

  it("gives a new session at every sign-in and ends the one the browser had", async () => {
    const first = cookieOf(await signIn("carol", PASSWORD, "198.51.100.6"));
    const second = await app.inject({
      method: "POST",
      url: "/api/v1/session",
      payload: { user: "carol", password: PASSWORD },
      headers: { cookie: first },
      remoteAddress: "198.51.100.6",
    });
    expect(cookieOf(second)).not.toBe(first);
    await new Promise((r) => setTimeout(r, 2100)); // past the 2 s trust of a checked session
    expect(
      (await app.inject({ url: "/api/v1/models", headers: { cookie: first } })).statusCode,
    ).toBe(401);
    expect(
      (await app.inject({ url: "/api/v1/models", headers: { cookie: cookieOf(second) } }))
        .statusCode,
    ).toBe(200);
  });

  it("locks a user name after five failures in a row, whatever the address", async () => {
    await world.ctx.users.createUser("dora", "viewer");
    await world.ctx.users.setPassword("dora", PASSWORD);
    for (let i = 0; i < 6; i++) {
      const res = await signIn("dora", `wrong ${i}`, `192.0.2.${i + 1}`);
      expect(res.statusCode, `failure ${i + 1}`).toBe(401);
    }
    const locked = await signIn("dora", PASSWORD, "192.0.2.99");
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(locked.json().detail).toMatch(/too many failed sign-ins for "dora"; try again in \d+ s/);
  });

  it("limits sign-in attempts per address", async () => {
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 11; i++) last = await signIn(`user${i}`, "x", "192.0.2.200");
    expect(last?.statusCode).toBe(429);
    expect(last?.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(last?.json().code).toBe("RATE_LIMITED");
  });
});

describe("the first admin's one-time link", () => {
  it("is made once for the first admin even when two servers start at the same moment", async () => {
    const links = await Promise.all([firstSignInLink(world.ctx), firstSignInLink(world.ctx)]);
    expect(links.map((l) => l?.user)).toEqual(["admin", "admin"]);
    expect(links[0]?.secret).not.toBe(links[1]?.secret);
    expect(await world.ctx.users.getUser("admin")).toMatchObject({ role: "admin" });
    // Once an admin can sign in (a password), no more links are printed.
    await world.ctx.users.setPassword("admin", PASSWORD);
    expect(await firstSignInLink(world.ctx)).toBeNull();
  });

  it("signs in once, asks for a password, and the password then signs in", async () => {
    await world.ctx.users.createUser("root", "admin");
    const secret = await world.ctx.sessions.issueLink("root");
    const opened = await app.inject({ url: `/sign-in/link?token=${secret}` });
    expect(opened.statusCode).toBe(303);
    expect(opened.headers.location).toBe("/sign-in.html?set-password=1");
    const cookie = cookieOf(opened);
    const session = (await app.inject({ url: "/api/v1/session", headers: { cookie } })).json();
    expect(session).toMatchObject({ user: { name: "root", role: "admin", hasPassword: false } });
    const spent = await app.inject({ url: `/sign-in/link?token=${secret}` });
    expect(spent.headers.location).toBe("/sign-in.html?link=spent");
    expect(spent.headers["set-cookie"]).toBeUndefined();

    const setPassword = (payload: object, headers: Record<string, string>) =>
      app.inject({ method: "PUT", url: "/api/v1/session/password", payload, headers });
    expect(
      (await setPassword({ password: "too short" }, { cookie, "x-csrf-token": session.csrfToken }))
        .statusCode,
    ).toBe(400);
    const set = await setPassword(
      { password: PASSWORD },
      { cookie, "x-csrf-token": session.csrfToken },
    );
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().user).toMatchObject({ name: "root", hasPassword: true });
    expect(cookieOf(set)).not.toBe(cookie);
    const users = await app.inject({
      url: "/api/v1/users",
      headers: { cookie: cookieOf(set) },
    });
    expect(users.statusCode).toBe(200);
    expect(users.json().users.map((u: { name: string }) => u.name)).toContain("root");
    expect((await signIn("root", PASSWORD, "198.51.100.9")).statusCode).toBe(200);
  });

  it("works neither after its day nor for a disabled user", async () => {
    await world.ctx.users.createUser("late", "admin");
    const old = await world.ctx.sessions.issueLink("late", Date.now() - 25 * 3_600_000);
    expect((await app.inject({ url: `/sign-in/link?token=${old}` })).headers.location).toBe(
      "/sign-in.html?link=spent",
    );
    const fresh = await world.ctx.sessions.issueLink("late");
    await world.ctx.users.disableUser("late");
    expect((await app.inject({ url: `/sign-in/link?token=${fresh}` })).headers.location).toBe(
      "/sign-in.html?link=spent",
    );
  });
});

describe("session expiry", () => {
  it("ends a session idle too long, and any session past its absolute limit", async () => {
    const store = new SqlSessionStore(world.ctx.database, { idleMs: 60_000, absoluteMs: 300_000 });
    const t0 = Date.now();
    const { secret } = await store.start("carol", "password", t0);
    expect(await store.find(secret, t0 + 59_000)).not.toBeNull();
    expect(await store.find(secret, t0 + 59_000 + 61_000)).toBeNull();
    const kept = await store.start("carol", "password", t0);
    for (let t = t0 + 50_000; t < t0 + 300_000; t += 50_000) {
      expect(await store.find(kept.secret, t), `used at +${t - t0} ms`).not.toBeNull();
    }
    expect(await store.find(kept.secret, t0 + 300_000)).toBeNull();
  });
});

describe("/metrics behind its own token", () => {
  it("answers Prometheus with the token and nobody without it", async () => {
    const config = loadConfig({}, { ...world.ctx.config, metricsToken: "prometheus-secret" });
    const guarded = await buildApp({ ...world.ctx, config }, { modelPollMs: 0 });
    try {
      const none = await guarded.inject({ url: "/metrics" });
      expect(none.statusCode).toBe(401);
      expect(none.json().code).toBe("UNAUTHENTICATED");
      const wrong = await guarded.inject({
        url: "/metrics",
        headers: { authorization: "Bearer prometheus-secreT" },
      });
      expect(wrong.statusCode).toBe(401);
      // A user's API token is not Prometheus' token.
      const user = await guarded.inject({
        url: "/metrics",
        headers: { authorization: `Bearer ${world.tokens.alice}` },
      });
      expect(user.statusCode).toBe(401);
      const ok = await guarded.inject({
        url: "/metrics",
        headers: { authorization: "Bearer prometheus-secret" },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toMatch(/riskometer_/);
      expect((await guarded.inject({ url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
