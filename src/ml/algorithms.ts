import type { Algorithm, AlgorithmName } from "./types.js";
import { logreg } from "./linear/logistic.js";
import { forest } from "./ensembles/forest.js";
import { gbdt } from "./ensembles/gbdt.js";

/** Every single algorithm by name; the blend (pipeline level) combines them. */
export const ALGORITHMS: Readonly<Record<AlgorithmName, Algorithm>> = {
  logreg: logreg as unknown as Algorithm,
  forest: forest as unknown as Algorithm,
  gbdt: gbdt as unknown as Algorithm,
};

export const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as AlgorithmName[];
