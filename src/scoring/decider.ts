import { AppError } from "../core/errors.js";
import { createPool, type WorkerPool } from "../core/pool.js";
import {
  type DatasetSpec,
  type RowError,
  type RowErrorCounts,
  RowErrorTally,
  type ValidatedBatch,
  validateApplicant,
} from "../data/index.js";
import {
  type DecisionSource,
  type DecisionTuple,
  TUPLE_INDEX,
  newDecisionId,
} from "../decisions/index.js";
import type { FittedPipeline } from "../ml/index.js";
import { type DecidingModel, type DecisionContext, DecisionEncoder } from "./decision-encoder.js";
import { type DecideBatchInput, type DecideShared, SCORING_JOBS } from "./jobs.js";
import { Scorer } from "./scorer.js";

/** Where decisions are logged: the decision log (`DecisionLog`) or a stand-in for it. */
export interface DecisionSink {
  /** Resolves once the decisions are durable; all or none. */
  appendEncoded(rows: readonly DecisionTuple[]): Promise<void>;
  /** One transaction fed chunk by chunk; resolves with the decisions committed. */
  appendStream(chunks: AsyncIterable<readonly DecisionTuple[]>): Promise<number>;
}

/** Hears each decision once it is logged: `values` as validated (counters, a real-time window). */
export type DecisionObserver = (
  risk: "good" | "bad",
  source: DecisionSource,
  probabilityBad: number,
  values: ArrayLike<number>,
) => void;

/** What the decisions of one request share. */
export interface DecisionRequest {
  readonly requestId: string;
  readonly createdAt: number;
  readonly source: DecisionSource;
  /** Also explain `good` decisions; `bad` ones always are. */
  readonly explainGood: boolean;
  /** The user who scores, recorded with each decision. */
  readonly scoredBy?: string | null;
}

/** The decisions of an array or a file. */
export interface DecidedBatch {
  readonly batchId: string;
  /** Applicants read, valid or not. */
  readonly rows: number;
  readonly scored: number;
  readonly bad: number;
  /** The first `keep` decisions (as logged), in row order. */
  readonly decisions: readonly DecisionTuple[];
  /**
   * Invalid applicants by row, column and reason (the first MAX_LISTED_ERRORS); they are not
   * logged.
   */
  readonly errors: readonly RowError[];
  /** All the errors counted, the listed ones and the rest. */
  readonly errorCounts: RowErrorCounts;
}

/** A registered version to decide with: its model and dataset spec. */
export interface DeciderModel extends DecidingModel {
  readonly pipeline: FittedPipeline;
  readonly spec: DatasetSpec;
}

/**
 * The one path from an applicant to a logged decision: validate → score → explain → encode →
 * log, for one model version. The routes call it with applicants as they came (one, an array,
 * or a file's validated batches); a file's batches are scored and encoded in worker threads
 * (`jobs.ts`) while this thread logs the earlier ones. Built once per version and shared by
 * every request that took this version.
 */
export class Decider {
  readonly name: string;
  readonly version: number;
  readonly spec: DatasetSpec;
  private readonly scorer: Scorer;
  private readonly encoder: DecisionEncoder;
  private readonly shared: DecideShared;
  /** Worker threads for files, started by the first file this version scores. */
  private pool: WorkerPool<DecideBatchInput, DecisionTuple[]> | null = null;
  private running = 0;
  private retired = false;

  constructor(
    model: DeciderModel,
    private readonly sink: DecisionSink,
    private readonly observe: DecisionObserver = () => {},
  ) {
    this.name = model.name;
    this.version = model.version;
    this.spec = model.spec;
    this.scorer = new Scorer(model.pipeline, model.spec);
    this.encoder = new DecisionEncoder(this.scorer, model);
    this.shared = {
      name: model.name,
      version: model.version,
      model: model.pipeline.toJSON(),
      spec: model.spec,
    };
  }

  /**
   * One applicant (a JSON object keyed by column name), logged before this resolves. An invalid
   * one is refused with VALIDATION_FAILED naming each field, and nothing is logged.
   */
  async decideOne(applicant: Readonly<Record<string, unknown>>, request: DecisionRequest) {
    const checked = validateApplicant(applicant, this.spec);
    if (checked.values === null) {
      throw new AppError(
        "VALIDATION_FAILED",
        `the applicant is invalid: ${checked.errors.map((e) => `${e.column ?? "row"}: ${e.message}`).join("; ")}`,
        { details: { errors: checked.errors } },
      );
    }
    const values = checked.values;
    const made = this.encoder.encode(values, request.explainGood, contextOf(request, null), {
      id: newDecisionId(),
      rowNumber: null,
    });
    await this.sink.appendEncoded([made]);
    this.heard(made, request.source, values);
    return made;
  }

