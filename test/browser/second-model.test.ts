/**
 * The Risk-O-Meter with two models in a real browser (Debian's Chromium driven by playwright-core):
 * German credit as the configured model and a second one trained on credit-approval. The clerk
 * picks the model (by mouse or keyboard, kept in the address); the form, the file format, the
 * template CSV and uploads follow it; a model with no serving version, or an unknown one, says
 * so. Screenshots go to /tmp/riskometer-shots/second-model-*.png.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/serving/index.js";
import { launchChromium } from "../support/browser.js";
import {
  summaryStatsOf,
  unexpectedErrors as unexpected,
  uploadThrough,
} from "./riskometer-page.js";
import {
  APPROVAL_COLUMNS,
  APPROVAL_MODEL,
  approvalApplicant,
  approvalRows,
  registerUnserved,
  trainApproval,
} from "./approval-fixtures.js";
import {
  COLUMN_NAMES,
  type TrainedWorld,
  creditRows,
  toCsv,
  trainedWorld,
} from "./riskometer-fixtures.js";

const SHOTS = "/tmp/riskometer-shots";
const UNSERVED = "approval-unserved";

let world: TrainedWorld;
let approval: { name: string; version: number };
let app: FastifyInstance;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let files: string;
let rows: Record<string, string>[];
let numeric: Set<string>;
/** Console errors and uncaught exceptions (CSP violations show up here too). */
let pageErrors: string[];

beforeAll(async () => {
  world = await trainedWorld();
  approval = await trainApproval(world.ctx);
  await registerUnserved(world.ctx, UNSERVED);
  app = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  rows = await approvalRows();
  const schema = await (await fetch(`${base}/api/v1/schema?model=${APPROVAL_MODEL}`)).json();
  numeric = new Set(
    (schema.columns as { name: string; kind: string }[])
      .filter((c) => c.kind === "numeric")
      .map((c) => c.name),
  );
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
  files = await mkdtemp(join(tmpdir(), "riskometer-second-model-"));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await world?.close();
  if (files) await rm(files, { recursive: true, force: true });
});

beforeEach(async () => {
  context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
  });
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

const unexpectedErrors = () => unexpected(pageErrors);

const picker = () => page.getByLabel("Model", { exact: true });
const status = () => page.locator("#model-status");

/** Opens the page (`search` and `hash` as given) and waits until the strip says who serves. */
async function openPage(suffix = "", state: "is-ready" | "is-down" = "is-ready") {
  await page.goto(`${base}/${suffix}`);
  await expect.poll(() => status().getAttribute("class")).toContain(state);
}

/** Waits until the strip names `name`'s serving version. */
async function serving(name: string, version: number) {
  await expect.poll(() => status().textContent()).toContain(`${name} v${version}`);
  expect(await status().getAttribute("class")).toContain("is-ready");
}

async function writeFileIn(name: string, content: string | Buffer): Promise<string> {
  const path = join(files, name);
  await writeFile(path, content);
  return path;
}

const upload = (path: string) => uploadThrough(page, path);
const summaryStats = () => summaryStatsOf(page);

