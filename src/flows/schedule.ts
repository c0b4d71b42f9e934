import cronParser from "cron-parser";
import { AppError } from "../core/errors.js";

/**
 * When a scheduled flow runs: a 5-field cron expression evaluated in an IANA time zone (so
 * "Sunday 02:00" follows the local clock across DST changes), or a fixed interval counted from
 * `anchor` (ms since the Unix epoch; `parseSchedule` uses 0 so slots are clock-aligned).
 */
export type Schedule =
  | { readonly kind: "cron"; readonly cron: string; readonly timezone: string }
  | { readonly kind: "interval"; readonly everyMs: number; readonly anchor: number };

/**
 * What to do with slots that passed while the scheduler was down: "skip" runs only slots that
 * are still on time, "latest" runs the newest missed slot once, "catch-up" runs every missed
 * slot (up to a cap).
 */
export type LatePolicy = "skip" | "latest" | "catch-up";

/** Every late policy, in the order the docs and CLI list them. */
export const LATE_POLICIES: readonly LatePolicy[] = ["skip", "latest", "catch-up"];

/** Grace: a slot this late (ms) still counts as on time under "skip". */
export const ON_TIME_MS = 60_000;

const EXPECTED = `expected "every <n><s|m|h|d>" or a 5-field cron expression`;
const CRON_FIELDS = "minute hour day-of-month month day-of-week";

const SECOND_MS = 1_000;
const UNIT_MS: Readonly<Record<string, number>> = {
  s: SECOND_MS,
  sec: SECOND_MS,
  secs: SECOND_MS,
  second: SECOND_MS,
  seconds: SECOND_MS,
  m: 60 * SECOND_MS,
  min: 60 * SECOND_MS,
  mins: 60 * SECOND_MS,
  minute: 60 * SECOND_MS,
  minutes: 60 * SECOND_MS,
  h: 3_600 * SECOND_MS,
  hr: 3_600 * SECOND_MS,
  hrs: 3_600 * SECOND_MS,
  hour: 3_600 * SECOND_MS,
  hours: 3_600 * SECOND_MS,
  d: 86_400 * SECOND_MS,
  day: 86_400 * SECOND_MS,
  days: 86_400 * SECOND_MS,
};

// Largest first, so describeSchedule picks the largest unit that divides the interval evenly.
const DESCRIBE_UNITS: readonly (readonly [string, number])[] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1_000],
];

// The number is matched loosely (sign, decimals) so "every -3h" or "every 1.5h" get a precise
// message instead of the generic one.
const INTERVAL_RE = /^every\s*([+-]?\d+(?:\.\d+)?)\s*([a-z]+)$/i;

/**
 * Check an IANA time zone name; returns it unchanged so callers can validate inline.
 *
 * @example checkTimezone("Europe/Berlin") // "Europe/Berlin"
 */
export function checkTimezone(timezone: string): string {
  try {
    // Intl is the same zone database cron-parser (via luxon) uses, so a zone accepted here is
    // one the cron evaluation understands.
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch (e) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `time zone "${timezone}": expected an IANA time zone name such as "Europe/Berlin" or "UTC"`,
      { cause: e },
    );
  }
  return timezone;
}

/**
 * Parse schedule text: a 5-field cron expression (optionally prefixed "cron:") evaluated in
 * `timezone`, or an interval "every <n><unit>" (s, m, h, d or their long forms) anchored at the
 * Unix epoch. The time zone is checked for both kinds: a bad zone is a configuration error even
 * when an interval does not need it.
 *
 * @example parseSchedule("0 2 * * 0", "Europe/Berlin") // { kind: "cron", cron: "0 2 * * 0", timezone: "Europe/Berlin" }
 * @example parseSchedule("every 3h", "UTC") // { kind: "interval", everyMs: 10_800_000, anchor: 0 }
 */
export function parseSchedule(text: string, timezone: string): Schedule {
  checkTimezone(timezone);
  const trimmed = text.trim();
  if (trimmed === "") throw invalid(text, EXPECTED);
  if (/^every\b/i.test(trimmed) || /^every\d/i.test(trimmed)) return parseInterval(text, trimmed);

  const cron = trimmed
    .replace(/^cron:/i, "")
    .trim()
    .split(/\s+/)
    .filter((f) => f !== "");
  if (cron.length !== 5) {
    // cron-parser would accept a leading seconds field; slots finer than a minute make no sense
    // for flows, and silently accepting 6 fields would shift every other field's meaning.
    const hint = cron.length === 6 ? " (a seconds field is not supported)" : "";
    throw invalid(
      text,
      `${EXPECTED} (${CRON_FIELDS}), got ${cron.length} field${cron.length === 1 ? "" : "s"}${hint}`,
    );
  }
  const expr = cron.join(" ");
  try {
    // Computing one slot also catches expressions that parse but never match (e.g. "0 0 31 2,4 *").
    cronParser.parseExpression(expr, { tz: timezone }).next();
  } catch (e) {
    throw invalid(
      text,
      `invalid cron expression (${messageOf(e)}); ${EXPECTED} (${CRON_FIELDS})`,
      e,
    );
  }
  return { kind: "cron", cron: expr, timezone };
}

