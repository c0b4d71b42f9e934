/**
 * The tracking, registry, user and database commands as users run them: the compiled bin
 * against a fresh RISKOMETER_HOME (`npm test` builds first). Runs and versions are seeded through
 * the same services the commands use, on the same database.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { type AppContext, openContext } from "../src/main.js";
import { runArtifactKey } from "../src/tracking/index.js";
import { firstSignInLink } from "../src/cli/first-admin.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let home: string;

/** Runs the CLI with RISKOMETER_HOME set and no other RISKOMETER_* variable but `env`. */
function run(args: string[], env: Record<string, string> = {}, at = home): Promise<Result> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("RISKOMETER_")),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...base, RISKOMETER_HOME: at, ...env }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(args, env);
  expect(r.stderr).not.toMatch(/unexpected error/);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function json<T = unknown>(args: string[], env: Record<string, string> = {}): Promise<T> {
  return JSON.parse(await ok([...args, "--json"], env)) as T;
}

async function withStore<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig({ RISKOMETER_HOME: home }));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function tokenIn(stdout: string): string {
  const m = /^token: (rk_\S+)$/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return (m as RegExpExecArray)[1];
}

const SIGNATURE = {
  inputs: [
    { name: "age", type: "numeric" as const, label: "Age in years" },
    { name: "housing", type: "categorical" as const, values: ["own", "rent", "free"] },
  ],
  output: { name: "class", values: ["good", "bad"] },
};

const ids = { gbdt: "", logreg: "", fold: "" };

