import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import {
  BUNDLED_SPECS,
  bundledSpec,
  checkSpec,
  defaultSpec,
  featureColumns,
  inferSpec,
  labelFromName,
  loadSpecFile,
  loadTrainingData,
  parseSpec,
  specToJson,
} from "./index.js";

const DATA = (name: string) => fileURLToPath(new URL(`../../data/${name}`, import.meta.url));
const text = (s: string) => Readable.from([s]);

/** The problems a spec fails with (the check's AppError details). */
function problemsOf(json: unknown): string[] {
  try {
    checkSpec(json, "test.json");
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("DATASET_SPEC_INVALID");
    expect((e as AppError).message).toContain("test.json is not a valid dataset spec");
    return (e as AppError & { details: { problems: string[] } }).details.problems;
  }
  throw new Error("the spec was accepted");
}

/** A small valid spec to break in one place at a time. */
function small(): Record<string, unknown> {
  return {
    format: "riskometer-dataset-spec",
    formatVersion: 1,
    name: "small",
    version: 1,
    columns: [
      { name: "income", kind: "numeric", allowMissing: true, min: 0 },
      {
        name: "home",
        kind: "categorical",
        values: [{ value: "own" }, { value: "rent", aliases: ["R"] }],
      },
    ],
    target: {
      name: "default",
      values: [{ value: "0" }, { value: "1" }],
      riskClass: "1",
    },
  };
}

