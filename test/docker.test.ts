/**
 * The container image, without a container engine: the Dockerfile passes a Dockerfile linter and
 * the best-practice rules an image review checks, and its build and start steps, run natively
 * from a fresh copy of the repository (the build context after .dockerignore), give an image
 * that starts as the unprivileged user, answers /readyz with 200, passes its own HEALTHCHECK,
 * stops cleanly on SIGTERM, and runs `serve` and `worker` by its command.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DockerfileParser, type From, type JSONInstruction } from "dockerfile-ast";
import { ValidationSeverity, validate } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type NativeImage,
  buildNatively,
  execNatively,
  listFiles,
  startNatively,
} from "./support/native-image.js";
import { freePort } from "./support/free-port.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const DOCKERFILE = join(REPO, "Dockerfile");

let work: string;
let image: NativeImage;
const steps: string[] = [];
const running: ChildProcess[] = [];

/** Starts a container of the image; resolves once its stdout matches `ready`. */
async function container(
  args: string[] | null,
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = startNatively(image, args, env);
  running.push(child);
  let out = "";
  child.stdout?.on("data", (c) => (out += c));
  child.stderr?.on("data", (c) => (out += c));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 120 s:\n${out}`)), 120_000);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
  return { child, output: () => out };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  return exited;
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the Dockerfile", () => {
  it("passes the Dockerfile linter with every rule at error level", async () => {
    const text = await readFile(DOCKERFILE, "utf8");
    const E = ValidationSeverity.ERROR;
    const problems = validate(text, {
      deprecatedMaintainer: E,
      directiveCasing: E,
      emptyContinuationLine: E,
      instructionCasing: E,
      instructionCmdMultiple: E,
      instructionEntrypointMultiple: E,
      instructionHealthcheckMultiple: E,
      instructionJSONInSingleQuotes: E,
      instructionWorkdirRelative: E,
    });
    expect(problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it("follows the image rules: pinned LTS slim base, no root at run time, lean apt, exec form", async () => {
    const dockerfile = DockerfileParser.parse(await readFile(DOCKERFILE, "utf8"));
    const instructions = dockerfile.getInstructions();
    const keyword = (k: string) => instructions.filter((i) => i.getKeyword() === k);
    // DL3006/DL3007: every base image has a tag, never `latest`; here a Node LTS slim image.
    const nodeVersion = /ARG NODE_VERSION=(\d+)/.exec(await readFile(DOCKERFILE, "utf8"))?.[1];
    expect(Number(nodeVersion) % 2, "an even Node major is an LTS line").toBe(0);
    expect(Number(nodeVersion)).toBeGreaterThanOrEqual(20);
    for (const f of keyword("FROM") as From[]) {
      expect(f.getImage()).toBe("node:${NODE_VERSION}-bookworm-slim");
    }
    expect((keyword("FROM") as From[]).map((f) => f.getBuildStage())).toEqual(["build", "runtime"]);
    // DL3002: the last USER is not root.
    expect(keyword("USER").at(-1)?.getArgumentsContent()).toBe("node");
    // DL3020: COPY, not ADD. DL3025: ENTRYPOINT and CMD in exec form, so signals reach node.
    expect(keyword("ADD")).toEqual([]);
    // A health check on /healthz (healthcheck.js asks it) and the store's folder as a volume.
    const health = keyword("HEALTHCHECK");
    expect(health).toHaveLength(1);
    expect(health[0].getArgumentsContent()).toMatch(
      /CMD \["node", "dist\/cli\/healthcheck\.js"\]$/,
    );
    expect(keyword("VOLUME").map((i) => i.getArgumentsContent())).toEqual(['["/data"]']);
    for (const i of [...keyword("ENTRYPOINT"), ...keyword("CMD")]) {
      expect((i as JSONInstruction).getJSONStrings().length, i.getKeyword()).toBeGreaterThan(0);
    }
    // DL3015/DL3009: apt installs without recommended packages and removes its lists.
    for (const run of keyword("RUN").map((r) => r.getArgumentsContent() ?? "")) {
      if (!/apt-get install/.test(run)) continue;
      expect(run).toMatch(/--no-install-recommends/);
      expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    }
    // npm ci with the lock file; the dev dependencies pruned before the runtime copies them.
    const runs = keyword("RUN").map((r) => r.getArgumentsContent() ?? "");
    expect(runs.some((r) => /^npm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
  });
});

describe("the image, built natively as the Dockerfile says", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "riskometer-image-"));
    image = await buildNatively(REPO, work, (line) => steps.push(line));
  }, 900_000);

  afterAll(async () => {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(work, { recursive: true, force: true });
  });

  it("builds from a context that .dockerignore keeps small, skipping only OS packages", () => {
    for (const s of image.stages) expect(s.from).toMatch(/^node:\d+-bookworm-slim$/);
    expect(image.healthcheck).toEqual(["node", "dist/cli/healthcheck.js"]);
    expect(image.volumes).toEqual(["/data"]);
    expect(image.exposed).toEqual(["9696"]);
    expect(image.entrypoint).toEqual(["node", "dist/cli/bin.js"]);
    expect(image.cmd).toEqual(["up"]);
    expect(image.skipped).toEqual([expect.stringMatching(/^apt-get update/)]);
    expect(steps.filter((s) => s.startsWith("RUN"))).toHaveLength(4);
    const top = new Set(image.context.map((f) => f.split("/")[0]));
    expect([...top].sort()).toEqual([
      "data",
      "package-lock.json",
      "package.json",
      "src",
      "tsconfig.build.json",
      "tsconfig.json",
      "web",
    ]);
    expect(image.context.filter((f) => f.endsWith(".test.ts"))).toEqual([]);
  });

  it("holds the compiled code, the production dependencies, the data and the pages; no sources or dev tools", async () => {
    const app = join(image.image.fs, "app");
    const files = await listFiles(app);
    expect(files).toContain("dist/cli/bin.js");
    expect(files).toContain("dist/cli/healthcheck.js");
    expect(files).toContain("data/credit-g.arff");
    expect(files).toContain("web/index.html");
    expect(files.some((f) => f.startsWith("node_modules/better-sqlite3/"))).toBe(true);
    expect(files.some((f) => f.startsWith("node_modules/fastify/"))).toBe(true);
    for (const dev of ["typescript", "vitest", "eslint", "playwright-core", "prettier"]) {
      expect(
        files.some((f) => f.startsWith(`node_modules/${dev}/`)),
        dev,
      ).toBe(false);
    }
    expect(
      files.some(
        (f) =>
          f.startsWith("src/") ||
          (f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.startsWith("node_modules/")),
      ),
    ).toBe(false);
    const data = await stat(join(image.image.fs, "data"));
    expect([data.uid, data.gid]).toEqual([1000, 1000]);
    expect(image.image.user).toBe("node");
    expect(image.image.env).toMatchObject({
      NODE_ENV: "production",
      RISKOMETER_HOME: "/data",
      RISKOMETER_HOST: "0.0.0.0",
      RISKOMETER_PORT: "9696",
    });
  });

  it("starts `up` as the unprivileged user: /readyz answers 200 once the first model serves, the HEALTHCHECK passes, SIGTERM stops it", async () => {
    const port = String(await freePort());
    const base = `http://127.0.0.1:${port}`;
    const env = { RISKOMETER_PORT: port, RISKOMETER_LOG_LEVEL: "warn" };
    const up = await container(null, env, /serving at/);
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${up.child.pid}/status`, "utf8"));
    expect(uid?.[1]).toBe("1000");
    expect(await status(`${base}/healthz`)).toBe(200);
    await until(
      "the first model to serve",
      async () => (await status(`${base}/readyz`)) === 200,
      240_000,
    );
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { model: { version: number } };
    expect(ready.model.version).toBe(1);
    // The embedded store went to the volume, written by the unprivileged user.
    const db = await stat(join(image.image.fs, "data", "riskometer.db"));
    expect(db.uid).toBe(1000);

    const health = await execNatively(image, image.healthcheck as string[], env);
    expect(health, health.output).toMatchObject({ code: 0 });
    expect(await stop(up.child)).toBe(0);
    const after = await execNatively(image, image.healthcheck as string[], env);
    expect(after.code).toBe(1);
    expect(after.output).toMatch(/healthz/);
  }, 300_000);

  it("runs `serve` and `worker` by its command, on the same volume", async () => {
    const port = String(await freePort());
    const env = { RISKOMETER_PORT: port, RISKOMETER_LOG_LEVEL: "warn" };
    const serve = await container(["serve"], env, /serving at/);
    expect(serve.output()).not.toMatch(/running the flows/);
    await until(
      "serve to be ready",
      async () => (await status(`http://127.0.0.1:${port}/readyz`)) === 200,
      30_000,
    );
    expect(await stop(serve.child)).toBe(0);

    const worker = await container(
      ["worker"],
      { RISKOMETER_LOG_LEVEL: "warn" },
      /is running flows/,
    );
    // The model from the `up` run is there, so nothing is trained again.
    expect(worker.output()).not.toMatch(/No model yet/);
    expect(await stop(worker.child)).toBe(0);
  }, 120_000);
});
