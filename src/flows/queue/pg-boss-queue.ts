import PgBoss from "pg-boss";
import type { FlowJob, JobQueue } from "./job-queue.js";

export interface PgBossJobQueueOptions {
  /** The Postgres database (pg-boss keeps its tables in the `pgboss` schema there). */
  readonly connectionString: string;
  /** How long a delivered job may stay active before pg-boss gives up on it, per flow. */
  readonly expireSeconds: (flow: string) => number;
  /** How often an idle worker asks for jobs (pg-boss allows 0.5 s and up; default 1 s). */
  readonly pollSeconds?: number;
  readonly onError?: (error: Error) => void;
}

/** pg-boss queue names allow letters, digits, `_` and `-`. */
function queueName(flow: string): string {
  return `riskometer-flow-${flow.replace(/[^\w-]/g, "_")}`;
}

/**
 * The team mode's job queue: pg-boss on the shared Postgres. Each flow has a queue with the
 * `singleton` policy (pg-boss lets one job of it be active at a time, across every worker), a
 * run's job carries the run's id as its own (a second send of it is ignored by the database),
 * and delivery uses `SKIP LOCKED`, so each job reaches one worker. Retries are new runs with
 * their own jobs; pg-boss does not retry.
 */
export class PgBossJobQueue implements JobQueue {
  readonly kind = "pg-boss" as const;
  private readonly boss: PgBoss;
  private readonly created = new Set<string>();

  constructor(private readonly opts: PgBossJobQueueOptions) {
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      // The flows' schedules are kept by the workers (slots are unique in the database); the
      // queue only delivers.
      schedule: false,
      max: 4,
    });
    this.boss.on("error", (e: Error) => opts.onError?.(e));
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }

  private async ensureQueue(flow: string): Promise<string> {
    const name = queueName(flow);
    if (!this.created.has(name)) {
      await this.boss.createQueue(name, {
        name,
        policy: "singleton",
        retryLimit: 0,
        expireInSeconds: Math.min(23 * 3600, Math.max(60, this.opts.expireSeconds(flow))),
      });
      this.created.add(name);
    }
    return name;
  }

  async send(job: FlowJob): Promise<void> {
    const name = await this.ensureQueue(job.flow);
    await this.boss.send(
      name,
      { flow: job.flow, runId: job.runId },
      { id: job.runId, retryLimit: 0 },
    );
  }

  async work(flows: readonly string[], handler: (job: FlowJob) => Promise<void>): Promise<void> {
    for (const flow of flows) {
      const name = await this.ensureQueue(flow);
      await this.boss.work<{ flow: string; runId: string }>(
        name,
        { batchSize: 1, pollingIntervalSeconds: this.opts.pollSeconds ?? 1 },
        async ([job]) => {
          await handler({ flow: job.data.flow, runId: job.data.runId });
        },
      );
    }
  }

  async abandon(job: FlowJob): Promise<void> {
    const name = await this.ensureQueue(job.flow);
    // Fails the job if it is still active (its worker died); a finished one is left as it is.
    await this.boss
      .fail(name, job.runId, { reason: "the run's worker stopped sending heartbeats" })
      .catch(() => {});
  }
}
