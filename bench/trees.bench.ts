/**
 * Speed (and optionally cross-validated AUC) of the tree models on German credit.
 *
 * Run from the package root after `npm run build` (Node 20 cannot run TypeScript directly):
 *
 *   npx tsc bench/trees.bench.ts --outDir dist/bench --module nodenext \
 *     --moduleResolution nodenext --target es2022 --types node --skipLibCheck
 *   node dist/bench/trees.bench.js            # fit and predict timings
 *   node dist/bench/trees.bench.js --cv 0     # plus 5×10 repeated stratified CV AUC, seed 0
 *
 * Timings: single-threaded fits on the first 900 rows with default parameters (the size of a
 * 10-fold training split), minimum and median over repeated fits after a warm-up fit; and the
 * time to score one applicant with predictRawRow. The CV part fits one model per fold (50 fits)
 * and reports the mean ± standard deviation of the test-fold AUCs of predictProba.
 *
 * Batch scoring: models fitted on all 1000 rows score the rows tiled to 200,000 applicants, as
 * tables of 8192 rows (the CLI's batch size) through predictRaw, and one applicant at a time
 * (a different row each call) through predictRawRow; CPU time per row, minimum and median over
 * repetitions, so that other processes on the machine inflate the figures less.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as CoreRng from "../dist/core/rng.js";
import type * as DataModule from "../dist/data/index.js";
import type * as Forest from "../dist/ml/ensembles/forest.js";
import type * as Gbdt from "../dist/ml/ensembles/gbdt.js";
import type * as Auc from "../dist/ml/metrics/auc.js";
import type * as Types from "../dist/ml/types.js";
import type * as Folds from "../dist/ml/validation/folds.js";

const root = process.cwd();
const load = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(resolve(root, path)).href)) as T;
const { Rng } = await load<typeof CoreRng>("dist/core/rng.js");
const data = await load<typeof DataModule>("dist/data/index.js");
const { gbdt } = await load<typeof Gbdt>("dist/ml/ensembles/gbdt.js");
const { forest } = await load<typeof Forest>("dist/ml/ensembles/forest.js");
const { rocAuc } = await load<typeof Auc>("dist/ml/metrics/auc.js");
const { takeRows } = await load<typeof Types>("dist/ml/types.js");
const { repeatedStratifiedKFold } = await load<typeof Folds>("dist/ml/validation/folds.js");

type Algo = typeof gbdt | typeof forest;

const german = (await data.readDataset(data.DEFAULT_DATA_PATH)).table;
const cvAt = process.argv.indexOf("--cv");
const cvSeed = cvAt >= 0 ? Number(process.argv[cvAt + 1] ?? 0) : null;

function stats(xs: number[]): { min: number; median: number } {
  const s = xs.slice().sort((a, b) => a - b);
  return { min: s[0], median: s[s.length >> 1] };
}

function timeFits(name: string, algo: Algo, reps: number): void {
  const rows = Int32Array.from({ length: 900 }, (_, i) => i);
  const train = takeRows(german, rows);
  algo.fit(train, {}, new Rng(999));
  const ms: number[] = [];
  let model = algo.fit(train, {}, new Rng(0));
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    model = algo.fit(train, {}, new Rng(r));
    ms.push(performance.now() - t0);
  }
  const fit = stats(ms);
  const row = german.columns.map((c) => c[950]);
  const n = 20_000;
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += model.predictRawRow(row);
  const perRow: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      row[1] = 6 + (i % 48);
      sink += model.predictRawRow(row);
    }
    perRow.push(((performance.now() - t0) * 1000) / n);
  }
  const json = JSON.stringify(model.toJSON()).length;
  console.log(
    `${name.padEnd(7)} fit (900 rows) min ${fit.min.toFixed(1)} ms, median ${fit.median.toFixed(1)} ms` +
      ` over ${reps}; predictRawRow ${stats(perRow).min.toFixed(2)} µs; JSON ${(json / 1024).toFixed(0)} KiB` +
      (Number.isFinite(sink) ? "" : " (non-finite score!)"),
  );
}

function crossValidate(name: string, algo: Algo, seed: number): void {
  const folds = repeatedStratifiedKFold(german.y, 10, 5, new Rng(seed));
  const models = new Rng(seed + 7919);
  const aucs: number[] = [];
  const t0 = performance.now();
  for (const f of folds) {
    const model = algo.fit(takeRows(german, f.train), {}, models.fork(f.repeat * 100 + f.fold));
    const test = takeRows(german, f.test);
    aucs.push(rocAuc(test.y, model.predictProba(test)));
  }
  const s = (performance.now() - t0) / 1000;
  const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
  const sd = Math.sqrt(aucs.reduce((a, b) => a + (b - mean) ** 2, 0) / (aucs.length - 1));
  console.log(
    `${name.padEnd(7)} 5×10 CV seed ${seed}: AUC ${mean.toFixed(4)} ± ${sd.toFixed(4)} (${folds.length} fits in ${s.toFixed(1)} s, one thread)`,
  );
}

function timeScoring(name: string, model: Types.FittedClassifier, reps: number): void {
  const n = 200_000;
  const cols = german.columns.map((c) =>
    Float64Array.from({ length: n }, (_, i) => c[i % german.n]),
  );
  const tables: Types.Table[] = [];
  for (let s = 0; s < n; s += 8192) {
    const columns = cols.map((c) => c.subarray(s, Math.min(n, s + 8192)));
    tables.push({ features: german.features, columns, n: columns[0].length });
  }
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const row = german.columns.map((c) => c[0]);
  const single = Math.min(n, 20_000);
  let sink = 0;
  const batch: number[] = [];
  const one: number[] = [];
  for (let r = 0; r < reps; r++) {
    let t0 = cpu();
    for (const t of tables) sink += model.predictRaw(t)[0];
    batch.push((cpu() - t0) / n);
    t0 = cpu();
    for (let i = 0; i < single; i++) {
      for (let f = 0; f < row.length; f++) row[f] = cols[f][i];
      sink += model.predictRawRow(row);
    }
    one.push((cpu() - t0) / single);
  }
  const b = stats(batch);
  const o = stats(one);
  console.log(
    `${name.padEnd(10)} scoring: batch ${b.min.toFixed(2)} µs/row (median ${b.median.toFixed(2)}),` +
      ` one row ${o.min.toFixed(2)} µs (median ${o.median.toFixed(2)})` +
      (Number.isFinite(sink) ? "" : " (non-finite score!)"),
  );
}

console.log(
  `node ${process.version}; German credit, ${german.n} rows, ${german.features.length} features`,
);
timeFits("gbdt", gbdt, 20);
timeFits("forest", forest, 8);
timeScoring("gbdt", gbdt.fit(german, {}, new Rng(0)), 10);
timeScoring("forest", forest.fit(german, {}, new Rng(0)), 5);
timeScoring("forest 100", forest.fit(german, { nTrees: 100 }, new Rng(0)), 10);
if (cvSeed !== null) {
  crossValidate("gbdt", gbdt, cvSeed);
  crossValidate("forest", forest, cvSeed);
}
