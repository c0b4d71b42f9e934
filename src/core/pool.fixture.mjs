// Job functions for pool.test.ts. Plain JavaScript so that worker threads can import it while
// the tests run from TypeScript sources.
import { setTimeout as sleep } from "node:timers/promises";
import { threadId } from "node:worker_threads";

/** `scale[0] · i²`, after an optional delay so that workers finish out of order. */
export async function square(shared, input) {
  if (input.delay) await sleep(input.delay);
  return { i: input.i, value: shared.scale[0] * input.i * input.i, threadId };
}

/** Spins the CPU for `ms` milliseconds, then returns the input index. */
export function spin(_shared, input) {
  const end = Date.now() + input.ms;
  let x = 0;
  while (Date.now() < end) x++;
  return { i: input.i, threadId, spins: x > 0 };
}

/** Throws on the input `shared.failAt`. */
export function failing(shared, input) {
  if (input.i === shared.failAt) throw new RangeError(`input ${input.i} is out of range`);
  return input.i;
}

/** Throws an error shaped like the project's AppError. */
export function appFailing(_shared, input) {
  const error = new Error(`training failed on fold ${input.i}`);
  error.name = "AppError";
  error.code = "TRAINING_FAILED";
  error.details = { fold: input.i };
  throw error;
}

/** Sums the typed array `shared.values` and mutates the job's copy of it. */
export function sumAndMutate(shared, input) {
  let sum = 0;
  for (const v of shared.values) sum += v;
  shared.values[0] += 1000;
  return { i: input.i, sum, isFloat64: shared.values instanceof Float64Array };
}

/** Ends the worker thread abruptly. */
export function exiting(_shared, input) {
  if (input.i === 1) process.exit(3);
  return input.i;
}