function parseInterval(text: string, trimmed: string): Schedule {
  const m = INTERVAL_RE.exec(trimmed);
  const unitMs = m ? UNIT_MS[m[2].toLowerCase()] : undefined;
  if (!m || unitMs === undefined) throw invalid(text, EXPECTED);
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw invalid(text, `the interval must be a whole number of at least 1, got ${m[1]}`);
  }
  const everyMs = n * unitMs;
  if (!Number.isSafeInteger(everyMs)) throw invalid(text, "the interval is too large");
  // Units start at seconds, so this only guards against a future sub-second unit.
  if (everyMs < SECOND_MS) throw invalid(text, "the interval must be at least 1 s");
  return { kind: "interval", everyMs, anchor: 0 };
}

/**
 * A short human-readable form of a schedule, for logs and the CLI.
 *
 * @example describeSchedule(parseSchedule("every 90 minutes", "UTC")) // "every 90 min"
 * @example describeSchedule(parseSchedule("0 2 * * 0", "Europe/Berlin")) // "cron 0 2 * * 0 (Europe/Berlin)"
 */
export function describeSchedule(schedule: Schedule): string {
  if (schedule.kind === "cron") return `cron ${schedule.cron} (${schedule.timezone})`;
  const [unit, ms] = DESCRIBE_UNITS.find(([, ms]) => schedule.everyMs % ms === 0) ?? ["ms", 1];
  // parseSchedule always anchors at the epoch; only a hand-built schedule needs its anchor shown.
  const anchor = schedule.anchor === 0 ? "" : ` from ${new Date(schedule.anchor).toISOString()}`;
  return `every ${schedule.everyMs / ms} ${unit}${anchor}`;
}

/**
 * The first slot strictly after `after` (ms since the epoch). Cron slots follow the local clock
 * of the schedule's time zone: a time skipped by the spring-forward change runs at the first
 * instant after the gap, and a time repeated by the fall-back change runs once (the first).
 *
 * @example nextRun(parseSchedule("every 3h", "UTC"), Date.parse("2026-03-10T04:15:00Z")) // 2026-03-10T06:00Z
 */
export function nextRun(schedule: Schedule, after: number): number {
  checkInstant("after", after);
  if (schedule.kind === "interval") {
    const every = checkInterval(schedule);
    return schedule.anchor + (Math.floor((after - schedule.anchor) / every) + 1) * every;
  }
  return cronCall(schedule, () =>
    cronParser
      .parseExpression(schedule.cron, { currentDate: new Date(after), tz: schedule.timezone })
      .next()
      .getTime(),
  );
}

/**
 * The slots a scheduler should start at `now`, oldest first, given the last slot it started
 * (`null` on the very first start). Slots considered are those after `lastSlot` up to `now`;
 * on a first start only a slot at most ON_TIME_MS old counts (at most one), so deploying a
 * scheduler never fires a backlog. Then "catch-up" keeps the newest `maxCatchUp`, "latest" the
 * newest one and "skip" only the on-time ones.
 *
 * @example dueRuns(parseSchedule("every 3h", "UTC"), lastSlot, now, "latest") // [newest missed slot]
 */
export function dueRuns(
  schedule: Schedule,
  lastSlot: number | null,
  now: number,
  policy: LatePolicy,
  maxCatchUp = 100,
): number[] {
  checkInstant("now", now);
  if (lastSlot !== null) checkInstant("lastSlot", lastSlot);
  if (!LATE_POLICIES.includes(policy)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `late policy "${String(policy)}": expected one of ${LATE_POLICIES.join(", ")}`,
    );
  }
  if (!Number.isSafeInteger(maxCatchUp) || maxCatchUp < 1) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `maxCatchUp ${maxCatchUp}: expected a whole number of at least 1`,
    );
  }

  // Exclusive lower bound for "on time": slots s with now - s <= ON_TIME_MS.
  const onTimeAfter = now - ON_TIME_MS - 1;
  if (lastSlot === null) return slotsBetween(schedule, onTimeAfter, now, 1);
  if (lastSlot >= now) return [];
  switch (policy) {
    case "catch-up":
      return slotsBetween(schedule, lastSlot, now, maxCatchUp);
    case "latest":
      return slotsBetween(schedule, lastSlot, now, 1);
    case "skip":
      // The window is ON_TIME_MS wide, so enumerating all of it is cheap even for 1 s intervals.
      return slotsBetween(schedule, Math.max(lastSlot, onTimeAfter), now, Infinity);
  }
}

