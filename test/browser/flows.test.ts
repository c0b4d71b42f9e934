/**
 * The flows page in a real browser (Debian's Chromium driven by playwright-core) against the app
 * listening on an ephemeral port: the flows with their schedules, the run history (seeded with
 * the flow store: a completed, a failed and a running retry) and its filter, one run's steps,
 * result and log, the refresh while a run is under way, and the trigger form's refusals and
 * queued runs, from the mouse and the keyboard. No worker runs here, so queued runs stay
 * SCHEDULED. Screenshots go to /tmp/riskometer-shots/flows-*.png.
 */
import { mkdir } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { launchChromium } from "../support/browser.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SqlFlowStore } from "../../src/flows/flow-store.js";
import type { FlowRun } from "../../src/flows/flow-types.js";
import { buildApp } from "../../src/serving/index.js";
import { type SeededWorld, seedWorld } from "../api/fixtures.js";

const SHOTS = "/tmp/riskometer-shots";
const TOKEN_KEY = "riskometer.apiToken";

let world: SeededWorld;
let store: SqlFlowStore;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console errors and uncaught exceptions (CSP violations show up here too). */
let pageErrors: string[];

/** The seeded runs: newest first in the history is running, failed, completed. */
const seeded = {} as { completed: FlowRun; failed: FlowRun; running: FlowRun };
const RESULT = {
  trainingRunId: "run-0042",
  chosen: "gbdt",
  model: { name: "credit-risk", version: 3 },
  servingByBootstrap: false,
};
const TAGGED_MESSAGE = "candidate <b>gbdt</b> chosen";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function seedRuns(now: number) {
  // A scheduled retrain three hours ago: two steps, 97 s in all, a result and three log lines.
  const t1 = now - 3 * HOUR;
  const completed = await store.createRun({
    flow: "retrain",
    trigger: "schedule",
    scheduledFor: t1,
    params: { trials: 20, seed: 0, top: 5 },
    maxAttempts: 2,
    createdAt: t1,
  });
  await store.claim(completed!.id, "worker-a:1", t1 + 1000);
  await store.setSteps(completed!.id, [
    { name: "load data", startedAt: t1 + 1000, endedAt: t1 + 3000, state: "COMPLETED" },
    { name: "train and register", startedAt: t1 + 3000, endedAt: t1 + 98_000, state: "COMPLETED" },
  ]);
  await store.appendLogs(completed!.id, [
    { seq: 1, at: t1 + 1500, level: "info", message: "1000 rows, 300 bad, sha256 0123456789ab" },
    { seq: 2, at: t1 + 4000, level: "info", message: "training run run-0042" },
    { seq: 3, at: t1 + 97_000, level: "warn", message: TAGGED_MESSAGE },
  ]);
  await store.finish(completed!.id, { state: "COMPLETED", at: t1 + 98_000, result: RESULT });

  // A scheduled drift report two hours ago that failed after 4 s…
  const t2 = now - 2 * HOUR;
  const failed = await store.createRun({
    flow: "drift-report",
    trigger: "schedule",
    scheduledFor: t2,
    params: { windowHours: 3, minDecisions: 200 },
    maxAttempts: 3,
    createdAt: t2,
  });
  await store.claim(failed!.id, "worker-b:7", t2 + 1000);
  await store.setSteps(failed!.id, [
    { name: "read decisions", startedAt: t2 + 1000, endedAt: t2 + 5000, state: "FAILED" },
  ]);
  await store.appendLogs(failed!.id, [
    { seq: 1, at: t2 + 5000, level: "error", message: "database is locked" },
  ]);
  await store.finish(failed!.id, {
    state: "FAILED",
    at: t2 + 5000,
    error: "decision log unavailable: database is locked",
  });

  // …and its retry, under way since a minute later.
  const t3 = t2 + MINUTE;
  const running = await store.createRun({
    flow: "drift-report",
    trigger: "retry",
    scheduledFor: t3,
    params: { windowHours: 3, minDecisions: 200 },
    maxAttempts: 3,
    attempt: 2,
    retryOf: failed!.id,
    createdAt: t3,
  });
  await store.claim(running!.id, "worker-b:7", t3 + 1000);
  await store.setSteps(running!.id, [
    { name: "read decisions", startedAt: t3 + 1000, endedAt: null, state: "RUNNING" },
  ]);
  await store.appendLogs(running!.id, [
    { seq: 1, at: t3 + 1000, level: "info", message: "retrying after a failure" },
  ]);

  seeded.completed = await store.getRun(completed!.id);
  seeded.failed = await store.getRun(failed!.id);
  seeded.running = await store.getRun(running!.id);
}

