export { formatRowErrors } from "../data/index.js";
export type { TrainingData } from "../data/index.js";

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
