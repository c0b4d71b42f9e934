/**
 * Checking a dataset spec when it is loaded: its structure by a JSON Schema (compiled once,
 * with Ajv), then what a schema cannot say (unique names, the risk class among the target's
 * values, a fairness attribute naming a real column, …). Every problem names the file, the
 * JSON path and the reason; defaults are filled in so that the rest of the code sees one shape.
 */
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import { AppError } from "../core/errors.js";
import {
  DEFAULT_COSTS,
  DEFAULT_MISSING_VALUES,
  SPEC_FORMAT,
  SPEC_FORMAT_VERSION,
  type CategoryValue,
  type Column,
  type DatasetSpec,
  type FairnessAttribute,
} from "./spec.js";

const NAME = { type: "string", minLength: 1, maxLength: 200 };
const TEXTS = { type: "array", items: { type: "string", maxLength: 200 }, maxItems: 1000 };
const CATEGORY_VALUE = {
  type: "object",
  required: ["value"],
  additionalProperties: false,
  properties: {
    value: { type: "string", maxLength: 200 },
    label: { type: "string", maxLength: 500 },
    aliases: TEXTS,
    other: { type: "boolean" },
  },
};
const COLUMN_COMMON = {
  name: { type: "string", maxLength: 200 },
  label: { type: "string", maxLength: 500 },
  description: { type: "string", maxLength: 2000 },
  kind: { enum: ["numeric", "categorical", "id", "ignored"] },
};

/** The JSON Schema of a spec file (also printed by `riskometer datasets schema`). */
export const SPEC_JSON_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Riskometer dataset spec",
  type: "object",
  required: ["format", "formatVersion", "name", "columns", "target"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string" },
    format: { const: SPEC_FORMAT },
    formatVersion: { type: "integer", minimum: 1 },
    name: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$" },
    version: { type: "integer", minimum: 1 },
    description: { type: "string", maxLength: 5000 },
    missingValues: TEXTS,
    columns: {
      type: "array",
      minItems: 1,
      maxItems: 5000,
      items: {
        type: "object",
        required: ["name", "kind"],
        properties: COLUMN_COMMON,
        allOf: [
          {
            if: { properties: { kind: { const: "numeric" } } },
            then: {
              additionalProperties: false,
              properties: {
                ...COLUMN_COMMON,
                allowMissing: { type: "boolean" },
                missingValues: TEXTS,
                min: { type: "number" },
                max: { type: "number" },
                integer: { type: "boolean" },
                unit: { type: "string", maxLength: 100 },
              },
            },
          },
          {
            if: { properties: { kind: { const: "categorical" } } },
            then: {
              required: ["values"],
              additionalProperties: false,
              properties: {
                ...COLUMN_COMMON,
                allowMissing: { type: "boolean" },
                missingValues: TEXTS,
                values: { type: "array", minItems: 1, maxItems: 10000, items: CATEGORY_VALUE },
              },
            },
          },
          {
            if: { properties: { kind: { enum: ["id", "ignored"] } } },
            then: { additionalProperties: false, properties: COLUMN_COMMON },
          },
        ],
      },
    },
    target: {
      type: "object",
      required: ["name", "values", "riskClass"],
      additionalProperties: false,
      properties: {
        name: NAME,
        label: { type: "string", maxLength: 500 },
        aliases: TEXTS,
        values: { type: "array", minItems: 2, maxItems: 2, items: CATEGORY_VALUE },
        riskClass: { type: "string" },
      },
    },
    costs: {
      type: "object",
      required: ["badAccepted", "goodRejected"],
      additionalProperties: false,
      properties: {
        badAccepted: { type: "number", exclusiveMinimum: 0 },
        goodRejected: { type: "number", exclusiveMinimum: 0 },
      },
    },
    fairness: {
      type: "array",
      maxItems: 100,
      items: {
        type: "object",
        required: ["column", "groups", "reference"],
        additionalProperties: false,
        properties: {
          column: NAME,
          label: { type: "string", maxLength: 500 },
          reference: NAME,
          groups: {
            type: "array",
            minItems: 2,
            maxItems: 100,
            items: {
              type: "object",
              required: ["name"],
              additionalProperties: false,
              properties: {
                name: NAME,
                values: { ...TEXTS, minItems: 1 },
                min: { type: "number" },
                max: { type: "number" },
              },
            },
          },
        },
      },
    },
  },
} as const;

let compiled: ReturnType<Ajv["compile"]> | null = null;

function validator(): ReturnType<Ajv["compile"]> {
  // allErrors: a person fixing a spec wants every problem at once, not one per attempt.
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(SPEC_JSON_SCHEMA);
  return compiled;
}

/** `/columns/3/kind` → `$.columns[3].kind`. */
function jsonPath(pointer: string): string {
  if (pointer === "") return "$";
  return (
    "$" +
    pointer
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .map((p) =>
        /^\d+$/.test(p)
          ? `[${p}]`
          : /^[A-Za-z_$][\w$]*$/.test(p)
            ? `.${p}`
            : `[${JSON.stringify(p)}]`,
      )
      .join("")
  );
}

