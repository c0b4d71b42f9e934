/**
 * `riskometer up` (what `npm start` runs) on a fresh home: it serves at once and prints the first
 * admin's one-time sign-in link, trains the first model as a flow run with its progress on the
 * terminal, and the Risk-O-Meter scores with it as soon as it is registered; SIGTERM stops it
 * cleanly.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { creditRows } from "./browser/riskometer-fixtures.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
let home: string | undefined;

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe("riskometer up", () => {
  it("serves at once with a sign-in link, trains the first model with progress, then scores with it", async () => {
    home = await mkdtemp(join(tmpdir(), "riskometer-up-"));
    const child = spawn(process.execPath, [BIN, "up", "--port", "0"], {
      env: { ...process.env, RISKOMETER_HOME: home, RISKOMETER_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not serving: ${out}${err}`)), 30_000);
        const check = () => {
          const m = /serving at (http:\/\/[^/\s]+)\//.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on("data", check);
        child.once("exit", (code) => reject(new Error(`up exited ${code}: ${err}`)));
      });
      expect(out).toMatch(/No model yet: training the first one/);
      // Nobody is signed in: the page sends the visitor to sign in, and the link printed does.
      const anonymous = await fetch(`${base}/`, { redirect: "manual" });
      expect(anonymous.status).toBe(303);
      const link = new RegExp(`(${base}/sign-in/link\\?token=\\S+)`).exec(out)?.[1];
      expect(link, out).toBeDefined();
      const opened = await fetch(link as string, { redirect: "manual" });
      expect(opened.headers.get("location")).toBe("/sign-in.html?set-password=1");
      const cookie = (opened.headers.get("set-cookie") ?? "").split(";")[0];
      const session = (await (
        await fetch(`${base}/api/v1/session`, { headers: { cookie } })
      ).json()) as { user: { name: string; role: string }; csrfToken: string };
      expect(session.user).toEqual(expect.objectContaining({ name: "admin", role: "admin" }));
      // The page is there before the model is.
      expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(200);
      const start = Date.now();
      for (;;) {
        const ready = await fetch(`${base}/readyz`);
        if (ready.status === 200) break;
        if (Date.now() - start > 120_000) throw new Error(`no model after 2 min: ${err}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // Progress went to the terminal while it trained.
      expect(err).toMatch(/training: .*\d+\/\d+/);
      const [applicant] = await creditRows(1);
      const scored = await fetch(`${base}/api/v1/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, "x-csrf-token": session.csrfToken },
        body: JSON.stringify(applicant),
      });
      expect(scored.status).toBe(200);
      expect((await scored.json()).predictions[0].model).toEqual({
        name: "credit-risk",
        version: 1,
      });
      const runs = (await (
        await fetch(`${base}/api/v1/flows/runs?flow=retrain`, { headers: { cookie } })
      ).json()) as {
        runs: { state: string; requestedBy: string }[];
      };
      expect(runs.runs).toEqual([
        expect.objectContaining({ state: "COMPLETED", requestedBy: "up: first model" }),
      ]);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    expect(child.exitCode).toBe(0);
  }, 180_000);
});
