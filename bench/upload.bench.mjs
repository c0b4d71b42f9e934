// A large file through the Risk-O-Meter page: a CSV of N applicants (default 100,000) picked in
// Debian's Chromium, uploaded, scored, logged and its first page of results shown. Prints the
// wall time from picking the file to the first result row on screen, and the server's own time
// for the same file posted directly. Usage: node bench/upload.bench.mjs [rows] [algorithm=gbdt]
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { BIN, cli, fmt, writeApplicantsCsv } from "./lib.mjs";

const rows = Number(process.argv[2] ?? 100_000);
const algorithm = process.argv[3] ?? "gbdt";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const dir = await mkdtemp(join(tmpdir(), "riskometer-upload-bench-"));
const env = { RISKOMETER_HOME: join(dir, "home"), RISKOMETER_LOG_LEVEL: "warn" };
let server;
let browser;
try {
  const trained = await cli(
    ["train", "--algorithm", algorithm, "--trials", "5", "--top", "1"],
    env,
  );
  if (trained.code !== 0) throw new Error(`train failed: ${trained.stderr}`);
  const file = join(dir, "applicants.csv");
  await writeApplicantsCsv(file, rows);
  const mb = (await stat(file)).size / 1e6;

  server = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (c) => {
      out += c;
      const m = /serving at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    server.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });

  // The server alone: the file posted as a CSV body, answer fully received and parsed; once
  // with every prediction listed (the API's default), once with the first page only (as the
  // page asks).
  const body = await readFile(file);
  const post = async (query) => {
    const start = performance.now();
    const res = await fetch(`${url}/api/v1/predictions${query}`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body,
    });
    const text = await res.text();
    JSON.parse(text);
    return { ms: performance.now() - start, mb: text.length / 1e6 };
  };
  const full = await post("");
  const firstPage = await post("?limit=25");

  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await page.goto(`${url}/`);
  await page
    .locator("#model-status.is-ready, #model-status[class*='ready']")
    .first()
    .waitFor({
      timeout: 10_000,
    })
    .catch(() => {});
  const t = performance.now();
  await page.locator("#file-input").setInputFiles(file);
  await page.locator("#results-body tr").first().waitFor({ timeout: 120_000 });
  const pageMs = performance.now() - t;
  const shown = await page.locator("#results-body tr").count();
  console.log(`upload (${algorithm}): ${rows.toLocaleString("en")} rows, ${fmt(mb, 1)} MB CSV`);
  console.log(
    `  server only, every prediction listed (${fmt(full.mb, 1)} MB JSON): ${fmt(full.ms / 1000, 2)} s`,
  );
  console.log(
    `  server only, first 25 listed (${fmt(firstPage.mb, 3)} MB JSON): ${fmt(firstPage.ms / 1000, 2)} s`,
  );
  console.log(
    `  Risk-O-Meter page: file picked → first page (${shown} rows) shown: ${fmt(pageMs / 1000, 2)} s (bar ≤ 3 s)`,
  );
} finally {
  await browser?.close();
  server?.kill("SIGTERM");
  if (server) await new Promise((r) => server.once("exit", r));
  await rm(dir, { recursive: true, force: true });
}