interface RunJson {
  id: string;
  name: string;
  params: Record<string, string>;
  metrics: Record<string, { value: number; step: number; timestamp: string }>;
  startTime: string;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-cli-registry-"));
  await withStore(async (ctx) => {
    const exp = await ctx.tracking.experiment("credit-risk");
    const gbdt = await ctx.tracking.startRun({ experimentId: exp.id, name: "gbdt-trial" });
    await gbdt.logParams({ kind: "gbdt", trials: 20 });
    await gbdt.logMetrics({ test_auc: 0.81, cv_cost: 0.52 });
    for (const [step, loss] of [0.6, 0.5, 0.45].entries()) {
      await gbdt.logMetrics({ train_loss: loss }, step);
    }
    await gbdt.logInputs([{ name: "credit-g", digest: "ab".repeat(32), role: "train", rows: 800 }]);
    await gbdt.logArtifact("model/model.json", '{"model":"gbdt"}');
    const fold = await ctx.tracking.startRun({
      experimentId: exp.id,
      name: "fold-1",
      parentRunId: gbdt.id,
    });
    await fold.logMetrics({ test_auc: 0.79 });
    await fold.end();
    await gbdt.end();
    const logreg = await ctx.tracking.startRun({ experimentId: exp.id, name: "logreg-trial" });
    await logreg.logParams({ kind: "logreg", trials: 20 });
    await logreg.logMetrics({ test_auc: 0.77, cv_cost: 0.55 });
    await logreg.end();
    Object.assign(ids, { gbdt: gbdt.id, logreg: logreg.id, fold: fold.id });

    // Both versions are carol's: the four-eyes rule keeps her from approving either.
    for (const runId of [logreg.id, gbdt.id]) {
      const artifactPath = runArtifactKey(runId, "registered/model.json");
      await ctx.artifacts.put(artifactPath, `{"run":"${runId}"}`);
      await ctx.registry.registerVersion({
        name: "credit-risk",
        runId,
        artifactPath,
        signature: SIGNATURE,
        inputExample: { age: 35, housing: "own" },
        createdBy: "carol",
      });
    }
  });
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("riskometer experiments", () => {
  it("creates, lists, deletes, restores and purges; purging frees the name", async () => {
    expect(await ok(["experiments", "create", "scratch", "--tag", "team=risk"])).toMatch(
      /created experiment "scratch"/,
    );
    const listed = await json<{ name: string; tags: Record<string, string> }[]>([
      "experiments",
      "list",
    ]);
    expect(listed.map((e) => e.name)).toEqual(["credit-risk", "scratch"]);
    expect(listed[1].tags).toEqual({ team: "risk" });
    expect(await ok(["experiments", "list"])).toMatch(/^id\s+name\s+created\s+tags$/m);

    await ok(["experiments", "delete", "scratch"]);
    expect((await json<{ name: string }[]>(["experiments", "list"])).map((e) => e.name)).toEqual([
      "credit-risk",
    ]);
    const all = await json<{ name: string; lifecycle: string }[]>(["experiments", "list", "--all"]);
    expect(all.find((e) => e.name === "scratch")?.lifecycle).toBe("deleted");
    const taken = await run(["experiments", "create", "scratch"]);
    expect(taken.code).toBe(10);
    expect(taken.stderr).toMatch(/taken/);

    await ok(["experiments", "restore", "scratch"]);
    expect((await json<{ name: string }[]>(["experiments", "list"])).map((e) => e.name)).toContain(
      "scratch",
    );

    const artifact = await withStore(async (ctx) => {
      const exp = await ctx.tracking.store.getExperiment("scratch");
      const r = await ctx.tracking.startRun({ experimentId: exp.id, name: "throwaway" });
      await r.logArtifact("plot.svg", "<svg/>");
      await r.end();
      return runArtifactKey(r.id, "plot.svg");
    });
    const refused = await run(["experiments", "purge", "scratch"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    expect(await withStore((ctx) => ctx.artifacts.exists(artifact))).toBe(true);

    expect(await ok(["experiments", "purge", "scratch", "--yes"])).toMatch(
      /1 run\(s\) and their artifacts removed/,
    );
    expect(await withStore((ctx) => ctx.artifacts.exists(artifact))).toBe(false);
    const after = await json<{ name: string }[]>(["experiments", "list", "--all"]);
    expect(after.map((e) => e.name)).toEqual(["credit-risk"]);
    await ok(["experiments", "create", "scratch"]);
  });

  it("refuses to purge an experiment whose runs back registered versions", async () => {
    const r = await run(["experiments", "purge", "credit-risk", "--yes"]);
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/registered model versions/);
  });

  it("reports an unknown experiment as not found", async () => {
    const r = await run(["experiments", "delete", "nope"]);
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/no experiment "nope"/);
  });
});

describe("riskometer runs", () => {
  it("lists runs as a JSON array on stdout, paging information on stderr", async () => {
    const r = await run(["runs", "list", "--experiment", "credit-risk", "--json"]);
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.stdout) as RunJson[];
    expect(Array.isArray(runs)).toBe(true);
    expect(runs.map((x) => x.id).sort()).toEqual([ids.gbdt, ids.logreg, ids.fold].sort());
    expect(r.stderr).toMatch(/3 of 3 matching run\(s\)/);
    const gbdt = runs.find((x) => x.id === ids.gbdt) as RunJson;
    expect(gbdt.params).toEqual({ kind: "gbdt", trials: "20" });
    expect(gbdt.metrics.test_auc.value).toBe(0.81);
    expect(gbdt.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("honours --filter and --order-by", async () => {
    const filtered = await json<RunJson[]>(["runs", "list", "--filter", "params.kind = 'gbdt'"]);
    expect(filtered.map((x) => x.id)).toEqual([ids.gbdt]);
    const ordered = await json<RunJson[]>([
      "runs",
      "list",
      "--filter",
      "metrics.test_auc > 0",
      "--order-by",
      "metrics.test_auc ASC",
    ]);
    expect(ordered.map((x) => x.name)).toEqual(["logreg-trial", "fold-1", "gbdt-trial"]);
    const desc = await json<RunJson[]>(["runs", "list", "--order-by", "metrics.test_auc DESC"]);
    expect(desc.map((x) => x.name)).toEqual(["gbdt-trial", "fold-1", "logreg-trial"]);
  });

  it("pages with --max-results and the printed --page-token", async () => {
    const first = await run(["runs", "list", "--max-results", "2", "--json"]);
    expect(first.code).toBe(0);
    const token = /--page-token (\S+)/.exec(first.stderr)?.[1];
    expect(token).toBeDefined();
    const rest = await json<RunJson[]>(["runs", "list", "--page-token", token as string]);
    const seen = [...(JSON.parse(first.stdout) as RunJson[]), ...rest].map((x) => x.id);
    expect(seen.sort()).toEqual([ids.gbdt, ids.logreg, ids.fold].sort());
  });

  it("prints a table with short ids, status, times and key metrics", async () => {
    const out = await ok(["runs", "list"]);
    const lines = out.split("\n");
    expect(lines[0]).toMatch(/^id\s+name\s+status\s+start\s+duration\s+test_auc\s+cv_cost/);
    const row = lines.find((l) => l.startsWith(ids.gbdt.slice(0, 8))) as string;
    expect(row).toMatch(/gbdt-trial\s+FINISHED\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(row).toMatch(/0\.81\s+0\.52\s+0\.45$/);
    expect(out).toMatch(/3 of 3 matching run\(s\)/);
  });

  it("rejects a malformed filter with exit code 2 and says where", async () => {
    const r = await run(["runs", "list", "--filter", "metrics.test_auc >> 1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/position \d+ of "metrics\.test_auc >> 1"/);
    expect(r.stdout).toBe("");
  });

  it("shows a run by a short id with params, metrics, inputs, artifacts and children", async () => {
    const out = await ok(["runs", "show", ids.gbdt.slice(0, 8)]);
    expect(out).toContain(`run ${ids.gbdt} "gbdt-trial"`);
    expect(out).toMatch(/params:\n\s+kind\s+gbdt\n\s+trials\s+20/);
    expect(out).toMatch(/train_loss\s+0\.45\s+2/);
    expect(out).toMatch(/credit-g\s+train\s+800/);
    expect(out).toMatch(/model\/model\.json\s+16\s+application\/json/);
    expect(out).toMatch(/child runs:\n.*\n.*\n\s+\w{8}\s+fold-1\s+FINISHED/);
    const shown = await json<RunJson & { children: { id: string }[]; artifacts: unknown[] }>([
      "runs",
      "show",
      ids.gbdt,
    ]);
    expect(shown.children.map((c) => c.id)).toEqual([ids.fold]);
    expect(shown.artifacts).toEqual([
      { path: "model/model.json", size: 16, mediaType: "application/json" },
    ]);
    const child = await ok(["runs", "show", ids.fold]);
    expect(child).toMatch(new RegExp(`parent run\\s+${ids.gbdt}`));
    expect((await run(["runs", "show", "0000000000"])).code).toBe(9);
  });

  it("compares runs side by side and marks the rows that differ", async () => {
    const out = await ok(["runs", "compare", ids.gbdt, ids.logreg]);
    expect(out).toMatch(/^≠\s+kind\s+gbdt\s+logreg$/m);
    expect(out).toMatch(/^\s+trials\s+20\s+20$/m);
    expect(out).toMatch(/^≠\s+train_loss\s+0\.45\s+—$/m);
    const cmp = await json<{ params: { key: string; values: unknown[]; differs: boolean }[] }>([
      "runs",
      "compare",
      ids.gbdt,
      ids.logreg,
    ]);
    expect(cmp.params).toEqual([
      { key: "kind", values: ["gbdt", "logreg"], differs: true },
      { key: "trials", values: ["20", "20"], differs: false },
    ]);
    expect((await run(["runs", "compare", ids.gbdt])).code).toBe(2);
  });

  it("prints the full history of a metric", async () => {
    const points = await json<{ step: number; value: number }[]>([
      "runs",
      "metric",
      ids.gbdt,
      "train_loss",
    ]);
    expect(points.map((p) => [p.step, p.value])).toEqual([
      [0, 0.6],
      [1, 0.5],
      [2, 0.45],
    ]);
    const missing = await run(["runs", "metric", ids.gbdt, "nope"]);
    expect(missing.code).toBe(9);
    expect(missing.stderr).toMatch(
      /has no metric "nope" \(it has: cv_cost, test_auc, train_loss\)/,
    );
  });
});

// Tokens the users tests print and the models tests act with.
const tokens: Record<string, string> = {};

describe("riskometer users", () => {
  it("creates the first admin without a token and prints the token once", async () => {
    const r = await run(["users", "add", "root", "--role", "admin"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created user root \(admin\)/);
    expect(r.stdout).toMatch(/not stored.*cannot be shown again/);
    tokens.root = tokenIn(r.stdout);
  });

  it("gives the first admin `up` made (who has a link, no token) a token without one, once", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "riskometer-cli-first-admin-"));
    try {
      const ctx = await openContext(loadConfig({}, { home: fresh }));
      expect((await firstSignInLink(ctx))?.user).toBe("admin");
      await ctx.close();
      const given = await run(["users", "token", "admin"], {}, fresh);
      expect(given.code, given.stderr).toBe(0);
      expect(given.stderr).toMatch(/no admin holds an API token yet/);
      expect(tokenIn(given.stdout)).toMatch(/^rk_/);
      const again = await run(["users", "token", "admin"], {}, fresh);
      expect(again.code).toBe(11);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("needs the admin's token for every later user", async () => {
    const r = await run(["users", "add", "carol", "--role", "approver"]);
    expect(r.code).toBe(11);
    expect(r.stderr).toMatch(/API token is needed to manage users/);
    tokens.carol = tokenIn(
      await ok(["users", "add", "carol", "--role", "approver"], { RISKOMETER_TOKEN: tokens.root }),
    );
    tokens.dave = tokenIn(
      await ok(["users", "add", "dave", "--role", "approver", "--token", tokens.root]),
    );
    tokens.eve = tokenIn(
      await ok(["users", "add", "eve", "--role", "clerk"], { RISKOMETER_TOKEN: tokens.root }),
    );
    const refused = await run(["users", "add", "mallory", "--role", "admin"], {
      RISKOMETER_TOKEN: tokens.carol,
    });
    expect(refused.code).toBe(11);
    expect(refused.stderr).toMatch(/carol \(approver\) may not manage users/);
  });

  it("lists users with token ids but never the tokens", async () => {
    const r = await run(["users", "list", "--json"], { RISKOMETER_TOKEN: tokens.root });
    expect(r.code).toBe(0);
    const users = JSON.parse(r.stdout) as { name: string; role: string; tokens: unknown[] }[];
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ["carol", "approver"],
      ["dave", "approver"],
      ["eve", "clerk"],
      ["root", "admin"],
    ]);
    expect(users.every((u) => u.tokens.length === 1)).toBe(true);
    for (const t of Object.values(tokens)) expect(r.stdout).not.toContain(t);
  });

  it("issues and revokes further tokens; a revoked token stops working", async () => {
    const issued = await ok(["users", "token", "eve", "--label", "laptop"], {
      RISKOMETER_TOKEN: tokens.root,
    });
    const extra = tokenIn(issued);
    const id = /^token id: (\S+)$/m.exec(issued)?.[1] as string;
    await ok(["users", "revoke", id], { RISKOMETER_TOKEN: tokens.root });
    const r = await run(["models", "promote", "credit-risk", "1", "--alias", "staging"], {
      RISKOMETER_TOKEN: extra,
    });
    expect(r.code).toBe(11);
    expect(r.stderr).toMatch(/unknown, revoked/);
  });

  it("refuses to demote or disable the last active admin", async () => {
    const env = { RISKOMETER_TOKEN: tokens.root };
    expect((await run(["users", "role", "root", "viewer"], env)).code).toBe(10);
    expect((await run(["users", "disable", "root"], env)).code).toBe(10);
    expect(await ok(["users", "role", "eve", "viewer"], env)).toMatch(/eve: clerk → viewer/);
    await ok(["users", "role", "eve", "clerk"], env);
  });
});

describe("riskometer models", () => {
  it("lists models as a JSON array", async () => {
    const models = await json<{ name: string; latestVersion: number; aliases: object }[]>([
      "models",
      "list",
    ]);
    expect(models).toEqual([
      expect.objectContaining({ name: "credit-risk", latestVersion: 2, aliases: {} }),
    ]);
  });

  it("says when nothing serves yet", async () => {
    const r = await run(["models", "show", "credit-risk@champion"]);
    expect(r.code).toBe(9);
    expect(r.stderr).toMatch(/no alias "champion"/);
  });

  it("refuses to promote without a token, and says how to get one", async () => {
    const r = await run(["models", "promote", "credit-risk", "2", "--note", "better AUC"]);
    expect(r.code).toBe(11);
    expect(r.stderr).toMatch(/API token is needed.*RISKOMETER_TOKEN/);
    expect(r.stderr).toContain("riskometer users add <name> --role approver");
  });

  it("refuses a clerk, a missing note and the version's author, changing nothing", async () => {
    const clerk = await run(["models", "promote", "credit-risk", "2", "--note", "x"], {
      RISKOMETER_TOKEN: tokens.eve,
    });
    expect(clerk.code).toBe(11);
    expect(clerk.stderr).toMatch(/eve \(clerk\) may not move "champion"/);

    const noNote = await run(["models", "promote", "credit-risk", "2", "--token", tokens.dave]);
    expect(noNote.code).toBe(2);
    expect(noNote.stderr).toMatch(/needs a note/);

    const author = await run(["models", "promote", "credit-risk", "2", "--note", "mine"], {
      RISKOMETER_TOKEN: tokens.carol,
    });
    expect(author.code).toBe(11);
    expect(author.stderr).toMatch(/carol registered credit-risk\/2.*four-eyes/);

    expect(await json(["models", "audit", "credit-risk"])).toEqual([]);
    const [model] = await json<{ aliases: object }[]>(["models", "list"]);
    expect(model.aliases).toEqual({});
  });

  it("lets another approver promote, and the audit log shows it", async () => {
    const out = await ok(
      ["models", "promote", "credit-risk", "2", "--note", "higher test AUC, same cost"],
      { RISKOMETER_TOKEN: tokens.dave },
    );
    expect(out).toMatch(/credit-risk@champion: unset → v2, by dave \(approver\)/);
    const audit = await json<Record<string, unknown>[]>(["models", "audit", "credit-risk"]);
    expect(audit).toEqual([
      expect.objectContaining({
        alias: "champion",
        fromVersion: null,
        toVersion: 2,
        actor: "dave",
        actorRole: "approver",
        note: "higher test AUC, same cost",
        selfApproved: false,
        at: expect.stringMatching(/Z$/),
      }),
    ]);
    expect(await ok(["models", "audit", "credit-risk"])).toMatch(
      /champion\s+—\s+v2\s+dave \(approver\)\s+higher test AUC, same cost/,
    );
  });

  it("shows a model by name, by name@alias and by name/version", async () => {
    const byName = await ok(["models", "show", "credit-risk"]);
    expect(byName).toMatch(/aliases: champion → v2/);
    expect(byName).toMatch(/^\s*v2\s+champion\s+\S+Z\s+carol\s+\w{8}\s+0\.81\s+0\.52\s+0\.45$/m);
    expect(byName).toMatch(/^\s*v1\s+—\s+\S+Z\s+carol\s+\w{8}\s+0\.77\s+0\.55\s+—$/m);

    const champion = await json<{ version: number; runId: string; metrics: object }>([
      "models",
      "show",
      "credit-risk@champion",
    ]);
    expect(champion).toMatchObject({ version: 2, runId: ids.gbdt });
    expect(champion.metrics).toMatchObject({ test_auc: 0.81 });

    const v1 = await json<{ version: number; signature: unknown; inputExample: unknown }>([
      "models",
      "show",
      "credit-risk/1",
    ]);
    expect(v1.version).toBe(1);
    expect(v1.signature).toEqual(SIGNATURE);
    expect(v1.inputExample).toEqual({ age: 35, housing: "own" });
    const text = await ok(["models", "show", "credit-risk/1"]);
    expect(text).toMatch(/housing\s+categorical\s+own \| rent \| free/);
    expect(text).toMatch(/input example:\n\s+age\s+35/);
  });

  it("demotes with a note, audited", async () => {
    await ok(["models", "demote", "credit-risk", "--alias", "champion", "--note", "pause"], {
      RISKOMETER_TOKEN: tokens.dave,
    });
    const [model] = await json<{ aliases: object }[]>(["models", "list"]);
    expect(model.aliases).toEqual({});
    const audit = await json<{ toVersion: number | null; fromVersion: number }[]>([
      "models",
      "audit",
      "credit-risk",
    ]);
    expect(audit[0]).toMatchObject({ fromVersion: 2, toVersion: null });
  });
});

describe("riskometer db", () => {
  it("migrates a fresh home, then reports it up to date", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "riskometer-cli-db-"));
    try {
      const first = await run(["db", "migrate"], {}, fresh);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(
        /applied 6 migration\(s\):\n\s+0001_tracking_and_registry\n\s+0002_decision_log\n\s+0003_flow_runs\n\s+0004_token_expiry\n\s+0005_sign_in\n\s+0006_access_log_and_erasure/,
      );
      const second = await run(["db", "migrate"], {}, fresh);
      expect(second.stdout).toMatch(/up to date, no migration applied/);
      const status = await run(["db", "status", "--json"], {}, fresh);
      expect(JSON.parse(status.stdout)).toMatchObject({
        database: `sqlite:${join(fresh, "riskometer.db")}`,
        upToDate: true,
        migrations: [
          { name: "0001_tracking_and_registry", state: "applied" },
          { name: "0002_decision_log", state: "applied" },
          { name: "0003_flow_runs", state: "applied" },
          { name: "0004_token_expiry", state: "applied" },
          { name: "0005_sign_in", state: "applied" },
          { name: "0006_access_log_and_erasure", state: "applied" },
        ],
      });
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("shows pending migrations without applying them", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "riskometer-cli-db-"));
    try {
      const status = await run(["db", "status"], {}, fresh);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/0001_tracking_and_registry\s+pending/);
      expect(status.stdout).toMatch(/run `riskometer db migrate`/);
      expect((await run(["db", "status"], {}, fresh)).stdout).toMatch(/pending/);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it("hides a Postgres password in the status", async () => {
    const r = await run(["db", "status"], {
      RISKOMETER_DATABASE_URL: "postgres://riskometer:s3cret@127.0.0.1:1/none",
    });
    expect(`${r.stdout}${r.stderr}`).not.toContain("s3cret");
    expect(r.code).toBe(8);
  });
});
