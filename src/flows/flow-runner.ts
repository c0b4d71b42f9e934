import { hostname } from "node:os";
import type { AppContext } from "../main.js";
import { type FlowContext, type FlowDefinition, retryDelay } from "./flow-definition.js";
import type { SqlFlowStore } from "./flow-store.js";
import type { FlowLogLine, FlowRun, FlowState, FlowStep } from "./flow-types.js";

export interface FlowRunnerOptions {
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  readonly store: SqlFlowStore;
  readonly app: AppContext;
  /** Who runs the flows: `host:pid` by default. */
  readonly worker?: string;
  /** How often a running run says it is alive (default 5 s). */
  readonly heartbeatMs?: number;
  /** A run silent this long is declared CRASHED (default 6 heartbeats). */
  readonly staleMs?: number;
  /** Called (POST, JSON) when a run ends FAILED or CRASHED with no attempt left. */
  readonly webhookUrl?: string;
  readonly now?: () => number;
  /** Where runner problems go (a failed webhook, a lost heartbeat). */
  readonly onProblem?: (message: string) => void;
  /** Every log line of the runs this runner executes, as it is made. */
  readonly onLog?: (runId: string, line: FlowLogLine) => void;
}

/** The notification a failure webhook receives. */
export interface FlowNotification {
  readonly event: "flow-run-failed";
  readonly flow: string;
  readonly runId: string;
  readonly state: FlowState;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly error: string | null;
  readonly at: string;
}

export function defaultWorkerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Runs claimed flow runs: steps and log lines recorded with the run, a heartbeat while it
 * runs, a timeout, and on failure either a retry (a new run, after an exponential back-off) or,
 * with no attempt left, the failure webhook. Also declares runs whose worker fell silent
 * CRASHED, with the same retry rule.
 */
export class FlowRunner {
  readonly worker: string;
  private readonly heartbeatMs: number;
  readonly staleMs: number;
  private readonly now: () => number;
  /** Runs this runner is executing: alive whatever their heartbeat says (a blocked loop). */
  private readonly executing = new Set<string>();

  constructor(private readonly opts: FlowRunnerOptions) {
    this.worker = opts.worker ?? defaultWorkerName();
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.staleMs = opts.staleMs ?? this.heartbeatMs * 6;
    this.now = opts.now ?? Date.now;
  }

  /** Executes a run this worker has claimed (RUNNING); resolves with its final state. */
  async execute(run: FlowRun): Promise<FlowState> {
    this.executing.add(run.id);
    try {
      return await this.executeClaimed(run);
    } finally {
      this.executing.delete(run.id);
    }
  }

