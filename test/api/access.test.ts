/**
 * Every route of the OpenAPI document, called with no credentials and with each role: the
 * answer must be 401 below any role, 403 below the route's role, and neither at or above it.
 * The roles expected here are written out on their own (what the security review approved), so
 * lowering a route's role in ROUTE_ACCESS fails this test, and so does a route added without
 * an entry here.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/serving/index.js";
import { ROUTE_ACCESS } from "../../src/serving/routes/roles.js";
import { type SeededWorld, seedWorld } from "./fixtures.js";

type Needed = "public" | "viewer" | "clerk" | "approver" | "admin";

const EXPECTED: Record<string, Needed> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /api/v1/session": "public",
  "POST /api/v1/session": "public",
  "DELETE /api/v1/session": "public",
  "GET /sign-in/link": "public",
  "GET /sign-in/oidc": "public",
  "GET /sign-in/oidc/callback": "public",
  "PUT /api/v1/session/password": "viewer",
  "GET /api/v1/schema": "viewer",
  "GET /api/v1/experiments": "viewer",
  "GET /api/v1/runs": "viewer",
  "POST /api/v1/runs/search": "viewer",
  "GET /api/v1/runs/{id}": "viewer",
  "GET /api/v1/runs/{id}/metrics/{key}": "viewer",
  "GET /api/v1/runs/{id}/artifacts/{path}": "viewer",
  "GET /api/v1/models": "viewer",
  "GET /api/v1/models/{name}": "viewer",
  "GET /api/v1/models/{name}/versions/{version}": "viewer",
  "GET /api/v1/model-versions/{ref}": "viewer",
  "GET /api/v1/models/{name}/audit": "viewer",
  "PUT /api/v1/models/{name}/aliases/{alias}": "approver",
  "DELETE /api/v1/models/{name}/aliases/{alias}": "approver",
  "POST /api/v1/predictions": "clerk",
  "GET /api/v1/decisions/{id}": "clerk",
  "POST /api/v1/outcomes": "clerk",
  "GET /api/v1/batches/{batchId}/predictions": "clerk",
  "GET /api/v1/batches/{batchId}/scored.csv": "clerk",
  "GET /api/v1/flows": "viewer",
  "GET /api/v1/flows/runs": "viewer",
  "GET /api/v1/flows/runs/{id}": "viewer",
  "POST /api/v1/flows/runs/{id}/cancel": "approver",
  "POST /api/v1/flows/{name}/runs": "approver",
  "GET /api/v1/reports": "viewer",
  "GET /api/v1/reports/{id}": "viewer",
  "GET /api/v1/reports/{id}/report.html": "viewer",
  "GET /api/v1/users": "admin",
  "GET /api/v1/access-log": "admin",
  "POST /api/v1/decisions/erase": "admin",
};

const ROLES = ["viewer", "clerk", "approver", "admin"] as const;
const RANK: Record<Needed, number> = { public: -1, viewer: 0, clerk: 1, approver: 2, admin: 3 };

let world: SeededWorld;
let app: FastifyInstance;
let tokens: Record<(typeof ROLES)[number], string>;
let paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;

beforeAll(async () => {
  world = await seedWorld();
  await world.ctx.users.createUser("ada", "admin");
  tokens = {
    viewer: world.tokens.victor,
    clerk: world.tokens.carol,
    approver: world.tokens.bob,
    admin: (await world.ctx.users.issueToken("ada")).token,
  };
  app = await buildApp(world.ctx, { modelPollMs: 0, access: "secured" });
  const doc = await app.inject({ method: "GET", url: "/api/docs/json" });
  expect(doc.statusCode).toBe(200);
  paths = doc.json().paths;
});

afterAll(async () => {
  await app?.close();
  await world?.close();
});

/** A URL for a documented path, its parameters filled with harmless values. */
function urlOf(path: string, params: { name: string; in: string }[] = []): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
    name === "version" ? "1" : name === "path" ? "plots/roc.svg" : "nothing-here",
  );
  const query = params
    .filter((p) => p.in === "query" && p.name === "token")
    .map((p) => `${p.name}=x`);
  return query.length ? `${filled}?${query.join("&")}` : filled;
}

function expectProblem(res: LightMyRequestResponse, status: number, code: string, what: string) {
  expect(res.statusCode, what).toBe(status);
  expect(res.headers["content-type"], what).toMatch(/^application\/problem\+json/);
  expect(res.json().code, what).toBe(code);
}

