/**
 * The tracking and registry API, in process (`app.inject`, no socket) on a seeded SQLite
 * context: search, run detail, metrics, artifacts, models, governance of alias moves, the
 * problem+json error format, and the OpenAPI document.
 */
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { AppError } from "../../src/core/errors.js";
import { PACKAGE_VERSION } from "../../src/core/version.js";
import type { AppContext } from "../../src/main.js";
import { openApiDocument } from "../../src/cli/openapi.js";
import { buildApp } from "../../src/serving/index.js";
import { type SeededWorld, plotSvg, seedWorld } from "./fixtures.js";

let world: SeededWorld;
let app: FastifyInstance;

beforeAll(async () => {
  world = await seedWorld();
  app = await buildApp(world.ctx, { access: "open" });
});

afterAll(async () => {
  await app?.close();
  await world?.close();
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** Asserts an RFC 9457 problem response with our code, and returns it. */
function expectProblem(res: LightMyRequestResponse, status: number, code: string): Problem {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = res.json() as Problem;
  expect(Object.keys(body).sort()).toEqual(["code", "detail", "status", "title", "type"]);
  expect(body).toMatchObject({ status, code, type: `urn:riskometer:error:${code}` });
  expect(body.title.length).toBeGreaterThan(0);
  return body;
}

interface RunJson {
  info: { id: string; name: string; parentRunId: string | null } & Record<string, unknown>;
  params: Record<string, string>;
  metrics: Record<string, { value: number }>;
}

const names = (res: LightMyRequestResponse) =>
  (res.json() as { runs: RunJson[] }).runs.map((r) => r.info.name);

describe("experiments and run search", () => {
  it("lists experiments", async () => {
    const res = await app.inject("/api/v1/experiments");
    expect(res.statusCode).toBe(200);
    const { experiments } = res.json() as { experiments: { id: string; name: string }[] };
    expect(experiments.map((e) => e.name)).toEqual(["credit-risk", "credit-risk-baseline"]);
  });

  it("searches one experiment by name, or several (repeated or comma-separated)", async () => {
    const one = await app.inject("/api/v1/runs?experiment=credit-risk");
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ total: 4, nextPageToken: null });
    expect(names(one).sort()).toEqual([
      "candidate-forest",
      "candidate-gbdt",
      "candidate-logistic",
      "weekly-retrain",
    ]);

    const byId = await app.inject(`/api/v1/runs?experiment=${world.otherExperimentId}`);
    expect(names(byId)).toEqual(["baseline-logistic"]);

    const comma = await app.inject("/api/v1/runs?experiment=credit-risk,credit-risk-baseline");
    const repeated = await app.inject(
      "/api/v1/runs?experiment=credit-risk&experiment=credit-risk-baseline",
    );
    expect(comma.json()).toMatchObject({ total: 5 });
    expect(names(repeated).sort()).toEqual(names(comma).sort());
  });

  it("filters with the search language (AND, IN)", async () => {
    const filter = "metrics.cv_auc > 0.78 AND params.kind IN ('gbdt','forest')";
    const res = await app.inject({ url: "/api/v1/runs", query: { filter } });
    expect(res.statusCode).toBe(200);
    expect(names(res).sort()).toEqual(["candidate-forest", "candidate-gbdt"]);
    expect(res.json()).toMatchObject({ total: 2 });
  });

  it("orders by a metric in either direction", async () => {
    const filter = "metrics.cv_cost > 0";
    const asc = await app.inject({
      url: "/api/v1/runs",
      query: { filter, orderBy: "metrics.cv_cost ASC" },
    });
    expect(names(asc)).toEqual([
      "candidate-gbdt",
      "candidate-forest",
      "candidate-logistic",
      "baseline-logistic",
    ]);
    const desc = await app.inject({
      url: "/api/v1/runs",
      query: { filter, orderBy: "metrics.cv_cost DESC,name ASC" },
    });
    expect(names(desc)).toEqual([...names(asc)].reverse());
  });

  it("pages with tokens and reports the total on every page", async () => {
    const query = {
      filter: "metrics.cv_cost > 0",
      orderBy: "metrics.cv_cost ASC",
      maxResults: "2",
    };
    const first = await app.inject({ url: "/api/v1/runs", query });
    const page1 = first.json() as { nextPageToken: string | null; total: number };
    expect(names(first)).toEqual(["candidate-gbdt", "candidate-forest"]);
    expect(page1.total).toBe(4);
    expect(page1.nextPageToken).toEqual(expect.any(String));

    const second = await app.inject({
      url: "/api/v1/runs",
      query: { ...query, pageToken: page1.nextPageToken as string },
    });
    expect(names(second)).toEqual(["candidate-logistic", "baseline-logistic"]);
    expect(second.json()).toMatchObject({ nextPageToken: null, total: 4 });
  });

  it("searches the same way with a JSON body", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/runs/search",
      payload: {
        experiment: ["credit-risk"],
        filter: "params.kind = 'gbdt' OR params.kind = 'logistic'",
        orderBy: "metrics.test_auc DESC",
        maxResults: 10,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(names(res)).toEqual(["candidate-gbdt", "candidate-logistic"]);
  });

  it("sends only declared fields: search results carry no artifact list or internals", async () => {
    const res = await app.inject("/api/v1/runs?maxResults=1");
    const run = (res.json() as { runs: Record<string, unknown>[] }).runs[0];
    expect(Object.keys(run).sort()).toEqual(["info", "inputs", "metrics", "params", "tags"]);
    expect(Object.keys(run.info as object)).not.toContain("owner");
    expect(Object.keys(run.info as object)).not.toContain("heartbeatAt");
  });

  it("takes hostile filters as data or refuses them: no injection reaches the database", async () => {
    const all = (await app.inject({ url: "/api/v1/runs" })).json().total as number;
    expect(all).toBeGreaterThan(0);
    const hostile = [
      "params.kind = 'x'' OR ''1''=''1'",
      "params.kind = 'gbdt'; DROP TABLE runs; --",
      "params.kind = 'gbdt' OR 1=1",
      "params.`kind' OR '1'='1` = 'gbdt'",
      'tags."x"") OR (""1""=""1" = \'y\'',
      "metrics.cv_auc > 0 UNION SELECT * FROM users",
      "attributes.status = 'FINISHED' -- comment",
      "params.kind LIKE '%' ESCAPE '",
    ];
    for (const filter of hostile) {
      const res = await app.inject({ url: "/api/v1/runs", query: { filter } });
      expect([200, 400], filter).toContain(res.statusCode);
      if (res.statusCode === 400) expect(res.json().code, filter).toBe("INVALID_QUERY");
      // A filter that parses matches by value only: never more than the honest ones do.
      else expect(res.json().total, filter).toBe(0);
    }
    // The tables are all still there, with every run.
    const after = await app.inject({ url: "/api/v1/runs" });
    expect(after.json().total).toBe(all);
  });

  it("answers an invalid filter with 400 problem+json pointing at the problem", async () => {
    const res = await app.inject({
      url: "/api/v1/runs",
      query: { filter: "metrics.test_auc >> 0.7" },
    });
    const problem = expectProblem(res, 400, "INVALID_QUERY");
    expect(problem.detail).toMatch(/position \d+/);
    expect(problem.detail).toContain("metrics.test_auc >> 0.7");
  });

  it("answers an invalid order-by, page token, page size and unknown field with 400", async () => {
    expectProblem(
      await app.inject({ url: "/api/v1/runs", query: { orderBy: "metrics.auc SIDEWAYS" } }),
      400,
      "INVALID_QUERY",
    );
    expectProblem(
      await app.inject({ url: "/api/v1/runs", query: { pageToken: "not-a-token" } }),
      400,
      "INVALID_QUERY",
    );
    const size = expectProblem(
      await app.inject("/api/v1/runs?maxResults=5000"),
      400,
      "INVALID_ARGUMENT",
    );
    expect(size.detail).toContain("maxResults");
    const unknown = expectProblem(
      await app.inject("/api/v1/runs?fliter=x"),
      400,
      "INVALID_ARGUMENT",
    );
    expect(unknown.detail).toContain("fliter");
    const body = expectProblem(
      await app.inject({
        method: "POST",
        url: "/api/v1/runs/search",
        payload: { maxResults: "x" },
      }),
      400,
      "INVALID_ARGUMENT",
    );
    expect(body.detail).toContain("maxResults");
  });

  it("answers an unknown experiment with 404", async () => {
    const res = await app.inject("/api/v1/runs?experiment=no-such-experiment");
    expect(expectProblem(res, 404, "NOT_FOUND").detail).toContain("no-such-experiment");
  });
});