  private async executeClaimed(run: FlowRun): Promise<FlowState> {
    const { store } = this.opts;
    const flow = this.opts.flows.get(run.flow);
    if (!flow) {
      await store.finish(run.id, {
        state: "FAILED",
        at: this.now(),
        error: `no flow named "${run.flow}" in this version`,
      });
      return "FAILED";
    }
    const abort = new AbortController();
    const lines: FlowLogLine[] = [];
    let seq = 0;
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      const batch = lines.splice(0, lines.length);
      flushing = flushing.then(() => store.appendLogs(run.id, batch)).catch(() => {});
      return flushing;
    };
    const log = (message: string, level: FlowLogLine["level"] = "info") => {
      const line = { seq: ++seq, at: this.now(), level, message };
      lines.push(line);
      this.opts.onLog?.(run.id, line);
      if (lines.length >= 50) void flush();
    };
    const steps: FlowStep[] = [];
    const saveSteps = () => store.setSteps(run.id, steps).catch(() => {});
    const ctx: FlowContext = {
      run,
      app: this.opts.app,
      signal: abort.signal,
      log,
      step: async (name, fn) => {
        const at = steps.length;
        steps.push({ name, startedAt: this.now(), endedAt: null, state: "RUNNING" });
        await saveSteps();
        log(`step ${name} started`);
        try {
          const value = await fn();
          steps[at] = { ...steps[at], endedAt: this.now(), state: "COMPLETED" };
          log(`step ${name} completed in ${fmtMs(steps[at].endedAt! - steps[at].startedAt)}`);
          return value;
        } catch (e) {
          steps[at] = { ...steps[at], endedAt: this.now(), state: "FAILED" };
          throw e;
        } finally {
          await saveSteps();
        }
      },
    };
    const beat = setInterval(() => {
      void store.heartbeat(run.id, this.now()).then(
        async (alive) => {
          if (alive) return;
          // Someone else ended it: a person cancelled it, or another worker declared it crashed.
          const now = await store.getRun(run.id);
          abort.abort(new Error(now.error ?? `the run is ${now.state}`));
        },
        (e: unknown) => this.opts.onProblem?.(`heartbeat of ${run.id} failed: ${String(e)}`),
      );
      void flush();
    }, this.heartbeatMs);
    beat.unref();
    const timer = setTimeout(
      () => abort.abort(new Error(`timed out after ${fmtMs(flow.timeoutMs)}`)),
      flow.timeoutMs,
    );
    timer.unref();
    log(
      `${flow.name} attempt ${run.attempt}/${run.maxAttempts} on ${this.worker} with ${JSON.stringify(run.params)}`,
    );
    let state: FlowState;
    let error: string | null = null;
    let result: unknown;
    try {
      // A flow that ignores its signal is still ended on time: the race settles the run.
      result = await Promise.race([
        flow.run(ctx, run.params),
        new Promise<never>((_, reject) =>
          abort.signal.addEventListener("abort", () => reject(abort.signal.reason), {
            once: true,
          }),
        ),
      ]);
      state = "COMPLETED";
      log(`completed`);
    } catch (e) {
      state = "FAILED";
      error = e instanceof Error ? e.message : String(e);
      log(`failed: ${error}`, "error");
    } finally {
      clearInterval(beat);
      clearTimeout(timer);
    }
    await flush();
    const ended = await store.finish(run.id, { state, at: this.now(), result, error });
    // Not ended here: it was cancelled, or another worker declared it crashed and handled it.
    if (!ended) return (await store.getRun(run.id)).state;
    if (state === "FAILED") await this.afterFailure(run, flow, state, error);
    return state;
  }

  /**
   * Declares RUNNING runs CRASHED whose heartbeat stopped (their worker died or hung), and
   * retries them if attempts are left. Returns the runs it declared.
   */
  async reap(): Promise<FlowRun[]> {
    const { store } = this.opts;
    const declared: FlowRun[] = [];
    for (const run of await store.staleRuns(this.now() - this.staleMs)) {
      // Its own run is alive even if a long synchronous stretch held its heartbeat back.
      if (this.executing.has(run.id)) continue;
      const error = `worker ${run.worker ?? "?"} stopped sending heartbeats (last ${new Date(run.heartbeatAt ?? 0).toISOString()})`;
      if (!(await store.finish(run.id, { state: "CRASHED", at: this.now(), error }))) continue;
      const seq = (await store.lastLogSeq(run.id)) + 1;
      await store.appendLogs(run.id, [
        { seq, at: this.now(), level: "error", message: `crashed: ${error}` },
      ]);
      declared.push(run);
      const flow = this.opts.flows.get(run.flow);
      if (flow) await this.afterFailure(run, flow, "CRASHED", error);
    }
    return declared;
  }

  private async afterFailure(
    run: FlowRun,
    flow: FlowDefinition,
    state: FlowState,
    error: string | null,
  ): Promise<void> {
    if (run.attempt < run.maxAttempts) {
      await this.opts.store.createRun({
        flow: run.flow,
        trigger: "retry",
        scheduledFor: this.now() + retryDelay(flow, run.attempt),
        params: run.params,
        maxAttempts: run.maxAttempts,
        attempt: run.attempt + 1,
        retryOf: run.id,
        requestedBy: run.requestedBy,
        createdAt: this.now(),
      });
      return;
    }
    await this.notify({
      event: "flow-run-failed",
      flow: run.flow,
      runId: run.id,
      state,
      attempt: run.attempt,
      maxAttempts: run.maxAttempts,
      error,
      at: new Date(this.now()).toISOString(),
    });
  }

  private async notify(body: FlowNotification): Promise<void> {
    const url = this.opts.webhookUrl;
    if (!url) return;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) this.opts.onProblem?.(`the failure webhook answered HTTP ${res.status}`);
    } catch (e) {
      this.opts.onProblem?.(`the failure webhook could not be called: ${String(e)}`);
    }
  }
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
