import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The command as users run it: the compiled bin (`npm test` builds first).
const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let model: string;

function run(args: string[]): Promise<Run> {
  // Each test file keeps its store (database, artifacts) in its own temporary home.
  const env = { ...process.env, RISKOMETER_HOME: join(dir, "home") };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { maxBuffer: 64 << 20, env },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}

const HEADER =
  "checking_status,duration,credit_history,purpose,credit_amount,savings_status,employment," +
  "installment_commitment,personal_status,other_parties,residence_since,property_magnitude,age," +
  "other_payment_plans,housing,existing_credits,job,num_dependents,own_telephone,foreign_worker";
const GOOD_ROW =
  "no checking,12,critical/other existing credit,radio/tv,2000,>=1000,>=7,2," +
  "male single,none,4,real estate,45,none,own,1,skilled,1,yes,yes";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "riskometer-cli-"));
  model = join(dir, "model.json");
  const r = await run(["train", "--trials", "2", "--seed", "3", "--out", model]);
  expect(r.stderr).not.toMatch(/unexpected error/);
  expect(r.code).toBe(0);
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("riskometer cv", () => {
  it("prints one JSON object with mean and std per metric", async () => {
    const r = await run([
      "cv",
      "--algorithm",
      "logreg",
      "--folds",
      "3",
      "--repeats",
      "2",
      "--seed",
      "0",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const m of ["auc", "accuracy", "cost", "recall", "specificity"]) {
      expect(out.metrics[m].mean).toBeTypeOf("number");
      expect(out.metrics[m].std).toBeTypeOf("number");
    }
    expect(out.metrics.auc.mean).toBeGreaterThan(0.7);
    expect(out.protocol).toEqual({ folds: 3, repeats: 2, seed: 0, stratified: true });
  });

  it("rejects an unknown algorithm with exit code 2 and the valid names", async () => {
    const r = await run(["cv", "--algorithm", "svm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/logreg, forest, gbdt, blend/);
  });

  it("rejects a non-integer fold count", async () => {
    const r = await run(["cv", "--folds", "ten"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--folds must be an integer/);
  });

  it("fails clearly on a missing data file", async () => {
    const r = await run(["cv", "--data", join(dir, "nope.csv")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/nope\.csv/);
  });
});

describe("riskometer train", () => {
  it("wrote a model file that names its data digest and chosen model", async () => {
    const file = JSON.parse(await readFile(model, "utf8"));
    expect(file.format).toBe("riskometer-model");
    expect(file.body.training.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(["logreg", "forest", "gbdt", "blend"]).toContain(file.body.model.kind);
    expect(file.body.model.threshold).toBeGreaterThan(0);
    expect(file.body.model.threshold).toBeLessThan(1);
  });
});

describe("riskometer predict", () => {
  it("scores good rows, reports bad ones, escapes formulas and exits non-zero", async () => {
    const input = join(dir, "applicants.csv");
    const output = join(dir, "scored.csv");
    await writeFile(
      input,
      [
        `${HEADER},note`,
        `${GOOD_ROW},=HYPERLINK("http://x")`,
        GOOD_ROW.replace("no checking", "<0").replace(",12,", ",abc,") + ",ok",
        GOOD_ROW.replace("radio/tv", "spaceship") + ",@sum",
        `${GOOD_ROW},+1`,
      ].join("\n"),
    );
    const r = await run([
      "predict",
      "--model",
      model,
      "--input",
      input,
      "--output",
      output,
      "--json",
    ]);
    expect(r.code).toBe(5);
    const summary = JSON.parse(r.stdout);
    expect(summary.scored).toBe(2);
    expect(summary.rejected).toBe(2);
    expect(summary.errors).toEqual([
      expect.objectContaining({ row: 2, column: "duration" }),
      expect.objectContaining({ row: 3, column: "purpose" }),
    ]);
    expect(summary.errors[1].message).toMatch(/radio\/tv/);
    const lines = (await readFile(output, "utf8")).trim().split("\n");
    expect(lines[0]).toBe(`${HEADER},note,risk,probability_bad,confidence`);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    const [risk, p, conf] = lines[1].split(",").slice(-3);
    expect(["good", "bad"]).toContain(risk);
    expect(Number(p)).toBeGreaterThanOrEqual(0);
    expect(Number(p)).toBeLessThanOrEqual(1);
    expect(Number(conf)).toBeCloseTo(risk === "bad" ? Number(p) : 1 - Number(p), 6);
    expect(lines[2].split(",").slice(-4)[0]).toBe("+1");
    const report = await readFile(join(dir, "scored.errors.csv"), "utf8");
    expect(report.split("\n")[0]).toBe("row,column,message,value");
    expect(report).toContain("2,duration,");
  });

  it("gives the same probability as the library for the same applicant", async () => {
    const input = join(dir, "one.csv");
    const output = join(dir, "one.scored.csv");
    await writeFile(input, `${HEADER}\n${GOOD_ROW}\n`);
    expect((await run(["predict", "-m", model, "-i", input, "-o", output])).code).toBe(0);
    const viaCli = Number((await readFile(output, "utf8")).trim().split("\n")[1].split(",").at(-2));
    const { loadModel } = await import("../src/ml/pipeline/saved-model.js");
    const { readApplicants } = await import("../src/data/index.js");
    const { pipeline, spec } = await loadModel(model);
    for await (const batch of readApplicants(input, { spec })) {
      const row = Float64Array.from(batch.table.columns, (c) => c[0]);
      expect(viaCli).toBeCloseTo(pipeline.predictProbaRow(row), 6);
      expect(viaCli).toBeCloseTo(pipeline.predictProba(batch.table)[0], 6);
    }
  });

  it("scores a file split between threads exactly as with one thread", async () => {
    // Over 1 MB, so it is cut into ranges; quoted line breaks and separators are everywhere,
    // so some sit at every cut.
    const input = join(dir, "big.csv");
    const records: string[] = [];
    const expectedErrors: { row: number; column: string }[] = [];
    for (let i = 0; i < 24_000; i++) {
      if (i % 97 === 5) records.push("");
      else if (i % 1500 === 700) {
        records.push(`${GOOD_ROW.replace(",12,", ",twelve,")},x`);
        expectedErrors.push({ row: i + 1, column: "duration" });
      } else if (i % 3 === 1) records.push(`${GOOD_ROW},"two\nlines, ""quoted"""`);
      else if (i % 5 === 2) records.push(`${GOOD_ROW},"a,b"`);
      else records.push(`${GOOD_ROW},=1+${i}`);
    }
    await writeFile(input, `${HEADER},note\r\n${records.join("\r\n")}\r\n`);
    const runWith = async (threads: number) => {
      const output = join(dir, `big-${threads}.csv`);
      const r = await run([
        "predict",
        ...["-m", model, "-i", input, "-o", output, "--threads", String(threads), "--json"],
      ]);
      return {
        code: r.code,
        summary: JSON.parse(r.stdout),
        output: await readFile(output),
        report: await readFile(join(dir, `big-${threads}.errors.csv`), "utf8"),
      };
    };
    const one = await runWith(1);
    const two = await runWith(2);
    expect(one.code).toBe(5);
    expect(two.code).toBe(5);
    expect(two.output.equals(one.output)).toBe(true);
    expect(two.report).toBe(one.report);
    expect(two.summary).toEqual(one.summary);
    expect(one.summary.rejected).toBe(expectedErrors.length);
    expect(one.summary.errors.map((e: { row: number; column: string }) => e)).toEqual(
      expectedErrors.map((e) => expect.objectContaining(e)),
    );
    const blank = records.filter((r) => r === "").length;
    expect(one.summary.scored).toBe(records.length - blank - expectedErrors.length);
    const text = one.output.toString("utf8");
    expect(text.split("\n")[0]).toBe(`${HEADER},note,risk,probability_bad,confidence`);
    expect(text).toContain(`${GOOD_ROW},"two\nlines, ""quoted""",`);
    expect(text).toContain(`${GOOD_ROW},'=1+3,`);
  });

  it("gives the one-thread result when stray quotes mislead the split, or break the file", async () => {
    const rows: string[] = [];
    for (let i = 0; i < 24_000; i++) {
      // A quote inside an unquoted field is data: quote parity no longer finds record ends.
      if (i === 100) rows.push(`${GOOD_ROW},5" tall`);
      else if (i % 4 === 1) rows.push(`${GOOD_ROW},"two\nlines"`);
      else rows.push(`${GOOD_ROW},plain`);
    }
    const stray = join(dir, "stray.csv");
    await writeFile(stray, `${HEADER},note\n${rows.join("\n")}\n`);
    const broken = join(dir, "broken.csv");
    await writeFile(broken, `${HEADER},note\n${rows.join("\n")}\n${GOOD_ROW},"never closed\n`);
    const runWith = async (input: string, threads: number) => {
      const output = join(dir, `${threads}-${input.split("/").at(-1)}`);
      const r = await run([
        "predict",
        "-m",
        model,
        "-i",
        input,
        "-o",
        output,
        "--threads",
        String(threads),
      ]);
      return { code: r.code, stderr: r.stderr, output: await readFile(output).catch(() => null) };
    };
    const [one, two] = [await runWith(stray, 1), await runWith(stray, 2)];
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.output?.equals(one.output as Buffer)).toBe(true);
    const [bad1, bad2] = [await runWith(broken, 1), await runWith(broken, 2)];
    expect(bad1.code).toBe(4);
    expect(bad2.code).toBe(bad1.code);
    expect(bad2.stderr).toBe(bad1.stderr);
    expect(bad1.stderr).toMatch(/quoted field is never closed/);
    expect(bad2.output).toBeNull();
    const left = (await readdir(dir)).filter((f) => /\.part\d*$|\.partial$/.test(f));
    expect(left).toEqual([]);
  });

  it("fails on a corrupted model file without writing output", async () => {
    const bad = join(dir, "bad-model.json");
    const text = await readFile(model, "utf8");
    await writeFile(bad, text.slice(0, text.length / 2));
    const out = join(dir, "never.csv");
    const r = await run([
      "predict",
      "--model",
      bad,
      "--input",
      join(dir, "applicants.csv"),
      "--output",
      out,
    ]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/not valid JSON/);
    await expect(readFile(out)).rejects.toThrow();
  });
});

describe("riskometer drift", () => {
  it("reproduces the spec's categorical vector and names each column's test", async () => {
    // One character a row: a/b/c/d in the reference, a new "e" in the current data.
    const ref = join(dir, "drift-ref.csv");
    const cur = join(dir, "drift-cur.csv");
    await writeFile(ref, `letter,n\n${[..."aaaabbbccd"].map((c, i) => `${c},${i}`).join("\n")}\n`);
    await writeFile(
      cur,
      `letter,n\n${[..."aabbbcccce"].map((c, i) => `${c},${i + 3}`).join("\n")}\n`,
    );
    const r = await run(["drift", "--reference", ref, "--current", cur, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    const letter = result.columns.find((c: { column: string }) => c.column === "letter");
    expect(letter).toMatchObject({
      kind: "categorical",
      test: "chisquare",
      pValue: 0,
      drift: true,
    });
    // The statistic is infinite (a category only in the current data): null in JSON.
    expect(letter.statistic).toBeNull();
    const js = await run([
      "drift",
      "--reference",
      ref,
      "--current",
      cur,
      "--test",
      "letter=jensenshannon",
      "--json",
    ]);
    const jsLetter = JSON.parse(js.stdout).columns.find(
      (c: { column: string }) => c.column === "letter",
    );
    expect(jsLetter.test).toBe("jensenshannon");
    expect(jsLetter.pValue).toBeNull();
    expect(Math.abs(jsLetter.statistic / 0.3213946567929747 - 1)).toBeLessThan(1e-9);
    expect(result.columns.find((c: { column: string }) => c.column === "n")).toMatchObject({
      kind: "numeric",
      test: "ks",
    });
  });

  it("finds no drift in the credit data against itself, and a shifted duration as drift", async () => {
    const data = join(dir, "drift-credit.csv");
    const shifted = join(dir, "drift-shifted.csv");
    const rows = Array.from({ length: 200 }, (_, i) =>
      GOOD_ROW.replace(",12,", `,${6 + (i % 40)},`).replace(",45,", `,${20 + (i % 50)},`),
    );
    await writeFile(data, `${HEADER}\n${rows.join("\n")}\n`);
    await writeFile(
      shifted,
      `${HEADER}\n${rows.map((r) => r.replace(/^no checking,(\d+),/, (_, d) => `no checking,${Number(d) + 24},`)).join("\n")}\n`,
    );
    // The file streams through the engine; with --html it is read whole: the same result.
    const streamed = JSON.parse(
      (await run(["drift", "--reference", data, "--current", shifted, "--json"])).stdout,
    );
    const whole = JSON.parse(
      (
        await run([
          "drift",
          "--reference",
          data,
          "--current",
          shifted,
          "--json",
          "--html",
          join(dir, "whole.html"),
        ])
      ).stdout,
    );
    expect(streamed).toEqual(whole);
    expect(streamed.columns.find((c: { column: string }) => c.column === "duration").drift).toBe(
      true,
    );
    const same = JSON.parse(
      (await run(["drift", "--reference", data, "--current", data, "--json"])).stdout,
    );
    expect(same.datasetDrift).toBe(false);
    expect(same.driftShare).toBe(0);
    const html = join(dir, "drift.html");
    const moved = await run(["drift", "--reference", data, "--current", shifted, "--html", html]);
    const page = await readFile(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain("drift-shifted.csv");
    expect(page).not.toMatch(/https?:\/\//);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toMatch(/^duration\s+ks\s+\S+\s+\S+\s+0\.0500\s+DRIFT/m);
    expect(moved.stdout).toMatch(/1 of 20 columns drifted/);
    // "none" is a category of the credit data, not a missing value.
    expect(moved.stdout).toMatch(/^other_parties\s+.*0\.0% → 0\.0%$/m);
  });

  it("names an unknown test and a column the current data lacks", async () => {
    const ref = join(dir, "drift-ref.csv");
    const bad = await run(["drift", "--reference", ref, "--current", ref, "--test", "n=magic"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--test n=magic: unknown test \(use one of ks, /);
    const other = join(dir, "drift-other.csv");
    await writeFile(other, "letter\na\n");
    const lacks = await run(["drift", "--reference", ref, "--current", other]);
    expect(lacks.code).not.toBe(0);
    expect(lacks.stderr).toMatch(/lacks column\(s\) of the reference: n/);
  });
});

describe("riskometer explore", () => {
  it("profiles the bundled data with information values, as JSON and as a self-contained page", async () => {
    const html = join(dir, "profile.html");
    const r = await run(["explore", "--input", "data/credit-g.arff", "--html", html]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^checking_status\s+categorical\s+4\s+0\.0%\s+0\.666\s+suspiciously strong$/m,
    );
    expect(r.stdout).toMatch(/1000 rows; 300 bad \(30\.0%\)/);
    const page = await readFile(html, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page).toContain("Information value <strong>0.666</strong>");
    const json = await run(["explore", "--input", "data/credit-g.arff", "--json"]);
    const profile = JSON.parse(json.stdout);
    expect(profile.label).toEqual({ column: "class", bad: 300, badRate: 0.3 });
  });

  it("reads a CSV with a good/bad label column, and one without", async () => {
    const csv = join(dir, "explore.csv");
    await writeFile(
      csv,
      `${HEADER},class\n${Array.from({ length: 40 }, (_, i) => `${GOOD_ROW.replace(",12,", `,${12 + i},`)},${i % 4 === 0 ? "bad" : "good"}`).join("\n")}\n`,
    );
    const labelled = JSON.parse((await run(["explore", "--input", csv, "--json"])).stdout);
    expect(labelled.label).toEqual({ column: "class", bad: 10, badRate: 0.25 });
    const unlabelled = JSON.parse(
      (await run(["explore", "--input", csv, "--label", "none", "--json"])).stdout,
    );
    expect(unlabelled.label).toBeNull();
    expect(unlabelled.columns.map((c: { column: string }) => c.column)).not.toContain("class");
  });
});