describe("dataset specs", () => {
  it("bundles German credit with its labels, UCI codes, ranges, costs and fairness groups", () => {
    expect(BUNDLED_SPECS).toContain("german-credit");
    const spec = bundledSpec("german-credit");
    expect(spec).toEqual(defaultSpec());
    const columns = featureColumns(spec);
    expect(columns).toHaveLength(20);
    const checking = columns.find((c) => c.name === "checking_status");
    expect(checking).toMatchObject({ kind: "categorical", label: "Checking account" });
    if (checking?.kind !== "categorical") throw new Error("checking_status is categorical");
    expect(checking.values[0]).toMatchObject({ value: "<0", aliases: ["A11"] });
    expect(columns.find((c) => c.name === "duration")).toMatchObject({
      kind: "numeric",
      integer: true,
      allowMissing: false,
    });
    expect(spec.target).toMatchObject({ name: "class", riskClass: "bad" });
    expect(spec.costs).toEqual({ badAccepted: 5, goodRejected: 1 });
    expect(spec.fairness.map((f) => f.column)).toEqual([
      "age",
      "foreign_worker",
      "personal_status",
    ]);
  });

  it("round-trips through its JSON file unchanged", async () => {
    const spec = bundledSpec("german-credit");
    const back = parseSpec(specToJson(spec), "german-credit.json");
    expect(back).toEqual(spec);
    expect(specToJson(back)).toBe(specToJson(spec));
    const filled = checkSpec(small(), "small.json");
    // Defaults are filled in once: missing texts, costs, labels from names, no fairness.
    expect(filled.missingValues).toEqual(["", "NA", "N/A", "null", "NaN"]);
    expect(filled.costs).toEqual({ badAccepted: 5, goodRejected: 1 });
    expect(filled.columns[0]).toMatchObject({ label: "income", integer: false });
    expect(parseSpec(specToJson(filled), "small.json")).toEqual(filled);
  });

  it("refuses a bad spec with the file, the JSON path and the reason", async () => {
    expect(problemsOf({ ...small(), format: "something-else" })[0]).toMatch(/^\$\.format: /);
    const noKind = small();
    (noKind.columns as Record<string, unknown>[])[1] = { name: "home", kind: "text" };
    expect(problemsOf(noKind).join("\n")).toContain("$.columns[1].kind");
    const twice = small();
    (twice.columns as Record<string, unknown>[])[1] = { name: "Income", kind: "numeric" };
    expect(problemsOf(twice)).toContain(
      '$.columns[1].name: "Income" is also the name of $.columns[0]',
    );
    const range = small();
    (range.columns as Record<string, unknown>[])[0] = {
      name: "income",
      kind: "numeric",
      min: 5,
      max: 1,
    };
    expect(problemsOf(range)).toContain("$.columns[0]: min 5 is greater than max 1");
    expect(
      problemsOf({
        ...small(),
        target: { name: "default", values: [{ value: "0" }, { value: "1" }], riskClass: "bad" },
      }),
    ).toContain('$.target.riskClass: "bad" is not one of the target\'s values (0, 1)');
    const alias = small();
    (alias.columns as Record<string, unknown>[])[1] = {
      name: "home",
      kind: "categorical",
      values: [{ value: "own", aliases: ["rent"] }, { value: "rent" }],
    };
    expect(problemsOf(alias)).toContain(
      '$.columns[1].values[1]: "rent" also spells $.columns[1].values[0]',
    );
    const spelledMissing = small();
    (spelledMissing.columns as Record<string, unknown>[])[1] = {
      name: "home",
      kind: "categorical",
      missingValues: ["?"],
      values: [{ value: "own" }, { value: "?" }],
    };
    expect(problemsOf(spelledMissing)[0]).toMatch(
      /^\$\.columns\[1\]\.values\[1\]: "\?" is a missing-value text/,
    );
    expect(
      problemsOf({
        ...small(),
        fairness: [
          {
            column: "sex",
            label: "Sex",
            groups: [
              { name: "a", values: ["x"] },
              { name: "b", values: ["y"] },
            ],
            reference: "a",
          },
        ],
      }),
    ).toContain('$.fairness[0].column: no column "sex" in $.columns');

    const dir = await mkdtemp(join(tmpdir(), "spec-"));
    try {
      const file = join(dir, "broken.json");
      await writeFile(file, '{"format": "riskometer-dataset-spec",');
      const e = await loadSpecFile(file).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe("DATASET_SPEC_INVALID");
      expect((e as AppError).message).toContain(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("makes readable labels from header names", () => {
    expect(labelFromName("MonthlyIncome")).toBe("Monthly income");
    expect(labelFromName("credit_amount")).toBe("Credit amount");
    expect(labelFromName("PAY_AMT1")).toBe("PAY AMT 1");
    expect(labelFromName("NumberOfTime30-59DaysPastDueNotWorse")).toMatch(/^Number of time 30/);
  });
});

describe("inferring a spec", () => {
  let approval: Awaited<ReturnType<typeof inferSpec>>;
  let taiwan: Awaited<ReturnType<typeof inferSpec>>;
  beforeAll(async () => {
    approval = await inferSpec(DATA("credit-approval.csv"), {
      target: "A16",
      riskClass: "-",
      missing: ["?"],
    });
    taiwan = await inferSpec(DATA("taiwan-default.csv"), {
      target: "default.payment.next.month",
      riskClass: "1",
    });
  });

  it("reads Credit Approval: kinds, `?` as missing, rare values grouped, leading zeros flagged", () => {
    const { spec, decisions, warnings, rows } = approval;
    expect(rows).toBe(690);
    expect(spec.name).toBe("credit-approval");
    expect(spec.missingValues).toContain("?");
    const kind = Object.fromEntries(spec.columns.map((c) => [c.name, c.kind]));
    expect(kind).toMatchObject({
      A1: "categorical",
      A2: "numeric",
      A4: "categorical",
      A15: "numeric",
    });
    // A1 and A2 have `?` cells: they may be missing, and the share is reported.
    expect(spec.columns.find((c) => c.name === "A2")).toMatchObject({ allowMissing: true, min: 0 });
    expect(spec.columns.find((c) => c.name === "A1")).toMatchObject({ allowMissing: true });
    expect(decisions.find((d) => d.column === "A2")?.missingShare).toBeCloseTo(12 / 690, 6);
    expect(spec.columns.find((c) => c.name === "A9")).toMatchObject({ allowMissing: false });
    const a7 = spec.columns.find((c) => c.name === "A7");
    if (a7?.kind !== "categorical") throw new Error("A7 is categorical");
    expect(a7.values.filter((v) => v.other)).toHaveLength(1);
    expect(warnings.some((w) => w.startsWith("A14:") && w.includes("leading zeros"))).toBe(true);
    expect(spec.target).toMatchObject({ name: "A16", riskClass: "-" });
    expect(spec.target.values.map((v) => v.value).sort()).toEqual(["+", "-"]);
  });

  it("reads Taiwan default: the ID column is an id, small integer codes get a warning", () => {
    const { spec, warnings, rows } = taiwan;
    expect(rows).toBe(30000);
    expect(spec.columns.find((c) => c.name === "ID")?.kind).toBe("id");
    expect(featureColumns(spec).map((c) => c.name)).not.toContain("ID");
    expect(featureColumns(spec)).toHaveLength(23);
    expect(spec.columns.find((c) => c.name === "LIMIT_BAL")).toMatchObject({
      kind: "numeric",
      integer: true,
      allowMissing: false,
    });
    expect(warnings.some((w) => w.startsWith("SEX: only 2 distinct whole numbers"))).toBe(true);
  });

  it("trains on an inferred spec: every row read, missing values kept", async () => {
    const data = await loadTrainingData({ path: DATA("credit-approval.csv"), spec: approval.spec });
    expect(data.rows).toBe(690);
    expect(data.bad).toBe(383);
    const a2 = featureColumns(approval.spec).findIndex((c) => c.name === "A2");
    expect(Array.from(data.table.columns[a2]).filter(Number.isNaN)).toHaveLength(12);
  });

  it("names an unnamed index column an id, ignores constant and empty columns, warns of leakage", async () => {
    const lines = [",score,const,blank,city,target"];
    for (let i = 0; i < 200; i++) {
      const bad = i % 4 === 0;
      lines.push(
        `${i},${bad ? 900 + (i % 40) : i % 40},7,NA,${["x", "y"][i % 2]},${bad ? "yes" : "no"}`,
      );
    }
    const { spec, decisions, warnings } = await inferSpec(text(`${lines.join("\n")}\n`), {
      target: "target",
      riskClass: "yes",
      name: "toy",
    });
    const kind = Object.fromEntries(spec.columns.map((c) => [c.name, c.kind]));
    expect(kind).toEqual({
      "": "id",
      score: "numeric",
      const: "ignored",
      blank: "ignored",
      city: "categorical",
    });
    expect(decisions.find((d) => d.column === "blank")?.why).toBe("every value is missing");
    expect(warnings.some((w) => w.startsWith("score: alone it separates the target"))).toBe(true);
    expect(warnings.some((w) => w.startsWith("const: constant"))).toBe(true);
  });

  it("refuses a target that is not there, or not two-valued, or a risk class it lacks", async () => {
    const csv = "a,t\n1,x\n2,y\n3,z\n";
    await expect(inferSpec(text(csv), { target: "nope", riskClass: "x" })).rejects.toThrow(/nope/);
    await expect(inferSpec(text(csv), { target: "t", riskClass: "x" })).rejects.toThrow(
      /needs exactly two/,
    );
    await expect(
      inferSpec(text("a,t\n1,x\n2,y\n"), { target: "t", riskClass: "bad" }),
    ).rejects.toThrow(/bad/);
  });
});
