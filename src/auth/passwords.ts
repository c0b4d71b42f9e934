import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors.js";

/**
 * Password hashes with node:crypto's scrypt, a memory-hard function: each guess costs 32 MiB
 * and tens of milliseconds, so a stolen table cannot be searched on graphics cards. The stored
 * form names its parameters (`scrypt$N$r$p$salt$hash`), so stronger ones can come later and
 * older hashes still verify.
 */
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const MAX_MEM = 128 * 1024 * 1024;

/** What a password must be: long enough to resist guessing, short enough to hash cheaply. */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize("NFKC"),
      salt,
      KEY_BYTES,
      { N: n, r, p, maxmem: MAX_MEM },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

/** Refuses (INVALID_ARGUMENT) a password too short or too long, saying the bound. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `a password needs at least ${MIN_PASSWORD_LENGTH} characters (it had ${password.length})`,
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `a password has at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
}

export async function hashPassword(password: string): Promise<string> {
  checkPassword(password);
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Whether `password` matches `stored` (compared in constant time); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash || password.length > MAX_PASSWORD_LENGTH) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), +n, +r, +p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash no password matches, verified against when the user name is unknown, so that a
 * sign-in takes as long for a name that does not exist as for a wrong password.
 */
export const DECOY_HASH = `scrypt$${N}$${R}$${P}$${randomBytes(16).toString("base64url")}$${randomBytes(KEY_BYTES).toString("base64url")}`;
