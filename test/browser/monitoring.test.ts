/**
 * The monitoring page in a real browser (Debian's Chromium driven by playwright-core) against the
 * app listening on an ephemeral port. The reports are genuine: a quick gbdt trained on the credit
 * data (its training stores the reference profile), decisions posted through the API, outcomes
 * recorded, and the real `drift-report` flow run twice: first on 200 applicants as they are
 * (no outcomes yet), then after 300 more whose loans run four years longer, 100 of them with an
 * outcome. Before the first run the page shows its empty state. Screenshots go to
 * /tmp/riskometer-shots/monitoring-*.png.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { loadTrainingData } from "../../src/data/index.js";
import { SqlDecisionStore } from "../../src/decisions/index.js";
import { openFlows, runTrainFlow, triggerFlow } from "../../src/flows/index.js";
import { type AppContext, openContext } from "../../src/main.js";
import { buildApp } from "../../src/serving/index.js";
import { launchChromium } from "../support/browser.js";
import { creditRows } from "./riskometer-fixtures.js";

const SHOTS = "/tmp/riskometer-shots";

interface Summary {
  id: string;
  at: string;
  model: { name: string; version: number } | null;
  decisions: number;
  datasetDrift: boolean | null;
  driftShare: number | null;
  driftedColumns: string[];
  predictionDrift: boolean | null;
  quality: { rows: number; rocAuc: number | null; accuracy: number | null };
  fairness: { attribute: string; approvalRateRatio: number | null }[];
  html: string;
}

let home: string;
let ctx: AppContext;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageErrors: string[];
/** The reports as the API lists them, newest first (after the flow ran twice). */
let reports: Summary[];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-monitoring-"));
  ctx = await openContext(loadConfig({}, { home }));
  await runTrainFlow(ctx, {
    data: await loadTrainingData(),
    trials: 1,
    seed: 5,
    candidates: ["gbdt"],
    top: 1,
    actor: "monitoring-test",
  });
  app = await buildApp(ctx, { access: "open", modelPollMs: 0 });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await ctx?.close();
  if (home) await rm(home, { recursive: true, force: true });
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
  expect(pageErrors).toEqual([]);
  await context?.close();
});

async function post(rows: Record<string, string>[]): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/predictions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rows),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id);
}

async function runDriftReport(): Promise<string> {
  const flows = openFlows(ctx);
  const run = await triggerFlow(flows, "drift-report", { minDecisions: 50 }, "monitoring-test");
  await flows.store.claim(run.id, flows.runner.worker, Date.now());
  expect(await flows.runner.execute(await flows.store.getRun(run.id))).toBe("COMPLETED");
  return run.id;
}

async function openMonitoring(query = "") {
  await page.goto(`${base}/monitoring.html${query}`);
  await page.locator("#loading").waitFor({ state: "hidden" });
}

const fmt = (v: number | null, digits = 3) => (v === null ? "—" : v.toFixed(digits));
const historyButton = (id: string) =>
  page.locator(`#reports-body tr[data-report-id="${id}"] button.report-button`);

