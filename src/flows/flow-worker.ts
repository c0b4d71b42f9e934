import type { FlowDefinition } from "./flow-definition.js";
import type { FlowRunner } from "./flow-runner.js";
import type { SqlFlowStore } from "./flow-store.js";
import type { FlowState } from "./flow-types.js";
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
 * Keeps the schedules and runs the flows of one process: each tick it creates the runs of
 * schedule slots that came due (the late-run policy decides which missed slots still run), declares
 * silent runs CRASHED, and starts the oldest due run of a flow that is not already running. The
 * slot's uniqueness in the database makes each slot one run whoever schedules it, and a run is
 * claimed by a compare-and-set on its state, so one worker runs it. One run at a time per
 * worker: a flow never overlaps itself, and retraining does not compete with itself for the CPU.
 */
export class FlowWorker {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private current: Promise<unknown> | null = null;
  private stopped = false;
  private lastPurge = 0;
  private readonly now: () => number;

  constructor(private readonly opts: FlowWorkerOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((e: unknown) => this.opts.onProblem?.(`flow worker: ${String(e)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.opts.pollMs ?? 1000);
        });
    };
    loop();
  }

  /** Stops taking runs and waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.current;
  }

  /** One pass: schedule, reap, purge, and start a due run if none is under way here. */
  async tick(): Promise<void> {
    await this.scheduleDue();
    await this.opts.runner.reap();
    await this.purge();
    if (this.current === null) await this.startNext();
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

  private async startNext(): Promise<void> {
    const { store, runner } = this.opts;
    const run = await store.claimDue({
      now: this.now(),
      worker: runner.worker,
      busy: await store.busyFlows(),
    });
    if (!run) return;
    this.current = runner
      .execute(run)
      .then(
        (state) => this.opts.onRunEnded?.(run.id, state),
        (e: unknown) => this.opts.onProblem?.(`flow run ${run.id}: ${String(e)}`),
      )
      .finally(() => {
        this.current = null;
      });
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