describe("every route has a role", () => {
  it("documents exactly the routes the security review listed", () => {
    const documented = Object.entries(paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it("answers 401 without credentials, 403 below the route's role, and lets the role in", async () => {
    let checked = 0;
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        const needed = EXPECTED[key];
        const url = urlOf(path, op.parameters);
        const call = (token?: string) =>
          app.inject({
            method: method.toUpperCase() as "GET",
            url,
            headers: token ? { authorization: `Bearer ${token}` } : {},
            ...(method === "get" || method === "delete" ? {} : { payload: {} }),
          });
        const anonymous = await call();
        if (needed === "public") {
          expect([401, 403], `${key} without credentials`).not.toContain(anonymous.statusCode);
        } else {
          expectProblem(anonymous, 401, "UNAUTHENTICATED", `${key} without credentials`);
        }
        for (const role of ROLES) {
          const res = await call(tokens[role]);
          const what = `${key} as ${role}`;
          if (RANK[role] < RANK[needed]) expectProblem(res, 403, "FORBIDDEN", what);
          else if (needed !== "public") expect([401, 403], what).not.toContain(res.statusCode);
          checked++;
        }
      }
    }
    expect(checked).toBe(Object.keys(EXPECTED).length * ROLES.length);
  });

  it("sends a visitor of a page to the sign-in page, and serves its scripts and styles to anyone", async () => {
    for (const page of ["/", "/runs.html", "/models.html", "/flows.html", "/monitoring.html"]) {
      const res = await app.inject({ method: "GET", url: page });
      expect(res.statusCode, page).toBe(303);
      expect(res.headers.location).toBe(`/sign-in.html?next=${encodeURIComponent(page)}`);
      const viewer = await app.inject({
        method: "GET",
        url: page,
        headers: { authorization: `Bearer ${tokens.viewer}` },
      });
      expect(viewer.statusCode, `${page} as viewer`).toBe(200);
    }
    for (const file of ["/sign-in.html", "/app.css", "/js/api.js", "/favicon.svg"]) {
      expect((await app.inject({ method: "GET", url: file })).statusCode, file).toBe(200);
    }
  });

  it("refuses a bad token as 401 whatever the route, and then an address that keeps guessing", async () => {
    const guess = () =>
      app.inject({
        method: "GET",
        url: "/api/v1/models",
        headers: { authorization: "Bearer rk_guess" },
        remoteAddress: "203.0.113.9",
      });
    expectProblem(await guess(), 401, "UNAUTHENTICATED", "a guessed token");
    let last = await guess();
    for (let i = 0; i < 40 && last.statusCode === 401; i++) last = await guess();
    expectProblem(last, 429, "RATE_LIMITED", "the 31st guess in a minute");
    // Another address, with a good token, is not affected.
    const other = await app.inject({
      method: "GET",
      url: "/api/v1/models",
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    expect(other.statusCode).toBe(200);
  });
});

describe("docs/security.md", () => {
  it("lists every route with the role the route table gives it", () => {
    const doc = readFileSync(new URL("../../docs/security.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| (GET|POST|PUT|DELETE) +\| `([^`]+)` +\| (\w+) +\|$/gm)].map(
      (m) => [`${m[1]} ${m[2]}`, m[3]],
    );
    const table = Object.entries(ROUTE_ACCESS).map(([route, access]) => [
      route.replace(/:(\w+)/g, "{$1}").replace("*", "{path}"),
      access,
    ]);
    expect(rows).toEqual(table);
  });
});

describe("open mode", () => {
  it("lets callers without credentials read and score as the clerk local, never approve", async () => {
    const open = await buildApp(world.ctx, { modelPollMs: 0, access: "open" });
    try {
      expect((await open.inject({ method: "GET", url: "/api/v1/models" })).statusCode).toBe(200);
      expect((await open.inject({ method: "GET", url: "/" })).statusCode).toBe(200);
      const session = (await open.inject({ method: "GET", url: "/api/v1/session" })).json();
      expect(session).toMatchObject({ access: "open", user: { name: "local", role: "clerk" } });
      const move = await open.inject({
        method: "PUT",
        url: "/api/v1/models/credit-risk/aliases/champion",
        payload: { version: 2, note: "x" },
      });
      expectProblem(move, 401, "UNAUTHENTICATED", "an anonymous alias move in open mode");
      const users = await open.inject({ method: "GET", url: "/api/v1/users" });
      expectProblem(users, 401, "UNAUTHENTICATED", "the user list in open mode");
    } finally {
      await open.close();
    }
  });
});