describe("monitoring page with no report yet", () => {
  it("explains where reports come from and links to the flows page", async () => {
    await openMonitoring();
    expect(await page.title()).toBe("Monitoring · Riskometer");
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.locator("a").allTextContents()).toEqual([
      "Risk-O-Meter",
      "Runs",
      "Models",
      "Flows",
      "Monitoring",
    ]);
    expect(await nav.locator("a[aria-current]").textContent()).toBe("Monitoring");

    const empty = page.getByRole("region", { name: "No drift report yet" });
    expect(await empty.isVisible()).toBe(true);
    expect(await empty.textContent()).toMatch(/drift-report.*every 3 hours/s);
    const link = empty.getByRole("link", { name: "Flows page" });
    expect(await link.getAttribute("href")).toBe("/flows.html?flow=drift-report");
    expect(await page.locator("#monitoring").isHidden()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/monitoring-empty.png`, fullPage: true });
  });
});

describe("monitoring page with two reports", () => {
  let olderId: string;
  let newerId: string;

  beforeAll(async () => {
    const rows = await creditRows(500);
    // The first report: 200 applicants as they are, no outcome known yet.
    await post(rows.slice(0, 200));
    olderId = await runDriftReport();
    // The second: 300 more with every loan four years longer, 100 of them with an outcome.
    const ids = await post(
      rows.slice(200).map((r) => ({
        ...r,
        duration: String(Math.min(72, Number(r.duration) + 48)),
      })),
    );
    const store = new SqlDecisionStore(ctx.database);
    for (const [i, id] of ids.slice(0, 100).entries()) {
      await store.recordOutcome(id, i % 2 === 0 ? "bad" : "good", "clerk");
    }
    newerId = await runDriftReport();
    const res = await fetch(`${base}/api/v1/reports`);
    reports = ((await res.json()) as { reports: Summary[] }).reports;
  }, 120_000);

  it("shows the latest report: verdict, drifted columns, figures and the full-report link", async () => {
    expect(reports.map((r) => r.id)).toEqual([newerId, olderId]);
    const latest = reports[0];
    expect(latest.driftedColumns).toContain("duration");
    await openMonitoring();
    await page.locator("#report-stats .stat").first().waitFor();
    expect(await page.locator("#empty-state").isHidden()).toBe(true);

    expect(await page.locator("#report-title").textContent()).toMatch(/^Latest report · /);
    expect(await page.locator("#report-verdict").textContent()).toBe(
      latest.datasetDrift ? "dataset drift" : "no dataset drift",
    );
    const stat = (label: string) => page.locator(`#report-stats [data-stat="${label}"] dd`);
    expect(await stat("Drift share").textContent()).toContain(fmt(latest.driftShare, 2));
    expect(await stat("Decisions").textContent()).toMatch(/^500/);
    expect(await stat("ROC AUC").textContent()).toBe(`${fmt(latest.quality.rocAuc)}100 outcomes`);
    expect(await stat("Prediction drift").textContent()).toMatch(
      latest.predictionDrift ? /^drift/ : /^none/,
    );
    const drifted = await page.locator("#report-facts .drifted-list code").allTextContents();
    expect(drifted).toEqual(latest.driftedColumns);
    expect(drifted).toContain("duration");
    expect(await page.locator("#report-facts").textContent()).toContain(
      `${latest.model!.name} v${latest.model!.version}`,
    );

    const fairness = page.locator("#fairness-body tr");
    expect(
      await fairness.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-attribute"))),
    ).toEqual(["age", "foreign_worker", "personal_status"]);
    for (const f of latest.fairness) {
      const row = page.locator(`#fairness-body tr[data-attribute="${f.attribute}"]`);
      expect(await row.locator("td.num").first().textContent()).toContain(
        fmt(f.approvalRateRatio, 2),
      );
      const flagged = f.approvalRateRatio !== null && f.approvalRateRatio < 0.8;
      expect(await row.getAttribute("class")).toBe(flagged ? "is-flagged" : null);
    }

    const link = page.getByRole("link", { name: /^Open the full report of / });
    expect(await link.textContent()).toBe("Open the full report");
    expect(await link.getAttribute("href")).toBe(`/api/v1/reports/${newerId}/report.html`);
    expect(await link.getAttribute("target")).toBe("_blank");
    const html = await fetch(`${base}${await link.getAttribute("href")}`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain("duration");
    await page.screenshot({ path: `${SHOTS}/monitoring-latest.png` });
    await page.screenshot({ path: `${SHOTS}/monitoring-full.png`, fullPage: true });
  });

  it("draws the over-time charts with a point per report and accessible names", async () => {
    await openMonitoring();
    await page.locator("#drift-trend-plot svg").waitFor();
    const drift = page.getByRole("img", { name: /^Drift share of 2 reports/ });
    const oldestFirst = [...reports].reverse();
    expect(await drift.getAttribute("aria-label")).toContain(
      oldestFirst.map((r) => fmt(r.driftShare, 2)).join(", "),
    );
    const points = drift.locator("circle.point");
    expect(
      await points.evaluateAll((cs) => cs.map((c) => (c as SVGElement).dataset.report)),
    ).toEqual(oldestFirst.map((r) => r.id));
    // The newest report is the one shown: its point stands out.
    expect(await drift.locator("circle.is-selected").getAttribute("data-report")).toBe(newerId);
    expect(await drift.locator("line.threshold title").textContent()).toContain("0.5");
    // A point higher on the chart has the larger share.
    const cy = await points.evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("cy"))));
    expect(cy[1] < cy[0]).toBe(oldestFirst[1].driftShare! > oldestFirst[0].driftShare!);

    // Quality: only the newer report has outcomes, so one point per series.
    const quality = page.getByRole("img", { name: /^ROC AUC and accuracy of 1 report with/ });
    expect(await quality.locator(".series-auc circle.point").count()).toBe(1);
    expect(await quality.locator(".series-accuracy circle.point").count()).toBe(1);
    expect(await quality.locator(".series-auc circle title").textContent()).toContain(
      `ROC AUC ${fmt(reports[0].quality.rocAuc)} on 100 outcomes`,
    );

    // The same figures as tables for screen readers.
    const driftTable = page.getByRole("table", { name: "Drift share per report, oldest first" });
    expect(await driftTable.locator("tbody tr td:first-of-type").allTextContents()).toEqual(
      oldestFirst.map((r) => fmt(r.driftShare, 2)),
    );
    const qualityTable = page.getByRole("table", {
      name: "Quality per report with outcomes, oldest first",
    });
    expect(await qualityTable.locator("tbody tr td").allTextContents()).toEqual([
      "100",
      fmt(reports[0].quality.rocAuc),
      fmt(reports[0].quality.accuracy),
    ]);
  });

  it("charts every feature, drifted ones first and outlined, with their test", async () => {
    await openMonitoring();
    await page.locator(".feature-card").first().waitFor();
    const cards = page.locator("#feature-grid .feature-card");
    const columns = await cards.evaluateAll((cs) =>
      cs.map((c) => ({
        column: (c as HTMLElement).dataset.column,
        drift: (c as HTMLElement).dataset.drift,
      })),
    );
    // 20 applicant columns and the prediction.
    expect(columns).toHaveLength(21);
    expect(columns.at(-1)?.column).toBe("probability_bad");
    const driftedCount = reports[0].driftedColumns.length;
    expect(columns.slice(0, driftedCount).every((c) => c.drift === "true")).toBe(true);
    expect(columns.slice(driftedCount, 20).every((c) => c.drift === "false")).toBe(true);
    expect(columns[0].column).toBe("duration");

    const duration = page.locator('.feature-card[data-column="duration"]');
    expect(await duration.getAttribute("class")).toContain("is-drifted");
    const outline = await duration.evaluate((el) => getComputedStyle(el).borderTopColor);
    expect(outline).toBe("rgb(164, 22, 26)");
    expect(await duration.locator(".feature-test").textContent()).toMatch(
      /^two-sample Kolmogorov–Smirnov \(ks\): p = \d\.\de-\d+ \(threshold 0\.05\)/,
    );
    const bars = duration.getByRole("img", { name: /^duration: reference and current shares/ });
    const pairs = await bars.locator("g.bar-pair").count();
    expect(pairs).toBeGreaterThan(1);
    expect(await bars.locator("rect.bar-ref").count()).toBe(pairs);
    expect(await bars.locator("rect.bar-cur").count()).toBe(pairs);
    // The longer loans: the current window has more of its share in the last bins.
    const full = (await (await fetch(`${base}/api/v1/reports/${reports[0].id}`)).json()) as {
      report: { distributions: Record<string, { current: number[]; reference: number[] }> };
    };
    const dist = full.report.distributions.duration;
    expect(dist.current.at(-1)!).toBeGreaterThan(dist.reference.at(-1)!);
    expect(await duration.locator(".feature-values tbody tr").count()).toBe(dist.reference.length);

    const quiet = page.locator('.feature-card[data-drift="false"]').first();
    expect(await quiet.getAttribute("class")).toBe("feature-card");
    expect(await quiet.locator(".badge").textContent()).toBe("no drift");
    await duration.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/monitoring-features.png` });
  });

  it("shows an older report when it is chosen in the history", async () => {
    await openMonitoring();
    await page.locator("#reports-body tr[data-report-id]").first().waitFor();
    const rows = page.locator("#reports-body tr[data-report-id]");
    expect(
      await rows.evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.reportId)),
    ).toEqual([newerId, olderId]);
    const older = reports[1];
    const olderRow = page.locator(`#reports-body tr[data-report-id="${olderId}"]`);
    expect(await olderRow.locator("td").nth(2).textContent()).toBe("200");
    expect(await olderRow.locator("td").nth(5).textContent()).toBe("—");
    expect(
      await olderRow.getByRole("link", { name: /^Full report of / }).getAttribute("href"),
    ).toBe(`/api/v1/reports/${olderId}/report.html`);

    await historyButton(olderId).click();
    await page.waitForFunction(
      (id) =>
        document.getElementById("report-link")?.getAttribute("href") ===
        `/api/v1/reports/${id}/report.html`,
      olderId,
    );
    expect(page.url()).toBe(`${base}/monitoring.html?report=${olderId}`);
    expect(await page.locator("#report-title").textContent()).toMatch(/^Report · /);
    expect(await historyButton(olderId).getAttribute("aria-current")).toBe("true");
    expect(await historyButton(newerId).getAttribute("aria-current")).toBeNull();
    const stat = (label: string) => page.locator(`#report-stats [data-stat="${label}"] dd`);
    expect(await stat("Decisions").textContent()).toMatch(/^200/);
    expect(await stat("ROC AUC").textContent()).toBe("—0 outcomes");
    expect(await stat("Drift share").textContent()).toContain(fmt(older.driftShare, 2));
    const drifted = await page.locator("#report-facts .drifted-list code").allTextContents();
    expect(drifted).toEqual(older.driftedColumns);
    expect(
      await page.locator("#drift-trend-plot circle.is-selected").getAttribute("data-report"),
    ).toBe(olderId);
    const duration = page.locator('.feature-card[data-column="duration"]');
    expect(await duration.getAttribute("data-drift")).toBe(
      String(older.driftedColumns.includes("duration")),
    );
    await page.screenshot({ path: `${SHOTS}/monitoring-older.png` });

    // Back in the browser's history: the latest again.
    await page.goBack();
    await page.waitForFunction(
      (id) =>
        document.getElementById("report-link")?.getAttribute("href") ===
        `/api/v1/reports/${id}/report.html`,
      newerId,
    );
    expect(await page.locator("#report-title").textContent()).toMatch(/^Latest report · /);
  });

  it("is used from the keyboard: Tab reaches the history buttons and Enter shows a report", async () => {
    await openMonitoring(`?report=${olderId}`);
    await page.waitForFunction(
      () => document.querySelectorAll("#feature-grid .feature-card").length > 0,
    );
    expect(await page.locator("#report-title").textContent()).toMatch(/^Report · /);
    // Tab from the top of the page until the focus is on the newest report's button.
    let reached = false;
    for (let i = 0; i < 120 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(
        (id) =>
          document.activeElement?.closest("tr")?.getAttribute("data-report-id") === id &&
          document.activeElement?.tagName === "BUTTON",
        newerId,
      );
    }
    expect(reached).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toMatch(
      /^Show the report of .* \(latest\)$/,
    );
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (id) =>
        document.getElementById("report-link")?.getAttribute("href") ===
        `/api/v1/reports/${id}/report.html`,
      newerId,
    );
    expect(await page.locator("#report-title").textContent()).toMatch(/^Latest report · /);
    // The focus moves to the report's heading, so a screen reader announces the new view.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("report-title");
    expect(page.url()).toBe(`${base}/monitoring.html`);
    expect(await historyButton(newerId).getAttribute("aria-current")).toBe("true");
  });
});
