import type { FlowJob, JobQueue } from "./job-queue.js";

/** Run ids remembered after their job was delivered, so a late resend is still ignored. */
const REMEMBERED = 10_000;

/**
 * The job queue of one process (the embedded mode on SQLite): jobs wait in memory and are
 * handed to this process's handlers when due, one job per flow at a time. Nothing is lost
 * when the process stops: the runs are in the database, and the worker queues the due ones
 * again at start (sending is idempotent).
 */
export class EmbeddedJobQueue implements JobQueue {
  readonly kind = "embedded" as const;
  private readonly waiting = new Map<string, FlowJob>();
  private readonly seen = new Set<string>();
  /** Flows with a job under way, and that job's run id. */
  private readonly active = new Map<string, string>();
  private readonly handlers: { flows: Set<string>; handler: (job: FlowJob) => Promise<void> }[] =
    [];
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private next = 0;

  constructor(private readonly opts: { pollMs?: number } = {}) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.running]);
  }

  async send(job: FlowJob): Promise<void> {
    if (this.seen.has(job.runId)) return;
    this.remember(job.runId);
    this.waiting.set(job.runId, job);
    this.dispatch();
  }

  async work(flows: readonly string[], handler: (job: FlowJob) => Promise<void>): Promise<void> {
    this.handlers.push({ flows: new Set(flows), handler });
    this.dispatch();
  }

  async abandon(job: FlowJob): Promise<void> {
    if (this.active.get(job.flow) === job.runId) {
      this.active.delete(job.flow);
      this.dispatch();
    }
  }

  private remember(runId: string): void {
    this.seen.add(runId);
    if (this.seen.size > REMEMBERED) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }

  private arm(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.dispatch();
      this.arm();
    }, this.opts.pollMs ?? 250);
    this.timer.unref();
  }

  /** Starts every waiting job whose flow is free and has a handler, oldest first. */
  private dispatch(): void {
    if (this.stopped) return;
    // In the order they were sent (a Map keeps insertion order).
    for (const job of [...this.waiting.values()]) {
      if (this.active.has(job.flow)) continue;
      const takers = this.handlers.filter((h) => h.flows.has(job.flow));
      if (takers.length === 0) continue;
      // Round robin over the handlers that take this flow.
      const taker = takers[this.next++ % takers.length];
      this.waiting.delete(job.runId);
      this.active.set(job.flow, job.runId);
      const done = taker
        .handler(job)
        .catch(() => {})
        .finally(() => {
          this.running.delete(done);
          if (this.active.get(job.flow) === job.runId) this.active.delete(job.flow);
          this.dispatch();
        });
      this.running.add(done);
    }
  }
}
