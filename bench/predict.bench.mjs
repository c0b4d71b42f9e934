// `riskometer predict` end to end (process start, model load, read, validate, score, write) on a
// CSV of 1,000,000 applicants, for a model of each algorithm. Prints rows/s.
//   node bench/predict.bench.mjs [rows=1000000] [algorithms=logreg,gbdt,forest,blend]
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, fmt, writeApplicantsCsv } from "./lib.mjs";

const rows = Number(process.argv[2] ?? 1_000_000);
const algorithms = (process.argv[3] ?? "logreg,gbdt,forest,blend").split(",");
const dir = await mkdtemp(join(tmpdir(), "riskometer-bench-"));
try {
  const input = join(dir, "applicants.csv");
  await writeApplicantsCsv(input, rows);
  const mb = (await stat(input)).size / 1e6;
  console.log(`predict: ${rows} rows, ${fmt(mb, 1)} MB CSV`);
  for (const algorithm of algorithms) {
    const model = join(dir, `${algorithm}.json`);
    const trained = await cli(
      ["train", "--algorithm", algorithm, "--trials", "1", "--out", model],
      {
        RISKOMETER_HOME: join(dir, "home"),
      },
    );
    if (trained.code !== 0) throw new Error(`train failed: ${trained.stderr}`);
    const output = join(dir, "scored.csv");
    const r = await cli(["predict", "--model", model, "--input", input, "--output", output]);
    if (r.code !== 0) throw new Error(`predict failed: ${r.stderr}`);
    console.log(
      `  ${algorithm.padEnd(7)} ${fmt(r.seconds, 2)} s  ${Math.round(rows / r.seconds).toLocaleString("en")} rows/s`,
    );
    await rm(output);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
