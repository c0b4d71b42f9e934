import { randomFillSync } from "node:crypto";

// UUIDv7 (RFC 9562) by hand: Node 20 has no generator and the project has no uuid dependency.
// 48 bits of Unix milliseconds, then a 12-bit counter (RFC 9562 §6.2 method 1) so ids made in
// the same millisecond by this process still sort in the order they were made, then 62 random
// bits. Ids sort as strings in time order, which keeps the primary-key index append-mostly.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
let lastMs = -1;
let counter = 0;

function randomBytesFromPool(n: number): number {
  if (poolAt + n > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += n;
  return at;
}

/** A fresh random counter start in the lower half, leaving room to count up within the ms. */
function counterSeed(): number {
  const at = randomBytesFromPool(2);
  return ((POOL[at] << 8) | POOL[at + 1]) & 0x7ff;
}

/**
 * A new decision id: a lowercase UUIDv7 string, unique and increasing within the process
 * (even if the wall clock steps back), so it can be handed to the client before the commit.
 *
 * @example newDecisionId() // "0190a6e2-5b1c-7a3f-9d2e-4c8b1a7f3e60"
 */
export function newDecisionId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = counterSeed();
  } else if (++counter > 0xfff) {
    // 4,096 ids within one millisecond: borrow the next millisecond rather than repeat.
    lastMs++;
    counter = counterSeed();
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x1000000); // top 24 of the 48 bits
  const lo = ms % 0x1000000;
  const r = randomBytesFromPool(8);
  return (
    HEX[(hi >>> 16) & 0xff] +
    HEX[(hi >>> 8) & 0xff] +
    HEX[hi & 0xff] +
    HEX[(lo >>> 16) & 0xff] +
    "-" +
    HEX[(lo >>> 8) & 0xff] +
    HEX[lo & 0xff] +
    "-" +
    HEX[0x70 | (counter >>> 8)] +
    HEX[counter & 0xff] +
    "-" +
    HEX[0x80 | (POOL[r] & 0x3f)] +
    HEX[POOL[r + 1]] +
    "-" +
    HEX[POOL[r + 2]] +
    HEX[POOL[r + 3]] +
    HEX[POOL[r + 4]] +
    HEX[POOL[r + 5]] +
    HEX[POOL[r + 6]] +
    HEX[POOL[r + 7]]
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` is a lowercase canonical UUID (what `newDecisionId` makes). */
export function isDecisionId(id: unknown): id is string {
  return typeof id === "string" && UUID.test(id);
}
