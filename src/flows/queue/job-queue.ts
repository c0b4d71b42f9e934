/** A due flow run, to be started by one worker. */
export interface FlowJob {
  readonly flow: string;
  readonly runId: string;
}

/**
 * Where due flow runs wait for a worker. The runs themselves live in the metadata database, and
 * the workers send a run's job once it is due (by their clock); the queue only delivers each
 * job to exactly one worker, and never two jobs of one flow at once (a flow never overlaps itself, across all workers). Two adapters pass one
 * contract suite: `EmbeddedJobQueue` (one process, the SQLite mode) and `PgBossJobQueue` (any
 * number of processes on Postgres, through pg-boss).
 */
export interface JobQueue {
  readonly kind: "embedded" | "pg-boss";
  start(): Promise<void>;
  /** Stops delivering; waits for the handlers under way. */
  stop(): Promise<void>;
  /** Queues the run's job. Idempotent: a run's job is queued once however often it is sent. */
  send(job: FlowJob): Promise<void>;
  /**
   * Delivers the jobs of `flows` to `handler`, each to one handler only. A job whose handler
   * throws is not delivered again (retries are new runs with their own jobs).
   */
  work(flows: readonly string[], handler: (job: FlowJob) => Promise<void>): Promise<void>;
  /**
   * The job of a run whose worker died (declared CRASHED): release its flow, so that the
   * flow's next job can start, without waiting for the dead worker.
   */
  abandon(job: FlowJob): Promise<void>;
}
