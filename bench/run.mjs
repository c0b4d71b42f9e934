// Runs every benchmark in turn (npm run bench). Each prints its own numbers.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const benches = [
  ["cv.bench.mjs"],
  ["score-row.bench.mjs"],
  ["predict.bench.mjs", "1000000"],
  ["../dist/bench/csv-read.bench.js", "1000000"],
  ["../dist/bench/trees.bench.js"],
  ["run-search.bench.mjs", "10000"],
  ["decision-log.bench.mjs"],
  ["../dist/bench/explain.bench.js"],
  ["drift.bench.mjs"],
  // These two compare with scikit-learn and XGBoost (Debian's python3-sklearn, python3-xgboost,
  // python3-pandas, python3-scipy; without them only Riskometer's side runs) and take minutes.
  ["quality.bench.mjs"],
  ["cv-large.bench.mjs"],
  // These two need Debian's wrk and chromium.
  ["serve.bench.mjs", "gbdt", "15", "1000000"],
  ["upload.bench.mjs", "100000", "gbdt"],
];
for (const [file, ...args] of benches) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], {
    stdio: "inherit",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
