/**
 * Signing in, in a real browser against a secured server: a clerk signs in, scores a file and
 * signs out, after which the old cookie gets 401 from the API; the first admin opens the one-time
 * link and sets a password; the pages show who is signed in and hide what the role may not do.
 * Screenshots go to /tmp/riskometer-shots/sign-in-*.png.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/serving/index.js";
import { launchChromium } from "../support/browser.js";
import { type TrainedWorld, creditRows, toCsv, trainedWorld } from "./riskometer-fixtures.js";
import { summaryStatsOf, unexpectedErrors, uploadThrough } from "./riskometer-page.js";

const SHOTS = "/tmp/riskometer-shots";
const PASSWORD = "a long clerk passphrase";

let world: TrainedWorld;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let files: string;
let pageErrors: string[];

beforeAll(async () => {
  world = await trainedWorld();
  await world.ctx.users.createUser("clara", "clerk");
  await world.ctx.users.setPassword("clara", PASSWORD);
  await world.ctx.users.createUser("vera", "viewer");
  await world.ctx.users.setPassword("vera", PASSWORD);
  app = await buildApp(world.ctx, { access: "secured", modelPollMs: 0 });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
  files = await mkdtemp(join(tmpdir(), "riskometer-sign-in-"));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await world?.close();
  if (files) await rm(files, { recursive: true, force: true });
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
  pageErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") pageErrors.push(msg.text());
  });
  page.on("pageerror", (err) => pageErrors.push(err.message));
});

afterEach(async () => {
  await context?.close();
});

async function signIn(user: string, password: string) {
  await page.locator("#sign-in-user").fill(user);
  await page.locator("#sign-in-password").fill(password);
  await page.locator("#sign-in-submit").click();
}

describe("signing in", () => {
  it("lets a clerk sign in, score a file and sign out; the old cookie then gets 401", async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/sign-in\.html\?next=%2F$/);
    expect(await page.locator("#sign-in-message").textContent()).toMatch(/Sign in to open/);
    await signIn("clara", "not the password");
    await expect
      .poll(() => page.locator("#sign-in-error").textContent())
      .toBe("the user name or the password is wrong");
    await page.screenshot({ path: `${SHOTS}/sign-in-refused.png` });

    await signIn("clara", PASSWORD);
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.locator("#signed-in-user").textContent()).toBe("clara (clerk)");
    expect(await page.getByRole("link", { name: "Access log" }).count()).toBe(0);
    await expect
      .poll(() => page.locator("#model-status").getAttribute("class"))
      .toContain("is-ready");
    const csv = join(files, "applicants.csv");
    await writeFile(csv, toCsv(await creditRows(25)));
    await uploadThrough(page, csv);
    expect((await summaryStatsOf(page))["Scored"]).toBe(25);
    await page.screenshot({ path: `${SHOTS}/sign-in-scored.png` });

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "riskometer_session", httpOnly: true, sameSite: "Lax" });
    await page.locator("#sign-out").click();
    await page.waitForURL(/\/sign-in\.html\?signed-out=1$/);
    expect(await page.locator("#sign-in-message").textContent()).toBe("You are signed out.");
    const after = await fetch(`${base}/api/v1/models`, {
      headers: { cookie: `${cookie.name}=${cookie.value}` },
    });
    expect(after.status).toBe(401);
    await page.goto(`${base}/runs.html`);
    await page.waitForURL(/\/sign-in\.html\?next=%2Fruns\.html$/);
    expect(unexpectedErrors(pageErrors)).toEqual([]);
  });

  it("takes the first admin through the one-time link to a password, then to an approver's page", async () => {
    await world.ctx.users.createUser("root", "admin");
    const secret = await world.ctx.sessions.issueLink("root");
    await page.goto(`${base}/sign-in/link?token=${secret}`);
    await page.waitForURL(/\/sign-in\.html\?set-password=1$/);
    await page.locator("#set-password-section").waitFor();
    expect(await page.locator("#set-password-for").textContent()).toMatch(
      /Signed in as root with a one-time link/,
    );
    await page.locator("#new-password").fill("short");
    await page.locator("#new-password-again").fill("short");
    await page.locator("#set-password-submit").click();
    expect(await page.locator("#set-password-error").textContent()).toMatch(/at least 12/);
    await page.locator("#new-password").fill("the admin's own passphrase");
    await page.locator("#new-password-again").fill("the admin's own passphrase");
    await page.screenshot({ path: `${SHOTS}/sign-in-set-password.png` });
    await page.locator("#set-password-submit").click();
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.locator("#signed-in-user").textContent()).toBe("root (admin)");

    await page.goto(`${base}/models.html`);
    await expect.poll(() => page.locator("#signed-in-user").textContent()).toBe("root (admin)");
    // An admin may move aliases, signed in: the form is there, without a token field.
    expect(await page.locator("#promote-form").isVisible()).toBe(true);
    expect(await page.locator("#promote-token").isVisible()).toBe(false);
    // An admin reads the access log from the page.
    await page.getByRole("link", { name: "Access log" }).click();
    await page.waitForURL(`${base}/access-log.html`);
    await expect.poll(() => page.locator("#log-body tr").count()).toBeGreaterThan(0);
    const log = (await page.locator("#log-body").textContent()) ?? "";
    expect(log).toContain("sign-in");
    expect(log).toContain("score");
    await page.screenshot({ path: `${SHOTS}/sign-in-access-log.png`, fullPage: true });
    // The link was spent.
    const again = await fetch(`${base}/sign-in/link?token=${secret}`, { redirect: "manual" });
    expect(again.headers.get("location")).toBe("/sign-in.html?link=spent");
    expect(unexpectedErrors(pageErrors)).toEqual([]);
  });

  it("hides an approver's controls from a viewer", async () => {
    await page.goto(`${base}/models.html`);
    await page.waitForURL(/sign-in\.html/);
    await signIn("vera", PASSWORD);
    await page.waitForURL(`${base}/models.html`);
    await expect.poll(() => page.locator("#signed-in-user").textContent()).toBe("vera (viewer)");
    await expect
      .poll(() => page.locator('section[aria-labelledby="promote-heading"]').isHidden())
      .toBe(true);
    // The Risk-O-Meter says why a viewer cannot score, instead of offering forms that fail.
    await page.getByRole("link", { name: "Risk-O-Meter" }).click();
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.locator("#role-note").isVisible()).toBe(true);
    expect(await page.locator("#scoring").isHidden()).toBe(true);
    expect(unexpectedErrors(pageErrors)).toEqual([]);
  });
});
