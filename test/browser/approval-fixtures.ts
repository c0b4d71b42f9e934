/**
 * A second registered model for the API and browser suites: a quick logistic regression on
 * data/credit-approval.csv (690 rows, `?` for a missing value, target A16 with `-` the risk
 * class), its spec inferred from the file as `riskometer train --target A16 --risk-class -
 * --missing '?'` does; and the file's rows as applicants.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { inferSpec, loadTrainingData } from "../../src/data/index.js";
import { runTrainFlow } from "../../src/flows/index.js";
import type { AppContext } from "../../src/main.js";

export const APPROVAL_PATH = fileURLToPath(
  new URL("../../data/credit-approval.csv", import.meta.url),
);
export const APPROVAL_MODEL = "credit-approval";
export const APPROVAL_TARGET = "A16";
/** The applicant columns, in file order. */
export const APPROVAL_COLUMNS = Array.from({ length: 15 }, (_, i) => `A${i + 1}`);

/**
 * Trains and registers the second model in `ctx`, and an approver other than its author
 * promotes its first version to champion (the bootstrap is for an install's very first model).
 */
export async function trainApproval(ctx: AppContext): Promise<{ name: string; version: number }> {
  const { spec } = await inferSpec(APPROVAL_PATH, {
    target: APPROVAL_TARGET,
    riskClass: "-",
    missing: ["?"],
  });
  const result = await runTrainFlow(ctx, {
    data: await loadTrainingData({ path: APPROVAL_PATH, spec }),
    modelName: APPROVAL_MODEL,
    trials: 1,
    seed: 11,
    candidates: ["logreg"],
    top: 1,
    actor: "approval-test",
  });
  if (result.bootstrap) throw new Error(`${APPROVAL_MODEL} became champion by the bootstrap`);
  await ctx.registry.promote({
    name: result.version.name,
    version: result.version.version,
    alias: "champion",
    note: "second model for the tests",
    actor: { name: "approval-approver", role: "approver", createdAt: 0, disabled: false },
  });
  return { name: result.version.name, version: result.version.version };
}

/** Every row of the file, keyed by column (the target A16 included), cells as written. */
export async function approvalRows(): Promise<Record<string, string>[]> {
  const [header, ...lines] = (await readFile(APPROVAL_PATH, "utf8"))
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const names = header.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(names.map((name, j) => [name, cells[j]]));
  });
}

/** The applicant part of a row, the file's `?` as null (missing) and numbers as numbers. */
export function approvalApplicant(
  row: Record<string, string>,
  numeric: ReadonlySet<string>,
): Record<string, string | number | null> {
  return Object.fromEntries(
    APPROVAL_COLUMNS.map((c) => {
      const cell = row[c];
      return [c, cell === "?" ? null : numeric.has(c) ? Number(cell) : cell];
    }),
  );
}

/**
 * Registers the second model's version once more under `name`, without moving any alias: a
 * registered model with no serving version.
 */
export async function registerUnserved(ctx: AppContext, name: string): Promise<void> {
  const v = await ctx.registry.store.getModelVersion(APPROVAL_MODEL, 1);
  await ctx.registry.registerVersion({
    name,
    runId: v.runId,
    artifactPath: v.artifactPath,
    description: "a copy that nothing promoted",
    signature: v.signature,
    inputExample: v.inputExample,
    createdBy: "approval-test",
  });
}
