// One applicant scored in-process (the serving path: FittedPipeline.predictProbaRow) for a model
// of each algorithm, in microseconds per call.
//   node bench/score-row.bench.mjs [algorithms=logreg,gbdt,forest,blend]
import { Rng } from "../dist/core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../dist/data/index.js";
import { fitPipeline } from "../dist/ml/pipeline/pipeline.js";
import { fmt } from "./lib.mjs";

const algorithms = (process.argv[2] ?? "logreg,gbdt,forest,blend").split(",");
const { table } = await readDataset(DEFAULT_DATA_PATH);
const rows = Array.from({ length: table.n }, (_, i) =>
  Float64Array.from(table.columns, (c) => c[i]),
);
console.log("score one applicant in-process (median of 5 runs over all 1000 rows × 20)");
for (const kind of algorithms) {
  const model = fitPipeline(table, { kind }, new Rng(0));
  const runs = [];
  let sink = 0;
  for (let r = 0; r < 6; r++) {
    const start = performance.now();
    for (let k = 0; k < 20; k++) for (const row of rows) sink += model.predictProbaRow(row);
    if (r > 0) runs.push(((performance.now() - start) * 1000) / (20 * rows.length));
  }
  runs.sort((a, b) => a - b);
  console.log(`  ${kind.padEnd(7)} ${fmt(runs[2], 2)} µs${sink > 0 ? "" : " "}`);
}
