// `riskometer cv --algorithm gbdt` (5-fold stratified, 1 repeat, seed 0) on a 150,000-row file
// in the shape of "Give Me Some Credit" (bench/make-large-credit.mjs), against XGBoost (hist,
// 300 rounds, depth 6, learning rate 0.1, 2 threads) 5-fold on the same file and the same folds
// (bench/baselines.py --time-only xgboost with Riskometer's fold assignment). Prints both wall
// times (process start to exit, file read included), the ratio, both AUCs, and Riskometer's
// peak resident memory against 1.5 GiB. With --train also times `riskometer train` on the file
// from an empty store (a temporary RISKOMETER_HOME) against a 300 s budget.
//   node bench/cv-large.bench.mjs [--train] [--rows 150000] [--file /tmp/large-credit.csv]
//     [--timeout 900]
// Peak memory comes from GNU time (/usr/bin/time -v, Debian's `time`) when it is installed,
// else from the CLI process itself (process.resourceUsage().maxRSS at exit, through a preloaded
// module). A Riskometer run that outlasts --timeout seconds is stopped and reported as failed.
// The XGBoost side needs python3 with scikit-learn and XGBoost; without them it is skipped.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { riskometerFolds } from "./folds.mjs";
import { BASELINES, BIN, findPython, fmt, quietly } from "./lib.mjs";
import { makeLargeCredit } from "./make-large-credit.mjs";

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const ROWS = Number(option("--rows", 150_000));
const FILE = option("--file", "/tmp/large-credit.csv");
const TIMEOUT = Number(option("--timeout", 900));
const TRAIN = flag("--train");
const RSS_BAR = 1.5 * 2 ** 30;
const TRAIN_BUDGET = 300;
const TARGET = ["--target", "SeriousDlqin2yrs", "--risk-class", "1"];
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/**
 * Runs a command; resolves with code, stdout, stderr, wall seconds and, for `measure`, the peak
 * RSS in bytes. Killed (with its process group) after `timeout` seconds.
 */
function run(command, args, { env = {}, timeout = TIMEOUT } = {}) {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid, "SIGKILL");
    }, timeout * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 1,
        signal,
        timedOut,
        stdout,
        stderr,
        seconds: (performance.now() - start) / 1000,
      });
    });
  });
}

/** Runs the CLI and measures its peak RSS (GNU time, else a preloaded exit hook). */
async function measuredCli(args, dir, env = {}) {
  if (GNU_TIME) {
    const r = await run(GNU_TIME, ["-v", process.execPath, BIN, ...args], { env });
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    return { ...r, maxRss: kb ? Number(kb[1]) * 1024 : undefined, rssFrom: "/usr/bin/time -v" };
  }
  const probe = join(dir, "rss-probe.mjs");
  const out = join(dir, `rss-${Date.now()}.json`);
  await writeFile(
    probe,
    `import { writeFileSync } from "node:fs";\n` +
      `process.on("exit", () => writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.resourceUsage())));\n`,
  );
  const r = await run(process.execPath, ["--import", probe, BIN, ...args], { env });
  let maxRss;
  try {
    maxRss = JSON.parse(await readFile(out, "utf8")).maxRSS * 1024;
  } catch {
    maxRss = undefined;
  }
  return { ...r, maxRss, rssFrom: "process.resourceUsage() at exit" };
}

const failure = (what, args, r) =>
  `${what} failed: ${args.join(" ")}\n  ` +
  (r.timedOut
    ? `stopped after ${TIMEOUT} s (--timeout)`
    : `exit ${r.code}${r.signal ? ` (${r.signal})` : ""}`) +
  `\n  ${r.stderr.trim().split("\n").slice(-15).join("\n  ")}`;
const gib = (bytes) => (bytes === undefined ? "?" : `${fmt(bytes / 2 ** 30, 2)} GiB`);

