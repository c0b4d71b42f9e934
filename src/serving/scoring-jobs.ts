import type { DatasetSpec } from "../data/index.js";
import type { DecisionTuple } from "../decisions/types.js";
import { FittedPipeline, type PipelineJson } from "../ml/index.js";
import { type DecisionContext, DecisionEncoder } from "./decide.js";
import { Scorer } from "./scoring.js";

/*
 * Scoring a file in worker threads (see core/pool.ts): each batch of validated rows becomes
 * finished decision rows (scored, explained, with readable reasons, validated and serialised by
 * toDecisionRow), so the thread that answers requests only hands them on to the decision log.
 */

/** One batch of a file, as the reader validated it. */
export interface DecideBatchInput {
  /** One column per feature column of the spec, values as the validator produces them. */
  readonly columns: readonly Float64Array[];
  readonly n: number;
  readonly rowNumbers: Int32Array;
  /** Ids for the rows' decisions, made by the caller (ids increase within a process). */
  readonly ids: readonly string[];
  /** Columns outside the spec, passed through into each decision's input. */
  readonly extras: { readonly header: readonly string[]; readonly values: string[][] };
  readonly context: DecisionContext;
  /** Also explain `good` rows; `bad` ones always are. */
  readonly explainGood: boolean;
}

/** What a worker needs to rebuild the serving model. */
export interface DecideShared {
  readonly name: string;
  readonly version: number;
  readonly model: PipelineJson;
  readonly spec: DatasetSpec;
}

/** The batch's decisions as rows of the decision log (`decisionValues`), in row order. */
export function decideBatch(encoder: DecisionEncoder, input: DecideBatchInput): DecisionTuple[] {
  const { columns, n, rowNumbers, ids, extras, context } = input;
  const values = new Float64Array(columns.length);
  const rows = new Array<DecisionTuple>(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < values.length; j++) values[j] = columns[j][k];
    const extra =
      extras.header.length === 0
        ? undefined
        : Object.fromEntries(extras.header.map((h, e) => [h, extras.values[k][e]]));
    rows[k] = encoder.encode(values, input.explainGood, context, {
      id: ids[k],
      rowNumber: rowNumbers[k],
      extras: extra,
    });
  }
  return rows;
}

/**
 * This module as a job reference for the worker pool: compiled (`.js`) from dist/, where the
 * pool uses worker threads; from sources (`.ts`, under the test runner) it runs in-process.
 */
export const SCORING_JOBS = import.meta.url;

/* `shared` arrives once per worker, so its identity keys the scorer built from it. */
const encoders = new WeakMap<object, DecisionEncoder>();

/** The pool job: `decideBatch` with the model of `shared`, rebuilt on the worker's first call. */
export function decideBatchJob(shared: DecideShared, input: DecideBatchInput): DecisionTuple[] {
  let encoder = encoders.get(shared);
  if (!encoder) {
    const scorer = new Scorer({
      name: shared.name,
      version: shared.version,
      pipeline: FittedPipeline.fromJSON(shared.model),
      spec: shared.spec,
    });
    encoder = new DecisionEncoder(scorer);
    encoders.set(shared, encoder);
  }
  return decideBatch(encoder, input);
}