/** The newest `limit` slots s with from < s <= to, oldest first. */
function slotsBetween(schedule: Schedule, from: number, to: number, limit: number): number[] {
  if (to <= from) return [];
  if (schedule.kind === "interval") {
    // Arithmetic, not iteration: a 1 s interval with a year-old lastSlot has ~31 million slots.
    const every = checkInterval(schedule);
    const newest = Math.floor((to - schedule.anchor) / every);
    const oldest = Math.max(Math.floor((from - schedule.anchor) / every) + 1, newest - limit + 1);
    const slots: number[] = [];
    for (let k = oldest; k <= newest; k++) slots.push(schedule.anchor + k * every);
    return slots;
  }
  return cronCall(schedule, () => cronSlotsBetween(schedule, from, to, limit));
}

// Wider than any DST shift (1 h almost everywhere), see cronSlotsBetween.
const DST_MARGIN_MS = 2 * 3_600_000;

function cronSlotsBetween(
  schedule: Extract<Schedule, { kind: "cron" }>,
  from: number,
  to: number,
  limit: number,
): number[] {
  const { cron, timezone: tz } = schedule;
  // Walking forward from a year-old `from` would take one (slow, ~ms) step per slot, so first
  // walk back from `to` to find roughly where the newest `limit` slots start. prev() is only a
  // hint: around DST changes it disagrees with next() (it drops the spring-forward slot and
  // repeats the fall-back one), and next() is what nextRun uses, so next() decides the slots.
  let start = from;
  if (Number.isFinite(limit)) {
    let oldest = to + 1;
    try {
      const back = cronParser.parseExpression(cron, { currentDate: new Date(to + 1), tz });
      for (let i = 0; i < limit; i++) {
        const t = back.prev().getTime();
        if (t <= from) break;
        oldest = t;
      }
    } catch {
      // No hint; the widening loop below still finds the slots.
    }
    start = Math.max(from, oldest - DST_MARGIN_MS);
  }

  for (;;) {
    const slots = cronSlotsForward(cron, tz, start, to, limit);
    // Complete once the window holds `limit` slots or reaches `from`; otherwise the hint was
    // off (a DST anomaly) and a wider window is needed.
    if (slots.length >= limit || start <= from) return slots;
    start = Math.max(from, to - 2 * (to - start));
  }
}

/** The newest `limit` slots in (start, to] by walking next(), oldest first. */
function cronSlotsForward(
  cron: string,
  tz: string,
  start: number,
  to: number,
  limit: number,
): number[] {
  const it = cronParser.parseExpression(cron, { currentDate: new Date(start), tz });
  const slots: number[] = [];
  let last = start;
  for (;;) {
    const t = it.next().getTime();
    if (t > to) return slots;
    // Guard against a library bug turning this into an endless loop.
    if (t <= last) throw new AppError("INTERNAL", `cron "${cron}" (${tz}) did not advance`);
    last = t;
    slots.push(t);
    if (slots.length > limit) slots.shift();
  }
}

function checkInterval(schedule: Extract<Schedule, { kind: "interval" }>): number {
  // Schedules can be built by hand; a zero interval would divide by zero.
  if (!Number.isSafeInteger(schedule.everyMs) || schedule.everyMs < SECOND_MS) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `interval ${schedule.everyMs} ms: expected a whole number of ms, at least 1000`,
    );
  }
  if (!Number.isFinite(schedule.anchor)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `interval anchor ${schedule.anchor}: expected ms since the epoch`,
    );
  }
  return schedule.everyMs;
}

function checkInstant(name: string, value: number): void {
  if (!Number.isFinite(value)) {
    throw new AppError("INVALID_ARGUMENT", `${name} ${value}: expected ms since the epoch`);
  }
}

/** Runs cron-parser work, turning its plain Errors into AppErrors that name the expression. */
function cronCall<T>(schedule: Extract<Schedule, { kind: "cron" }>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError(
      "INVALID_ARGUMENT",
      `cron "${schedule.cron}" (${schedule.timezone}): ${messageOf(e)}`,
      { cause: e },
    );
  }
}

function invalid(text: string, what: string, cause?: unknown): AppError {
  return new AppError("INVALID_ARGUMENT", `schedule "${text}": ${what}`, { cause });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
