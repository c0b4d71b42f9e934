/**
 * Reading and driving the Risk-O-Meter page in the browser suites: uploads, the summary tiles,
 * and which console errors a test may expect.
 */
import type { Page } from "playwright-core";

/** Errors other than the browser's own log line for an expected 4xx/5xx response. */
export function unexpectedErrors(errors: readonly string[]): string[] {
  return errors.filter((e) => !/the server responded with a status of (4\d\d|503)/.test(e));
}

/** Uploads a file through the (hidden) file input and waits for the outcome. */
export async function uploadThrough(page: Page, path: string): Promise<void> {
  await page.locator("#file-input").setInputFiles(path);
  await page.locator("#batch-summary:not([hidden]), #upload-error .problem").first().waitFor();
}

/** The numbers of the summary tiles, by label. */
export async function summaryStatsOf(page: Page): Promise<Record<string, number>> {
  const tiles = page.locator("#summary-stats .stat");
  const out: Record<string, number> = {};
  for (let i = 0; i < (await tiles.count()); i++) {
    const label = (await tiles.nth(i).locator("dt").textContent()) ?? "";
    const value =
      (await tiles
        .nth(i)
        .locator("dd")
        .evaluate((dd) => dd.firstChild?.textContent)) ?? "";
    out[label] = Number(value.replace(/[^\d]/g, ""));
  }
  return out;
}
