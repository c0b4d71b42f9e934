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
];
for (const [file, ...args] of benches) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], {
    stdio: "inherit",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
