import { open, stat } from "node:fs/promises";
import { createPool, defaultThreads, isAppError } from "../core/index.js";
import {
  type ApplicantBatch,
  type DataSource,
  type RowError,
  RecordValidator,
  formatCsvRow,
  formatFromPath,
  openCsv,
  readApplicants,
} from "../data/index.js";
import { SCORING_JOBS, Scorer, type ScorerSource } from "../scoring/index.js";
import { PartedFile } from "./parted-file.js";
import {
  CLAIMED_FROM_FRONT,
  SCORE_RANGE_MODULE,
  claim,
  claimsStopped,
  createClaims,
  scoreRangeJob,
  scoredFromBack,
  stopClaims,
  type ScoreFromBackShared,
  type ScoreRangeResult,
  type ScoreRangeShared,
} from "./score-range.js";
import { SCORE_COLUMNS, ScoredRowWriter } from "./scored-output.js";
import { RecordBoundaryScanner } from "./split-points.js";

export { SCORE_COLUMNS, fixed6 } from "./scored-output.js";

/** Batches being scored while the next ones are read: enough to keep every thread busy. */
const MAX_BATCHES_IN_FLIGHT = 4;

/** Below this size a file is scored on the calling thread: starting workers would cost more. */
export const PARALLEL_MIN_BYTES = 1 << 20;

/**
 * Ranges per thread when a file is shared between threads. Threads take ranges one at a time
 * while any are left, so small ranges let them finish close together even when one is slowed
 * down by other work on the machine; each range costs about a millisecond to set up.
 */
const RANGES_PER_THREAD = 16;
const MIN_RANGE_BYTES = 256 << 10;
const MAX_RANGE_BYTES = 4 << 20;
/** Reads of the boundary scan; larger ones fall out of the CPU caches and scan slower. */
const SCAN_CHUNK_BYTES = 1 << 20;

export interface ScoreFileOptions extends ScorerSource {
  readonly input: DataSource;
  readonly output: string;
  readonly batchSize: number;
  readonly threads?: number;
  readonly onProgress?: (scored: number) => void;
  /** Size of the pieces a file is split into between threads (default: from size and threads). */
  readonly rangeBytes?: number;
  /** Smallest file split between threads (default PARALLEL_MIN_BYTES). */
  readonly parallelMinBytes?: number;
}

export interface ScoreFileResult {
  readonly scored: number;
  readonly errors: readonly RowError[];
}

/**
 * Scores an applicant file into a scored CSV: each valid row as written (formula cells
 * neutralised) plus risk, probability_bad and confidence, in input order; invalid rows are
 * returned as errors, in row order. The output appears under its name only once complete.
 *
 * A CSV file is cut at record boundaries into byte ranges, and each thread (this one and
 * `threads - 1` workers) takes whole ranges: it reads, validates, scores and writes them by
 * itself, so no thread waits for another. Splitting only changes which thread handles a
 * record, so the output is the same for any thread count. Should a cut land inside a record
 * (possible only with stray quotes, see RecordBoundaryScanner), the file is read again in one
 * piece. Files under `parallelMinBytes` are scored on this thread alone. Other inputs (ARFF,
 * streams) are read on this thread while workers score their batches.
 */
export async function scoreFile(opts: ScoreFileOptions): Promise<ScoreFileResult> {
  const input = opts.input;
  if (typeof input === "string" && formatFromPath(input) === "csv") {
    const size = await fileSize(input);
    if (size !== null) {
      const minBytes = opts.parallelMinBytes ?? PARALLEL_MIN_BYTES;
      const threads = size < minBytes ? 1 : (opts.threads ?? defaultThreads());
      try {
        return await scoreRanges(opts, input, size, threads);
      } catch (e) {
        if (threads === 1 || !isAppError(e) || e.code !== "PARSE_ERROR") throw e;
        return await scoreRanges(opts, input, size, 1);
      }
    }
  }
  return scoreStream(opts);
}

