/**
 * One flow process per embedded SQLite store: a second `riskometer worker` or `up` on the same
 * store is refused at start, saying who holds it and why (both would keep the schedules, and a
 * flow could run twice); a lock left by a process killed with SIGKILL is taken over, and a
 * worker that stops cleanly leaves none. The compiled CLI, as it runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

let home: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-flow-lock-"));
  env = {
    ...process.env,
    RISKOMETER_HOME: home,
    RISKOMETER_DATABASE_URL: "",
    RISKOMETER_RETRAIN_SCHEDULE: "off",
    RISKOMETER_DRIFT_SCHEDULE: "off",
    RISKOMETER_PORT: "0",
  };
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await rm(home, { recursive: true, force: true });
});

function run(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return child;
}

/** Resolves once the worker says it runs flows. */
function started(child: ChildProcess): Promise<void> {
  let out = "";
  let err = "";
  child.stderr?.on("data", (c) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${err}`)), 30_000);
    child.stdout?.on("data", (c) => {
      out += c;
      if (/is running flows/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
}

/** The exit code and stderr of a process that should end by itself. */
function ended(child: ChildProcess): Promise<{ code: number | null; err: string }> {
  let err = "";
  child.stderr?.on("data", (c) => (err += c));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, err })));
}

describe("one flow process per SQLite store", () => {
  it("refuses a second worker or up, takes over a killed one's lock, and a clean stop leaves none", async () => {
    const first = run(["worker"]);
    await started(first);
    const lock = join(home, "riskometer.db.flows-lock");
    await access(lock);

    for (const args of [["worker"], ["up"]]) {
      const { code, err } = await ended(run(args));
      expect(code, args.join(" ")).not.toBe(0);
      expect(err).toMatch(new RegExp(`another flow process \\(pid ${first.pid} on `));
      expect(err).toMatch(/could run a flow twice/);
      expect(err).toMatch(/Postgres/);
    }

    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const next = run(["worker"]);
    await started(next);
    next.kill("SIGTERM");
    expect((await ended(next)).code).toBe(0);
    await expect(access(lock)).rejects.toThrow(/ENOENT/);
  }, 120_000);
});
