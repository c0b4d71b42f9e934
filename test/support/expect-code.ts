import { expect } from "vitest";
import { AppError } from "../../src/core/errors.js";

/** Awaits `p` and checks it rejected with an AppError of `code` (and a message matching). */
export async function expectCode(p: Promise<unknown>, code: string, message?: RegExp) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (message) expect((err as AppError).message).toMatch(message);
}