beforeAll(async () => {
  world = await seedWorld();
  store = new SqlFlowStore(world.ctx.database);
  await seedRuns(Date.now());
  app = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
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
  // A laptop screen: the page must work at 1366×768.
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

/** Errors other than the browser's own log line for an expected 4xx response. */
const unexpectedErrors = () =>
  pageErrors.filter((e) => !/the server responded with a status of 4\d\d/.test(e));

const short = (id: string) => id.slice(0, 8);

async function openFlows(query = "") {
  await page.goto(`${base}/flows.html${query}`);
  await page.locator(".flow-card").first().waitFor();
  await page.locator("#history-body tr[data-run-id]").first().waitFor();
}

const card = (flow: string) => page.locator(`.flow-card[data-flow="${flow}"]`);

/** The value of a labelled fact (`<dt>` label, `<dd>` value) in a card or the run details. */
const fact = (scope: Locator, label: string) =>
  scope
    .locator(".facts > div")
    .filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
    .locator("dd");

const row = (id: string) => page.locator(`#history-body tr[data-run-id="${id}"]`);
const historyIds = () =>
  page
    .locator("#history-body tr[data-run-id]")
    .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.runId));

interface FlowInfo {
  readonly name: string;
  readonly nextRun: string | null;
}

/** The flows as the API describes them, to compare the page with. */
async function flowInfo(): Promise<FlowInfo[]> {
  const res = await fetch(`${base}/api/v1/flows`);
  return ((await res.json()) as { flows: FlowInfo[] }).flows;
}