function ajvMessage(e: ErrorObject): string {
  const at = jsonPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `${at}: missing required field "${String(p.missingProperty)}"`;
    case "additionalProperties":
      return `${at}: unknown field "${String(p.additionalProperty)}"`;
    case "enum":
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "const":
      return `${at}: must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return `${at}: ${e.message ?? e.keyword}`;
  }
}

function invalid(source: string, problems: readonly string[]): AppError {
  const shown = problems.slice(0, 20);
  const more =
    problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : "";
  return new AppError(
    "DATASET_SPEC_INVALID",
    `${source} is not a valid dataset spec:\n  ${shown.join("\n  ")}${more}`,
    { details: { source, problems: [...problems] } },
  );
}

function values(list: readonly Partial<CategoryValue>[]): CategoryValue[] {
  return list.map((v) => ({
    value: v.value as string,
    label: v.label ?? (v.value as string),
    aliases: [...(v.aliases ?? [])],
    ...(v.other === true ? { other: true } : {}),
  }));
}

/** An object the JSON schema has already checked: its fields' shapes are known, their types not to TypeScript. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RawObject = Record<string, any>;

/**
 * Checks parsed JSON as a dataset spec and returns it with defaults filled in (labels from
 * names and values, the default missing-value texts and costs, `allowMissing: false`).
 * @throws AppError DATASET_SPEC_INVALID listing every problem with its JSON path.
 */
export function checkSpec(json: unknown, source = "dataset spec"): DatasetSpec {
  const check = validator();
  if (!check(json)) {
    const problems = (check.errors ?? [])
      // The if/then wrappers repeat what the branch errors already say.
      .filter((e) => e.keyword !== "if")
      .map(ajvMessage);
    throw invalid(source, [...new Set(problems)]);
  }
  const raw = json as RawObject;
  const problems: string[] = [];
  if (raw.formatVersion > SPEC_FORMAT_VERSION) {
    problems.push(
      `$.formatVersion: ${raw.formatVersion} is newer than this release reads (${SPEC_FORMAT_VERSION})`,
    );
  }
  const columns: Column[] = (raw.columns as RawObject[]).map((c): Column => {
    const base = {
      name: c.name as string,
      label: (c.label as string | undefined) ?? (c.name as string),
      ...(c.description !== undefined ? { description: c.description as string } : {}),
    };
    if (c.kind === "numeric") {
      return {
        ...base,
        kind: "numeric",
        allowMissing: c.allowMissing === true,
        ...(c.missingValues ? { missingValues: [...c.missingValues] } : {}),
        ...(c.min !== undefined ? { min: c.min } : {}),
        ...(c.max !== undefined ? { max: c.max } : {}),
        integer: c.integer === true,
        ...(c.unit !== undefined ? { unit: c.unit } : {}),
      };
    }
    if (c.kind === "categorical") {
      return {
        ...base,
        kind: "categorical",
        allowMissing: c.allowMissing === true,
        ...(c.missingValues ? { missingValues: [...c.missingValues] } : {}),
        values: values(c.values),
      };
    }
    return { ...base, kind: c.kind };
  });

  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    const key = c.name.trim().toLowerCase();
    if (key === "" && c.kind !== "id" && c.kind !== "ignored") {
      problems.push(`$.columns[${i}].name: an unnamed column can only be an id or ignored column`);
    }
    const before = seen.get(key);
    if (before !== undefined) {
      problems.push(`$.columns[${i}].name: "${c.name}" is also the name of $.columns[${before}]`);
    } else seen.set(key, i);
    if (c.kind === "numeric" && c.min !== undefined && c.max !== undefined && c.min > c.max) {
      problems.push(`$.columns[${i}]: min ${c.min} is greater than max ${c.max}`);
    }
    if (c.kind === "categorical") {
      const spellings = new Map<string, number>();
      c.values.forEach((v, k) => {
        for (const text of [v.value, ...v.aliases]) {
          const t = text.trim().toLowerCase();
          const other = spellings.get(t);
          if (other !== undefined && other !== k) {
            problems.push(
              `$.columns[${i}].values[${k}]: "${text}" also spells $.columns[${i}].values[${other}]`,
            );
          } else spellings.set(t, k);
        }
      });
      // A text that means missing cannot also be a value: the validator would never see it.
      const missing = [
        ...((raw.missingValues as string[] | undefined) ?? DEFAULT_MISSING_VALUES),
        ...(c.missingValues ?? []),
      ];
      for (const text of missing) {
        const k = spellings.get(text.trim().toLowerCase());
        if (k !== undefined) {
          problems.push(
            `$.columns[${i}].values[${k}]: "${text}" is a missing-value text (see $.missingValues and the column's missingValues), so it cannot be a value`,
          );
        }
      }
      if (c.values.filter((v) => v.other).length > 1) {
        problems.push(`$.columns[${i}].values: at most one value may be "other"`);
      }
    }
  });
  if (!columns.some((c) => c.kind === "numeric" || c.kind === "categorical")) {
    problems.push(
      "$.columns: no numeric or categorical column: a model needs at least one feature",
    );
  }

  const t = raw.target as RawObject;
  const targetValues = values(t.values);
  if (!targetValues.some((v) => v.value === t.riskClass)) {
    problems.push(
      `$.target.riskClass: "${t.riskClass}" is not one of the target's values (${targetValues.map((v) => v.value).join(", ")})`,
    );
  }
  if (targetValues[0].value === targetValues[1].value) {
    problems.push("$.target.values: the two values must differ");
  }
  for (const name of [t.name as string, ...((t.aliases as string[] | undefined) ?? [])]) {
    const at = seen.get(name.trim().toLowerCase());
    if (at !== undefined) {
      problems.push(`$.target: "${name}" is also the name of $.columns[${at}]`);
    }
  }

  const fairness: FairnessAttribute[] = ((raw.fairness as RawObject[] | undefined) ?? []).map(
    (f, i) => {
      const at = seen.get(String(f.column).trim().toLowerCase());
      const column = at === undefined ? undefined : columns[at];
      if (!column) problems.push(`$.fairness[${i}].column: no column "${f.column}" in $.columns`);
      const names = new Set<string>();
      (f.groups as RawObject[]).forEach((g, k) => {
        if (names.has(g.name))
          problems.push(`$.fairness[${i}].groups[${k}].name: "${g.name}" twice`);
        names.add(g.name);
        const band = g.min !== undefined || g.max !== undefined;
        if (band === (g.values !== undefined)) {
          problems.push(
            `$.fairness[${i}].groups[${k}]: give either values or a band (min and/or max), not ${band ? "both" : "neither"}`,
          );
        }
        if (band && column && column.kind !== "numeric") {
          problems.push(
            `$.fairness[${i}].groups[${k}]: a band needs a numeric column, "${column.name}" is ${column.kind}`,
          );
        }
        if (g.min !== undefined && g.max !== undefined && g.min >= g.max) {
          problems.push(`$.fairness[${i}].groups[${k}]: min ${g.min} is not below max ${g.max}`);
        }
      });
      if (!names.has(f.reference)) {
        problems.push(`$.fairness[${i}].reference: "${f.reference}" is not one of its groups`);
      }
      return {
        column: f.column as string,
        label: (f.label as string | undefined) ?? column?.label ?? (f.column as string),
        groups: (f.groups as FairnessAttribute["groups"]).map((g) => ({ ...g })),
        reference: f.reference as string,
      };
    },
  );
  if (problems.length > 0) throw invalid(source, problems);

  return {
    format: SPEC_FORMAT,
    formatVersion: SPEC_FORMAT_VERSION,
    name: raw.name as string,
    version: (raw.version as number | undefined) ?? 1,
    ...(raw.description !== undefined ? { description: raw.description as string } : {}),
    missingValues: [...((raw.missingValues as string[] | undefined) ?? DEFAULT_MISSING_VALUES)],
    columns,
    target: {
      name: t.name as string,
      label: (t.label as string | undefined) ?? (t.name as string),
      aliases: [...((t.aliases as string[] | undefined) ?? [])],
      values: targetValues,
      riskClass: t.riskClass as string,
    },
    costs: raw.costs ? { ...(raw.costs as DatasetSpec["costs"]) } : { ...DEFAULT_COSTS },
    fairness,
  };
}

