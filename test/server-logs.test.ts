/**
 * The server's log as people and machines read it: on a terminal (a pseudo-terminal from
 * util-linux `script`) lines are for people (time, level, message, fields; no JSON), piped they
 * are one JSON object each, as log collectors expect. Neither ever holds a token sent with a
 * request. The compiled CLI on an empty store, so every request is refused and logged.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./support/free-port.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
const SECRET = "rk_secret-token-that-must-never-be-logged";

let home: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-logs-"));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await rm(home, { recursive: true, force: true });
});

/** Starts `serve` (under a pseudo-terminal if `tty`), makes refused requests, returns its output. */
async function serveAndLog(tty: boolean): Promise<string> {
  const port = await freePort();
  const command = `${process.execPath} ${BIN} serve --port ${port}`;
  const child = tty
    ? spawn("script", ["-qfc", command, "/dev/null"], {
        env: { ...process.env, RISKOMETER_HOME: home },
        stdio: ["pipe", "pipe", "pipe"],
      })
    : spawn(process.execPath, [BIN, "serve", "--port", String(port)], {
        env: { ...process.env, RISKOMETER_HOME: home },
        stdio: ["ignore", "pipe", "pipe"],
      });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (c) => (out += c));
  child.stderr?.on("data", (c) => (out += c));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !/is serving at/.test(out); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(out).toMatch(/is serving at/);
  // No model yet: refused (503, logged as a state), and a change with a bogus token (401).
  await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${SECRET}` } });
  await fetch(`${base}/api/v1/models/credit-risk/aliases/champion`, {
    method: "PUT",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify({ version: 1, note: "x" }),
  });
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return out;
}

describe("server log", () => {
  it("is for people on a terminal and JSON when piped, and never holds a token", async () => {
    const pretty = await serveAndLog(true);
    expect(pretty).toMatch(/\[\d\d:\d\d:\d\d\] .*WARN.*request not served/);
    expect(pretty).toMatch(/INFO.*request refused/);
    expect(pretty).not.toMatch(/\{"level":/);

    const piped = await serveAndLog(false);
    const lines = piped
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["request not served", "request refused"]),
    );
    for (const output of [pretty, piped]) expect(output).not.toContain(SECRET);
  }, 60_000);
});
