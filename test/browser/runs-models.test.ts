/**
 * The runs and models pages in a real browser (Debian's Chromium driven by playwright-core)
 * against the app listening on an ephemeral port: search, sort, filter errors, paging, compare
 * with plots, and the promotion form's refusal and success. Screenshots go to
 * /tmp/riskometer-shots for a human to look at.
 */
import { mkdir } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/browser.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/serving/index.js";
import { type SeededWorld, seedWorld } from "../api/fixtures.js";

const SHOTS = "/tmp/riskometer-shots";

let world: SeededWorld;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors and uncaught exceptions (CSP violations show up here too). */
let pageErrors: string[];

beforeAll(async () => {
  world = await seedWorld();
  app = await buildApp(world.ctx, { access: "open" });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await world?.close();
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
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

/** Names in the runs table, top to bottom. */
const runNames = () => page.locator("#runs-body a.run-name").allTextContents();

/** The cells of one metric column, as numbers. */
async function metricColumn(key: string): Promise<number[]> {
  const headers = await page.locator("#runs-head th").allTextContents();
  const index = headers.findIndex((t) => t.replace(/[▲▼]/g, "").trim() === key);
  expect(index, `column ${key}`).toBeGreaterThan(-1);
  const cells = await page.locator(`#runs-body tr td:nth-child(${index + 1})`).allTextContents();
  return cells.map(Number);
}

async function openRuns(query = "") {
  await page.goto(`${base}/runs.html${query}`);
  await page.locator("#runs-body a.run-name").first().waitFor();
}

describe("runs page", () => {
  it("lists the seeded runs with the chosen metric columns", async () => {
    await openRuns();
    expect((await runNames()).sort()).toEqual([
      "baseline-logistic",
      "candidate-forest",
      "candidate-gbdt",
      "candidate-logistic",
      "weekly-retrain",
    ]);
    await expect
      .poll(() => page.locator("#result-summary").textContent())
      .toBe("Showing 1–5 of 5 runs");
    expect(await metricColumn("cv_auc")).toHaveLength(5);
    await page.screenshot({ path: `${SHOTS}/runs.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("sorts by a metric column when its header is clicked, both ways", async () => {
    await openRuns();
    const header = page.locator('#runs-head button[data-field="metrics.cv_cost"]');
    await header.click();
    await expect.poll(() => page.url()).toContain("orderBy=metrics.cv_cost+DESC");
    await expect.poll(() => runNames().then((n) => n[0])).toBe("baseline-logistic");
    const desc = await metricColumn("cv_cost");
    expect(desc.slice(0, 4)).toEqual([0.61, 0.58, 0.55, 0.52]);
    expect(await page.locator('th[aria-sort="descending"]').count()).toBe(1);

    await header.click();
    await expect.poll(() => runNames().then((n) => n[0])).toBe("candidate-gbdt");
    expect((await metricColumn("cv_cost")).slice(0, 4)).toEqual([0.52, 0.55, 0.58, 0.61]);
    expect(pageErrors).toEqual([]);
  });

  it("adds and removes metric columns from the chooser", async () => {
    await openRuns();
    await page.getByText("Metric columns").click();
    const recall = page.getByRole("checkbox", { name: "test_recall" });
    await recall.check();
    expect(await metricColumn("test_recall")).toEqual(expect.arrayContaining([0.7, 0.67, 0.64]));
    await expect.poll(() => recall.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByRole("checkbox", { name: "cv_auc", exact: true }).uncheck();
    const headers = await page.locator("#runs-head th").allTextContents();
    expect(headers).not.toContain("cv_auc");
    expect(headers).toContain("test_recall");
    expect(pageErrors).toEqual([]);
  });

  it("narrows the rows with a filter", async () => {
    await openRuns();
    await page.getByLabel("Filter").fill("params.kind IN ('gbdt','forest')");
    await page.getByLabel("Filter").press("Enter");
    await expect
      .poll(() => runNames().then((n) => n.sort()))
      .toEqual(["candidate-forest", "candidate-gbdt"]);
    expect(await page.locator("#result-summary").textContent()).toBe("Showing 1–2 of 2 runs");
    expect(pageErrors).toEqual([]);
  });

  it("shows the server's message for an invalid filter", async () => {
    await openRuns();
    await page.getByLabel("Filter").fill("metrics.test_auc >> 0.7");
    await page.getByRole("button", { name: "Apply" }).click();
    const alert = page.locator("#search-error .problem");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/position \d+/);
    expect(await alert.textContent()).toContain("INVALID_QUERY");
    expect(await page.getByLabel("Filter").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#runs-body tr").count()).toBe(0);
    // The browser logs the 400 response itself; nothing else may go wrong.
    expect(pageErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });

  it("pages through the runs with next and previous", async () => {
    await openRuns("?pageSize=2&orderBy=name+ASC");
    const summary = page.locator("#result-summary");
    await expect.poll(() => summary.textContent()).toBe("Showing 1–2 of 5 runs");
    expect(await runNames()).toEqual(["baseline-logistic", "candidate-forest"]);
    await page.getByRole("button", { name: "Next →" }).click();
    await expect.poll(() => summary.textContent()).toBe("Showing 3–4 of 5 runs");
    expect(await runNames()).toEqual(["candidate-gbdt", "candidate-logistic"]);
    await page.getByRole("button", { name: "Next →" }).click();
    await expect.poll(() => summary.textContent()).toBe("Showing 5–5 of 5 runs");
    expect(await page.getByRole("button", { name: "Next →" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "← Previous" }).click();
    await expect.poll(() => runNames()).toEqual(["candidate-gbdt", "candidate-logistic"]);
    expect(pageErrors).toEqual([]);
  });

  it("compares two selected runs with params, metrics and plots side by side", async () => {
    await openRuns();
    const compare = page.locator("#compare-button");
    expect(await compare.isDisabled()).toBe(true);
    await page.getByLabel("Select run candidate-gbdt").check();
    expect(await compare.isDisabled()).toBe(true);
    await page.getByLabel("Select run candidate-forest").check();
    await compare.click();

    const view = page.locator("#compare-view");
    await view.locator("img").first().waitFor();
    expect(await page.locator("#list-view").isHidden()).toBe(true);
    const headers = await view
      .locator(".compare-table")
      .first()
      .locator("thead th")
      .allTextContents();
    expect(headers.join(" ")).toContain("candidate-gbdt");
    expect(headers.join(" ")).toContain("candidate-forest");
    // kind differs between the two runs: its row is highlighted and labelled.
    const diffRows = await view.locator("tr.diff th").allTextContents();
    expect(diffRows).toContain("kinddiffers");
    expect(diffRows).not.toContain("stagediffers"); // both are candidates: same tag, no highlight

    const rocs = view.locator('img[alt^="ROC curve of run"]');
    expect(await rocs.count()).toBe(2);
    await expect
      .poll(() =>
        rocs.evaluateAll((imgs) =>
          imgs.map(
            (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth,
          ),
        ),
      )
      .toEqual([320, 320]);
    // Every plot (not only the ROC curves) loads before the screenshot.
    await expect
      .poll(() =>
        view
          .locator("img")
          .evaluateAll((imgs) => imgs.every((img) => (img as HTMLImageElement).naturalWidth > 0)),
      )
      .toBe(true);
    await page.screenshot({ path: `${SHOTS}/compare.png`, fullPage: true });

    await page.getByRole("button", { name: "← Back to runs" }).click();
    expect(await page.locator("#list-view").isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it("opens a run's details from its name, with parent and children by name", async () => {
    await openRuns("?filter=params.kind+%3D+%27forest%27");
    // The parent is not on this page: its name is looked up and replaces the short id.
    await expect
      .poll(() => page.locator("#runs-body tr td:nth-child(5)").textContent())
      .toBe("weekly-retrain");
    await page.getByRole("link", { name: "weekly-retrain" }).click();
    await expect.poll(() => page.locator("#compare-heading").textContent()).toBe("Run details");
    await expect.poll(() => page.url()).toContain(`compare=${world.runs.parent}`);
    const children = page.locator("#compare-content tr", { hasText: "Child runs" });
    await expect
      .poll(() => children.locator("a").allTextContents())
      .toEqual(["candidate-gbdt", "candidate-forest", "candidate-logistic"]);
    expect(pageErrors).toEqual([]);
  });
});

describe("models page", () => {
  it("shows versions and the champion badge, refuses a promotion without a note, then promotes", async () => {
    await page.goto(`${base}/models.html`);
    const v1 = page.locator('#versions-body tr[data-version="1"]');
    const v2 = page.locator('#versions-body tr[data-version="2"]');
    await v1.waitFor();
    expect(await v2.locator("th").textContent()).toContain("v2");
    expect(await v1.locator(".badge.champion").textContent()).toBe("champion");
    expect(await v2.locator(".badge.champion").count()).toBe(0);
    expect(await page.locator("#audit-body tr").count()).toBe(1);

    await page.getByLabel("Version", { exact: true }).selectOption("2");
    expect(await page.getByLabel("Alias", { exact: true }).inputValue()).toBe("champion");
    await page.getByLabel("API token").fill(world.tokens.bob);
    await page.getByRole("button", { name: "Move alias" }).click();
    const refusal = page.locator("#promote-result .problem");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("The promotion was refused");
    expect(await refusal.textContent()).toContain("needs a note");
    expect(await v1.locator(".badge.champion").count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/models.png`, fullPage: true });

    // The token survives a reload (session storage), and a note makes the move go through.
    await page.reload();
    await v1.waitFor();
    expect(await page.getByLabel("API token").inputValue()).toBe(world.tokens.bob);
    await page.getByLabel("Version", { exact: true }).selectOption("2");
    await page
      .getByLabel("Note", { exact: true })
      .fill("Forest has the lower test cost; ticket CR-1024");
    await page.getByRole("button", { name: "Move alias" }).click();
    await page.locator("#promote-result .notice").waitFor();
    await expect.poll(() => v2.locator(".badge.champion").count()).toBe(1);
    expect(await page.locator("#audit-body tr").count()).toBe(2);
    expect(await page.locator("#audit-body tr").first().textContent()).toContain("CR-1024");
    await page.screenshot({ path: `${SHOTS}/models-promoted.png`, fullPage: true });
    expect(pageErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });
});
