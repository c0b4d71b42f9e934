/**
 * The Makefile reads as a table of contents: `make help` lists the targets the project promises,
 * each with a line of text, and every target only runs npm scripts or the riskometer command
 * (dry runs show it), so nothing lives only in the Makefile. The commands behind `train` and
 * `report` run.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(REPO, "dist", "cli", "bin.js");
const TARGETS = [
  "help",
  "setup",
  "start",
  "test",
  "lint",
  "bench",
  "train",
  "report",
  "docker-build",
  "compose-up",
  "compose-down",
];

async function scripts(): Promise<Record<string, string>> {
  return (
    JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts;
}

describe("the Makefile", () => {
  it("lists its targets with a description each, `make` alone included", async () => {
    for (const args of [[], ["help"]]) {
      const { stdout } = await run("make", ["-s", ...args], { cwd: REPO });
      const listed = stdout
        .trimEnd()
        .split("\n")
        .map((line) => /^\s+(\S+)\s{2,}(\S.*)$/.exec(line));
      expect(listed.every(Boolean), stdout).toBe(true);
      expect(listed.map((m) => m?.[1])).toEqual(TARGETS);
    }
  });

  it("runs only npm scripts that exist, or the riskometer command", async () => {
    const known = await scripts();
    for (const target of TARGETS.filter((t) => t !== "help")) {
      const { stdout } = await run("make", ["-n", target, "ARGS=--param trials=5"], { cwd: REPO });
      const commands = stdout.trim().split("\n");
      expect(commands.length, target).toBeGreaterThan(0);
      for (const command of commands) {
        const m = /^npm (?:run ([\w:-]+)|(start|test|ci))(?: -- (.*))?$/.exec(command);
        expect(m, `${target}: ${command}`).not.toBeNull();
        const script = m?.[1] ?? m?.[2];
        if (script !== "ci")
          expect(known, `${target}: npm script ${script}`).toHaveProperty(script as string);
      }
    }
    const { stdout } = await run("make", ["-n", "train", "ARGS=--param trials=5"], { cwd: REPO });
    expect(stdout.trim()).toBe("npm run train -- --param trials=5");
  });

  it("backs train and report with the flows command, and the docker targets with the files they use", async () => {
    const known = await scripts();
    expect(known.train).toMatch(/node dist\/cli\/bin\.js flows run retrain$/);
    expect(known.report).toMatch(/node dist\/cli\/bin\.js flows run drift-report$/);
    expect(known["docker:build"]).toBe("docker build -t riskometer:local .");
    expect(known["compose:up"]).toContain("sh deploy/make-secrets.sh");
    expect(known["compose:up"]).toContain("-f deploy/docker-compose.yml up");
    expect(known["compose:down"]).toContain("-f deploy/docker-compose.yml down");
    // `report` for real, on an empty store: the run completes and says there is nothing to compare.
    const home = await mkdtemp(join(tmpdir(), "riskometer-make-"));
    try {
      const { stdout } = await run(process.execPath, [BIN, "flows", "run", "drift-report"], {
        env: { ...process.env, RISKOMETER_HOME: home },
      });
      expect(stdout).toMatch(/^drift-report run \S+: COMPLETED/);
      expect(stdout).toMatch(/no model serves/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
