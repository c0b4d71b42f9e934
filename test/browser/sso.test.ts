/**
 * Single sign-on against a real OpenID provider started here (oidc-provider, a certified
 * implementation), in a real browser: the sign-in page sends the person to the provider, the
 * provider's own login and consent pages sign them in, and Riskometer takes them back with the
 * role their claim maps to (authorization code flow with PKCE, state and nonce). A user the claim
 * gives no role, and a forged return, are refused on the sign-in page.
 */
import type { Server } from "node:http";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessLog } from "../../src/auth/access-log.js";
import { loadConfig } from "../../src/core/config.js";
import { buildApp } from "../../src/serving/index.js";
import { type SeededWorld, seedWorld } from "../api/fixtures.js";
import { launchChromium } from "../support/browser.js";
import { freePort } from "../support/free-port.js";

const SHOTS = "/tmp/riskometer-shots";
/** The provider's accounts and the groups its `roles` claim carries. */
const ACCOUNTS: Record<string, string[]> = {
  olga: ["risk-approvers", "staff"],
  nobody: ["staff"],
};

let world: SeededWorld;
let app: FastifyInstance;
let provider: Server;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  world = await seedWorld();
  const [appPort, providerPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${appPort}`;
  const issuer = `http://127.0.0.1:${providerPort}`;
  const { default: Provider } = await import("oidc-provider");
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: "riskometer",
        client_secret: "riskometer-test-secret",
        redirect_uris: [`${base}/sign-in/oidc/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], profile: ["preferred_username"], roles: ["roles"] },
    scopes: ["openid", "profile", "roles"],
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, roles: ACCOUNTS[id] ?? [] }),
    }),
    cookies: { keys: ["riskometer-test-cookie-key"] },
    features: { devInteractions: { enabled: true } },
  });
  provider = oidc.listen(providerPort) as Server;
  const config = loadConfig(
    {},
    {
      ...world.ctx.config,
      oidcIssuer: issuer,
      oidcClientId: "riskometer",
      oidcClientSecret: "riskometer-test-secret",
      oidcScopes: "openid profile roles",
      oidcRoleClaim: "roles",
      oidcRoles: "risk-admins=admin,risk-approvers=approver,risk-clerks=clerk",
    },
  );
  app = await buildApp({ ...world.ctx, config }, { access: "secured", modelPollMs: 0 });
  await app.listen({ host: "127.0.0.1", port: appPort });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await new Promise((r) => (provider ? provider.close(r) : r(null)));
  await world?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
});

afterEach(async () => {
  await context?.close();
});

/** Through the provider's own login and consent pages, as the person would. */
async function signInAtProvider(login: string) {
  await page.goto(`${base}/models.html`);
  await page.waitForURL(/\/sign-in\.html/);
  await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
  await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  // The provider asks once to let Riskometer see the profile and roles.
  await page.locator('button[type="submit"]').click();
}

describe("single sign-on", () => {
  it("signs a person in at the provider and back, with the role their claim maps to", async () => {
    await signInAtProvider("olga");
    await page.waitForURL(`${base}/models.html`);
    await expect.poll(() => page.locator("#signed-in-user").textContent()).toBe("olga (approver)");
    await page.screenshot({ path: `${SHOTS}/sso-signed-in.png` });
    expect(await world.ctx.users.getUser("olga")).toMatchObject({ role: "approver" });
    const session = await page.evaluate(async () => (await fetch("/api/v1/session")).json());
    expect(session).toMatchObject({ via: "sso", user: { name: "olga", role: "approver" } });
    const log = new AccessLog(world.ctx.database);
    await app.inject({ url: "/healthz" });
    await new Promise((r) => setTimeout(r, 300)); // the access log writes every 200 ms
    const entries = await log.list({ user: "olga", action: "sign-in" });
    expect(entries[0]).toMatchObject({ detail: "sso", status: 200 });
  });

  it("refuses a person the claim gives no role, saying why on the sign-in page", async () => {
    await signInAtProvider("nobody");
    await page.waitForURL(/\/sign-in\.html\?sso-error=/);
    expect(await page.locator("#sign-in-error").textContent()).toMatch(
      /Single sign-on did not sign you in: nobody has no Riskometer role/,
    );
    expect(await world.ctx.users.getUser("nobody").catch(() => null)).toBeNull();
  });

  it("refuses a return from the provider that no sign-in here began", async () => {
    const res = await fetch(`${base}/sign-in/oidc/callback?code=forged&state=forged`, {
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(decodeURIComponent(res.headers.get("location") ?? "")).toMatch(
      /sso-error=this single sign-on has no pending sign-in here/,
    );
    expect(res.headers.get("set-cookie") ?? "").not.toMatch(/riskometer_session=[^;]/);
  });
});