describe("runs, metrics and artifacts", () => {
  it("returns a parent run with params, inputs, metrics and its children", async () => {
    const res = await app.inject(`/api/v1/runs/${world.runs.parent}`);
    expect(res.statusCode).toBe(200);
    const run = res.json() as RunJson & {
      children: string[];
      inputs: { role: string; rows: number }[];
    };
    expect(run.info).toMatchObject({
      id: world.runs.parent,
      name: "weekly-retrain",
      status: "FINISHED",
    });
    expect(run.params).toEqual({ chosen: "gbdt", seed: "7", trials: "40" });
    expect(run.inputs.map((i) => [i.role, i.rows]).sort()).toEqual([
      ["test", 200],
      ["train", 800],
    ]);
    expect(run.children.sort()).toEqual(
      [world.runs.gbdt, world.runs.forest, world.runs.logistic].sort(),
    );
  });

  it("returns a child run with its artifacts and latest metrics", async () => {
    const res = await app.inject(`/api/v1/runs/${world.runs.gbdt}`);
    const run = res.json() as RunJson & {
      children: string[];
      artifacts: { path: string; mediaType: string; size: number }[];
    };
    expect(run.info.parentRunId).toBe(world.runs.parent);
    expect(run.children).toEqual([]);
    expect(run.params).toMatchObject({ kind: "gbdt", "gbdt.learningRate": "0.05" });
    expect(run.metrics.cv_auc.value).toBeCloseTo(0.801);
    expect(run.metrics.fold_auc.value).toBeCloseTo(0.821); // the last step is the latest
    expect(run.artifacts).toContainEqual({
      path: "plots/roc.svg",
      mediaType: "image/svg+xml",
      size: Buffer.byteLength(plotSvg("ROC curve — gbdt", 0.6)),
    });
  });

  it("answers an unknown run with 404 problem+json", async () => {
    const res = await app.inject("/api/v1/runs/0123456789abcdef");
    expect(expectProblem(res, 404, "NOT_FOUND").detail).toContain("0123456789abcdef");
  });

  it("returns a metric's full history by step", async () => {
    const res = await app.inject(`/api/v1/runs/${world.runs.forest}/metrics/fold_auc`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { key: string; points: { step: number; value: number }[] };
    expect(body.key).toBe("fold_auc");
    expect(body.points.map((p) => p.step)).toEqual([0, 1, 2, 3, 4]);
    expect(body.points[0].value).toBeCloseTo(0.769);
    expectProblem(
      await app.inject(`/api/v1/runs/${world.runs.forest}/metrics/no_such_metric`),
      404,
      "NOT_FOUND",
    );
  });

  it("streams an SVG artifact with its media type and a CSP that forbids script", async () => {
    const res = await app.inject(`/api/v1/runs/${world.runs.gbdt}/artifacts/plots/roc.svg`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("image/svg+xml");
    expect(res.headers["content-security-policy"]).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-disposition"]).toMatch(/^inline; filename="roc.svg"/);
    expect(res.body).toBe(plotSvg("ROC curve — gbdt", 0.6));
  });

  it("serves other artifacts with their recorded type, and accepts an encoded slash", async () => {
    const res = await app.inject({
      url: `/api/v1/runs/${world.runs.forest}/artifacts/model%2Fmodel.json`,
      headers: { authorization: `Bearer ${world.tokens.carol}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json()).toEqual({ format: "riskometer-test", kind: "forest" });
  });

  it("answers a missing or escaping artifact path with 404", async () => {
    const base = `/api/v1/runs/${world.runs.gbdt}/artifacts`;
    expectProblem(await app.inject(`${base}/plots/nope.svg`), 404, "NOT_FOUND");
    expectProblem(await app.inject(`${base}/..%2F..%2Friskometer.db`), 404, "NOT_FOUND");
  });

  it("never serves a file outside the run's artifacts, however the path is written", async () => {
    const base = `/api/v1/runs/${world.runs.gbdt}/artifacts`;
    const other = `/api/v1/runs/${world.runs.forest}/artifacts/model%2Fmodel.json`;
    const clerk = { authorization: `Bearer ${world.tokens.carol}` };
    expect((await app.inject({ url: other, headers: clerk })).statusCode).toBe(200);
    for (const path of [
      "%2e%2e%2f%2e%2e%2friskometer.db",
      "..%2f..%2f..%2f..%2fetc%2fpasswd",
      "%2fetc%2fpasswd",
      "..%5c..%5criskometer.db",
      "plots%2f..%2f..%2f..%2friskometer.db",
      `..%2F${world.runs.forest}%2Fmodel%2Fmodel.json`,
      "plots%2froc.svg%00.json",
      "%252e%252e%252friskometer.db",
    ]) {
      const res = await app.inject({ url: `${base}/${path}`, headers: clerk });
      expect([400, 404], path).toContain(res.statusCode);
      expect(res.headers["content-type"], path).toMatch(/application\/problem\+json/);
    }
  });

  it("serves the model file and reference profile, which hold training data, to a clerk only", async () => {
    const app = await buildApp(world.ctx, { access: "secured" });
    onTestFinished(() => app.close());
    const run = `/api/v1/runs/${world.runs.forest}/artifacts`;
    const as = (user: "carol" | "victor" | null) =>
      user ? { authorization: `Bearer ${world.tokens[user]}` } : {};
    // However the path is spelt, a file under model/ needs a clerk's token.
    for (const path of [
      "model%2Fmodel.json",
      ".%2Fmodel%2Fmodel.json",
      "plots%2F..%2Fmodel%2Fmodel.json",
      "MODEL%2Fmodel.json",
    ]) {
      expectProblem(await app.inject({ url: `${run}/${path}` }), 401, "UNAUTHENTICATED");
      expectProblem(
        await app.inject({ url: `${run}/${path}`, headers: as("victor") }),
        403,
        "FORBIDDEN",
      );
    }
    expect(
      (await app.inject({ url: `${run}/model%2Fmodel.json`, headers: as("carol") })).statusCode,
    ).toBe(200);
    // Plots hold no applicant's data: a viewer reads them.
    expect(
      (
        await app.inject({
          url: `/api/v1/runs/${world.runs.gbdt}/artifacts/plots/roc.svg`,
          headers: as("victor"),
        })
      ).statusCode,
    ).toBe(200);
  });

  it("answers an unknown route with 404 problem+json", async () => {
    const res = await app.inject("/api/v1/nothing-here");
    expect(expectProblem(res, 404, "NOT_FOUND").detail).toContain("/api/v1/nothing-here");
  });
});

describe("models and versions", () => {
  it("lists models with aliases and the latest version", async () => {
    const res = await app.inject("/api/v1/models");
    expect(res.statusCode).toBe(200);
    const { models } = res.json() as {
      models: {
        name: string;
        aliases: Record<string, number>;
        latestVersion: number;
        latest: { version: number; metrics: Record<string, number> };
      }[];
    };
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({
      name: "credit-risk",
      aliases: { champion: 1 },
      latestVersion: 2,
      latest: { version: 2 },
    });
    expect(models[0].latest.metrics.cv_auc).toBeCloseTo(0.789);
  });

  it("returns a model with its versions and their run metrics", async () => {
    const res = await app.inject("/api/v1/models/credit-risk");
    expect(res.statusCode).toBe(200);
    const model = res.json() as {
      versions: {
        version: number;
        aliases: string[];
        runId: string;
        metrics: Record<string, number>;
      }[];
    };
    expect(model.versions.map((v) => [v.version, v.aliases])).toEqual([
      [2, []],
      [1, ["champion"]],
    ]);
    expect(model.versions[1].runId).toBe(world.runs.gbdt);
    expect(model.versions[1].metrics.test_auc).toBeCloseTo(0.791);
    expectProblem(await app.inject("/api/v1/models/no-such-model"), 404, "NOT_FOUND");
  });

  it("returns one version with its signature", async () => {
    const res = await app.inject("/api/v1/models/credit-risk/versions/2");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: "credit-risk",
      version: 2,
      runId: world.runs.forest,
      createdBy: "alice",
      signature: { output: { name: "class", values: ["good", "bad"] } },
      inputExample: { duration: 24, purpose: "car" },
    });
    expectProblem(await app.inject("/api/v1/models/credit-risk/versions/9"), 404, "NOT_FOUND");
    expectProblem(
      await app.inject("/api/v1/models/credit-risk/versions/two"),
      400,
      "INVALID_ARGUMENT",
    );
  });

  it("resolves name@alias and name/version references", async () => {
    const byAlias = await app.inject("/api/v1/model-versions/credit-risk%40champion");
    expect(byAlias.json()).toMatchObject({ version: 1, aliases: ["champion"] });
    const byVersion = await app.inject("/api/v1/model-versions/credit-risk%2F2");
    expect(byVersion.json()).toMatchObject({ version: 2 });
    expectProblem(
      await app.inject("/api/v1/model-versions/credit-risk%40challenger"),
      404,
      "NOT_FOUND",
    );
    expectProblem(await app.inject("/api/v1/model-versions/credit-risk"), 400, "INVALID_ARGUMENT");
  });
});

describe("promotion governance", () => {
  const promote = (payload: unknown, token?: string, alias = "champion") =>
    app.inject({
      method: "PUT",
      url: `/api/v1/models/credit-risk/aliases/${alias}`,
      payload: payload as Record<string, unknown>,
      headers: token === undefined ? {} : { authorization: token },
    });

  const registryState = async () => ({
    aliases: await world.ctx.registry.store.getAliases("credit-risk"),
    audit: (await world.ctx.registry.store.listAudit({ name: "credit-risk" })).length,
  });

  it("refuses without a valid token (401), whatever the body", async () => {
    const before = await registryState();
    const good = { version: 2, note: "better CV cost" };
    expect(expectProblem(await promote(good), 401, "UNAUTHENTICATED").detail).toMatch(/token/);
    expectProblem(await promote(good, "Bearer rk_not-a-real-token"), 401, "UNAUTHENTICATED");
    expectProblem(await promote(good, `Basic ${world.tokens.bob}`), 401, "UNAUTHENTICATED");
    // Authentication comes before validation: an anonymous caller learns nothing about the body.
    expectProblem(await promote({ nonsense: true }), 401, "UNAUTHENTICATED");
    expect(await registryState()).toEqual(before);
  });

  it("refuses a clerk (403), a missing note (400) and the version's author (403)", async () => {
    const before = await registryState();
    const clerk = expectProblem(
      await promote({ version: 2, note: "looks fine" }, `Bearer ${world.tokens.carol}`),
      403,
      "FORBIDDEN",
    );
    expect(clerk.detail).toMatch(/approver/);

    const noNote = expectProblem(
      await promote({ version: 2 }, `Bearer ${world.tokens.bob}`),
      400,
      "INVALID_ARGUMENT",
    );
    expect(noNote.detail).toMatch(/note/);
    expectProblem(
      await promote({ version: 2, note: "   " }, `Bearer ${world.tokens.bob}`),
      400,
      "INVALID_ARGUMENT",
    );

    const author = expectProblem(
      await promote({ version: 2, note: "my own model is great" }, `Bearer ${world.tokens.alice}`),
      403,
      "FORBIDDEN",
    );
    expect(author.detail).toMatch(/four-eyes/);

    // A misspelt field is an error, not a silently empty note.
    const typo = expectProblem(
      await promote({ version: 2, notes: "typo" }, `Bearer ${world.tokens.bob}`),
      400,
      "INVALID_ARGUMENT",
    );
    expect(typo.detail).toContain("notes");
    const badVersion = expectProblem(
      await promote({ version: "latest", note: "x" }, `Bearer ${world.tokens.bob}`),
      400,
      "INVALID_ARGUMENT",
    );
    expect(badVersion.detail).toContain("version");
    expectProblem(
      await promote({ version: 7, note: "no such version" }, `Bearer ${world.tokens.bob}`),
      404,
      "NOT_FOUND",
    );

    expect(await registryState()).toEqual(before);
  });

  it("lets another approver promote with a note, audited", async () => {
    const res = await promote(
      { version: 2, note: "forest: lower test cost variance; ticket CR-1024" },
      `Bearer ${world.tokens.bob}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: "credit-risk",
      alias: "champion",
      fromVersion: 1,
      toVersion: 2,
      actor: "bob",
      actorRole: "approver",
      note: "forest: lower test cost variance; ticket CR-1024",
      selfApproved: false,
      bootstrap: false,
    });

    const resolved = await app.inject("/api/v1/model-versions/credit-risk%40champion");
    expect(resolved.json()).toMatchObject({ version: 2 });
    const audit = await app.inject("/api/v1/models/credit-risk/audit");
    const { records } = audit.json() as { records: { actor: string; toVersion: number }[] };
    expect(records.map((r) => [r.actor, r.toVersion])).toEqual([
      ["bob", 2],
      ["system", 1],
    ]);
  });

  it("moves and removes other aliases with the approver role and no note, never as a clerk", async () => {
    const refused = await promote({ version: 1 }, `Bearer ${world.tokens.carol}`, "challenger");
    expectProblem(refused, 403, "FORBIDDEN");
    const carol = `Bearer ${world.tokens.bob}`;
    const moved = await promote({ version: 1 }, carol, "challenger");
    expect(moved.statusCode, moved.body).toBe(200);
    const removed = await app.inject({
      method: "DELETE",
      url: "/api/v1/models/credit-risk/aliases/challenger",
      headers: { authorization: carol },
    });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toMatchObject({ alias: "challenger", fromVersion: 1, toVersion: null });
  });

  it("refuses to remove champion without the role or a note", async () => {
    const before = await registryState();
    const remove = (token: string, payload?: Record<string, unknown>) =>
      app.inject({
        method: "DELETE",
        url: "/api/v1/models/credit-risk/aliases/champion",
        headers: { authorization: `Bearer ${token}` },
        ...(payload ? { payload } : {}),
      });
    expectProblem(await remove(world.tokens.victor, { note: "stop" }), 403, "FORBIDDEN");
    expectProblem(await remove(world.tokens.bob), 400, "INVALID_ARGUMENT");
    expect(await registryState()).toEqual(before);
  });
});

describe("documentation, pages and failures", () => {
  it("serves an OpenAPI 3 document listing every route", async () => {
    const res = await app.inject("/api/docs/json");
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { security?: unknown; responses: object }>>;
      components: { securitySchemes: object; schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: "Riskometer API", version: PACKAGE_VERSION });
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        "GET /api/v1/experiments",
        "GET /api/v1/runs",
        "POST /api/v1/runs/search",
        "GET /api/v1/runs/{id}",
        "GET /api/v1/runs/{id}/metrics/{key}",
        "GET /api/v1/runs/{id}/artifacts/{path}",
        "GET /api/v1/models",
        "GET /api/v1/models/{name}",
        "GET /api/v1/models/{name}/versions/{version}",
        "GET /api/v1/model-versions/{ref}",
        "GET /api/v1/models/{name}/audit",
        "PUT /api/v1/models/{name}/aliases/{alias}",
        "DELETE /api/v1/models/{name}/aliases/{alias}",
        "POST /api/v1/predictions",
        "GET /api/v1/schema",
        "GET /api/v1/decisions/{id}",
        "POST /api/v1/outcomes",
        "GET /api/v1/batches/{batchId}/predictions",
        "GET /api/v1/batches/{batchId}/scored.csv",
        "GET /api/v1/flows",
        "GET /api/v1/flows/runs",
        "GET /api/v1/flows/runs/{id}",
        "POST /api/v1/flows/runs/{id}/cancel",
        "POST /api/v1/flows/{name}/runs",
        "GET /api/v1/reports",
        "GET /api/v1/reports/{id}",
        "GET /api/v1/reports/{id}/report.html",
        "GET /healthz",
        "GET /readyz",
        "GET /api/v1/session",
        "POST /api/v1/session",
        "DELETE /api/v1/session",
        "PUT /api/v1/session/password",
        "GET /sign-in/link",
        "GET /sign-in/oidc",
        "GET /sign-in/oidc/callback",
        "GET /api/v1/access-log",
        "POST /api/v1/decisions/erase",
        "GET /api/v1/users",
      ].sort(),
    );
    // Every route but the public ones takes a token or a session, and says which role it needs.
    const credentials = [{ bearerAuth: [] }, { sessionCookie: [] }];
    const put = doc.paths["/api/v1/models/{name}/aliases/{alias}"].put;
    expect(put.security).toEqual(credentials);
    expect(put).toHaveProperty("description", expect.stringContaining("Needs the approver role."));
    expect(doc.paths["/api/v1/runs"].get.security).toEqual(credentials);
    expect(doc.paths["/api/v1/predictions"].post).toHaveProperty(
      "description",
      expect.stringContaining("Needs the clerk role."),
    );
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.paths["/api/v1/session"].post.security).toEqual([]);
    expect(doc.components.securitySchemes).toHaveProperty("bearerAuth");
    expect(doc.components.securitySchemes).toHaveProperty("sessionCookie");
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Problem", "RunDetail", "ModelVersion", "AliasAuditRecord"]),
    );
    const ui = await app.inject("/api/docs");
    expect([200, 302]).toContain(ui.statusCode);
    // `riskometer openapi` (the release asset) writes this same document without a server.
    expect(await openApiDocument()).toEqual(doc);
  });

  it("serves the web pages under / with a strict CSP", async () => {
    for (const path of ["/", "/runs.html", "/models.html", "/flows.html", "/monitoring.html"]) {
      const res = await app.inject(path);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
    }
    const css = await app.inject("/app.css");
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
  });

  it("answers an unexpected failure with a generic 500: no message, no stack", async () => {
    const secret = "SQLITE_CORRUPT at /srv/secret/riskometer.db";
    const failing = {
      ...world.ctx,
      tracking: {
        ...world.ctx.tracking,
        store: {
          listExperiments: async () => {
            throw new Error(secret);
          },
        },
      },
    } as unknown as AppContext;
    const broken = await buildApp(failing, { access: "open" });
    try {
      const res = await broken.inject("/api/v1/experiments");
      const problem = expectProblem(res, 500, "INTERNAL");
      expect(res.body).not.toContain("secret");
      expect(res.body).not.toContain("SQLITE_CORRUPT");
      expect(res.body).not.toMatch(/\bat \S+:\d+:\d+/); // no stack frames
      expect(problem.detail).toMatch(/unexpected/i);
    } finally {
      await broken.close();
    }
  });

  it("keeps an AppError's safe message and status for server-side codes", async () => {
    const failing = {
      ...world.ctx,
      tracking: {
        store: {
          listExperiments: async () => {
            throw new AppError("STORE_UNAVAILABLE", "the metadata database cannot be reached");
          },
        },
      },
    } as unknown as AppContext;
    const broken = await buildApp(failing, { access: "open" });
    try {
      const res = await broken.inject("/api/v1/experiments");
      expect(expectProblem(res, 503, "STORE_UNAVAILABLE").detail).toBe(
        "the metadata database cannot be reached",
      );
    } finally {
      await broken.close();
    }
  });

  it("refuses bodies over the limit and malformed JSON as problems", async () => {
    const small = await buildApp(world.ctx, { access: "open", bodyLimit: 256 });
    try {
      const big = await small.inject({
        method: "POST",
        url: "/api/v1/runs/search",
        payload: { filter: `name = '${"x".repeat(1000)}'` },
      });
      expectProblem(big, 413, "INVALID_ARGUMENT");
      const malformed = await small.inject({
        method: "POST",
        url: "/api/v1/runs/search",
        headers: { "content-type": "application/json" },
        payload: "{not json",
      });
      expectProblem(malformed, 400, "INVALID_ARGUMENT");
    } finally {
      await small.close();
    }
  });
});