describe("picking the model", () => {
  it("lists the models with a serving version, the default first, and follows the choice", async () => {
    await openPage();
    await serving(world.model.name, world.model.version);
    expect(await picker().locator("option").allTextContents()).toEqual([
      `${world.model.name} (default)`,
      APPROVAL_MODEL,
    ]);
    expect(await picker().inputValue()).toBe(world.model.name);
    expect(await page.locator("#format-columns").textContent()).toContain(
      `20 applicant columns of ${world.model.name}`,
    );

    await picker().selectOption(APPROVAL_MODEL);
    await serving(approval.name, approval.version);
    expect(new URL(page.url()).searchParams.get("model")).toBe(APPROVAL_MODEL);
    expect(await page.locator("#format-columns").textContent()).toContain(
      `15 applicant columns of ${APPROVAL_MODEL}`,
    );
    // The columns the data set leaves empty somewhere may be left empty in a file too.
    const optional = APPROVAL_COLUMNS.filter((c) => rows.some((r) => r[c] === "?"));
    expect(await page.locator("#format-missing").textContent()).toContain(optional.join(", "));

    await page.getByRole("tab", { name: "Score one applicant" }).click();
    await page.locator("#f-A1").waitFor();
    expect(await page.locator("#form-fields .field label").allTextContents()).toEqual(
      APPROVAL_COLUMNS,
    );
    expect(await page.locator("#f-duration").count()).toBe(0);
    expect(await page.locator("#form-fields").textContent()).not.toMatch(/DM|checking|German/i);
    // A field that may be missing can be left empty; one that may not, cannot.
    const a1 = page.getByLabel("A1", { exact: true });
    expect(await a1.locator("option").first().textContent()).toBe("Not known (missing)");
    expect(await page.getByLabel("A2", { exact: true }).getAttribute("required")).toBeNull();
    expect(await page.getByLabel("A3", { exact: true }).getAttribute("required")).not.toBeNull();
    await page.screenshot({ path: `${SHOTS}/second-model-form.png`, fullPage: true });

    // A reload (or a shared link) opens the same model, on the same tab.
    await page.reload();
    await serving(approval.name, approval.version);
    expect(await picker().inputValue()).toBe(APPROVAL_MODEL);
    expect(new URL(page.url()).hash).toBe("#applicant");
    await page.locator("#f-A15").waitFor();

    // Back to the default: the address loses ?model=, the German fields return.
    await picker().selectOption(world.model.name);
    await serving(world.model.name, world.model.version);
    await page.locator("#f-duration").waitFor();
    expect(await page.locator("#form-fields .field").count()).toBe(COLUMN_NAMES.length);
    expect(new URL(page.url()).search).toBe("");
    expect(unexpectedErrors()).toEqual([]);
  });

  it("is reached and changed with the keyboard", async () => {
    await openPage();
    await serving(world.model.name, world.model.version);
    await picker().focus();
    await page.keyboard.press("ArrowDown");
    await serving(approval.name, approval.version);
    expect(await picker().evaluate((el) => el === document.activeElement)).toBe(true);
    expect(new URL(page.url()).searchParams.get("model")).toBe(APPROVAL_MODEL);
    // The strip that names the serving version is a live region, announced when it changes.
    expect(await status().getAttribute("role")).toBe("status");
    expect(unexpectedErrors()).toEqual([]);
  });
});

