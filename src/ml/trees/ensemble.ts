import { AppError } from "../../core/errors.js";
import type { FeatureSpec, Params, Table } from "../types.js";
import { PackedTrees } from "./predict.js";
import { type TreeJSON, expectInt, expectObject, treeFromJSON, treeToJSON } from "./serialize.js";
import { type Tree, addGainByFeature, normaliseImportance } from "./tree.js";

/**
 * The trees of a fitted ensemble with what both drivers need from them: packed scoring (sum of
 * leaf values per row), gain importance and the JSON of the trees.
 */
export class TreeEnsemble {
  readonly packed: PackedTrees;
  private readonly importance: Float64Array;

  constructor(
    readonly nFeatures: number,
    readonly trees: readonly Tree[],
  ) {
    this.packed = new PackedTrees(trees);
    const totals = new Float64Array(nFeatures);
    for (const t of trees) addGainByFeature(t, totals);
    this.importance = normaliseImportance(totals);
  }

  /** Sum of the trees' leaf values for every row of `table`, added to `out`. */
  addTable(table: Table, out: Float64Array): void {
    if (table.columns.length !== this.nFeatures) {
      throw new RangeError(
        `table has ${table.columns.length} features, the model expects ${this.nFeatures}`,
      );
    }
    this.packed.addTable(table, out);
  }

  sumRow(row: ArrayLike<number>): number {
    if (row.length !== this.nFeatures) {
      throw new RangeError(`row has ${row.length} values, the model expects ${this.nFeatures}`);
    }
    return this.packed.sumRow(row);
  }

  featureImportance(): Float64Array {
    return this.importance.slice();
  }

  treesJSON(): TreeJSON[] {
    return this.trees.map(treeToJSON);
  }
}

/** The checked common part of a tree model's JSON. */
export interface EnsembleHeader {
  readonly body: Record<string, unknown>;
  readonly trees: Tree[];
  readonly params: Record<string, unknown>;
}

/** Version of the tree models' JSON layout; bump on any incompatible change. */
export const TREE_MODEL_VERSION = 1;

/**
 * Checks the envelope shared by the GBDT and forest JSON (`algorithm`, `version`, `nFeatures`,
 * `params`, `trees`) and reads the trees.
 * @throws AppError MODEL_FILE_INVALID with the path of the first problem.
 */
export function readEnsembleJSON(
  json: unknown,
  algorithm: string,
  features: readonly FeatureSpec[],
): EnsembleHeader {
  const body = expectObject(json, algorithm);
  if (body.algorithm !== algorithm) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${algorithm}: expected a ${algorithm} model, got algorithm ${JSON.stringify(body.algorithm)}`,
    );
  }
  if (body.version !== TREE_MODEL_VERSION) {
    throw new AppError(
      "MODEL_VERSION_UNSUPPORTED",
      `${algorithm}: model layout version ${JSON.stringify(body.version)}, this release reads ${TREE_MODEL_VERSION}`,
    );
  }
  const nF = expectInt(body.nFeatures, `${algorithm}.nFeatures`, 0, Number.MAX_SAFE_INTEGER);
  if (nF !== features.length) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${algorithm}: model was trained on ${nF} features, ${features.length} given`,
    );
  }
  const params = expectObject(body.params, `${algorithm}.params`);
  if (!Array.isArray(body.trees)) {
    throw new AppError("MODEL_FILE_INVALID", `${algorithm}.trees: expected an array`);
  }
  const trees = body.trees.map((t, i) => treeFromJSON(t, features, `${algorithm}.trees[${i}]`));
  return { body, trees, params };
}

/**
 * Defaults overlaid with the given values, refusing unknown names and values whose type differs
 * from the default's (`mixed` lists parameters that may be either a keyword or a number).
 */
export function resolveParams<P extends Params>(
  algorithm: string,
  defaults: P,
  given: Partial<P> | Record<string, unknown>,
  mixed: readonly string[] = [],
): P {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(key in defaults)) {
      throw new RangeError(
        `${algorithm}: unknown parameter "${key}" (known: ${Object.keys(defaults).join(", ")})`,
      );
    }
    const want = typeof defaults[key];
    const okMixed = mixed.includes(key) && (typeof value === "string" || typeof value === "number");
    if (typeof value !== want && !okMixed) {
      throw new RangeError(
        `${algorithm}: parameter "${key}" must be a ${want}, got ${JSON.stringify(value)}`,
      );
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError(`${algorithm}: parameter "${key}" must be finite, got ${value}`);
    }
    out[key] = value as string | number | boolean;
  }
  return out as P;
}

/** Parameters read back from a model file, as they were at training (errors as file errors). */
export function readParams<P extends Params>(
  algorithm: string,
  defaults: P,
  raw: Record<string, unknown>,
  mixed: readonly string[] = [],
): P {
  try {
    return resolveParams(algorithm, defaults, raw, mixed);
  } catch (e) {
    throw new AppError("MODEL_FILE_INVALID", `${algorithm}.params: ${(e as Error).message}`);
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function logit(p: number): number {
  return Math.log(p / (1 - p));
}
