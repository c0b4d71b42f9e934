// Writes the fold of every row that `riskometer cv --folds K --repeats 1 --seed S` uses, as a
// JSON array in file order, so baselines.py (--folds-file) scores on exactly the same folds.
//   node bench/folds.mjs OUT.json --data FILE [--target COLUMN --risk-class VALUE]
//     [--missing TEXT ...] [--folds 5] [--seed 0]
// It reads the file through the same loader and fold splitter as `riskometer cv` (run
// `npm run build` first). Spec inference notes go to stderr.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Fold index (0 … folds-1) of every row of the first repetition, in row order. */
export async function riskometerFolds({ data, target, riskClass, missing, folds = 5, seed = 0 }) {
  const { loadTrainingData } = await import("../dist/cli/dataset-options.js");
  const { repeatedStratifiedKFold } = await import("../dist/ml/validation/index.js");
  const { Rng } = await import("../dist/core/rng.js");
  const loaded = await loadTrainingData({ data, target, riskClass, missing });
  // Same call as crossValidatePipeline: repeatedStratifiedKFold(y, folds, repeats, new Rng(seed)).
  const split = repeatedStratifiedKFold(loaded.table.y, folds, 1, new Rng(seed));
  const assign = new Array(loaded.rows).fill(-1);
  for (const f of split) for (const row of f.test) assign[row] = f.fold;
  return { assign, rows: loaded.rows, bad: loaded.bad, sha256: loaded.digest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, ...rest] = process.argv.slice(2);
  const opts = { missing: [] };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag === "--data") opts.data = value;
    else if (flag === "--target") opts.target = value;
    else if (flag === "--risk-class") opts.riskClass = value;
    else if (flag === "--missing") opts.missing.push(value);
    else if (flag === "--folds") opts.folds = Number(value);
    else if (flag === "--seed") opts.seed = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  if (!out || !opts.data) {
    console.error("usage: node bench/folds.mjs OUT.json --data FILE [--target C --risk-class V]");
    process.exit(2);
  }
  if (opts.missing.length === 0) delete opts.missing;
  const r = await riskometerFolds(opts);
  await writeFile(out, JSON.stringify(r.assign));
  console.error(`${out}: folds of ${r.rows} rows (${r.bad} bad), data sha256 ${r.sha256}`);
}