describe("scoring with the second model", () => {
  it("scores one applicant with a missing value: the card names the model and a reason says missing", async () => {
    // An applicant of the data whose missing value is among its reasons towards bad.
    const candidates = rows
      .filter((r) => APPROVAL_COLUMNS.some((c) => r[c] === "?"))
      .map((r) => approvalApplicant(r, numeric));
    const answer = await (
      await fetch(`${base}/api/v1/predictions?model=${APPROVAL_MODEL}&reasons=all`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(candidates),
      })
    ).json();
    const found = (
      answer.predictions as { row: number; reasons: { feature: string; value: unknown }[] }[]
    ).find((p) => p.reasons.some((r) => r.value === null));
    expect(found).toBeDefined();
    const applicant = candidates[(found?.row ?? 1) - 1];
    const feature = found?.reasons.find((r) => r.value === null)?.feature ?? "";

    await openPage(`?model=${APPROVAL_MODEL}#applicant`);
    await page.locator("#f-A1").waitFor();
    for (const name of APPROVAL_COLUMNS) {
      const control = page.locator(`#f-${name}`);
      const value = applicant[name] === null ? "" : String(applicant[name]);
      if (numeric.has(name)) await control.fill(value);
      else await control.selectOption(value);
    }
    expect(await page.locator(`#f-${feature}`).inputValue()).toBe("");
    await page.getByRole("button", { name: "Score applicant" }).click();
    const decision = page.locator("#single-result .decision");
    await decision.waitFor();
    expect(await decision.locator(".risk-badge").textContent()).toMatch(/good|bad/);
    expect(await decision.locator(".decision-reasons").textContent()).toContain(
      `${feature}: missing`,
    );
    expect(await decision.locator(".decision-model").textContent()).toContain(
      `Scored by ${approval.name} v${approval.version}`,
    );
    await page.screenshot({ path: `${SHOTS}/second-model-applicant.png`, fullPage: true });

    // A field that may not be missing, left empty, is refused next to the field.
    await page.locator("#f-A3").fill("");
    await page.getByRole("button", { name: "Score applicant" }).click();
    const error = page.locator("#f-A3-error");
    await error.waitFor();
    expect(await error.textContent()).toMatch(/missing/);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("offers its template CSV, scores it and a small file uploaded for it, and names the model", async () => {
    await openPage(`?model=${APPROVAL_MODEL}`);
    await serving(approval.name, approval.version);
    const link = page.getByRole("link", { name: "Download a template CSV" });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toBe(`${APPROVAL_MODEL}-template.csv`);
    const template = await readFile(await download.path(), "utf8");
    const [header, typical] = template.trim().split(/\r?\n/);
    expect(header.split(",")).toEqual(APPROVAL_COLUMNS);
    expect(typical.split(",")).toHaveLength(APPROVAL_COLUMNS.length);

    await upload(await writeFileIn("template.csv", template));
    expect(await summaryStats()).toMatchObject({ Rows: 1, Scored: 1, Rejected: 0 });

    // Rows as the data writes them (`?` for missing, the outcome A16 present), one made wrong.
    const sample = [...rows.filter((r) => APPROVAL_COLUMNS.some((c) => r[c] === "?")).slice(0, 4)];
    sample.push(...rows.slice(0, 4));
    sample[5] = { ...sample[5], A3: "lots" };
    await upload(await writeFileIn("approval.csv", toCsv(sample, [...APPROVAL_COLUMNS, "A16"])));
    expect(await summaryStats()).toMatchObject({ Rows: 8, Scored: 7, Rejected: 1 });
    expect(await page.locator("#summary-file").textContent()).toContain(
      `scored with ${approval.name} v${approval.version}`,
    );
    const rejected = await page
      .locator("#rejected-body tr")
      .first()
      .locator("td")
      .allTextContents();
    expect(rejected[0]).toBe("6");
    expect(rejected[1]).toContain("A3");
    expect(rejected[2]).toMatch(/not a number/);
    expect(await page.locator("#results-body tr").count()).toBe(7);
    await page.screenshot({ path: `${SHOTS}/second-model-file.png`, fullPage: true });

    // Another model: what the first one scored is no longer shown, and German files score.
    await picker().selectOption(world.model.name);
    await serving(world.model.name, world.model.version);
    expect(await page.locator("#batch-summary").isHidden()).toBe(true);
    await upload(await writeFileIn("german.csv", toCsv(await creditRows(5))));
    expect(await summaryStats()).toMatchObject({ Rows: 5, Scored: 5 });
    expect(await page.locator("#summary-file").textContent()).toContain(
      `scored with ${world.model.name} v${world.model.version}`,
    );
    expect(unexpectedErrors()).toEqual([]);
  });
});

describe("a model that cannot score", () => {
  it("says a registered model has no serving version, and offers no form or template", async () => {
    await openPage(`?model=${UNSERVED}`, "is-down");
    expect(await status().textContent()).toContain(`No version of ${UNSERVED} serves`);
    expect(await status().getByRole("link", { name: "Models page" }).getAttribute("href")).toBe(
      "/models.html",
    );
    expect(await picker().inputValue()).toBe(UNSERVED);
    expect(await picker().locator("option:checked").textContent()).toBe(
      `${UNSERVED} (no serving version)`,
    );
    expect(await page.locator("#template-link").isHidden()).toBe(true);
    await page.getByRole("tab", { name: "Score one applicant" }).click();
    expect(await page.locator("#form-fields").textContent()).toContain(
      `${UNSERVED} has no serving version`,
    );
    expect(await page.locator("#form-error .problem").textContent()).toContain("MODEL_NOT_READY");
    expect(await page.getByRole("button", { name: "Score applicant" }).isDisabled()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/second-model-unserved.png` });

    // Picking a model that serves brings its form back.
    await picker().selectOption(APPROVAL_MODEL);
    await serving(approval.name, approval.version);
    await page.locator("#f-A1").waitFor();
    expect(await page.getByRole("button", { name: "Score applicant" }).isDisabled()).toBe(false);
    expect(unexpectedErrors()).toEqual([]);
  });

  it("says a model is not registered, in the strip and the picker", async () => {
    await openPage("?model=no-such-model", "is-down");
    expect(await status().textContent()).toContain("No registered model “no-such-model”");
    expect(await status().getAttribute("title")).toContain('"no-such-model"');
    await expect
      .poll(() => picker().locator("option:checked").textContent())
      .toBe("no-such-model (not registered)");
    await page
      .locator("#file-input")
      .setInputFiles(await writeFileIn("nowhere.csv", toCsv(await creditRows(2))));
    const problem = page.locator("#upload-error .problem");
    await problem.waitFor();
    expect(await problem.textContent()).toContain("NOT_FOUND");
    expect(unexpectedErrors()).toEqual([]);
  });
});