const dir = await mkdtemp(join(tmpdir(), "riskometer-cv-large-"));
let failed = false;
try {
  const made = await makeLargeCredit(FILE, ROWS);
  console.log(
    `${FILE}: ${made.rows} rows, ${made.bad} SeriousDlqin2yrs = 1 (${fmt((100 * made.bad) / made.rows, 2)} %)`,
  );

  const cvArgs = ["cv", "--data", FILE, ...TARGET, "--algorithm", "gbdt"];
  cvArgs.push("--folds", "5", "--repeats", "1", "--seed", "0", "--json");
  const r = await measuredCli(cvArgs, dir);
  let riskometer;
  if (r.code !== 0) {
    failed = true;
    console.log(failure("riskometer cv", cvArgs, r));
  } else {
    const out = JSON.parse(r.stdout);
    riskometer = { wall: r.seconds, auc: out.metrics.auc, own: out.seconds, maxRss: r.maxRss };
    console.log(
      `riskometer ${cvArgs.join(" ")}\n  wall ${fmt(r.seconds, 2)} s (its own count ${fmt(out.seconds, 2)} s), ` +
        `auc ${fmt(out.metrics.auc.mean, 4)} ± ${fmt(out.metrics.auc.std, 4)}, ` +
        `peak RSS ${gib(r.maxRss)} (${r.rssFrom}) — bar ≤ 1.50 GiB ${r.maxRss !== undefined && r.maxRss <= RSS_BAR ? "met" : "NOT met"}`,
    );
  }

  const python = findPython();
  if (!python) {
    console.log("xgboost skipped: no python3 with scikit-learn and XGBoost (set PYTHON)");
  } else {
    const folds = await quietly(() =>
      riskometerFolds({
        data: FILE,
        target: "SeriousDlqin2yrs",
        riskClass: "1",
        folds: 5,
        seed: 0,
      }),
    );
    const foldsFile = join(dir, "folds.json");
    await writeFile(foldsFile, JSON.stringify(folds.assign));
    const args = [BASELINES, "--data", FILE, ...TARGET, "--folds", "5", "--seed", "0"];
    args.push("--folds-file", foldsFile, "--time-only", "xgboost");
    const x = await run(python, args);
    if (x.code !== 0) {
      failed = true;
      console.log(failure("baselines.py", args, x));
    } else {
      const b = JSON.parse(x.stdout);
      const m = b.models.xgboost;
      console.log(
        `xgboost ${b.versions.xgboost} (hist, 300 rounds, depth 6, lr 0.1, 2 threads; one-hot; same folds)\n` +
          `  wall ${fmt(x.seconds, 2)} s (file read ${fmt(b.data.load_seconds, 2)} s, 5 folds fit + score ${fmt(m.seconds, 2)} s), ` +
          `auc ${fmt(m.auc.mean, 4)} ± ${fmt(m.auc.std, 4)}`,
      );
      if (riskometer) {
        console.log(
          `riskometer gbdt / xgboost wall time: ${fmt(riskometer.wall / x.seconds, 2)}×; ` +
            `auc difference (riskometer − xgboost) ${fmt(riskometer.auc.mean - m.auc.mean, 4)}`,
        );
      }
    }
  }

  if (TRAIN) {
    const home = join(dir, "home");
    const trainArgs = ["train", "--data", FILE, ...TARGET, "--seed", "0", "--json"];
    const t = await measuredCli(trainArgs, dir, { RISKOMETER_HOME: home });
    if (t.code !== 0) {
      failed = true;
      console.log(failure("riskometer train", trainArgs, t));
    } else {
      const out = JSON.parse(t.stdout);
      console.log(
        `riskometer ${trainArgs.join(" ")} (empty store)\n  wall ${fmt(t.seconds, 2)} s — budget ${TRAIN_BUDGET} s ` +
          `${t.seconds <= TRAIN_BUDGET ? "met" : "NOT met"}; peak RSS ${gib(t.maxRss)}; chose ${out.chosen}, ` +
          `test auc ${fmt(out.metrics.test.auc, 4)}; registered ${out.model.name}/${out.model.version}`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
