import { open, rm } from "node:fs/promises";
import { type CsvSeparator, type RowError, formatCsvRow, readApplicants } from "../data/index.js";
import { Scorer, type ScorerSource } from "../scoring/index.js";
import { SCORE_COLUMNS, ScoredRowWriter } from "./scored-output.js";

/*
 * Scoring byte ranges of an applicant CSV file from start to finish (read, validate, score,
 * write), on the calling thread or as a worker-pool job (see core/pool.ts). A worker takes
 * ranges by itself from shared memory (see RangeClaims), so it never waits for the main thread,
 * which is busy with ranges of its own.
 */

/** This module as a job reference: worker threads from dist/, in-process from sources. */
export const SCORE_RANGE_MODULE = import.meta.url;

export interface ScoreRangeShared extends ScorerSource {
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

/**
 * Scores the records of `input`'s byte range into `input.out`; `onBatch` (on the calling
 * thread only) hears the rows scored so far after each batch.
 */
export async function scoreRangeJob(
  shared: ScoreRangeShared,
  input: ScoreRangeInput,
  onBatch?: (scored: number) => void,
): Promise<ScoreRangeResult> {
  const scorer = Scorer.of(shared);
  const batches = readApplicants(shared.path, {
    spec: shared.spec,
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
        writer?.release();
        return { scored, errors, nextRow: r.value.nextRow, nextLine: r.value.nextLine };
      }
      const batch = r.value;
      if (writer === null) {
        const sep = batch.rawSeparator ?? ",";
        writer = new ScoredRowWriter(file, scorer.threshold, sep);
        if (input.first) {
          await writer.writeText(`${formatCsvRow([...batch.header, ...SCORE_COLUMNS], sep)}\n`);
        }
      }
      for (const e of batch.errors) errors.push(e);
      const n = batch.table.n;
      const proba = scorer.probabilities(batch.table.columns, n);
      await writer.writeRows(batch.rawLines as string[], proba);
      scored += n;
      onBatch?.(scored);
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

/** Marks in RangeClaims slots: who took the range. */
export const CLAIMED_FROM_FRONT = 1;
export const CLAIMED_FROM_BACK = 2;

/**
 * Ranges `[cuts[k], cuts[k + 1])` shared out between threads through an Int32Array on a
 * SharedArrayBuffer: slot k (0 free, else who claimed it) for each range, then a stop flag and
 * the rows scored by workers so far. One thread takes ranges from the front, in order; the
 * others take the last free range, so both sets stay contiguous and meet in the middle.
 */
export interface RangeClaims {
  readonly cuts: readonly number[];
  readonly slots: Int32Array;
}

export function createClaims(cuts: readonly number[]): RangeClaims {
  const n = cuts.length - 1;
  return { cuts, slots: new Int32Array(new SharedArrayBuffer(4 * (n + 2))) };
}

/** Claims range k for `who`; false when another thread has it. */
export function claim(c: RangeClaims, k: number, who: number): boolean {
  return Atomics.compareExchange(c.slots, k, 0, who) === 0;
}

export function stopClaims(c: RangeClaims): void {
  Atomics.store(c.slots, c.cuts.length - 1, 1);
}

export function claimsStopped(c: RangeClaims): boolean {
  return Atomics.load(c.slots, c.cuts.length - 1) !== 0;
}

/** Rows scored so far by the threads taking ranges from the back. */
export function scoredFromBack(c: RangeClaims): number {
  return Atomics.load(c.slots, c.cuts.length);
}

export interface ScoreFromBackShared extends ScoreRangeShared {
  readonly claims: RangeClaims;
  /** Range k is written to `${partPrefix}${k}`. */
  readonly partPrefix: string;
}

/**
 * Scores ranges from the back, each into its own part file, until it meets the ranges taken
 * from the front (or the claims are stopped); returns what each range gave.
 */
export async function scoreFromBackJob(
  shared: ScoreFromBackShared,
): Promise<{ k: number; result: ScoreRangeResult }[]> {
  const { claims } = shared;
  const done: { k: number; result: ScoreRangeResult }[] = [];
  for (let k = claims.cuts.length - 2; k >= 0 && !claimsStopped(claims); k--) {
    if (!claim(claims, k, CLAIMED_FROM_BACK)) {
      if (Atomics.load(claims.slots, k) === CLAIMED_FROM_FRONT) break;
      continue;
    }
    const result = await scoreRangeJob(shared, {
      start: claims.cuts[k],
      end: claims.cuts[k + 1],
      first: k === 0,
      out: `${shared.partPrefix}${k}`,
    });
    if (claimsStopped(claims)) {
      // The run failed elsewhere and may have cleaned up already: leave nothing behind.
      await rm(`${shared.partPrefix}${k}`, { force: true });
      break;
    }
    done.push({ k, result });
    Atomics.add(claims.slots, claims.cuts.length, result.scored);
  }
  return done;
}