/** The size of a regular file, or null (missing, or not a file: the reader reports it). */
async function fileSize(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

async function scoreRanges(
  opts: ScoreFileOptions,
  path: string,
  size: number,
  threads: number,
): Promise<ScoreFileResult> {
  let header: readonly string[] | null = null;
  let separator: ScoreRangeShared["separator"] = null;
  let cuts = [0, size];
  if (threads > 1) {
    const csv = await openCsv(path);
    try {
      header = csv.header;
      separator = csv.separator;
    } finally {
      await csv.close();
    }
    // A header mismatch fails here as it would when reading, before any thread starts.
    new RecordValidator(opts.spec, header, { label: "optional" });
    const rangeBytes =
      opts.rangeBytes !== undefined
        ? Math.max(1, Math.floor(opts.rangeBytes))
        : Math.min(
            MAX_RANGE_BYTES,
            Math.max(MIN_RANGE_BYTES, Math.ceil(size / (threads * RANGES_PER_THREAD))),
          );
    cuts = await splitPoints(path, rangeBytes);
  }
  const n = cuts.length - 1;
  const out = new PartedFile(opts.output);
  const claims = createClaims(cuts);
  const shared: ScoreFromBackShared = {
    model: opts.model,
    spec: opts.spec,
    path,
    batchSize: opts.batchSize,
    header,
    separator,
    claims,
    partPrefix: out.partPrefix,
  };
  const parts = Array.from({ length: n }, (_, k) => out.part(k));
  const workers = Math.min(threads - 1, n - 1);
  // Workers start as work arrives, so a pool allowed two threads but given one job starts one
  // (a pool of one thread would run in-process).
  const pool =
    workers > 0
      ? createPool<Record<string, never>, { k: number; result: ScoreRangeResult }[]>(
          { module: SCORE_RANGE_MODULE, fn: "scoreFromBackJob" },
          shared,
          { threads: Math.max(2, workers) },
        )
      : null;
  const results: ScoreRangeResult[] = new Array(n);
  const fromBack = new Array<boolean>(n).fill(false);
  let scoredFromFront = 0;
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown): void => {
    failure ??= { error };
    stopClaims(claims);
    void pool?.close();
  };
  /*
   * This thread takes ranges from the front, in order, each appended straight to the output;
   * the workers take them from the back, each into a part file, appended once all are done.
   * Whoever is faster takes more ranges, and only the workers' share is copied.
   */
  const frontLane = async (): Promise<void> => {
    try {
      for (let k = 0; k < n && !claimsStopped(claims); k++) {
        if (!claim(claims, k, CLAIMED_FROM_FRONT)) break;
        const r = await scoreRangeJob(
          shared,
          { start: cuts[k], end: cuts[k + 1], first: k === 0, out: out.tmp },
          (s) => opts.onProgress?.(scoredFromFront + s + scoredFromBack(claims)),
        );
        results[k] = r;
        scoredFromFront += r.scored;
      }
    } catch (e) {
      fail(e);
    }
  };
  const backLane = async (): Promise<void> => {
    try {
      for (const { k, result } of await (pool as NonNullable<typeof pool>).run({})) {
        results[k] = result;
        fromBack[k] = true;
      }
    } catch (e) {
      fail(e);
    }
  };

  try {
    await out.create();
    await Promise.all([frontLane(), ...Array.from({ length: workers }, backLane)]);
    if (failure !== null) throw (failure as { error: unknown }).error;
    for (let k = 0; k < n; k++) if (fromBack[k]) await out.append(parts[k]);
    await out.commit();
  } catch (e) {
    // Workers are stopped before the parts are removed, so none can write one afterwards.
    stopClaims(claims);
    await pool?.close();
    await out.abort();
    throw e;
  } finally {
    await pool?.close();
  }
  let scored = 0;
  const errors: RowError[] = [];
  let row = 1;
  let line = 1;
  for (const r of results) {
    scored += r.scored;
    for (const e of r.errors) errors.push(renumber(e, row - 1, line - 1));
    row += r.nextRow - 1;
    line += r.nextLine - 1;
  }
  return { scored, errors };
}

/** Offsets cutting the file into ranges of whole records of about `rangeBytes`: 0, …, size. */
async function splitPoints(path: string, rangeBytes: number): Promise<number[]> {
  const scanner = await RecordBoundaryScanner.open(path, SCAN_CHUNK_BYTES);
  try {
    const cuts = [0];
    while (cuts[cuts.length - 1] < scanner.size) {
      cuts.push(await scanner.next(cuts[cuts.length - 1] + rangeBytes));
    }
    if (cuts.length === 1) cuts.push(0);
    return cuts;
  } finally {
    await scanner.close();
  }
}

/** A range's error in the file's numbering. */
function renumber(e: RowError, rows: number, lines: number): RowError {
  if (rows === 0 && lines === 0) return e;
  return e.line === undefined
    ? { ...e, row: e.row + rows }
    : { ...e, row: e.row + rows, line: e.line + lines };
}

/**
 * Reading and validating on this thread while earlier batches are scored in worker threads;
 * batches are written in input order.
 */
async function scoreStream(opts: ScoreFileOptions): Promise<ScoreFileResult> {
  const source: ScorerSource = { model: opts.model, spec: opts.spec };
  const pool = createPool<{ columns: Float64Array[]; n: number }, Float64Array>(
    { module: SCORING_JOBS, fn: "probabilitiesJob" },
    source,
    { threads: opts.threads },
  );
  const { threshold } = Scorer.of(source);
  const out = new PartedFile(opts.output);
  const errors: RowError[] = [];
  const pending: { batch: ApplicantBatch; proba: Promise<Float64Array> }[] = [];
  let writer: ScoredRowWriter | null = null;
  let scored = 0;

  const writeOldest = async (): Promise<void> => {
    const head = pending.shift();
    if (!head || writer === null) return;
    const proba = await head.proba;
    await writer.writeRows(head.batch.rawLines as string[], proba);
    scored += proba.length;
    opts.onProgress?.(scored);
  };

  await out.create();
  const file = await open(out.tmp, "a");
  try {
    for await (const batch of readApplicants(opts.input, {
      spec: opts.spec,
      keepRawLines: true,
      batchSize: opts.batchSize,
    })) {
      if (writer === null) {
        const sep = batch.rawSeparator ?? ",";
        writer = new ScoredRowWriter(file, threshold, sep);
        await writer.writeText(`${formatCsvRow([...batch.header, ...SCORE_COLUMNS], sep)}\n`);
      }
      for (const e of batch.errors) errors.push(e);
      const input = { columns: batch.table.columns as Float64Array[], n: batch.table.n };
      pending.push({ batch, proba: pool.run(input) });
      while (pending.length > MAX_BATCHES_IN_FLIGHT) await writeOldest();
    }
    while (pending.length > 0) await writeOldest();
    await writer?.flush();
    writer?.release();
    await file.close();
    await out.commit();
  } catch (e) {
    await writer?.flush().catch(() => {});
    await file.close().catch(() => {});
    await out.abort();
    throw e;
  } finally {
    await pool.close();
  }
  return { scored, errors };
}
