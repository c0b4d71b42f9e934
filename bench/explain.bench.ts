/**
 * Cost of explaining one applicant (exact contributions per feature, src/ml/explain) next to
 * the cost of scoring them, for each model kind fitted on German credit with default
 * parameters.
 *
 * Run from the package root after `npm run build`:
 *
 *   npx tsc -p bench/tsconfig.json
 *   node dist/bench/explain.bench.js
 *
 * Models: fitPipeline on all 1000 rows with each algorithm's defaults (ALGORITHMS[name].defaults;
 * the blend's forest has the blend's 100 trees), plus a deeper gbdt (depth 6, 32 leaves) to show
 * how the cost grows with the trees. Per row, one applicant at a time (a different data row each
 * call): predictProbaRow; explain (into a reused buffer); explain + topReasons (new result, as
 * the server does). CPU time per row, minimum and median over repetitions.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as CoreRng from "../dist/core/rng.js";
import type * as DataModule from "../dist/data/index.js";
import type * as Explain from "../dist/ml/explain/index.js";
import type * as Pipeline from "../dist/ml/pipeline/pipeline.js";
import type * as TreesModule from "../dist/ml/trees/index.js";

const root = process.cwd();
const load = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(resolve(root, path)).href)) as T;
const { Rng } = await load<typeof CoreRng>("dist/core/rng.js");
const data = await load<typeof DataModule>("dist/data/index.js");
const { fitPipeline } = await load<typeof Pipeline>("dist/ml/pipeline/pipeline.js");
const { createExplainer, topReasons, TreeShap } = await load<typeof Explain>(
  "dist/ml/explain/index.js",
);

type FittedPipeline = Pipeline.FittedPipeline;
type Tree = TreesModule.Tree;

const german = (await data.readDataset(data.DEFAULT_DATA_PATH)).table;
const rows = Array.from({ length: german.n }, (_, i) =>
  Float64Array.from(german.columns, (c) => c[i]),
);

function stats(xs: number[]): { min: number; median: number } {
  const s = xs.slice().sort((a, b) => a - b);
  return { min: s[0], median: s[s.length >> 1] };
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** µs of CPU per call of `f` over `n` calls (rows cycled), min and median of `reps` runs. */
function perRow(f: (x: Float64Array) => number, n: number, reps: number) {
  let sink = 0;
  for (let i = 0; i < Math.min(n, 2000); i++) sink += f(rows[i % rows.length]);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = cpu();
    for (let i = 0; i < n; i++) sink += f(rows[i % rows.length]);
    times.push((cpu() - t0) / n);
  }
  if (!Number.isFinite(sink)) throw new Error("non-finite result");
  return stats(times);
}

function treeStats(pipeline: FittedPipeline): string {
  const parts: string[] = [];
  for (const m of pipeline.members) {
    const trees = (m.model as unknown as { trees?: readonly Tree[] }).trees;
    if (!trees) continue;
    const depths = trees.map((t) => t.depth());
    const leaves = trees.map((t) => t.nLeaves);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const shap = new TreeShap(trees, pipeline.features.length);
    parts.push(
      `${m.algorithm} ${trees.length} trees, depth mean ${mean(depths).toFixed(1)} max ` +
        `${Math.max(...depths)}, leaves mean ${mean(leaves).toFixed(1)} max ${Math.max(...leaves)}, ` +
        `≤ ${shap.maxPathFeatures} distinct features per path`,
    );
  }
  return parts.length > 0 ? parts.join("; ") : "no trees";
}

function bench(name: string, pipeline: FittedPipeline): void {
  let t0 = performance.now();
  const explainer = createExplainer(pipeline);
  const buildMs = performance.now() - t0;
  const heavy = pipeline.members.some((m) => m.algorithm === "forest");
  const n = heavy ? 2000 : 20_000;
  const reps = heavy ? 5 : 10;
  const out = new Float64Array(pipeline.features.length);
  const predict = perRow((x) => pipeline.predictProbaRow(x), n, reps);
  const explain = perRow((x) => explainer.explain(x, out).raw, n, reps);
  const reasons = perRow(
    (x) => {
      const e = explainer.explain(x);
      return pipeline.predictProbaRow(x) + topReasons(e, x, data.CREDIT_SCHEMA, 3).length;
    },
    n,
    reps,
  );
  t0 = performance.now();
  console.log(
    `${name.padEnd(16)} predictProbaRow ${predict.min.toFixed(2)} µs (median ${predict.median.toFixed(2)}) | ` +
      `explain ${explain.min.toFixed(1)} µs (median ${explain.median.toFixed(1)}) | ` +
      `predict + explain + reasons ${reasons.min.toFixed(1)} µs → ${Math.floor(1e6 / reasons.min)} rows/s per core, ` +
      `100,000 rows in ${((reasons.min * 1e5) / 1e6).toFixed(2)} s | explainer built in ${buildMs.toFixed(0)} ms`,
  );
  console.log(`${"".padEnd(16)} ${treeStats(pipeline)}`);
}

console.log(
  `node ${process.version}; German credit, ${german.n} rows, ${german.features.length} features; ` +
    "CPU µs per row, one row at a time",
);
const fit = (kind: Pipeline.ModelKind, params?: Pipeline.PipelineOptions["params"]) =>
  fitPipeline(german, { kind, params }, new Rng(0));
bench("logreg", fit("logreg"));
bench("gbdt (default)", fit("gbdt"));
bench("gbdt depth 6", fit("gbdt", { gbdt: { maxDepth: 6, maxLeaves: 32 } }));
bench("forest (default)", fit("forest"));
bench("blend (default)", fit("blend"));
