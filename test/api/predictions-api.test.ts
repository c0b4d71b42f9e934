/**
 * Scoring over HTTP, in-process (`app.inject`), with a small real model that serves: single and
 * many applicants, files (CSV body, multipart CSV and Excel), the decision log, outcomes,
 * health, metrics, switching versions without a restart, and the same number by library, CLI
 * and HTTP.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ExcelJS from "exceljs";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { validateApplicant } from "../../src/data/index.js";
import { SqlDecisionStore } from "../../src/decisions/index.js";
import { openContext } from "../../src/main.js";
import { allowedHostsFor, buildApp } from "../../src/serving/index.js";
import {
  COLUMN_NAMES,
  type TrainedWorld,
  creditRows,
  trainedWorld,
} from "../browser/riskometer-fixtures.js";

const BIN = fileURLToPath(new URL("../../dist/cli/bin.js", import.meta.url));

let world: TrainedWorld;
let app: FastifyInstance;
let applicants: Record<string, string>[];
let approverToken: string;
let clerkToken: string;

function csvOf(rows: Record<string, string>[], extra?: (i: number) => string): string {
  const header = [...COLUMN_NAMES, ...(extra ? ["note"] : [])].join(",");
  const lines = rows.map((r, i) =>
    [...COLUMN_NAMES.map((c) => `"${r[c]}"`), ...(extra ? [extra(i)] : [])].join(","),
  );
  return `${header}\n${lines.join("\n")}\n`;
}

function multipart(filename: string, type: string, content: Buffer | string) {
  const boundary = "----riskometer-test-boundary";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, Buffer.isBuffer(content) ? content : Buffer.from(content), tail]),
  };
}

async function decisionCount(): Promise<number> {
  return new SqlDecisionStore(world.ctx.database).countDecisions();
}

beforeAll(async () => {
  world = await trainedWorld();
  app = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
  applicants = await creditRows(40);
  await world.ctx.users.createUser("ann", "approver");
  approverToken = (await world.ctx.users.issueToken("ann")).token;
  await world.ctx.users.createUser("carl", "clerk");
  clerkToken = (await world.ctx.users.issueToken("carl")).token;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await world?.close();
});

describe("single applicants", () => {
  it("scores one applicant with risk, probability, confidence, model and reasons, and logs the decision", async () => {
    // A refused applicant: its decision must carry reasons.
    const all = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: applicants,
    });
    const refused = (all.json().predictions as { row: number; risk: string }[]).find(
      (p) => p.risk === "bad",
    );
    const applicant = applicants[(refused?.row ?? 1) - 1];
    const before = await decisionCount();
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: applicant,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.errors).toEqual([]);
    const [p] = body.predictions;
    expect(p.risk).toMatch(/^(good|bad)$/);
    expect(p.probabilityBad).toBeGreaterThan(0);
    expect(p.probabilityBad).toBeLessThan(1);
    expect(p.confidence).toBeCloseTo(
      p.risk === "bad" ? p.probabilityBad : 1 - p.probabilityBad,
      12,
    );
    expect(p.model).toEqual(world.model);
    expect(p.reasons.length).toBeGreaterThan(0);
    expect(p.reasons.length).toBeLessThanOrEqual(3);
    for (const r of p.reasons) {
      expect(r.contribution).toBeGreaterThan(0);
      expect(r.text).toBe(`${r.label}: ${r.valueLabel}`);
    }
    expect(await decisionCount()).toBe(before + 1);
    const logged = await app.inject({ method: "GET", url: `/api/v1/decisions/${p.id}` });
    expect(logged.statusCode).toBe(200);
    expect(logged.json()).toMatchObject({
      id: p.id,
      risk: p.risk,
      probabilityBad: p.probabilityBad,
      modelName: world.model.name,
      modelVersion: world.model.version,
      source: "api",
      outcome: null,
    });
    expect(p.risk).toBe("bad");
    expect(logged.json().input.checking_status).toBe(applicant.checking_status);
    expect(logged.json().reasons).toEqual(p.reasons);
  });

  it("gives reasons for every refusal, and for accepted applicants when asked", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: applicants,
    });
    const predictions = res.json().predictions as { risk: string; reasons: unknown[] }[];
    const bad = predictions.filter((p) => p.risk === "bad");
    const good = predictions.filter((p) => p.risk === "good");
    expect(bad.length).toBeGreaterThan(0);
    expect(good.length).toBeGreaterThan(0);
    for (const p of bad) expect(p.reasons.length).toBeGreaterThan(0);
    for (const p of good) expect(p.reasons).toEqual([]);
    const all = await app.inject({
      method: "POST",
      url: "/api/v1/predictions?reasons=all",
      payload: applicants,
    });
    const explained = (all.json().predictions as { risk: string; reasons: unknown[] }[]).filter(
      (p) => p.risk === "good",
    );
    expect(explained.some((p) => p.reasons.length > 0)).toBe(true);
    const wrong = await app.inject({
      method: "POST",
      url: "/api/v1/predictions?reasons=some",
      payload: applicants[0],
    });
    expect(wrong.statusCode).toBe(400);
  });

  it("refuses malformed JSON (400) and an invalid applicant (422) naming each field, logging nothing", async () => {
    const before = await decisionCount();
    const malformed = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "application/json" },
      payload: '{"duration": 12,',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers["content-type"]).toMatch(/application\/problem\+json/);
    const invalid = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: { ...applicants[0], duration: 500, purpose: "spaceship" },
    });
    expect(invalid.statusCode).toBe(422);
    const problem = invalid.json();
    expect(problem.code).toBe("VALIDATION_FAILED");
    expect(problem.errors.map((e: { column: string }) => e.column).sort()).toEqual([
      "duration",
      "purpose",
    ]);
    expect(problem.detail).toMatch(/duration/);
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts:\d+/);
    expect(await decisionCount()).toBe(before);
  });

  it("scores the valid applicants of an array and lists the invalid ones by row", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: [applicants[1], { ...applicants[2], age: "old" }, 7, applicants[3]],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.predictions.map((p: { row: number }) => p.row)).toEqual([1, 4]);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ row: 2, column: "age" }),
        expect.objectContaining({ row: 3, message: "not a JSON object" }),
      ]),
    );
  });
});

describe("files", () => {
  it("scores a CSV body: good rows scored, bad rows reported, and the scored file downloads with formulas escaped", async () => {
    const rows = applicants.slice(0, 10).map((r, i) => (i === 4 ? { ...r, duration: "abc" } : r));
    const csv = csvOf(rows, (i) => (i === 0 ? '"=HYPERLINK(""http://x"")"' : `id-${i}`));
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "text/csv" },
      payload: csv,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.summary).toMatchObject({ rows: 10, scored: 9, rejected: 1 });
    expect(body.summary.good + body.summary.bad).toBe(9);
    expect(body.errors).toEqual([expect.objectContaining({ row: 5, column: "duration" })]);
    expect(body.predictions.map((p: { row: number }) => p.row)).toEqual([
      1, 2, 3, 4, 6, 7, 8, 9, 10,
    ]);
    const download = await app.inject({
      method: "GET",
      url: `/api/v1/batches/${body.batchId}/scored.csv`,
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers["content-type"]).toMatch(/text\/csv/);
    const lines = download.body.trim().split("\n");
    expect(lines[0]).toMatch(
      /^row,checking_status,.*,note,risk,probability_bad,confidence,reason_1,reason_2,reason_3$/,
    );
    expect(lines).toHaveLength(10);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(lines[1].startsWith("1,")).toBe(true);
    expect(lines[5].startsWith("6,")).toBe(true);
  });

  it("answers a file of invalid rows with the first errors and counts of all, in bounded size", async () => {
    // 20,000 rows, every cell invalid, and one good row at the end.
    const bad = COLUMN_NAMES.map(() => "zz").join(",");
    const good = csvOf([applicants[0]]).split("\n")[1];
    const csv = [COLUMN_NAMES.join(","), ...Array(20_000).fill(bad), good].join("\n");
    const before = await decisionCount();
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "text/csv" },
      payload: csv,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.summary).toMatchObject({ rows: 20_001, scored: 1, rejected: 20_000 });
    expect(body.errors).toHaveLength(1000);
    expect(body.errors[0]).toMatchObject({ row: 1 });
    const { total, rows, byColumn } = body.errorCounts;
    expect(rows).toBe(20_000);
    // Every column of every invalid row, counted by column and reason.
    expect(byColumn.reduce((n: number, c: { count: number }) => n + c.count, 0)).toBe(total);
    expect(total).toBeGreaterThanOrEqual(20_000 * 10);
    expect(new Set(byColumn.map((c: { column: string }) => c.column)).size).toBeGreaterThan(10);
    for (const c of byColumn) expect(c.count).toBeLessThanOrEqual(20_000);
    // The answer stays small: a thousand errors, not hundreds of thousands.
    expect(res.body.length).toBeLessThan(400_000);
    expect(await decisionCount()).toBe(before + 1);
  });

  it("lists only the first rows with ?limit, and pages the rest from the log sorted and filtered", async () => {
    const rows = applicants.slice(0, 40);
    const full = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "text/csv" },
      payload: csvOf(rows),
    });
    const limited = await app.inject({
      method: "POST",
      url: "/api/v1/predictions?limit=5",
      headers: { "content-type": "text/csv" },
      payload: csvOf(rows),
    });
    expect(limited.statusCode).toBe(200);
    const all = full.json();
    const first = limited.json();
    expect(all.predictions).toHaveLength(40);
    expect(first.predictions).toHaveLength(5);
    expect(first.summary).toEqual(all.summary);
    // The same rows, the same numbers: only the listing is cut, every row is logged.
    const strip = (p: Record<string, unknown>) => ({ ...p, id: undefined });
    expect(first.predictions.map(strip)).toEqual(all.predictions.slice(0, 5).map(strip));

    const page = async (query: string) => {
      const res = await app.inject({
        method: "GET",
        url: `/api/v1/batches/${first.batchId}/predictions?${query}`,
      });
      expect(res.statusCode).toBe(200);
      return res.json();
    };
    const rest = await page("offset=5&limit=50");
    expect(rest.total).toBe(40);
    expect(rest.counts).toEqual({ good: all.summary.good, bad: all.summary.bad });
    expect([...first.predictions, ...rest.predictions].map((p) => p.id)).toEqual(
      (await page("limit=40")).predictions.map((p: { id: string }) => p.id),
    );
    expect(rest.predictions.map(strip)).toEqual(all.predictions.slice(5).map(strip));
    const byRisk = await page("sort=probabilityBad&direction=desc&risk=bad&limit=100");
    expect(byRisk.total).toBe(all.summary.bad);
    const ps = byRisk.predictions.map((p: { probabilityBad: number }) => p.probabilityBad);
    expect(ps).toEqual([...ps].sort((a, b) => b - a));
    expect(byRisk.predictions.every((p: { risk: string }) => p.risk === "bad")).toBe(true);
    const text = all.predictions.find((p: { reasons: unknown[] }) => p.reasons.length > 0)
      .reasons[0].text as string;
    const found = await page(`search=${encodeURIComponent(text.toUpperCase())}&limit=100`);
    expect(found.total).toBeGreaterThan(0);
    for (const p of found.predictions) {
      expect(p.reasons.map((r: { text: string }) => r.text)).toContain(text);
    }
    const bad = await app.inject({
      method: "GET",
      url: `/api/v1/batches/${first.batchId}/predictions?sort=nope`,
    });
    expect(bad.statusCode).toBe(400);
    const none = await app.inject({ method: "GET", url: "/api/v1/batches/nope/predictions" });
    expect(none.statusCode).toBe(404);
  });

  it("scores a multipart CSV upload and an Excel upload alike", async () => {
    const rows = applicants.slice(10, 20);
    const asCsv = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      ...multipart("people.csv", "text/csv", csvOf(rows)),
    });
    expect(asCsv.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet("applicants");
    sheet.addRow(COLUMN_NAMES);
    for (const r of rows)
      sheet.addRow(COLUMN_NAMES.map((c) => (/^-?\d+(\.\d+)?$/.test(r[c]) ? Number(r[c]) : r[c])));
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    const asXlsx = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      ...multipart(
        "people.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx,
      ),
    });
    expect(asXlsx.statusCode).toBe(200);
    const a = asCsv.json().predictions.map((p: { probabilityBad: number }) => p.probabilityBad);
    const b = asXlsx.json().predictions.map((p: { probabilityBad: number }) => p.probabilityBad);
    expect(b).toEqual(a);
    expect(a).toHaveLength(10);
  });

  it("refuses a file over the size limit, or broken half-way, and logs none of its rows", async () => {
    const small = await buildApp(world.ctx, { access: "open", modelPollMs: 0, maxFileBytes: 4000 });
    try {
      const before = await decisionCount();
      const big = csvOf(applicants);
      expect(big.length).toBeGreaterThan(4000);
      const body = await small.inject({
        method: "POST",
        url: "/api/v1/predictions",
        headers: { "content-type": "text/csv" },
        payload: big,
      });
      expect(body.statusCode).toBe(413);
      expect(body.json().detail).toMatch(/larger than the 0.004 MB/);
      const upload = await small.inject({
        method: "POST",
        url: "/api/v1/predictions",
        ...multipart("big.csv", "text/csv", big),
      });
      expect(upload.statusCode, upload.body).toBe(413);
      expect(upload.json().code).toBe("FILE_TOO_LARGE");
      const broken = await app.inject({
        method: "POST",
        url: "/api/v1/predictions",
        headers: { "content-type": "text/csv" },
        payload: `${csvOf(applicants.slice(0, 5))}"unclosed,quote\n`,
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().code).toBe("PARSE_ERROR");
      expect(await decisionCount()).toBe(before);
    } finally {
      await small.close();
    }
  });

  it("holds JSON bodies to their own, smaller limit while files keep theirs", async () => {
    const small = await buildApp(world.ctx, {
      access: "open",
      modelPollMs: 0,
      maxFileBytes: 1_000_000,
      maxJsonBytes: 3000,
    });
    try {
      const before = await decisionCount();
      const json = JSON.stringify(applicants.slice(0, 20));
      expect(json.length).toBeGreaterThan(3000);
      const refused = await small.inject({
        method: "POST",
        url: "/api/v1/predictions",
        headers: { "content-type": "application/json" },
        payload: json,
      });
      expect(refused.statusCode).toBe(413);
      expect(refused.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(await decisionCount()).toBe(before);
      // The same applicants as a CSV body, larger than the JSON limit, are scored.
      const csv = csvOf(applicants.slice(0, 20));
      expect(csv.length).toBeGreaterThan(3000);
      const scored = await small.inject({
        method: "POST",
        url: "/api/v1/predictions",
        headers: { "content-type": "text/csv" },
        payload: csv,
      });
      expect(scored.statusCode).toBe(200);
      expect(scored.json().summary.scored).toBe(20);
      const uploaded = await small.inject({
        method: "POST",
        url: "/api/v1/predictions",
        ...multipart("people.csv", "text/csv", csv),
      });
      expect(uploaded.statusCode).toBe(200);
      expect(uploaded.json().summary.scored).toBe(20);
      expect(refused.json()).toMatchObject({ status: 413 });
      expect(refused.json().detail).toMatch(/3000|too large/i);
    } finally {
      await small.close();
    }
  });

  it("answers 400 to a multipart body it cannot read, logging nothing", async () => {
    const before = await decisionCount();
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "multipart/form-data; boundary=xyz" },
      payload:
        '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nx\r\n',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "PARSE_ERROR" });
    expect(res.json().detail).toMatch(/not a readable multipart form/);
    expect(await decisionCount()).toBe(before);
  });

  it("explains what is wrong with a file it cannot read", async () => {
    const missing = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      headers: { "content-type": "text/csv" },
      payload: "age,purpose\n30,car\n",
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toMatch(/checking_status/);
    const wrongType = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      ...multipart("photo.png", "image/png", "not a csv"),
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().detail).toMatch(/neither a CSV .* nor an Excel/);
    const noBatch = await app.inject({ method: "GET", url: "/api/v1/batches/nope/scored.csv" });
    expect(noBatch.statusCode).toBe(404);
  });
});

describe("cross-site requests", () => {
  it("refuses a write sent by another site's page, and takes our own pages' and API clients'", async () => {
    const before = await decisionCount();
    const post = (headers: Record<string, string>) =>
      app.inject({ method: "POST", url: "/api/v1/predictions", headers, payload: applicants[0] });
    for (const headers of [
      { origin: "http://evil.example" },
      { origin: "null" },
      { origin: "http://localhost:81" },
      { "sec-fetch-site": "cross-site" },
    ]) {
      const res = await post(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(res.json().detail).toMatch(/cross-site request refused/);
    }
    expect(await decisionCount()).toBe(before);
    // The page's own origin (inject's Host is localhost:80), one named by a proxy, or none.
    for (const headers of [
      { origin: "http://localhost:80", "sec-fetch-site": "same-origin" },
      { origin: "https://risk.bank.example", "x-forwarded-host": "risk.bank.example" },
      {},
    ]) {
      expect((await post(headers)).statusCode, JSON.stringify(headers)).toBe(200);
    }
    expect(await decisionCount()).toBe(before + 3);
    // Reads stay open to any origin (they carry no CORS header, so another site cannot read them).
    const read = await app.inject({
      method: "GET",
      url: "/api/v1/schema",
      headers: { origin: "http://evil.example" },
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers["access-control-allow-origin"]).toBeUndefined();
    // Security headers on everything, and no page may be framed by another site: the API
    // docs, the Risk-O-Meter. A page keeps its own Content-Security-Policy.
    for (const url of ["/api/docs/", "/", "/api/v1/schema", "/api/v1/nothing"]) {
      const page = await app.inject({ method: "GET", url });
      expect(page.headers["x-frame-options"], url).toBe("DENY");
      expect(page.headers["x-content-type-options"], url).toBe("nosniff");
      expect(page.headers["referrer-policy"], url).toBe("no-referrer");
      expect(page.headers["cross-origin-opener-policy"], url).toBe("same-origin");
    }
    const home = await app.inject({ method: "GET", url: "/" });
    expect(home.headers["content-security-policy"]).toMatch(
      /script-src 'self'.*frame-ancestors 'none'/,
    );
  });
});

describe("requests the HTTP parser refuses", () => {
  it("answers headers over 16 kB with 431 in the problem format, like every other refusal", async () => {
    const server = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
    try {
      const address = await server.listen({ host: "127.0.0.1", port: 0 });
      const res = await fetch(`${address}/healthz`, { headers: { "x-big": "x".repeat(20_000) } });
      expect(res.status).toBe(431);
      expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        status: 431,
        code: "INVALID_ARGUMENT",
        detail: expect.stringMatching(/headers are larger than the 16 kB/),
      });
    } finally {
      await server.close();
    }
  });
});

describe("host names", () => {
  it("answers only to loopback names when bound to loopback, unless more are configured", async () => {
    expect(allowedHostsFor("0.0.0.0", [])).toBeNull();
    expect(allowedHostsFor("0.0.0.0", ["risk.bank.example"])).toEqual(["risk.bank.example"]);
    expect(allowedHostsFor("127.0.0.1", ["risk.bank.example"])).toEqual([
      "risk.bank.example",
      "localhost",
      "127.0.0.1",
      "::1",
    ]);
    const local = await buildApp(world.ctx, {
      access: "open",
      modelPollMs: 0,
      allowedHosts: allowedHostsFor("127.0.0.1", []),
    });
    try {
      const get = (url: string, host: string) =>
        local.inject({ method: "GET", url, headers: { host } });
      // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
      for (const host of ["evil.example", "evil.example:9696", "127.0.0.1.evil.example"]) {
        const res = await get("/api/v1/schema", host);
        expect(res.statusCode, host).toBe(403);
        expect(res.json().detail).toMatch(/does not answer to the host/);
      }
      for (const host of ["localhost:9696", "127.0.0.1", "[::1]:9696", "LOCALHOST"]) {
        expect((await get("/api/v1/schema", host)).statusCode, host).toBe(200);
      }
      // Probes and scrapes reach a server by whatever address they have.
      for (const url of ["/healthz", "/readyz", "/metrics"]) {
        expect((await get(url, "10.0.0.7:9696")).statusCode, url).toBe(200);
      }
    } finally {
      await local.close();
    }
  });
});

describe("outcomes", () => {
  it("records an outcome once per decision, for a clerk", async () => {
    const scored = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: applicants[5],
    });
    const id = scored.json().predictions[0].id;
    const post = (token: string | null, body: unknown) =>
      app.inject({
        method: "POST",
        url: "/api/v1/outcomes",
        headers: token ? { authorization: `Bearer ${token}` } : {},
        payload: body as object,
      });
    const first = await post(clerkToken, { decisionId: id, outcome: "bad" });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ decisionId: id, outcome: "bad", recordedBy: "carl" });
    expect((await post(clerkToken, { decisionId: id, outcome: "good" })).statusCode).toBe(409);
    expect(
      (
        await post(clerkToken, {
          decisionId: "0190aaaa-0000-7000-8000-000000000000",
          outcome: "good",
        })
      ).statusCode,
    ).toBe(404);
    expect((await post(clerkToken, { decisionId: id, outcome: "maybe" })).statusCode).toBe(400);
    const logged = await app.inject({ method: "GET", url: `/api/v1/decisions/${id}` });
    expect(logged.json().outcome).toMatchObject({ outcome: "bad", recordedBy: "carl" });
  });
});

describe("operations", () => {
  it("answers health, readiness with the serving model, and Prometheus metrics", async () => {
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().model).toEqual(world.model);
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(
      /riskometer_http_requests_total\{method="POST",route="\/api\/v1\/predictions",status="200"\} \d+/,
    );
    expect(metrics).toMatch(
      /riskometer_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/v1\/predictions"\}/,
    );
    const model = world.model.name;
    expect(metrics).toMatch(
      new RegExp(
        `riskometer_predictions_total\\{model="${model}",risk="(good|bad)",source="api"\\} \\d+`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(`riskometer_probability_bad_bucket\\{le="0.5",model="${model}"\\} \\d+`),
    );
    expect(metrics).toContain(
      `riskometer_serving_model_info{name="${world.model.name}",version="${world.model.version}"} 1`,
    );
  });

  it("keeps applicants' data out of /metrics: labels name models, routes, features and groups only", async () => {
    // An applicant with values no metric could hold by chance.
    const marked = { ...applicants[0], credit_amount: "17743", duration: "61", age: "73" };
    const scored = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: [marked],
    });
    expect(scored.statusCode).toBe(200);
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const labels = new Set<string>();
    const values = new Set<string>();
    for (const [, inside] of metrics.matchAll(/^riskometer_\w+\{([^}]*)\}/gm)) {
      for (const [, name, value] of inside.matchAll(/(\w+)="([^"]*)"/g)) {
        labels.add(name);
        values.add(value);
      }
    }
    expect(values.size).toBeGreaterThan(5);
    for (const v of ["17743", "61", "73"]) expect(values.has(v), v).toBe(false);
    const allowed = new Set([
      ...["method", "route", "status", "le", "model", "risk", "source", "name", "version"],
      ...["feature", "test", "metric", "attribute", "group", "reference"],
      ...["space", "kind", "type", "major", "minor", "patch"],
    ]);
    expect([...labels].filter((l) => !allowed.has(l))).toEqual([]);
  });

  it("is not ready, and refuses to score, while no model serves", async () => {
    const home = await mkdtemp(join(tmpdir(), "riskometer-empty-"));
    const ctx = await openContext(
      loadConfig(
        {},
        { home, databaseUrl: `sqlite:${join(home, "db.sqlite")}`, artifactsUrl: join(home, "a") },
      ),
    );
    const empty = await buildApp(ctx, { access: "open", modelPollMs: 0 });
    try {
      const ready = await empty.inject({ method: "GET", url: "/readyz" });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().code).toBe("MODEL_NOT_READY");
      const scored = await empty.inject({
        method: "POST",
        url: "/api/v1/predictions",
        payload: applicants[0],
      });
      expect(scored.statusCode).toBe(503);
      expect(scored.json().detail).toMatch(/riskometer train/);
    } finally {
      await empty.close();
      await ctx.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("switching versions", () => {
  it("serves a promoted version at once, without failing requests in flight", async () => {
    const current = await world.ctx.registry.resolve(`${world.model.name}@champion`);
    const next = await world.ctx.registry.registerVersion({
      name: world.model.name,
      runId: current.runId,
      artifactPath: current.artifactPath,
      signature: current.signature,
      inputExample: current.inputExample,
      createdBy: "trainer",
    });
    const load = Array.from({ length: 200 }, (_, i) =>
      app.inject({
        method: "POST",
        url: "/api/v1/predictions",
        payload: applicants[i % applicants.length],
      }),
    );
    const promote = app.inject({
      method: "PUT",
      url: `/api/v1/models/${world.model.name}/aliases/champion`,
      headers: { authorization: `Bearer ${approverToken}` },
      payload: { version: next.version, note: "same model, new version: switch test" },
    });
    const [responses, promoted] = await Promise.all([Promise.all(load), promote]);
    expect(promoted.statusCode).toBe(200);
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    const versions = new Set(responses.map((r) => r.json().predictions[0].model.version));
    for (const v of versions) expect([current.version, next.version]).toContain(v);
    const after = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: applicants[0],
    });
    expect(after.json().predictions[0].model.version).toBe(next.version);
    expect((await app.inject({ method: "GET", url: "/readyz" })).json().model.version).toBe(
      next.version,
    );
  });
});

describe("one applicant, three ways", () => {
  it("gives the same probability through the library, the CLI and HTTP", async () => {
    const applicant = applicants[7];
    const http = (
      await app.inject({ method: "POST", url: "/api/v1/predictions", payload: applicant })
    ).json().predictions[0];
    const { model } = await world.ctx.registry.loadModel(
      `${world.model.name}/${http.model.version}`,
    );
    const values = validateApplicant(applicant, model.spec).values as Float64Array;
    const library = model.pipeline.predictProbaRow(values);
    expect(http.probabilityBad).toBe(library);

    const dir = await mkdtemp(join(tmpdir(), "riskometer-3ways-"));
    try {
      await writeFile(join(dir, "in.csv"), csvOf([applicant]));
      const env = {
        ...process.env,
        RISKOMETER_HOME: world.ctx.config.home,
        RISKOMETER_DATABASE_URL: world.ctx.config.databaseUrl,
        RISKOMETER_ARTIFACTS_URL: world.ctx.config.artifactsUrl,
      };
      const code = await new Promise<number>((resolve) =>
        execFile(
          process.execPath,
          [
            BIN,
            "predict",
            "--model",
            `${world.model.name}/${http.model.version}`,
            "--input",
            join(dir, "in.csv"),
            "--output",
            join(dir, "out.csv"),
          ],
          { env },
          (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
        ),
      );
      expect(code).toBe(0);
      const [header, line] = (await readFile(join(dir, "out.csv"), "utf8")).trim().split("\n");
      const cli = Number(line.split(",")[header.split(",").indexOf("probability_bad")]);
      expect(Math.abs(cli - library)).toBeLessThan(5e-7);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
