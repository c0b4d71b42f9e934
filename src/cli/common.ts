import { type TrainingData, loadTrainingData as load } from "../data/index.js";

export { formatRowErrors } from "../data/index.js";
export type { TrainingData };

/** Loads training data, listing skipped invalid rows on stderr. */
export function loadTrainingData(path?: string, skipInvalid = false): Promise<TrainingData> {
  return load(path, { skipInvalid, onSkipped: (text) => process.stderr.write(`${text}\n`) });
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
