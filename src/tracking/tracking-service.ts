import { execFileSync } from "node:child_process";
import { hostname } from "node:os";
import { extname } from "node:path";
import type { Readable } from "node:stream";
import { AppError } from "../core/errors.js";
import { PACKAGE_VERSION } from "../core/version.js";
import type { ArtifactStore } from "../storage/artifacts/index.js";
import type { SqlTrackingStore } from "./sql-tracking-store.js";
import type {
  ArtifactEntry,
  DatasetInput,
  Experiment,
  LogBatch,
  MetricPoint,
  ReapedRun,
  Run,
  RunInfo,
  RunStatus,
} from "./types.js";
import { isProcessAlive } from "../core/process-alive.js";

/** Where a run's artifacts live in the artifact store. */
export function runArtifactKey(runId: string, path = ""): string {
  return path === "" ? `runs/${runId}` : `runs/${runId}/${path}`;
}

const MEDIA_TYPES: Record<string, string> = {
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".html": "text/html",
  ".csv": "text/csv",
  ".txt": "text/plain",
  ".png": "image/png",
};

export function mediaTypeOf(path: string): string {
  return MEDIA_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

export interface TrackingServiceOptions {
  /** A RUNNING run without a heartbeat for this long is marked FAILED. */
  readonly staleRunMs: number;
  /** How often an active run sends its heartbeat. */
  readonly heartbeatMs?: number;
  readonly clock?: () => number;
  /** Whether a process of this host is alive (replaceable in tests). */
  readonly isProcessAlive?: (pid: number) => boolean;
}

/** This process, as a run's owner: `host/pid`. */
export function processOwner(): string {
  return `${hostname()}/${process.pid}`;
}

let cachedCodeVersion: string | null | undefined;

/** The git commit of the working directory, when it is a git checkout. */
export function codeVersion(): string | null {
  if (cachedCodeVersion === undefined) {
    try {
      cachedCodeVersion = execFileSync("git", ["rev-parse", "HEAD"], {
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 2000,
      })
        .toString()
        .trim();
    } catch {
      cachedCodeVersion = null;
    }
  }
  return cachedCodeVersion;
}

/**
 * The tracking operations users call: runs with a lifecycle and heartbeats, metric logging,
 * artifacts through the artifact store, and the reaper that ends runs whose process died.
 */
export class TrackingService {
  readonly store: SqlTrackingStore;
  readonly artifacts: ArtifactStore;
  private readonly options: Required<TrackingServiceOptions>;

  constructor(store: SqlTrackingStore, artifacts: ArtifactStore, options: TrackingServiceOptions) {
    this.store = store;
    this.artifacts = artifacts;
    this.options = {
      staleRunMs: options.staleRunMs,
      heartbeatMs:
        options.heartbeatMs ?? Math.min(30_000, Math.max(1000, Math.floor(options.staleRunMs / 5))),
      clock: options.clock ?? Date.now,
      isProcessAlive: options.isProcessAlive ?? isProcessAlive,
    };
  }

  now(): number {
    return this.options.clock();
  }

  /** The experiment with this name, created on first use. */
  async experiment(name: string): Promise<Experiment> {
    const found = await this.store.findExperiment(name);
    if (found) {
      if (found.lifecycle === "deleted") {
        throw new AppError(
          "CONFLICT",
          `experiment "${name}" is deleted; restore or purge it first`,
        );
      }
      return found;
    }
    try {
      return await this.store.createExperiment(name, {}, this.now());
    } catch (e) {
      // Another process created it meanwhile.
      if (e instanceof AppError && e.code === "CONFLICT") return this.store.getExperiment(name);
      throw e;
    }
  }

  /** Hard-deletes an experiment with its runs' data and artifacts. */
  async purgeExperiment(idOrName: string): Promise<{ runs: number }> {
    const exp = await this.store.getExperiment(idOrName);
    const { runIds } = await this.store.purgeExperiment(exp.id);
    for (const id of runIds) await this.artifacts.deletePrefix(runArtifactKey(id));
    return { runs: runIds.length };
  }

  /** Starts a run that sends heartbeats until it ends. */
  async startRun(opts: {
    experimentId: string;
    name: string;
    parentRunId?: string | null;
    tags?: Record<string, string>;
  }): Promise<ActiveRun> {
    const info = await this.store.createRun({
      experimentId: opts.experimentId,
      name: opts.name,
      parentRunId: opts.parentRunId ?? null,
      tags: opts.tags,
      codeVersion: codeVersion(),
      packageVersion: PACKAGE_VERSION,
      owner: processOwner(),
      startTime: this.now(),
    });
    return new ActiveRun(this, info, this.options.heartbeatMs);
  }

  /**
   * Ends RUNNING runs whose process is gone (KILLED: same host, pid not alive) or that sent no
   * heartbeat within the stale limit (FAILED: the process may be on another host). Called at
   * every start, so a crash never leaves a run RUNNING for longer than the next command.
   */
  async reapStaleRuns(): Promise<ReapedRun[]> {
    const now = this.now();
    const host = hostname();
    const reaped: ReapedRun[] = [];
    for (const run of await this.store.listRunningRuns()) {
      const [ownerHost, pidText] = run.owner.split("/");
      const pid = Number(pidText);
      let verdict: ReapedRun | null = null;
      if (
        ownerHost === host &&
        Number.isInteger(pid) &&
        pid !== process.pid &&
        !this.options.isProcessAlive(pid)
      ) {
        verdict = {
          id: run.id,
          status: "KILLED",
          reason: `its process ${run.owner} ended without ending the run`,
        };
      } else if (now - run.heartbeatAt > this.options.staleRunMs) {
        verdict = {
          id: run.id,
          status: "FAILED",
          reason: `no heartbeat from ${run.owner} since ${new Date(run.heartbeatAt).toISOString()}`,
        };
      }
      if (verdict && (await this.store.reapRun(verdict, now))) reaped.push(verdict);
    }
    return reaped;
  }

  async getRun(id: string): Promise<Run> {
    return this.store.getRun(id);
  }

  async getArtifact(runId: string, path: string): Promise<Buffer> {
    await this.requireArtifact(runId, path);
    return this.artifacts.get(runArtifactKey(runId, path));
  }

  async getArtifactStream(
    runId: string,
    path: string,
  ): Promise<{ stream: Readable; entry: ArtifactEntry }> {
    const entry = await this.requireArtifact(runId, path);
    return { stream: await this.artifacts.getStream(runArtifactKey(runId, path)), entry };
  }

  private async requireArtifact(runId: string, path: string): Promise<ArtifactEntry> {
    const run = await this.store.getRun(runId);
    const entry = run.artifacts.find((a) => a.path === path);
    if (!entry) throw new AppError("NOT_FOUND", `run ${runId} has no artifact "${path}"`);
    return entry;
  }
}

/** A run in progress: logging goes to it, and `end` stops its heartbeat. */
export class ActiveRun {
  private readonly timer: NodeJS.Timeout;
  private ended = false;

  constructor(
    private readonly service: TrackingService,
    readonly info: RunInfo,
    heartbeatMs: number,
  ) {
    this.timer = setInterval(() => {
      service.store.heartbeat(info.id, service.now()).catch(() => {
        // A missed heartbeat is retried on the next tick; the reaper allows several.
      });
    }, heartbeatMs);
    this.timer.unref();
  }

  get id(): string {
    return this.info.id;
  }

  logBatch(batch: LogBatch): Promise<void> {
    return this.service.store.logBatch(this.id, batch);
  }

  /** Metrics at one step; non-finite values are skipped (a metric undefined on this data). */
  logMetrics(values: Record<string, number>, step = 0): Promise<void> {
    const timestamp = this.service.now();
    const metrics: MetricPoint[] = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([key, value]) => ({ key, value, step, timestamp }));
    return this.logBatch({ metrics });
  }

  logParams(params: Record<string, string | number | boolean>): Promise<void> {
    return this.logBatch({
      params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    });
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.logBatch({ tags });
  }

  logInputs(inputs: readonly DatasetInput[]): Promise<void> {
    return this.service.store.logInputs(this.id, inputs);
  }

  /** Stores the bytes in the artifact store first, then lists them on the run. */
  async logArtifact(
    path: string,
    body: Buffer | string,
    mediaType = mediaTypeOf(path),
  ): Promise<ArtifactEntry> {
    await this.service.artifacts.put(runArtifactKey(this.id, path), body);
    const entry = {
      path,
      size: typeof body === "string" ? Buffer.byteLength(body) : body.length,
      mediaType,
    };
    await this.service.store.recordArtifact(this.id, entry);
    return entry;
  }

  async end(status: RunStatus = "FINISHED", reason: string | null = null): Promise<RunInfo> {
    clearInterval(this.timer);
    if (this.ended) return this.service.store.getRunInfo(this.id);
    this.ended = true;
    return this.service.store.endRun(this.id, status, this.service.now(), reason);
  }
}
