// Quality against reference libraries: `riskometer cv` (5-fold stratified, 1 repeat, seed 0)
// per algorithm beside scikit-learn (logistic regression, random forest, histogram gradient
// boosting) and XGBoost (bench/baselines.py) on the same folds, for three public credit data
// sets. Prints per data set every model's AUC (mean ± std over the folds) and seconds, the best
// Riskometer model against the best baseline and whether the bar
// "best Riskometer ≥ best baseline − 0.005" holds.
//   node bench/quality.bench.mjs [datasets=taiwan-default,credit-approval,credit-g]
//     [algorithms=logreg,forest,gbdt,blend]
// The baselines get Riskometer's own fold assignment (bench/folds.mjs), so both sides are
// scored on identical held-out rows. Needs python3 with scikit-learn and XGBoost (Debian:
// python3-sklearn python3-xgboost python3-pandas python3-scipy); without them only the
// Riskometer side runs. Riskometer's seconds are its own (file read + all folds); the
// baselines' are fitting and scoring all folds (file read apart).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { riskometerFolds } from "./folds.mjs";
import { ROOT, baselines, cli, findPython, fmt, quietly } from "./lib.mjs";

const DATASETS = {
  "taiwan-default": {
    data: "data/taiwan-default.csv",
    target: "default.payment.next.month",
    riskClass: "1",
    missing: [],
  },
  "credit-approval": {
    data: "data/credit-approval.csv",
    target: "A16",
    riskClass: "-",
    missing: ["?"],
  },
  // The bundled German credit data: Riskometer reads it by its bundled spec.
  "credit-g": { data: "data/credit-g.arff", target: "class", riskClass: "bad", bundled: true },
};
const BASELINE_MODELS = {
  logreg: "sklearn LogisticRegression",
  forest: "sklearn RandomForest (500)",
  hgb: "sklearn HistGradientBoosting",
  xgboost: "XGBoost (hist, 300, depth 6)",
};
const TOLERANCE = 0.005;
const FOLDS = 5;
const SEED = 0;

const names = (process.argv[2] ?? Object.keys(DATASETS).join(",")).split(",");
const algorithms = (process.argv[3] ?? "logreg,forest,gbdt,blend").split(",");
for (const name of names) {
  if (!DATASETS[name]) throw new Error(`unknown data set ${name} (${Object.keys(DATASETS)})`);
}

const python = findPython();
if (!python) {
  console.log(
    "baselines skipped: no python3 with scikit-learn and XGBoost (Debian: apt-get install " +
      "python3-sklearn python3-xgboost python3-pandas python3-scipy, or set PYTHON)",
  );
}

const dir = await mkdtemp(join(tmpdir(), "riskometer-quality-"));
const verdicts = [];
try {
  for (const name of names) {
    const ds = DATASETS[name];
    const data = join(ROOT, ds.data);
    const specArgs = ds.bundled
      ? []
      : [
          "--target",
          ds.target,
          "--risk-class",
          ds.riskClass,
          ...ds.missing.flatMap((m) => ["--missing", m]),
        ];
    const rows = [];

    const riskometer = [];
    for (const algorithm of algorithms) {
      const args = ["cv", "--data", data, ...specArgs, "--algorithm", algorithm];
      args.push("--folds", String(FOLDS), "--repeats", "1", "--seed", String(SEED), "--json");
      const r = await cli(args);
      if (r.code !== 0) throw new Error(`riskometer ${args.join(" ")} failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      riskometer.push({ model: algorithm, auc: out.metrics.auc, seconds: out.seconds, out });
    }
    const first = riskometer[0].out.data;
    console.log(
      `\n${name}: ${first.rows} rows, ${first.bad} bad; ${FOLDS}-fold stratified, 1 repeat, seed ${SEED}; sha256 ${first.sha256.slice(0, 16)}…`,
    );

    let baseline = [];
    let foldNote = "";
    if (python) {
      const folds = await quietly(() =>
        riskometerFolds({
          data,
          ...(ds.bundled
            ? {}
            : {
                target: ds.target,
                riskClass: ds.riskClass,
                missing: ds.missing.length ? ds.missing : undefined,
              }),
          folds: FOLDS,
          seed: SEED,
        }),
      );
      if (folds.sha256 !== first.sha256 || folds.rows !== first.rows) {
        throw new Error(`${name}: the fold export read other data than riskometer cv`);
      }
      const foldsFile = join(dir, `${name}.folds.json`);
      await writeFile(foldsFile, JSON.stringify(folds.assign));
      const args = ["--data", data, "--target", ds.target, "--risk-class", ds.riskClass];
      for (const m of ds.missing ?? []) args.push("--missing", m);
      args.push("--folds", String(FOLDS), "--seed", String(SEED), "--folds-file", foldsFile);
      const b = await baselines(python, args);
      if (b.data.rows !== first.rows || b.data.bad !== first.bad) {
        throw new Error(
          `${name}: baselines read ${b.data.rows} rows (${b.data.bad} bad), riskometer ${first.rows} (${first.bad})`,
        );
      }
      foldNote = `baselines on Riskometer's folds (sklearn ${b.versions.sklearn}, xgboost ${b.versions.xgboost}; file read ${fmt(b.data.load_seconds, 2)} s; dropped: ${b.data.dropped.join(", ") || "none"})`;
      baseline = Object.entries(b.models).map(([model, m]) => ({
        model,
        auc: m.auc,
        seconds: m.seconds,
      }));
    }

    console.log("  side        model                           auc (mean ± std)     seconds");
    for (const r of riskometer) rows.push(["riskometer", r.model, r.auc, r.seconds]);
    for (const b of baseline)
      rows.push(["baseline", BASELINE_MODELS[b.model] ?? b.model, b.auc, b.seconds]);
    for (const [side, model, auc, seconds] of rows) {
      console.log(
        `  ${side.padEnd(11)} ${model.padEnd(31)} ${fmt(auc.mean, 4)} ± ${fmt(auc.std, 4)}   ${fmt(seconds, 2).padStart(9)}`,
      );
    }
    if (foldNote) console.log(`  ${foldNote}`);

    const best = (list) => list.reduce((a, b) => (b.auc.mean > a.auc.mean ? b : a));
    const bestR = best(riskometer);
    if (baseline.length === 0) {
      console.log(`  best riskometer: ${bestR.model} ${fmt(bestR.auc.mean, 4)} (no baselines)`);
      continue;
    }
    const bestB = best(baseline);
    const diff = bestR.auc.mean - bestB.auc.mean;
    const meets = bestR.auc.mean >= bestB.auc.mean - TOLERANCE;
    verdicts.push([name, meets]);
    console.log(
      `  best riskometer ${bestR.model} ${fmt(bestR.auc.mean, 4)} vs best baseline ${bestB.model} ${fmt(bestB.auc.mean, 4)}: ` +
        `difference ${diff >= 0 ? "+" : ""}${fmt(diff, 4)}; bar (≥ best baseline − ${TOLERANCE}) ${meets ? "met" : "NOT met"}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (verdicts.length > 0) {
  console.log(
    `\nbar met on ${verdicts.filter(([, m]) => m).length} of ${verdicts.length}: ` +
      verdicts.map(([n, m]) => `${n} ${m ? "met" : "NOT met"}`).join(", "),
  );
}
