import type { FlowDefinition } from "./flow-definition.js";
import type { FlowRunner } from "./flow-runner.js";
import type { SqlFlowStore } from "./flow-store.js";
import type { FlowState } from "./flow-types.js";
import type { FlowJob, JobQueue } from "./queue/job-queue.js";
import { type LatePolicy, type Schedule, dueRuns } from "./schedule.js";

/** A flow's schedule as configured. */
export interface FlowSchedule {
  readonly schedule: Schedule;
  readonly latePolicy: LatePolicy;
}

export interface FlowWorkerOptions {
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  readonly schedules: ReadonlyMap<string, FlowSchedule>;
  readonly store: SqlFlowStore;
  readonly runner: FlowRunner;
  readonly queue: JobQueue;
  /** How often the worker looks for due slots and runs (default 1 s). */
  readonly pollMs?: number;
  /** Finished runs older than this are deleted (default 90 days; 0 keeps them all). */
  readonly retentionMs?: number;
  readonly now?: () => number;
  readonly onProblem?: (message: string) => void;
  /** Told of each run this worker finishes. */
  readonly onRunEnded?: (runId: string, state: FlowState) => void;
}

const DAY_MS = 86_400_000;

/**
 * Keeps the schedules and runs the flows of one process. Each tick it creates the runs of
 * schedule slots that came due (the late-run policy decides which missed slots still run; the
 * slot's uniqueness in the database makes each slot one run whoever schedules it), declares
 * silent runs CRASHED (their retries are new runs), and sends every due SCHEDULED run to the
 * job queue (idempotent per run). The queue hands each job to one worker and never two jobs of
 * one flow at once; the worker takes the run by a compare-and-set on its state, then runs it.
 */
export class FlowWorker {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = true;
  private lastPurge = 0;
  private readonly now: () => number;

  constructor(private readonly opts: FlowWorkerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts taking jobs and ticking. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.opts.queue.work([...this.opts.flows.keys()], (job) => this.handle(job));
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((e: unknown) => this.opts.onProblem?.(`flow worker: ${String(e)}`))
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(loop, this.opts.pollMs ?? 1000);
            this.timer.unref();
          }
        });
    };
    loop();
  }

  /** Stops ticking; the queue's stop waits for the run under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  /** One pass: schedule due slots, declare crashed runs, send due runs, apply retention. */
  async tick(): Promise<void> {
    await this.scheduleDue();
    for (const run of await this.opts.runner.reap()) {
      await this.opts.queue.abandon({ flow: run.flow, runId: run.id });
    }
    await this.sendDue();
    await this.purge();
  }

  /** Creates the runs of due slots; returns how many this worker created. */
  async scheduleDue(): Promise<number> {
    const { store, schedules, flows } = this.opts;
    let created = 0;
    const now = this.now();
    for (const [name, { schedule, latePolicy }] of schedules) {
      const flow = flows.get(name);
      if (!flow) continue;
      const last = await store.lastSlot(name);
      for (const slot of dueRuns(schedule, last, now, latePolicy)) {
        const run = await store.createRun({
          flow: name,
          trigger: "schedule",
          scheduledFor: slot,
          params: defaults(flow),
          maxAttempts: flow.maxAttempts,
          createdAt: now,
        });
        if (run) created++;
      }
    }
    return created;
  }

  /** Sends every due SCHEDULED run of a known flow to the queue (a resend is ignored there). */
  private async sendDue(): Promise<void> {
    const { store, queue, flows } = this.opts;
    for (const run of await store.dueRuns(this.now())) {
      if (flows.has(run.flow)) await queue.send({ flow: run.flow, runId: run.id });
    }
  }

  /** A job the queue delivered: take the run (unless someone else did), then run it. */
  private async handle(job: FlowJob): Promise<void> {
    const { store, runner } = this.opts;
    if (!(await store.claim(job.runId, runner.worker, this.now()))) return;
    try {
      const state = await runner.execute(await store.getRun(job.runId));
      this.opts.onRunEnded?.(job.runId, state);
    } catch (e) {
      this.opts.onProblem?.(`flow run ${job.runId}: ${String(e)}`);
    }
  }

  private async purge(): Promise<void> {
    const retention = this.opts.retentionMs ?? 90 * DAY_MS;
    const now = this.now();
    if (retention <= 0 || now - this.lastPurge < 3_600_000) return;
    this.lastPurge = now;
    await this.opts.store.purgeFinished(now - retention);
  }
}

function defaults(flow: FlowDefinition): Record<string, number | string | boolean> {
  return Object.fromEntries(Object.entries(flow.params).map(([k, p]) => [k, p.default]));
}
