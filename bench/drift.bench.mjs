// The streaming drift report (DriftAccumulator) against the German credit reference profile:
// `rows` current rows resampled from the bundled data (deterministic PRNG, duration shifted by
// 3 months so it drifts), fed in chunks of 65,536 rows — numeric columns as Float64Array, categorical
// ones as arrays of the schema's labels. Each chunk is generated just before it is added and only
// add() and result() are timed (generation is reported apart). Prints the streaming time, rows/s,
// resident memory and heap around it (memory flat in rows: the heap after 1,000 rows and after
// all rows), then detectDrift on the same rows held in memory, and whether both reports agree.
//   node bench/drift.bench.mjs [rows=1000000] [chunk=65536]
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Rng } from "../dist/core/rng.js";
import { CREDIT_SCHEMA, DEFAULT_DATA_PATH, readDataset } from "../dist/data/index.js";
import { detectDrift } from "../dist/monitoring/drift.js";
import { buildReferenceProfile, profileFrame } from "../dist/monitoring/reference-profile.js";
import { DriftAccumulator } from "../dist/monitoring/streaming-drift.js";
import { fmt } from "./lib.mjs";

const ROWS = Number(process.argv[2] ?? 1_000_000);
const CHUNK = Number(process.argv[3] ?? 65_536);
const SHIFT = { duration: 3 };

// A collectable heap figure needs a full GC first; the flag can be set at run time.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const mb = (bytes) => fmt(bytes / 2 ** 20, 1);
const heapMb = () => {
  gc();
  return mb(process.memoryUsage().heapUsed);
};
const peakRssMb = () => fmt(process.resourceUsage().maxRSS / 1024, 1);

const { table } = await readDataset(DEFAULT_DATA_PATH);
const schema = CREDIT_SCHEMA.columns.map((c) => ({ name: c.name, kind: c.kind }));
// The model's probabilities do not enter data drift; zeros stand in for them.
const profile = buildReferenceProfile(CREDIT_SCHEMA, table.columns, new Float64Array(table.n));

/** Chunks of rows drawn with replacement from the data, in the schema's encoding. */
function* chunks(seed, rows, size) {
  const rng = new Rng(seed);
  for (let from = 0; from < rows; from += size) yield resample(rng, Math.min(size, rows - from));
}

function resample(rng, n) {
  const picks = Int32Array.from({ length: n }, () => rng.int(table.n));
  const chunk = {};
  CREDIT_SCHEMA.columns.forEach((column, j) => {
    const values = table.columns[j];
    if (column.kind === "numeric") {
      const shift = SHIFT[column.name] ?? 0;
      chunk[column.name] = Float64Array.from(picks, (r) => values[r] + shift);
    } else {
      const labels = column.values.map((v) => v.value);
      chunk[column.name] = Array.from(picks, (r) => labels[values[r]] ?? null);
    }
  });
  return chunk;
}

/** Adds up to `count` chunks from `source`, timing generation and add() apart. */
function feed(acc, source, count, timing) {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const next = source.next();
    const t1 = performance.now();
    timing.generateMs += t1 - t0;
    if (next.done) return;
    acc.add(next.value);
    timing.addMs += performance.now() - t1;
  }
}

console.log(`drift: ${ROWS.toLocaleString("en")} current rows × ${schema.length} columns`);
console.log(`  reference: profile of the bundled data (${table.n} rows), chunks of ${CHUNK}`);
const rssBefore = fmt(process.memoryUsage().rss / 2 ** 20, 1);
const heapBefore = heapMb();

// Warm-up on a separate accumulator, so the timed run measures optimised code, as a server would.
// (In a function: a top-level loop's last chunk would stay reachable from the module's frame.)
const warmUp = () => {
  const warm = new DriftAccumulator(schema, profile);
  feed(warm, chunks(1, 2 * CHUNK, CHUNK), Infinity, { addMs: 0, generateMs: 0 });
  warm.result();
};
warmUp();

const acc = new DriftAccumulator(schema, profile);
const timing = { addMs: 0, generateMs: 0 };
const source = chunks(2, ROWS, CHUNK);
feed(acc, source, 1, timing);
// Outside the timed part, with no chunk alive: what the accumulator holds after one chunk.
const heapAfterFirst = heapMb();
feed(acc, source, Infinity, timing);
const { addMs, generateMs } = timing;
const resultStart = performance.now();
const streamed = acc.result();
const resultMs = performance.now() - resultStart;
const seconds = (addMs + resultMs) / 1000;
const heapAfter = heapMb();
console.log(
  `  streaming: ${fmt(seconds, 3)} s (add ${fmt(addMs / 1000, 3)} s, result ${fmt(resultMs, 1)} ms), ${Math.round(acc.rows / seconds).toLocaleString("en")} rows/s; generating the chunks ${fmt(generateMs / 1000, 3)} s, untimed`,
);
console.log(
  `  memory: RSS ${rssBefore} MB before, peak ${peakRssMb()} MB after; heap used ${heapBefore} MB before, ${heapAfterFirst} MB after the first chunk, ${heapAfter} MB after all rows`,
);
const duration = streamed.columns.find((c) => c.column === "duration");
console.log(
  `  ${streamed.driftedColumns}/${streamed.countedColumns} columns drifted; duration: ${duration.test} D = ${fmt(duration.statistic, 4)}, p = ${duration.pValue.toExponential(3)}`,
);

// The same rows in memory for detectDrift.
const frame = {};
for (const c of schema) frame[c.name] = [];
for (const chunk of chunks(2, ROWS, CHUNK)) {
  for (const c of schema) frame[c.name].push(chunk[c.name]);
}
for (const c of schema) {
  const parts = frame[c.name];
  frame[c.name] = c.kind === "numeric" ? concatNumbers(parts) : parts.flat();
}
const start = performance.now();
const inMemory = detectDrift(schema, profileFrame(profile), frame);
const inMemorySeconds = (performance.now() - start) / 1000;
console.log(
  `  detectDrift in memory: ${fmt(inMemorySeconds, 3)} s, ${Math.round(ROWS / inMemorySeconds).toLocaleString("en")} rows/s, peak RSS ${peakRssMb()} MB; reports identical: ${JSON.stringify(inMemory) === JSON.stringify(streamed) ? "yes" : "NO"}`,
);

function concatNumbers(parts) {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
