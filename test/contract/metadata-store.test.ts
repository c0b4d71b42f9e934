/**
 * One contract for the metadata database, run against SQLite and the real local Postgres (each
 * test file run in a database of its own): tracking, registry, governance, users, migrations.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqlUserStore, hashToken } from "../../src/auth/index.js";
import { RegistryService, SqlRegistryStore } from "../../src/registry/index.js";
import { FileArtifactStore } from "../../src/storage/artifacts/index.js";
import { type Database, openDatabase } from "../../src/storage/index.js";
import { SqlTrackingStore, TrackingService } from "../../src/tracking/index.js";
import { TEST_DATABASES, type TestDatabase } from "../support/databases.js";
import { expectCode } from "../support/expect-code.js";

const SIGNATURE = {
  inputs: [{ name: "age", type: "numeric" as const }],
  output: { name: "class", values: ["good", "bad"] },
};

describe.each(TEST_DATABASES)("metadata store contract: $name", ({ create }) => {
  let target: TestDatabase;
  let database: Database;
  let store: SqlTrackingStore;
  let registryStore: SqlRegistryStore;
  let users: SqlUserStore;
  let artifactDir: string;
  let tracking: TrackingService;
  let now = 1_700_000_000_000;
  const clock = () => now;

  beforeAll(async () => {
    target = await create();
    database = await openDatabase(target.url);
    store = new SqlTrackingStore(database);
    registryStore = new SqlRegistryStore(database);
    users = new SqlUserStore(database);
    artifactDir = await mkdtemp(join(tmpdir(), "riskometer-art-"));
    tracking = new TrackingService(store, new FileArtifactStore(artifactDir), {
      staleRunMs: 60_000,
      clock,
      isProcessAlive: (pid) => pid !== 999_999,
    });
  });

  afterAll(async () => {
    await database?.close();
    await target?.drop();
    if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
  });

  async function newRun(
    experimentId: string,
    name = "run",
    extra: { parentRunId?: string; owner?: string } = {},
  ) {
    return store.createRun({
      experimentId,
      name,
      parentRunId: extra.parentRunId ?? null,
      codeVersion: "abc123",
      packageVersion: "0.1.0",
      owner: extra.owner ?? "test-host/1",
      startTime: now++,
    });
  }

  describe("migrations", () => {
    it("are idempotent: opening a migrated database applies nothing and keeps data", async () => {
      const exp = await store.createExperiment("migrate-keep");
      const again = await openDatabase(target.url);
      try {
        expect((await new SqlTrackingStore(again).getExperiment(exp.id)).name).toBe("migrate-keep");
      } finally {
        await again.close();
      }
    });

    it("refuse a database migrated by a newer release", async () => {
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '2099-01-01T00:00:00.000Z')`.execute(
        database.db,
      );
      try {
        await expectCode(openDatabase(target.url), "STORE_SCHEMA_TOO_NEW", /upgrade riskometer/);
      } finally {
        await sql`DELETE FROM kysely_migration WHERE name = '9999_from_the_future'`.execute(
          database.db,
        );
      }
    });
  });

  describe("schema", () => {
    it("matches the committed snapshot (a change needs a new migration and a reviewed snapshot)", async () => {
      const tables = await database.db.introspection.getTables();
      const shape = tables
        .filter((t) => !t.name.startsWith("kysely_"))
        .map((t) => ({
          table: t.name,
          columns: t.columns.map(
            (c) => `${c.name} ${c.dataType}${c.isNullable ? "" : " not null"}`,
          ),
        }))
        .sort((a, b) => a.table.localeCompare(b.table));
      await expect(`${JSON.stringify(shape, null, 2)}\n`).toMatchFileSnapshot(
        `./__snapshots__/schema-${target.name}.json`,
      );
    });
  });

  describe("experiments", () => {
    it("have unique names; a soft delete keeps the name, a purge frees it", async () => {
      const exp = await store.createExperiment("exp-a", { team: "risk" });
      expect(exp).toMatchObject({ name: "exp-a", lifecycle: "active", tags: { team: "risk" } });
      await expectCode(store.createExperiment("exp-a"), "CONFLICT", /taken/);
      await store.setExperimentLifecycle(exp.id, "deleted");
      expect((await store.listExperiments()).map((e) => e.name)).not.toContain("exp-a");
      expect((await store.listExperiments(true)).map((e) => e.name)).toContain("exp-a");
      await expectCode(store.createExperiment("exp-a"), "CONFLICT");
      await expectCode(newRun(exp.id), "CONFLICT", /deleted/);
      await store.setExperimentLifecycle(exp.id, "active");
      const run = await newRun(exp.id);
      await tracking.purgeExperiment(exp.id);
      await expectCode(store.getRun(run.id), "NOT_FOUND");
      expect((await store.createExperiment("exp-a")).id).not.toBe(exp.id);
    });

    it("hide a deleted experiment's runs from searches that do not name it", async () => {
      const exp = await store.createExperiment("exp-hidden");
      const run = await newRun(exp.id, "hidden-run");
      const everywhere = async () =>
        (await store.searchRuns({ maxResults: 1000 })).runs.map((r) => r.info.id);
      expect(await everywhere()).toContain(run.id);
      await store.setExperimentLifecycle(exp.id, "deleted");
      expect(await everywhere()).not.toContain(run.id);
      const named = await store.searchRuns({ experimentIds: [exp.id] });
      expect(named.runs.map((r) => r.info.id)).toEqual([run.id]);
    });

    it("are found by id or by name", async () => {
      const exp = await store.createExperiment("exp-lookup");
      expect((await store.getExperiment("exp-lookup")).id).toBe(exp.id);
      expect((await store.getExperiment(exp.id)).name).toBe("exp-lookup");
      await expectCode(store.getExperiment("no-such"), "NOT_FOUND");
    });
  });

  describe("runs", () => {
    it("record status, times, code and package version, parent, tags and inputs", async () => {
      const exp = await store.createExperiment("runs-basic");
      const parent = await newRun(exp.id, "parent");
      const child = await newRun(exp.id, "child", { parentRunId: parent.id });
      expect(child).toMatchObject({
        status: "RUNNING",
        parentRunId: parent.id,
        codeVersion: "abc123",
        packageVersion: "0.1.0",
        endTime: null,
      });
      await store.logBatch(child.id, { tags: { stage: "a" } });
      await store.logBatch(child.id, { tags: { stage: "b" } });
      await store.logInputs(child.id, [
        { name: "credit-g.arff", digest: "d1", role: "train", rows: 800 },
      ]);
      const ended = await store.endRun(child.id, "FINISHED", now + 5);
      expect(ended).toMatchObject({ status: "FINISHED", endTime: now + 5 });
      await expectCode(store.endRun(child.id, "FAILED", now + 6), "CONFLICT", /already ended/);
      const full = await store.getRun(child.id);
      expect(full.tags).toEqual({ stage: "b" });
      expect(full.inputs).toEqual([
        { name: "credit-g.arff", digest: "d1", role: "train", rows: 800 },
      ]);
      const other = await store.createExperiment("runs-other");
      await expectCode(
        newRun(other.id, "x", { parentRunId: parent.id }),
        "CONFLICT",
        /another experiment/,
      );
    });

    it("keep params write-once: the same value again is a no-op, another value a conflict", async () => {
      const exp = await store.createExperiment("runs-params");
      const run = await newRun(exp.id);
      await store.logBatch(run.id, { params: { trials: "20", seed: "0" } });
      await store.logBatch(run.id, { params: { trials: "20" } });
      await expectCode(
        store.logBatch(run.id, { params: { trials: "30", extra: "1" } }),
        "CONFLICT",
        /write-once/,
      );
      // The refused batch changed nothing, not even its other param.
      expect((await store.getRun(run.id)).params).toEqual({ seed: "0", trials: "20" });
    });

    it("keep every metric point and the latest by step, then time", async () => {
      const exp = await store.createExperiment("runs-metrics");
      const run = await newRun(exp.id);
      await store.logBatch(run.id, {
        metrics: [
          { key: "loss", value: 0.9, step: 0, timestamp: 10 },
          { key: "loss", value: 0.5, step: 2, timestamp: 11 },
        ],
      });
      await store.logBatch(run.id, {
        metrics: [{ key: "loss", value: 0.7, step: 1, timestamp: 12 }],
      });
      const full = await store.getRun(run.id);
      expect(full.metrics.loss).toEqual({ key: "loss", value: 0.5, step: 2, timestamp: 11 });
      expect((await store.getMetricHistory(run.id, "loss")).map((p) => p.value)).toEqual([
        0.9, 0.7, 0.5,
      ]);
      await expectCode(
        store.logBatch(run.id, {
          metrics: [{ key: "auc", value: Number.NaN, step: 0, timestamp: 1 }],
        }),
        "INVALID_ARGUMENT",
        /auc/,
      );
      await store.endRun(run.id, "FINISHED", now);
      await expectCode(
        store.logBatch(run.id, { metrics: [{ key: "x", value: 1, step: 0, timestamp: 1 }] }),
        "CONFLICT",
        /ended/,
      );
      await store.logBatch(run.id, { tags: { reviewed: "yes" } });
    });

    it("list artifacts logged through the service, and serve their bytes", async () => {
      const exp = await store.createExperiment("runs-artifacts");
      const active = await tracking.startRun({ experimentId: exp.id, name: "with-artifacts" });
      await active.logArtifact("plots/roc.svg", "<svg/>");
      await active.logArtifact("model/model.json", Buffer.from("{}\n"));
      await active.end();
      const run = await tracking.getRun(active.id);
      expect(run.artifacts).toEqual([
        { path: "model/model.json", size: 3, mediaType: "application/json" },
        { path: "plots/roc.svg", size: 6, mediaType: "image/svg+xml" },
      ]);
      expect((await tracking.getArtifact(active.id, "plots/roc.svg")).toString()).toBe("<svg/>");
      await expectCode(tracking.getArtifact(active.id, "plots/none.svg"), "NOT_FOUND");
    });
  });

  describe("run search", () => {
    let expA: string;
    let expB: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      expA = (await store.createExperiment("search-a")).id;
      expB = (await store.createExperiment("search-b")).id;
      const rows = [
        { name: "r1", exp: expA, kind: "gbdt", auc: 0.81, cost: 0.52, stage: "prod" },
        { name: "r2", exp: expA, kind: "forest", auc: 0.79, cost: 0.55, stage: "dev" },
        { name: "r3", exp: expA, kind: "logreg", auc: 0.77, cost: 0.6, stage: undefined },
        { name: "r4", exp: expB, kind: "gbdt", auc: 0.83, cost: 0.5, stage: "dev" },
        { name: "r5", exp: expB, kind: "blend", auc: undefined, cost: 0.58, stage: "prod" },
      ];
      for (const r of rows) {
        const run = await newRun(r.exp, r.name);
        ids[r.name] = run.id;
        await store.logBatch(run.id, {
          params: { kind: r.kind, trials: "20" },
          tags: r.stage ? { stage: r.stage } : {},
          metrics: [
            ...(r.auc === undefined
              ? []
              : [{ key: "test_auc", value: r.auc, step: 0, timestamp: now }]),
            { key: "cv_cost", value: r.cost, step: 0, timestamp: now },
          ],
        });
        if (r.name !== "r5") await store.endRun(run.id, "FINISHED", now++);
      }
    });

    const names = async (search: Parameters<SqlTrackingStore["searchRuns"]>[0]) =>
      (await store.searchRuns({ experimentIds: [expA, expB], ...search })).runs.map(
        (r) => r.info.name,
      );

    it("filters by metric, param, tag and attribute with AND, OR, IN and parentheses", async () => {
      expect(
        await names({ filter: "metrics.test_auc > 0.8", orderBy: ["metrics.test_auc DESC"] }),
      ).toEqual(["r4", "r1"]);
      expect(await names({ filter: "params.kind = 'gbdt' AND tags.stage = 'dev'" })).toEqual([
        "r4",
      ]);
      expect(
        await names({
          filter:
            "params.kind IN ('logreg', 'blend') OR (tags.stage = 'prod' AND metrics.cv_cost < 0.53)",
          orderBy: ["name ASC"],
        }),
      ).toEqual(["r1", "r3", "r5"]);
      expect(await names({ filter: "params.kind NOT IN ('gbdt')", orderBy: ["name"] })).toEqual([
        "r2",
        "r3",
        "r5",
      ]);
      expect(await names({ filter: "attributes.status = 'running'" })).toEqual(["r5"]);
      expect(await names({ filter: "tags.stage IS NULL" })).toEqual(["r3"]);
      expect(await names({ filter: "run_name LIKE 'r%' AND attributes.end_time IS NULL" })).toEqual(
        ["r5"],
      );
      expect(await names({ filter: "params.trials = 20", orderBy: ["name"] })).toHaveLength(5);
    });

    it("orders by metrics (missing last), params and attributes, and compares across experiments", async () => {
      expect(await names({ orderBy: ["metrics.test_auc ASC"] })).toEqual([
        "r3",
        "r2",
        "r1",
        "r4",
        "r5",
      ]);
      expect(await names({ orderBy: ["metrics.cv_cost DESC"] })).toEqual([
        "r3",
        "r5",
        "r2",
        "r1",
        "r4",
      ]);
      expect(await names({ orderBy: ["params.kind ASC", "name DESC"] })).toEqual([
        "r5",
        "r2",
        "r4",
        "r1",
        "r3",
      ]);
      const onlyB = await store.searchRuns({ experimentIds: [expB] });
      expect(onlyB.runs.map((r) => r.info.name).sort()).toEqual(["r4", "r5"]);
      const run = onlyB.runs.find((r) => r.info.name === "r4");
      expect(run?.params).toEqual({ kind: "gbdt", trials: "20" });
      expect(run?.metrics.test_auc.value).toBe(0.83);
    });

    it("paginates with a page token and counts the total", async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await store.searchRuns({
          experimentIds: [expA, expB],
          orderBy: ["name"],
          maxResults: 2,
          pageToken: token,
          withTotal: true,
        });
        expect(page.total).toBe(5);
        seen.push(...page.runs.map((r) => r.info.name));
        token = page.nextPageToken ?? undefined;
        pages++;
      } while (token);
      expect(pages).toBe(3);
      expect(seen).toEqual(["r1", "r2", "r3", "r4", "r5"]);
    });

    it("rejects malformed filters, order clauses and page tokens with a pointed message", async () => {
      await expectCode(store.searchRuns({ filter: "metrics.auc >" }), "INVALID_QUERY", /position/);
      await expectCode(
        store.searchRuns({ filter: "metrics.auc > 'high'" }),
        "INVALID_QUERY",
        /number/,
      );
      await expectCode(
        store.searchRuns({ filter: "colour = 'red'" }),
        "INVALID_QUERY",
        /unknown field "colour"/,
      );
      await expectCode(store.searchRuns({ filter: "params.kind = 'gbdt' AND" }), "INVALID_QUERY");
      await expectCode(
        store.searchRuns({ orderBy: ["metrics.auc SIDEWAYS"] }),
        "INVALID_QUERY",
        /ASC, DESC/,
      );
      await expectCode(store.searchRuns({ pageToken: "garbage!" }), "INVALID_QUERY", /page token/);
      await expectCode(store.searchRuns({ maxResults: 0 }), "INVALID_QUERY");
      // Values are bound, never spliced into SQL.
      expect(await names({ filter: "params.kind = 'x'' OR ''1''=''1'" })).toEqual([]);
    });
  });

  describe("reaper", () => {
    it("ends runs whose process died (KILLED) or went silent (FAILED), and leaves live runs", async () => {
      const exp = await store.createExperiment("reaper");
      const { hostname } = await import("node:os");
      const dead = await newRun(exp.id, "dead", { owner: `${hostname()}/999999` });
      const silent = await newRun(exp.id, "silent", { owner: "other-host/42" });
      const live = await newRun(exp.id, "live", { owner: "other-host/43" });
      now += 120_000;
      await store.heartbeat(live.id, now);
      const reaped = await tracking.reapStaleRuns();
      const byId = Object.fromEntries(reaped.map((r) => [r.id, r.status]));
      expect(byId[dead.id]).toBe("KILLED");
      expect(byId[silent.id]).toBe("FAILED");
      expect(byId[live.id]).toBeUndefined();
      expect((await store.getRunInfo(dead.id)).statusReason).toMatch(/999999/);
      expect((await store.getRunInfo(live.id)).status).toBe("RUNNING");
      await store.endRun(live.id, "FINISHED", now);
    });
  });

  describe("registry and governance", () => {
    let registry: RegistryService;
    let runId: string;
    let artifacts: FileArtifactStore;

    beforeAll(async () => {
      artifacts = new FileArtifactStore(artifactDir);
      registry = new RegistryService(registryStore, artifacts, { allowSelfApproval: false, clock });
      const exp = await store.createExperiment("registry");
      runId = (await newRun(exp.id, "candidate")).id;
      await artifacts.put(`runs/${runId}/model/model.json`, "model-bytes");
      await users.createUser("carol", "clerk");
      await users.createUser("alice", "approver");
      await users.createUser("bob", "approver");
    });

    const register = (createdBy: string, name = "credit") =>
      registry.registerVersion({
        name,
        runId,
        artifactPath: `runs/${runId}/model/model.json`,
        signature: SIGNATURE,
        inputExample: { age: 35 },
        createdBy,
      });

    it("numbers versions per model, links run and artifact, and keeps the signature", async () => {
      const v1 = await register("alice");
      const v2 = await register("alice");
      expect([v1.version, v2.version]).toEqual([1, 2]);
      expect(v1).toMatchObject({
        runId,
        status: "READY",
        signature: SIGNATURE,
        inputExample: { age: 35 },
        createdBy: "alice",
      });
      expect(v1.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await registryStore.listModelVersions("credit")).map((v) => v.version)).toEqual([
        2, 1,
      ]);
      expect((await registryStore.getRegisteredModel("credit")).latestVersion).toBe(2);
      await expectCode(
        registry.registerVersion({
          name: "credit",
          runId: "nope",
          artifactPath: `runs/${runId}/model/model.json`,
          signature: SIGNATURE,
          inputExample: {},
          createdBy: "x",
        }),
        "NOT_FOUND",
      );
      await expectCode(register("alice", "bad/name"), "INVALID_ARGUMENT");
    });

    it("lets the first version serve by bootstrap only when nothing serves yet, audited", async () => {
      const first = await registry.bootstrapServing("credit", 1);
      expect(first).toMatchObject({
        alias: "champion",
        fromVersion: null,
        toVersion: 1,
        actor: "system",
        bootstrap: true,
      });
      expect(await registry.bootstrapServing("credit", 2)).toBeNull();
      expect((await registry.resolve("credit@champion")).version).toBe(1);
    });

    it("refuses a promotion without the role, without a note, or by the version's author — and changes nothing", async () => {
      const carol = await users.getUser("carol");
      const alice = await users.getUser("alice");
      const before = await registry.store.listAudit({ name: "credit" });
      await expectCode(
        registry.promote({
          name: "credit",
          version: 2,
          alias: "champion",
          note: "better",
          actor: carol,
        }),
        "FORBIDDEN",
        /approver role/,
      );
      await expectCode(
        registry.promote({
          name: "credit",
          version: 2,
          alias: "champion",
          note: "  ",
          actor: await users.getUser("bob"),
        }),
        "INVALID_ARGUMENT",
        /note/,
      );
      await expectCode(
        registry.promote({
          name: "credit",
          version: 2,
          alias: "champion",
          note: "mine",
          actor: alice,
        }),
        "FORBIDDEN",
        /four-eyes/,
      );
      expect(await registry.store.listAudit({ name: "credit" })).toEqual(before);
      expect((await registry.resolve("credit@champion")).version).toBe(1);
    });

    it("moves champion for another approver with a note, and audits who, when, from, to and why", async () => {
      now += 1000;
      const record = await registry.promote({
        name: "credit",
        version: 2,
        alias: "champion",
        note: "lower cost on the test set",
        actor: await users.getUser("bob"),
      });
      expect(record).toMatchObject({
        name: "credit",
        alias: "champion",
        fromVersion: 1,
        toVersion: 2,
        actor: "bob",
        actorRole: "approver",
        note: "lower cost on the test set",
        selfApproved: false,
        bootstrap: false,
        at: now,
      });
      expect((await registry.resolve("credit@champion")).version).toBe(2);
      expect((await registry.resolve("models:/credit/1")).version).toBe(1);
      expect((await registryStore.getModelVersion("credit", 2)).aliases).toEqual(["champion"]);
      // Other aliases need an approver too, but no note; a clerk may set none.
      await expectCode(
        registry.promote({
          name: "credit",
          version: 1,
          alias: "challenger",
          note: "",
          actor: await users.getUser("carol"),
        }),
        "FORBIDDEN",
      );
      const challenger = await registry.promote({
        name: "credit",
        version: 1,
        alias: "challenger",
        note: "",
        actor: await users.getUser("bob"),
      });
      expect(challenger.toVersion).toBe(1);
      const audit = await registry.store.listAudit({ name: "credit" });
      expect(audit.map((a) => [a.alias, a.fromVersion, a.toVersion])).toEqual([
        ["challenger", null, 1],
        ["champion", 1, 2],
        ["champion", null, 1],
      ]);
      await expectCode(registry.resolve("credit@staging"), "NOT_FOUND", /no alias/);
      await expectCode(registry.resolve("credit/99"), "NOT_FOUND");
      await expectCode(registry.resolve("nomodel@champion"), "NOT_FOUND");
    });

    it("allows self-approval only by setting, and the audit record says so", async () => {
      const solo = new RegistryService(registryStore, artifacts, {
        allowSelfApproval: true,
        clock,
      });
      const v3 = await register("alice");
      const record = await solo.promote({
        name: "credit",
        version: v3.version,
        alias: "champion",
        note: "single-person install",
        actor: await users.getUser("alice"),
      });
      expect(record.selfApproved).toBe(true);
    });

    it("takes champion out of service only for someone but its author, and never reopens the bootstrap", async () => {
      // alice registered the serving version (v3, self-approved above).
      const serving = (await registry.resolve("credit@champion")).version;
      expect((await registryStore.getModelVersion("credit", serving)).createdBy).toBe("alice");
      await expectCode(
        registry.removeAlias({
          name: "credit",
          alias: "champion",
          note: "stop",
          actor: await users.getUser("alice"),
        }),
        "FORBIDDEN",
        /four-eyes/,
      );
      expect((await registry.resolve("credit@champion")).version).toBe(serving);
      const removed = await registry.removeAlias({
        name: "credit",
        alias: "champion",
        note: "suspected data problem",
        actor: await users.getUser("bob"),
      });
      expect(removed).toMatchObject({ fromVersion: serving, toVersion: null, actor: "bob" });
      await expectCode(registry.resolve("credit@champion"), "NOT_FOUND");
      // Nothing serves now, but versions have served: a new one waits for an approver, and so
      // does the first version of another model.
      const v4 = await register("alice");
      expect(await registry.bootstrapServing("credit", v4.version)).toBeNull();
      const other = await register("alice", "another-model");
      expect(await registry.bootstrapServing("another-model", other.version)).toBeNull();
      await expectCode(registry.resolve("credit@champion"), "NOT_FOUND");
      await expectCode(registry.resolve("another-model@champion"), "NOT_FOUND");
    });

    it("keeps the audit log append-only in the database itself", async () => {
      await expect(
        sql`UPDATE alias_audit SET note = 'rewritten'`.execute(database.db),
      ).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM alias_audit`.execute(database.db)).rejects.toThrow(
        /append-only/,
      );
      expect((await registry.store.listAudit({ name: "credit" })).length).toBeGreaterThanOrEqual(4);
    });

    it("verifies the model file against its registered digest when loading", async () => {
      await artifacts.put(`runs/${runId}/model/model.json`, "tampered");
      await expectCode(registry.loadModel("credit/1"), "MODEL_FILE_INVALID", /SHA-256/);
    });

    it("gives concurrent registrations distinct version numbers", async () => {
      await artifacts.put(`runs/${runId}/model/model.json`, "model-bytes");
      const versions = await Promise.all([1, 2, 3, 4].map(() => register("alice", "concurrent")));
      expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    });
  });

  describe("users and tokens", () => {
    it("store only a hash of each token, authenticate it, and refuse revoked or disabled ones", async () => {
      await users.createUser("dana", "viewer");
      await expectCode(users.createUser("dana", "admin"), "CONFLICT");
      await expectCode(
        users.createUser("eve", "superuser" as never),
        "INVALID_ARGUMENT",
        /viewer, clerk, approver, admin/,
      );
      const issued = await users.issueToken("dana", "laptop");
      const stored = await database.db
        .selectFrom("api_tokens")
        .selectAll()
        .where("id", "=", issued.id)
        .executeTakeFirstOrThrow();
      expect(stored.token_hash).toBe(hashToken(issued.token));
      expect(JSON.stringify(stored)).not.toContain(issued.token);
      expect((await users.authenticate(issued.token)).name).toBe("dana");
      await expectCode(users.authenticate("rk_wrong"), "UNAUTHENTICATED");
      await expectCode(users.authenticate(undefined), "UNAUTHENTICATED", /token is required/);
      await users.revokeToken(issued.id);
      await expectCode(users.authenticate(issued.token), "UNAUTHENTICATED");
      const second = await users.issueToken("dana");
      await users.disableUser("dana");
      await expectCode(users.authenticate(second.token), "UNAUTHENTICATED");
      await users.createUser("frank", "clerk");
      expect((await users.setRole("frank", "approver")).role).toBe("approver");
    });

    it("expire tokens after their days (90 unless said), and keep a 0-day one until revoked", async () => {
      const t0 = Date.parse("2026-01-01T00:00:00Z");
      const day = 24 * 60 * 60 * 1000;
      const usual = await users.issueToken("frank", "", t0);
      expect(usual.expiresAt).toBe(t0 + 90 * day);
      const short = await users.issueToken("frank", "ci", t0, 1);
      const forever = await users.issueToken("frank", "prometheus", t0, 0);
      expect(forever.expiresAt).toBeNull();
      expect((await users.authenticate(short.token, t0 + day - 1)).name).toBe("frank");
      await expectCode(
        users.authenticate(short.token, t0 + day),
        "UNAUTHENTICATED",
        /expired on 2026-01-02.*riskometer users token frank/,
      );
      await expectCode(users.authenticate(usual.token, t0 + 91 * day), "UNAUTHENTICATED");
      expect((await users.authenticate(forever.token, t0 + 3650 * day)).name).toBe("frank");
      await expectCode(users.issueToken("frank", "", t0, -1), "INVALID_ARGUMENT");
      const listed = await users.listTokens("frank");
      expect(listed.find((t) => t.id === short.id)?.expiresAt).toBe(t0 + day);
      expect(listed.find((t) => t.id === forever.id)?.expiresAt).toBeNull();
    });
  });
});