  /**
   * An array of applicants, a batch: the valid ones are logged together (all or none) with
   * their row numbers; invalid ones are returned as row errors.
   */
  async decideArray(
    applicants: readonly unknown[],
    request: DecisionRequest,
    keep = Infinity,
  ): Promise<DecidedBatch> {
    const batchId = newDecisionId();
    const context = contextOf(request, batchId);
    const errors = new RowErrorTally();
    const made: DecisionTuple[] = [];
    const valuesOf: ArrayLike<number>[] = [];
    applicants.forEach((applicant, i) => {
      const row = i + 1;
      if (applicant === null || typeof applicant !== "object" || Array.isArray(applicant)) {
        errors.add({ row, column: null, kind: "not_an_object", message: "not a JSON object" });
        return;
      }
      const checked = validateApplicant(applicant as Record<string, unknown>, this.spec);
      if (checked.values === null) {
        for (const e of checked.errors) errors.add({ ...e, row });
        return;
      }
      valuesOf.push(checked.values);
      made.push(
        this.encoder.encode(checked.values, request.explainGood, context, {
          id: newDecisionId(),
          rowNumber: row,
        }),
      );
    });
    if (made.length > 0) await this.sink.appendEncoded(made);
    let bad = 0;
    made.forEach((d, i) => (bad += this.heard(d, request.source, valuesOf[i])));
    return {
      batchId,
      rows: applicants.length,
      scored: made.length,
      bad,
      decisions: keep >= made.length ? made : made.slice(0, keep),
      errors: errors.listed,
      errorCounts: errors.counts(),
    };
  }

  /**
   * A file, as the reader validates it batch by batch. The whole file is read before anything
   * is written: a file that fails half-way (a syntax error, the size limit) leaves no decision
   * behind, and a slow upload never holds the decision log's writer. `beforeCommit` may still
   * refuse the file once it is read. Then every batch goes to the worker threads at once and
   * comes back as finished decision rows, in file order; the log writes each while later ones
   * are still being made, all in one transaction.
   */
  async decideFile(
    batches: AsyncIterable<ValidatedBatch>,
    request: DecisionRequest,
    keep = Infinity,
    beforeCommit?: () => void,
  ): Promise<DecidedBatch> {
    const read: ValidatedBatch[] = [];
    const errors = new RowErrorTally();
    let rows = 0;
    for await (const batch of batches) {
      rows += batch.records;
      errors.addAll(batch.errors);
      // Only the counted errors stay: a file of invalid rows must not hold them all.
      read.push({ ...batch, errors: [] });
    }
    beforeCommit?.();
    const batchId = newDecisionId();
    const context = contextOf(request, batchId);
    // Ids are made here, so they increase in file order.
    const results = read.map((b) =>
      this.decideInWorkers({
        columns: b.table.columns,
        n: b.table.n,
        rowNumbers: b.rowNumbers,
        ids: Array.from({ length: b.table.n }, () => newDecisionId()),
        extras: b.extras,
        context,
        explainGood: request.explainGood,
      }),
    );
    // A batch that fails is reported through the stream; the others must not go unhandled.
    for (const r of results) r.catch(() => {});
    // Only what the observer needs is kept of each decision once it is logged.
    const total = read.reduce((n, b) => n + b.table.n, 0);
    const probabilities = new Float64Array(total);
    const isBad = new Uint8Array(total);
    const kept: DecisionTuple[] = [];
    let at = 0;
    async function* chunks(): AsyncGenerator<DecisionTuple[]> {
      for (const result of results) {
        const decided = await result;
        for (const d of decided) {
          probabilities[at] = d[TUPLE_INDEX.probability_bad] as number;
          isBad[at++] = d[TUPLE_INDEX.risk] === "bad" ? 1 : 0;
          if (kept.length < keep) kept.push(d);
        }
        yield decided;
      }
    }
    const scored = await this.sink.appendStream(chunks());
    let bad = 0;
    let i = 0;
    for (const { table } of read) {
      const values = new Float64Array(table.columns.length);
      for (let k = 0; k < table.n; k++, i++) {
        for (let j = 0; j < values.length; j++) values[j] = table.columns[j][k];
        bad += isBad[i];
        this.observe(isBad[i] === 1 ? "bad" : "good", request.source, probabilities[i], values);
      }
    }
    return {
      batchId,
      rows,
      scored,
      bad,
      decisions: kept,
      errors: errors.listed,
      errorCounts: errors.counts(),
    };
  }

  /** This version no longer serves: its workers stop once the files they are scoring are done. */
  retire(): void {
    this.retired = true;
    if (this.running === 0) void this.closePool();
  }

  /** Tells the observer of a logged decision; 1 when it is `bad`, else 0. */
  private heard(d: DecisionTuple, source: DecisionSource, values: ArrayLike<number>): number {
    const risk = d[TUPLE_INDEX.risk] as "good" | "bad";
    this.observe(risk, source, d[TUPLE_INDEX.probability_bad] as number, values);
    return risk === "bad" ? 1 : 0;
  }

  private async decideInWorkers(input: DecideBatchInput): Promise<DecisionTuple[]> {
    this.pool ??= createPool({ module: SCORING_JOBS, fn: "decideBatchJob" }, this.shared);
    const pool = this.pool;
    this.running++;
    try {
      return await pool.run(input);
    } catch (e) {
      // A failed pool stays failed: the next file gets a fresh one.
      if (this.pool === pool) this.pool = null;
      void pool.close();
      throw e;
    } finally {
      this.running--;
      if (this.retired && this.running === 0) void this.closePool();
    }
  }

  private async closePool(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}

function contextOf(request: DecisionRequest, batchId: string | null): DecisionContext {
  return {
    requestId: request.requestId,
    createdAt: request.createdAt,
    source: request.source,
    batchId,
    scoredBy: request.scoredBy ?? null,
  };
}
