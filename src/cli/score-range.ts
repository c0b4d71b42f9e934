import { open } from "node:fs/promises";
import { FittedPipeline, type PipelineJson } from "../ml/index.js";
import {
  type CreditSchema,
  type CsvSeparator,
  type RowError,
  formatCsvRow,
  readApplicants,
} from "../data/index.js";
import { SCORE_COLUMNS, ScoredRowWriter } from "./scored-output.js";

/*
 * Scoring one byte range of an applicant CSV file from start to finish (read, validate, score,
 * write), as a worker-pool job (see core/pool.ts): threads that each take a range of the file
 * need nothing from the main thread but the range, so none of them waits for it.
 */

/** This module as a job reference: worker threads from dist/, in-process from sources. */
export const SCORE_RANGE_MODULE = import.meta.url;

export interface ScoreRangeShared {
  readonly model: PipelineJson;
  readonly threshold: number;
  readonly schema: CreditSchema;
  readonly path: string;
  readonly batchSize: number;
  /** The file's header cells and separator, for ranges after the first (null with one range). */
  readonly header: readonly string[] | null;
  readonly separator: CsvSeparator | null;
}

export interface ScoreRangeInput {
  readonly start: number;
  readonly end: number;
  /** The range starts the file: its header is read from it and written to `out` first. */
  readonly first: boolean;
  /** File to append the scored rows to. */
  readonly out: string;
}

export interface ScoreRangeResult {
  readonly scored: number;
  /** Numbered from row 1 and line 1 at the start of the range. */
  readonly errors: RowError[];
  /** Row and line numbers after the range, in the same numbering. */
  readonly nextRow: number;
  readonly nextLine: number;
}

/* One pipeline per worker: `shared` arrives once per worker, so its identity keys the cache. */
const pipelines = new WeakMap<object, FittedPipeline>();

/** Scores the records of `input`'s byte range into `input.out`. */
export async function scoreRangeJob(
  shared: ScoreRangeShared,
  input: ScoreRangeInput,
): Promise<ScoreRangeResult> {
  let pipeline = pipelines.get(shared);
  if (!pipeline) {
    pipeline = FittedPipeline.fromJSON(shared.model);
    pipelines.set(shared, pipeline);
  }
  const batches = readApplicants(shared.path, {
    schema: shared.schema,
    keepRawLines: true,
    batchSize: shared.batchSize,
    range: { start: input.start, end: input.end },
    ...(input.first ? {} : { header: shared.header ?? [], separator: shared.separator ?? "," }),
  });
  const errors: RowError[] = [];
  let scored = 0;
  let finished = false;
  let writer: ScoredRowWriter | null = null;
  const file = await open(input.out, "a");
  try {
    for (;;) {
      const r = await batches.next();
      if (r.done) {
        finished = true;
        await writer?.flush();
        return { scored, errors, nextRow: r.value.nextRow, nextLine: r.value.nextLine };
      }
      const batch = r.value;
      if (writer === null) {
        const sep = batch.rawSeparator ?? ",";
        writer = new ScoredRowWriter(file, shared.threshold, sep);
        if (input.first) {
          await writer.writeText(`${formatCsvRow([...batch.header, ...SCORE_COLUMNS], sep)}\n`);
        }
      }
      for (const e of batch.errors) errors.push(e);
      const n = batch.table.n;
      const proba = pipeline.predictProba({
        features: pipeline.features,
        columns: batch.table.columns,
        n,
      });
      await writer.writeRows(batch.rawLines as string[], proba);
      scored += n;
    }
  } finally {
    if (!finished) {
      // Already failing: the first error is the one to report.
      await writer?.flush().catch(() => {});
      await batches.return({ nextRow: 0, nextLine: 0 }).catch(() => {});
    }
    await file.close();
  }
}
