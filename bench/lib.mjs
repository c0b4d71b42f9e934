// Shared helpers of the benchmarks: run the compiled CLI, make applicant files.
import { execFile, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

/**
 * Runs the CLI; resolves with stdout, stderr, exit code and wall-clock seconds. `env` adds
 * variables (e.g. a temporary RISKOMETER_HOME so a benchmark starts from an empty store).
 */
export function cli(args, env = {}) {
  const start = performance.now();
  const options = { maxBuffer: 256 << 20, env: { ...process.env, ...env } };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], options, (err, stdout, stderr) => {
      resolve({
        code: err ? (typeof err.code === "number" ? err.code : 1) : 0,
        stdout,
        stderr,
        seconds: (performance.now() - start) / 1000,
      });
    });
  });
}

/** Writes a CSV of `rows` applicants: the bundled data's rows, repeated, without the label. */
export async function writeApplicantsCsv(path, rows) {
  const { readArff, DEFAULT_DATA_PATH, formatCsvRow } = await import("../dist/data/index.js");
  const records = [];
  let header = [];
  for await (const rec of readArff(DEFAULT_DATA_PATH)) {
    if (header.length === 0) header = Object.keys(rec).filter((h) => h !== "class");
    records.push(formatCsvRow(header.map((h) => rec[h])) + "\n");
  }
  const out = createWriteStream(path);
  out.write(formatCsvRow(header) + "\n");
  let block = "";
  for (let i = 0; i < rows; i++) {
    block += records[i % records.length];
    if (block.length > 1 << 20) {
      if (!out.write(block)) await once(out, "drain");
      block = "";
    }
  }
  out.end(block);
  await once(out, "finish");
}

export function fmt(x, digits = 3) {
  return Number(x).toFixed(digits);
}

/**
 * A Python interpreter that imports scikit-learn and XGBoost (for bench/baselines.py): $PYTHON,
 * else `python3` on the PATH, else Debian's /usr/bin/python3 (a pyenv or venv python3 on the
 * PATH often lacks the Debian packages). Undefined when none does.
 */
export function findPython() {
  const candidates = [process.env.PYTHON, "python3", "/usr/bin/python3"].filter(Boolean);
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", "import sklearn, xgboost"], { stdio: "ignore" });
    if (r.status === 0) return python;
  }
  return undefined;
}

export const BASELINES = fileURLToPath(new URL("baselines.py", import.meta.url));

/** Runs bench/baselines.py; resolves with its parsed JSON (throws on failure) and wall seconds. */
export function baselines(python, args) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(python, [BASELINES, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`baselines.py ${args.join(" ")} failed: ${stderr || err.message}`));
      else resolve({ ...JSON.parse(stdout), wallSeconds: (performance.now() - start) / 1000 });
    });
  });
}

/** Runs `fn` with writes to stderr dropped (spec inference prints its decisions there). */
export async function quietly(fn) {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}
