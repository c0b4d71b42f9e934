import { AppError } from "../core/errors.js";
import type { AppContext } from "../main.js";
import { BUILTIN_FLOWS } from "./builtin-flows.js";
import { type FlowDefinition, checkParams } from "./flow-definition.js";
import { FlowRunner } from "./flow-runner.js";
import { SqlFlowStore } from "./flow-store.js";
import { type FlowSchedule, FlowWorker, type FlowWorkerOptions } from "./flow-worker.js";
import { lockEmbeddedFlows } from "./process-lock.js";
import type { FlowLogLine, FlowRun } from "./flow-types.js";
import { EmbeddedJobQueue } from "./queue/embedded-queue.js";
import type { JobQueue } from "./queue/job-queue.js";
import { PgBossJobQueue } from "./queue/pg-boss-queue.js";
import { type Schedule, describeSchedule, nextRun, parseSchedule } from "./schedule.js";

const DAY_MS = 86_400_000;

/** The configured schedule of each built-in flow (`off` leaves a flow unscheduled). */
export function flowSchedules(ctx: AppContext): Map<string, FlowSchedule> {
  const { config } = ctx;
  const out = new Map<string, FlowSchedule>();
  for (const [flow, text, env] of [
    ["retrain", config.retrainSchedule, "RISKOMETER_RETRAIN_SCHEDULE"],
    ["drift-report", config.driftSchedule, "RISKOMETER_DRIFT_SCHEDULE"],
    // Without a retention period there is nothing to erase: the flow stays unscheduled.
    [
      "retention",
      config.decisionRetentionDays > 0 ? "every 1d" : "off",
      "RISKOMETER_DECISION_RETENTION_DAYS",
    ],
  ] as const) {
    if (text.trim().toLowerCase() === "off") continue;
    try {
      out.set(flow, {
        schedule: parseSchedule(text, config.timezone),
        latePolicy: config.lateRuns,
      });
    } catch (e) {
      throw new AppError("CONFIG_INVALID", `${env}: ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}

export interface Flows {
  readonly definitions: ReadonlyMap<string, FlowDefinition>;
  readonly schedules: ReadonlyMap<string, FlowSchedule>;
  readonly store: SqlFlowStore;
  readonly runner: FlowRunner;
}

export interface OpenFlowsOptions {
  /** Every log line of the runs this process executes (e.g. echoed to the terminal). */
  readonly onLog?: (runId: string, line: FlowLogLine) => void;
  readonly onProblem?: (message: string) => void;
}

/** The flows, their schedules, the run store and a runner for this process. */
export function openFlows(ctx: AppContext, opts: OpenFlowsOptions = {}): Flows {
  const store = new SqlFlowStore(ctx.database);
  const retry = ctx.config.flowRetrySeconds;
  const definitions: ReadonlyMap<string, FlowDefinition> =
    retry === undefined
      ? BUILTIN_FLOWS
      : new Map([...BUILTIN_FLOWS].map(([k, f]) => [k, { ...f, retryDelayMs: retry * 1000 }]));
  return {
    definitions,
    schedules: flowSchedules(ctx),
    store,
    runner: new FlowRunner({
      flows: definitions,
      store,
      app: ctx,
      webhookUrl: ctx.config.flowWebhook,
      heartbeatMs: ctx.config.flowHeartbeatSeconds * 1000,
      onLog: opts.onLog,
      onProblem: opts.onProblem,
    }),
  };
}

/**
 * The job queue that suits the database: pg-boss on Postgres (any number of workers on any
 * number of machines), the embedded queue on SQLite (one process).
 */
export function openJobQueue(
  ctx: AppContext,
  flows: Flows,
  onError?: (e: Error) => void,
): JobQueue {
  if (ctx.database.dialect.name === "postgres") {
    return new PgBossJobQueue({
      connectionString: ctx.config.databaseUrl,
      expireSeconds: (flow) => (flows.definitions.get(flow)?.timeoutMs ?? 3_600_000) / 1000 + 300,
      onError,
    });
  }
  return new EmbeddedJobQueue();
}

/**
 * This process's place as the flow process of an embedded SQLite store (see
 * `lockEmbeddedFlows`); nothing to take on Postgres, where any number share the work. Resolves
 * with the release.
 */
export async function lockFlows(ctx: AppContext): Promise<() => Promise<void>> {
  const { url, dialect } = ctx.database;
  if (dialect.name !== "sqlite" || url === "sqlite::memory:") return async () => {};
  return lockEmbeddedFlows(url.slice("sqlite:".length));
}

/** A worker for this process: keeps the schedules and runs the flows the queue delivers. */
export function flowWorker(
  ctx: AppContext,
  flows: Flows,
  queue: JobQueue,
  report: Pick<FlowWorkerOptions, "onProblem" | "onRunEnded"> = {},
): FlowWorker {
  return new FlowWorker({
    flows: flows.definitions,
    schedules: flows.schedules,
    store: flows.store,
    runner: flows.runner,
    queue,
    retentionMs: ctx.config.flowRetentionDays * DAY_MS,
    ...report,
  });
}

/** What `flows list` and the API show of a flow. */
export interface FlowInfo {
  readonly name: string;
  readonly description: string;
  readonly schedule: { readonly text: string; readonly description: string } | null;
  /** The next slot of its schedule, ISO time; null when unscheduled. */
  readonly nextRun: string | null;
  readonly latePolicy: string | null;
  readonly params: Record<string, FlowDefinition["params"][string]>;
  readonly maxAttempts: number;
  readonly timeoutSeconds: number;
  readonly lastRun: { readonly id: string; readonly state: string; readonly at: string } | null;
}

export async function describeFlows(flows: Flows, now = Date.now()): Promise<FlowInfo[]> {
  const out: FlowInfo[] = [];
  for (const flow of flows.definitions.values()) {
    const s = flows.schedules.get(flow.name);
    const [last] = await flows.store.listRuns({ flow: flow.name, limit: 1 });
    out.push({
      name: flow.name,
      description: flow.description,
      schedule: s
        ? { text: scheduleText(s.schedule), description: describeSchedule(s.schedule) }
        : null,
      nextRun: s ? new Date(nextRun(s.schedule, now)).toISOString() : null,
      latePolicy: s ? s.latePolicy : null,
      params: { ...flow.params },
      maxAttempts: flow.maxAttempts,
      timeoutSeconds: flow.timeoutMs / 1000,
      lastRun: last
        ? {
            id: last.id,
            state: last.state,
            at: new Date(last.endedAt ?? last.createdAt).toISOString(),
          }
        : null,
    });
  }
  return out;
}

function scheduleText(s: Schedule): string {
  return s.kind === "cron" ? s.cron : describeSchedule(s);
}

/**
 * A manual run of `name` with the given parameters (checked, defaults filled in), due now.
 * NOT_FOUND names the flows there are.
 */
export async function triggerFlow(
  flows: Flows,
  name: string,
  given: Readonly<Record<string, unknown>>,
  requestedBy: string,
  now = Date.now(),
): Promise<FlowRun> {
  const flow = flows.definitions.get(name);
  if (!flow) {
    throw new AppError(
      "NOT_FOUND",
      `no flow "${name}" (there are ${[...flows.definitions.keys()].join(", ")})`,
    );
  }
  const run = await flows.store.createRun({
    flow: name,
    trigger: "manual",
    scheduledFor: now,
    params: checkParams(flow, given),
    maxAttempts: flow.maxAttempts,
    requestedBy,
    createdAt: now,
  });
  return run as FlowRun;
}