/** Reads and checks a spec file. */
export async function loadSpecFile(path: string): Promise<DatasetSpec> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new AppError(
      "FILE_NOT_FOUND",
      `cannot read dataset spec ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseSpec(text, path);
}

/** Parses and checks spec text; `source` names it in messages. */
export function parseSpec(text: string, source: string): DatasetSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(source, [`not valid JSON: ${(e as Error).message}`]);
  }
  return checkSpec(json, source);
}

/** The spec as its file is written: defaults left in, so a person sees every choice. */
export function specToJson(spec: DatasetSpec): string {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** Folder of the specs shipped with the package (`data/specs`), from this module's location. */
export const BUNDLED_SPECS_DIR = fileURLToPath(new URL("../../data/specs/", import.meta.url));

/** Names of the bundled specs. */
export const BUNDLED_SPECS = ["german-credit"] as const;

const bundled = new Map<string, DatasetSpec>();

/** A spec shipped with the package, by name (read once). */
export function bundledSpec(name: (typeof BUNDLED_SPECS)[number]): DatasetSpec {
  let spec = bundled.get(name);
  if (!spec) {
    const path = `${BUNDLED_SPECS_DIR}${name}.json`;
    spec = parseSpec(readFileSync(path, "utf8"), path);
    bundled.set(name, spec);
  }
  return spec;
}