describe("flows page", () => {
  it("lists the flows with their schedules, next run, policies and last run", async () => {
    await openFlows();
    expect(await page.title()).toBe("Flows · Riskometer");
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.locator("a").allTextContents()).toEqual([
      "Risk-O-Meter",
      "Runs",
      "Models",
      "Flows",
      "Monitoring",
    ]);
    expect(await nav.getByRole("link", { name: "Flows" }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(await nav.locator("a[aria-current]").count()).toBe(1);

    expect(await page.locator(".flow-card h3").allTextContents()).toEqual([
      "retrain",
      "drift-report",
      "retention",
    ]);
    // Without a retention period the retention flow has nothing to do, so no schedule.
    expect(await fact(card("retention"), "Schedule").textContent()).toBe("not scheduled");
    expect(await card("retrain").locator(".flow-description").textContent()).toContain(
      "register the best as a new version",
    );
    expect(await fact(card("retrain"), "Schedule").textContent()).toBe("cron 0 2 * * 0 (UTC)");
    expect(await fact(card("drift-report"), "Schedule").textContent()).toBe("every 3 h");

    // The next run is the server's, in local time, with how far off it is.
    const info = await flowInfo();
    for (const flow of info.filter((f) => f.nextRun !== null)) {
      const next = fact(card(flow.name), "Next run");
      expect(await next.locator("time").getAttribute("datetime")).toBe(flow.nextRun);
      expect(await next.locator("time").textContent()).toMatch(/\d{2}:\d{2}/);
    }
    expect(await fact(card("retrain"), "Next run").locator(".relative").textContent()).toMatch(
      /^\(in (\d+ min|\d+ h|\d+ days)\)$/,
    );
    // every 3 h, clock-aligned: the next slot is at most three hours away.
    expect(await fact(card("drift-report"), "Next run").locator(".relative").textContent()).toMatch(
      /^\(in (under a minute|\d+ min|[1-3] h)\)$/,
    );

    expect(await fact(card("retrain"), "Late runs").textContent()).toBe(
      "latest — after downtime, only the latest missed slot runs",
    );
    expect(await fact(card("retrain"), "Attempts").textContent()).toBe(
      "2 in all · times out after 2 h",
    );
    expect(await fact(card("drift-report"), "Attempts").textContent()).toBe(
      "3 in all · times out after 30 min",
    );
    const lastRetrain = fact(card("retrain"), "Last run");
    expect(await lastRetrain.locator(".badge").textContent()).toBe("completed");
    expect(await lastRetrain.locator("time").getAttribute("datetime")).toBe(
      new Date(seeded.completed.endedAt!).toISOString(),
    );
    expect(await lastRetrain.locator(".relative").textContent()).toBe("(3 h ago)");
    expect(await lastRetrain.getByRole("link").getAttribute("aria-label")).toBe(
      `Details of run ${short(seeded.completed.id)}`,
    );
    expect(await lastRetrain.getByRole("link").textContent()).toBe(short(seeded.completed.id));
    expect(await fact(card("drift-report"), "Last run").locator(".badge").textContent()).toBe(
      "running",
    );

    await page.screenshot({ path: `${SHOTS}/flows.png` });
    await page.screenshot({ path: `${SHOTS}/flows-full.png`, fullPage: true });
    expect(unexpectedErrors()).toEqual([]);
  });

  it("shows the run history newest first with state badges and durations, and filters by flow", async () => {
    await openFlows();
    const { completed, failed, running } = seeded;
    expect(await historyIds()).toEqual([running.id, failed.id, completed.id]);
    expect(await page.locator("#history-summary").textContent()).toBe("3 runs, newest first.");

    const cells = async (id: string) =>
      (await row(id).locator("td").allTextContents()).map((t) => t.trim());
    expect(await cells(completed.id)).toEqual([
      short(completed.id),
      "completed",
      "retrain",
      "schedule",
      "1/2",
      expect.stringMatching(/\d{2}:\d{2}/),
      "1 min 37 s",
      "worker-a:1",
    ]);
    expect(await cells(failed.id)).toEqual([
      short(failed.id),
      "failed",
      "drift-report",
      "schedule",
      "1/3",
      expect.stringMatching(/\d{2}:\d{2}/),
      "4 s",
      "worker-b:7",
    ]);
    const runningCells = await cells(running.id);
    expect(runningCells.slice(1, 5)).toEqual([
      "running",
      "drift-report",
      `retryof ${short(failed.id)}`,
      "2/3",
    ]);
    expect(runningCells[6]).toMatch(/^1 h 5\d min$/);
    expect(await row(completed.id).locator("time").getAttribute("datetime")).toBe(
      new Date(completed.scheduledFor).toISOString(),
    );

    // Green done, red failed, blue under way.
    const badgeColour = (id: string) =>
      row(id)
        .locator(".badge")
        .evaluate((el) => getComputedStyle(el).color);
    expect(await badgeColour(completed.id)).toBe("rgb(11, 110, 61)");
    expect(await badgeColour(failed.id)).toBe("rgb(164, 22, 26)");
    expect(await badgeColour(running.id)).toBe("rgb(22, 62, 115)");

    await page.locator("#history-flow").selectOption("retrain");
    await expect.poll(historyIds).toEqual([completed.id]);
    expect(page.url()).toContain("?flow=retrain");
    expect(await page.locator("#history-summary").textContent()).toBe("1 run, newest first.");
    await page.locator("#history-flow").selectOption("drift-report");
    await expect.poll(historyIds).toEqual([running.id, failed.id]);
    await page.locator("#history-flow").selectOption("");
    await expect.poll(historyIds).toEqual([running.id, failed.id, completed.id]);
    expect(page.url()).not.toContain("flow=");

    // The filter is in the URL, so a filtered view can be bookmarked.
    await openFlows("?flow=retrain");
    expect(await page.locator("#history-flow").inputValue()).toBe("retrain");
    expect(await historyIds()).toEqual([completed.id]);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("opens a run with its parameters, steps, result and log, markup in messages as text", async () => {
    await openFlows();
    const { completed, failed } = seeded;
    await page
      .getByRole("link", { name: `Details of run ${short(completed.id)}` })
      .first()
      .click();
    const title = page.locator("#run-title");
    await expect.poll(() => title.textContent()).toBe(`Run ${short(completed.id)} · retrain`);
    await page.locator("#run-body:not([hidden])").waitFor();
    expect(await title.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(page.url()).toContain(`?run=${completed.id}`);
    expect(await page.locator("#run-state .badge").textContent()).toBe("completed");
    expect(await row(completed.id).getAttribute("class")).toContain("is-selected");

    const detail = page.locator("#run-detail");
    expect(await fact(detail, "Run id").textContent()).toBe(completed.id);
    expect(await fact(detail, "Attempt").textContent()).toBe("1 of 2");
    expect(await fact(detail, "Duration").textContent()).toBe("1 min 37 s");
    expect(await fact(detail, "Worker").textContent()).toBe("worker-a:1");
    expect(await page.locator("#run-params-body tr").allInnerTexts()).toEqual([
      "trials\t20",
      "seed\t0",
      "top\t5",
    ]);
    expect(await page.locator("#run-steps-body tr").allInnerTexts()).toEqual([
      expect.stringMatching(/^load data\tcompleted\t\d{2}:\d{2}:\d{2}( [AP]M)?\t2 s$/),
      expect.stringMatching(
        /^train and register\tcompleted\t\d{2}:\d{2}:\d{2}( [AP]M)?\t1 min 35 s$/,
      ),
    ]);
    expect(await page.locator("#run-steps-body time").first().getAttribute("datetime")).toBe(
      new Date(completed.createdAt + 1000).toISOString(),
    );
    expect(JSON.parse((await page.locator("#run-result pre").textContent()) ?? "")).toEqual(RESULT);
    expect(await page.locator("#run-result pre").textContent()).toContain('"version": 3');
    expect(await page.locator("#run-failure").textContent()).toBe("");

    const lines = page.locator("#run-log .log-line");
    expect(await lines.locator(".log-message").allTextContents()).toEqual([
      "1000 rows, 300 bad, sha256 0123456789ab",
      "training run run-0042",
      TAGGED_MESSAGE,
    ]);
    expect(await lines.locator(".log-level").allTextContents()).toEqual(["info", "info", "warn"]);
    expect(await lines.nth(2).locator("time").getAttribute("datetime")).toBe(
      new Date(completed.createdAt + 97_000).toISOString(),
    );
    // The <b> of the message is text: no element was made of it.
    expect(await page.locator("#run-log b").count()).toBe(0);
    expect(await page.locator("#run-log").getAttribute("role")).toBe("log");
    await detail.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/flows-run.png`, fullPage: true });

    // The failed run shows its error and its failed step.
    await row(failed.id).getByRole("link").click();
    await expect.poll(() => title.textContent()).toBe(`Run ${short(failed.id)} · drift-report`);
    await expect
      .poll(() => page.locator("#run-failure .problem-detail").textContent())
      .toBe("decision log unavailable: database is locked");
    expect(await page.locator("#run-failure .problem-title").textContent()).toBe(
      "The run ended failed",
    );
    expect(await page.locator("#run-steps-body .badge").textContent()).toBe("failed");
    expect(await page.locator("#run-result").textContent()).toBe("No result.");
    expect(await page.locator("#run-log .log-line.level-error .log-message").textContent()).toBe(
      "database is locked",
    );

    // Closing returns to the run's row; the back button reopens the previous run.
    await page.getByRole("button", { name: "Close details" }).click();
    expect(await detail.isHidden()).toBe(true);
    expect(
      await row(failed.id)
        .getByRole("link")
        .evaluate((el) => el === document.activeElement),
    ).toBe(true);
    expect(page.url()).not.toContain("run=");
    await page.goBack();
    await expect.poll(() => title.textContent()).toBe(`Run ${short(failed.id)} · drift-report`);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("refreshes while a run is under way, not while the tab is hidden, and stops when all are done", async () => {
    // A scheduled slot coming due would (rightly) make the page look again: keep clear of one.
    const soonest = Math.min(
      ...(await flowInfo()).map((f) => (f.nextRun ? Date.parse(f.nextRun) : Infinity)),
    );
    if (soonest - Date.now() < 40_000) {
      await new Promise((resolve) => setTimeout(resolve, soonest - Date.now() + 5000));
    }
    const requests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/flows")) requests.push(r.url());
    });
    await openFlows(`?run=${seeded.running.id}`);
    await page.locator("#run-body:not([hidden])").waitFor();
    expect(await page.locator("#run-state .badge").textContent()).toBe("running");
    expect(await page.locator("#run-steps-body tr td").last().textContent()).toBe("under way");
    expect(await fact(page.locator("#run-detail"), "Duration").textContent()).toMatch(
      /^1 h 5\d min so far$/,
    );

    // Under way: the history is asked again every 5 s.
    const before = requests.filter((u) => u.includes("/flows/runs?")).length;
    await expect
      .poll(() => requests.filter((u) => u.includes("/flows/runs?")).length, { timeout: 8000 })
      .toBeGreaterThan(before);

    // Hidden tab: no request at all, even though a run is under way.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", {
        configurable: true,
        get: () => "hidden",
      });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    const hiddenAt = requests.length;
    await store.appendLogs(seeded.running.id, [
      { seq: 2, at: Date.now(), level: "info", message: "summarised 0 decisions" },
    ]);
    await store.finish(seeded.running.id, {
      state: "COMPLETED",
      at: Date.now(),
      result: { decisions: 0 },
    });
    await page.waitForTimeout(6500);
    expect(requests.length).toBe(hiddenAt);
    expect(await row(seeded.running.id).getAttribute("data-state")).toBe("RUNNING");

    // Visible again: it catches up at once: the row, the card, the open run and its new log line.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", {
        configurable: true,
        get: () => "visible",
      });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await expect
      .poll(() => row(seeded.running.id).getAttribute("data-state"), { timeout: 3000 })
      .toBe("COMPLETED");
    await expect
      .poll(() => page.locator("#run-state .badge").textContent(), { timeout: 3000 })
      .toBe("completed");
    await expect
      .poll(() => page.locator("#run-log .log-message").allTextContents())
      .toEqual(["retrying after a failure", "summarised 0 decisions"]);
    await expect
      .poll(() => fact(card("drift-report"), "Last run").locator(".badge").textContent())
      .toBe("completed");

    // Nothing under way any more: the page stops asking.
    const doneAt = requests.length;
    await page.waitForTimeout(7000);
    expect(requests.slice(doneAt)).toEqual([]);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("queues a run: refusals without a token, for a clerk and for a bad parameter, then success", async () => {
    await openFlows();
    await page.locator("#trigger-flow").selectOption("retrain");
    const trials = page.getByLabel("trials", { exact: true });
    expect(await trials.inputValue()).toBe("20");
    expect(await trials.getAttribute("type")).toBe("number");
    expect(await trials.getAttribute("min")).toBe("1");
    expect(await trials.getAttribute("max")).toBe("500");
    expect(await trials.getAttribute("step")).toBe("1");
    expect(await page.getByLabel("seed", { exact: true }).getAttribute("max")).toBeNull();
    expect(await page.locator("#param-trials-hint").textContent()).toBe(
      "search trials per algorithm (whole number, 1–500, default 20)",
    );
    expect(await page.getByLabel("API token").inputValue()).toBe("");
    const runsBefore = (await store.listRuns()).length;

    const result = page.locator("#trigger-result");
    const runNow = page.getByRole("button", { name: "Run now" });
    await runNow.click();
    await result.locator(".problem").waitFor();
    expect(await result.locator(".problem-title").textContent()).toBe("The run was not queued");
    expect(await result.locator(".problem-code").textContent()).toBe(
      "Error code: UNAUTHENTICATED · HTTP 401",
    );
    expect(await result.locator("[role=alert]").count()).toBe(1);

    // A clerk may not trigger flows.
    await page.getByLabel("API token").fill(world.tokens.carol);
    await runNow.click();
    await expect
      .poll(() => result.locator(".problem-code").textContent())
      .toBe("Error code: FORBIDDEN · HTTP 403");
    expect(await result.locator(".problem-detail").textContent()).toContain("approver");

    // An approver with a value out of bounds: the server's words, next to the form.
    await page.getByLabel("API token").fill(world.tokens.alice);
    await trials.fill("0");
    await runNow.click();
    await expect
      .poll(() => result.locator(".problem-detail").textContent())
      .toBe('parameter "trials" of flow "retrain" must be at least 1 (got 0)');
    expect(await result.locator(".problem-code").textContent()).toBe(
      "Error code: INVALID_ARGUMENT · HTTP 400",
    );
    expect(await trials.getAttribute("aria-invalid")).toBe("true");
    expect(await trials.getAttribute("aria-describedby")).toContain("trigger-result");
    await page.screenshot({ path: `${SHOTS}/flows-trigger-refused.png` });
    expect((await store.listRuns()).length).toBe(runsBefore);

    // And a good value: queued, announced, and at the top of the history.
    await trials.fill("3");
    expect(await trials.getAttribute("aria-invalid")).toBeNull();
    await runNow.click();
    const notice = result.locator(".notice");
    await notice.waitFor();
    const [queued] = await store.listRuns({ limit: 1 });
    expect(queued.params).toEqual({
      trials: 3,
      seed: 0,
      top: 5,
      data: "",
      dataset: "",
      target: "",
      riskClass: "",
      missing: "",
      model: "",
      skipInvalid: false,
      ifNoModel: false,
    });
    expect(queued.requestedBy).toBe("alice");
    expect(queued.state).toBe("SCHEDULED");
    expect(await notice.locator("strong").textContent()).toBe(`Queued run ${short(queued.id)}`);
    expect(await notice.textContent()).toContain("retrain (trials 3, seed 0, top 5, ");
    expect(await notice.textContent()).toContain("ifNoModel false)");
    expect(await result.getAttribute("aria-live")).toBe("polite");
    await expect.poll(() => historyIds().then((ids) => ids[0])).toBe(queued.id);
    expect((await row(queued.id).locator("td").allTextContents()).slice(1, 5)).toEqual([
      "scheduled",
      "retrain",
      "manualby alice",
      "1/2",
    ]);
    expect(await row(queued.id).locator("td").nth(6).textContent()).toBe("—");
    await expect
      .poll(() => fact(card("retrain"), "Last run").locator(".badge").textContent())
      .toBe("scheduled");
    await page.screenshot({ path: `${SHOTS}/flows-trigger.png` });

    // The token is the models page's too (same session storage key).
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBe(
      world.tokens.alice,
    );
    await page.goto(`${base}/models.html`);
    expect(await page.getByLabel("API token").inputValue()).toBe(world.tokens.alice);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("queues a run from the keyboard: Tab to Run now, Enter", async () => {
    await openFlows();
    await page.locator("#trigger-flow").selectOption("drift-report");
    await page.getByLabel("windowHours", { exact: true }).fill("6");
    await page.getByLabel("API token").fill(world.tokens.bob);

    await page.getByLabel("model", { exact: true }).focus();
    await page.keyboard.press("Tab"); // the token
    await page.keyboard.press("Tab"); // Forget
    await page.keyboard.press("Tab"); // Run now
    const focused = () => page.evaluate(() => document.activeElement?.id);
    expect(await focused()).toBe("trigger-submit");
    // The focus ring shows where the keyboard is.
    expect(
      await page.locator("#trigger-submit").evaluate((el) => {
        const style = getComputedStyle(el);
        return `${style.outlineStyle} ${style.outlineWidth}`;
      }),
    ).toBe("solid 3px");
    await page.keyboard.press("Enter");

    const notice = page.locator("#trigger-result .notice");
    await notice.waitFor();
    const [queued] = await store.listRuns({ flow: "drift-report", limit: 1 });
    expect(queued.params).toEqual({ windowHours: 6, minDecisions: 200, model: "" });
    expect(queued.requestedBy).toBe("bob");
    expect(await notice.locator("strong").textContent()).toBe(`Queued run ${short(queued.id)}`);
    // The button kept the focus: Enter again would queue another.
    expect(await focused()).toBe("trigger-submit");

    // Its row opens from the keyboard too, and the details show what was asked.
    await expect.poll(() => historyIds().then((ids) => ids[0])).toBe(queued.id);
    await row(queued.id).getByRole("link").focus();
    await page.keyboard.press("Enter");
    await expect
      .poll(() => page.locator("#run-title").textContent())
      .toBe(`Run ${short(queued.id)} · drift-report`);
    await expect.poll(focused).toBe("run-title");
    await expect
      .poll(() => page.locator("#run-params-body tr").allInnerTexts())
      .toEqual(["windowHours\t6", "minDecisions\t200", 'model\t""']);
    expect(await fact(page.locator("#run-detail"), "Trigger").textContent()).toBe("manual by bob");
    expect(await page.locator("#run-result").textContent()).toBe("No result yet.");

    // A run that has not ended can be cancelled, with an approver's token (bob's, typed above).
    const cancel = page.getByRole("button", { name: "Cancel run" });
    expect(await cancel.isVisible()).toBe(true);
    await cancel.click();
    await expect.poll(() => page.locator("#run-state").textContent()).toMatch(/cancelled/i);
    expect((await store.getRun(queued.id)).state).toBe("CANCELLED");
    expect(await page.locator("#run-detail").getByText("cancelled by bob").count()).toBe(1);
    expect(await cancel.isHidden()).toBe(true);
    expect(unexpectedErrors()).toEqual([]);
  });
});
