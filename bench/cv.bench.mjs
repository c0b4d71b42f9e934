// Wall time and quality of `riskometer cv` (5 × 10-fold repeated stratified CV, seed 0) for each
// algorithm, and of `riskometer train` with its default trial budget.
//   node bench/cv.bench.mjs [algorithms=logreg,gbdt,forest,blend] [seed=0]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, fmt } from "./lib.mjs";

const algorithms = (process.argv[2] ?? "logreg,gbdt,forest,blend").split(",");
const seed = process.argv[3] ?? "0";
console.log(`cv: 5 × 10-fold stratified, seed ${seed}`);
console.log(
  "  algorithm   wall s   auc (mean ± std)   cost (mean ± std)   accuracy  recall  specificity",
);
for (const algorithm of algorithms) {
  const r = await cli([
    "cv",
    "--algorithm",
    algorithm,
    "--folds",
    "10",
    "--repeats",
    "5",
    "--seed",
    seed,
    "--json",
  ]);
  if (r.code !== 0) throw new Error(`cv ${algorithm} failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout).metrics;
  console.log(
    `  ${algorithm.padEnd(9)} ${fmt(r.seconds, 2).padStart(8)}   ${fmt(m.auc.mean, 4)} ± ${fmt(m.auc.std, 4)}    ` +
      `${fmt(m.cost.mean, 4)} ± ${fmt(m.cost.std, 4)}    ${fmt(m.accuracy.mean, 4)}    ${fmt(m.recall.mean, 3)}   ${fmt(m.specificity.mean, 3)}`,
  );
}

const dir = await mkdtemp(join(tmpdir(), "riskometer-bench-"));
try {
  // From an empty store, as on a fresh clone: creates the database, records the runs and
  // artifacts, registers a version.
  const r = await cli(["train", "--seed", seed, "--json"], { RISKOMETER_HOME: join(dir, "home") });
  if (r.code !== 0) throw new Error(`train failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  console.log(
    `train (default trials, empty store): ${fmt(r.seconds, 2)} s wall (bar ≤ 90 s), ${out.candidates.length} candidate runs, ` +
      `registered ${out.model.name}/${out.model.version}; chose ${out.chosen}: test auc ${fmt(out.metrics.test.auc, 4)}, ` +
      `test cost ${fmt(out.metrics.test.cost, 4)}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
