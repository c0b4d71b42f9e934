import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import {
  LATE_POLICIES,
  ON_TIME_MS,
  checkTimezone,
  describeSchedule,
  dueRuns,
  nextRun,
  parseSchedule,
  type Schedule,
} from "./schedule.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** The AppError `fn` throws (fails the test if it throws nothing or something else). */
function appErrorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw new Error(`expected an AppError, got ${String(e)}`);
  }
  throw new Error("expected an AppError, nothing was thrown");
}

/** Two consecutive slots after `from`, as ISO strings. */
function twoRuns(schedule: Schedule, from: string): [string, string] {
  const first = nextRun(schedule, at(from));
  return [iso(first), iso(nextRun(schedule, first))];
}

describe("parseSchedule", () => {
  it("parses a 5-field cron expression, with or without the cron: prefix", () => {
    const expected = { kind: "cron", cron: "0 2 * * 0", timezone: "Europe/Berlin" };
    expect(parseSchedule("0 2 * * 0", "Europe/Berlin")).toEqual(expected);
    expect(parseSchedule("  cron:  0  2 * *   0 ", "Europe/Berlin")).toEqual(expected);
    expect(parseSchedule("CRON:0 2 * * 0", "Europe/Berlin")).toEqual(expected);
  });

  it("parses intervals in short and long units, case- and whitespace-insensitive", () => {
    const interval = (everyMs: number) => ({ kind: "interval", everyMs, anchor: 0 });
    expect(parseSchedule("every 3h", "UTC")).toEqual(interval(3 * HOUR));
    expect(parseSchedule("every 15m", "UTC")).toEqual(interval(15 * 60_000));
    expect(parseSchedule("every 30s", "UTC")).toEqual(interval(30_000));
    expect(parseSchedule("every 1d", "UTC")).toEqual(interval(DAY));
    expect(parseSchedule("every 3 hours", "UTC")).toEqual(interval(3 * HOUR));
    expect(parseSchedule("  EVERY   90 Minutes ", "UTC")).toEqual(interval(90 * 60_000));
  });

  it.each([
    ["every 0m", /schedule "every 0m": the interval must be a whole number of at least 1/],
    ["every -3h", /schedule "every -3h": the interval must be a whole number/],
    ["every 1.5h", /schedule "every 1\.5h": the interval must be a whole number/],
    [
      "every 3x",
      /^schedule "every 3x": expected "every <n><s\|m\|h\|d>" or a 5-field cron expression$/,
    ],
    ["61 * * * *", /schedule "61 \* \* \* \*": invalid cron expression .*5-field cron/],
    ["0 0 2 * * 0", /schedule "0 0 2 \* \* 0": .*5-field cron .*got 6 fields.*seconds/],
    ["0 2 * *", /schedule "0 2 \* \*": .*got 4 fields/],
    ["@daily", /schedule "@daily": .*got 1 field\b/],
    ["", /^schedule "": expected "every <n><s\|m\|h\|d>" or a 5-field cron expression$/],
    ["   ", /^schedule " {3}": expected/],
  ])("rejects %j with INVALID_ARGUMENT naming the text", (text, message) => {
    expect(() => parseSchedule(text, "Europe/Berlin")).toThrow(message);
    expect(appErrorOf(() => parseSchedule(text, "Europe/Berlin")).code).toBe("INVALID_ARGUMENT");
  });

  it("rejects an unknown time zone, for cron and interval schedules alike", () => {
    const message = /time zone "Mars\/Olympus": expected an IANA time zone name/;
    expect(() => parseSchedule("0 2 * * 0", "Mars/Olympus")).toThrow(message);
    expect(() => parseSchedule("every 3h", "Mars/Olympus")).toThrow(message);
    expect(appErrorOf(() => parseSchedule("0 2 * * 0", "Mars/Olympus")).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});

describe("checkTimezone", () => {
  it("returns a known zone as given", () => {
    expect(checkTimezone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(checkTimezone("UTC")).toBe("UTC");
  });

  it("rejects unknown and empty zones with INVALID_ARGUMENT", () => {
    expect(() => checkTimezone("Mars/Olympus")).toThrow(/"Mars\/Olympus"/);
    expect(appErrorOf(() => checkTimezone("Mars/Olympus")).code).toBe("INVALID_ARGUMENT");
    expect(appErrorOf(() => checkTimezone("")).message).toMatch(/^time zone "": expected/);
  });
});

describe("describeSchedule", () => {
  it.each([
    ["every 3h", "every 3 h"],
    ["every 15m", "every 15 min"],
    ["every 30s", "every 30 s"],
    ["every 1d", "every 1 d"],
    ["every 90 minutes", "every 90 min"],
    ["every 120 minutes", "every 2 h"],
    ["every 48 hours", "every 2 d"],
    ["every 3600s", "every 1 h"],
  ])("describes %j as %j", (text, description) => {
    expect(describeSchedule(parseSchedule(text, "UTC"))).toBe(description);
  });

  it("describes a cron schedule with its time zone", () => {
    expect(describeSchedule(parseSchedule("cron: 0 2 * * 0", "Europe/Berlin"))).toBe(
      "cron 0 2 * * 0 (Europe/Berlin)",
    );
  });
});

describe("nextRun with a cron schedule", () => {
  const berlin = parseSchedule("0 2 * * 0", "Europe/Berlin");

  it("runs Sunday 02:00 CEST (00:00Z) in summer", () => {
    // Wednesday 1 July 2026 → Sundays 5 and 12 July.
    expect(twoRuns(berlin, "2026-07-01T12:00:00Z")).toEqual([
      "2026-07-05T00:00:00.000Z",
      "2026-07-12T00:00:00.000Z",
    ]);
  });

  it("runs Sunday 02:00 CET (01:00Z) in winter", () => {
    expect(twoRuns(berlin, "2026-01-07T12:00:00Z")).toEqual([
      "2026-01-11T01:00:00.000Z",
      "2026-01-18T01:00:00.000Z",
    ]);
  });

  it("handles the spring-forward Sunday, 29 March 2026", () => {
    // 02:00 does not exist that night (clocks jump 02:00 CET → 03:00 CEST), so the slot is the
    // first instant after the gap, 01:00Z; the Sunday after is 02:00 CEST again, 00:00Z.
    expect(twoRuns(berlin, "2026-03-25T12:00:00Z")).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-04-05T00:00:00.000Z",
    ]);
    expect(twoRuns(berlin, "2026-03-18T12:00:00Z")).toEqual([
      "2026-03-22T01:00:00.000Z",
      "2026-03-29T01:00:00.000Z",
    ]);
  });

  it("handles the fall-back Sunday, 25 October 2026, running once", () => {
    // 02:00 happens twice that night (CEST, then CET); the flow runs at the first, 00:00Z, and
    // not again at 01:00Z: the next run is the following Sunday at 02:00 CET.
    expect(twoRuns(berlin, "2026-10-21T12:00:00Z")).toEqual([
      "2026-10-25T00:00:00.000Z",
      "2026-11-01T01:00:00.000Z",
    ]);
  });

  it("evaluates the same cron in each schedule's own time zone", () => {
    const newYork = parseSchedule("0 2 * * 0", "America/New_York");
    const from = at("2026-07-01T12:00:00Z");
    expect(iso(nextRun(newYork, from))).toBe("2026-07-05T06:00:00.000Z");
    expect(nextRun(newYork, from)).not.toBe(nextRun(berlin, from));
    expect(nextRun(newYork, from) - nextRun(berlin, from)).toBe(6 * HOUR);
  });

  it("returns the slot after, not the slot itself, when `after` is exactly a slot", () => {
    const slot = at("2026-07-05T00:00:00Z");
    expect(iso(nextRun(berlin, slot))).toBe("2026-07-12T00:00:00.000Z");
    expect(iso(nextRun(berlin, slot - 1))).toBe("2026-07-05T00:00:00.000Z");
  });
});

describe("nextRun with an interval schedule", () => {
  const every3h = parseSchedule("every 3h", "Europe/Berlin");

  it("aligns slots to 00:00, 03:00, … UTC", () => {
    expect(iso(nextRun(every3h, at("2026-03-10T04:15:00Z")))).toBe("2026-03-10T06:00:00.000Z");
    expect(iso(nextRun(every3h, at("2026-03-10T23:59:59Z")))).toBe("2026-03-11T00:00:00.000Z");
    expect(nextRun(every3h, 0)).toBe(3 * HOUR);
  });

  it("returns the following slot when `after` is exactly a slot", () => {
    expect(iso(nextRun(every3h, at("2026-03-10T06:00:00Z")))).toBe("2026-03-10T09:00:00.000Z");
    expect(iso(nextRun(every3h, at("2026-03-10T06:00:00Z") - 1))).toBe("2026-03-10T06:00:00.000Z");
  });

  it("honours a hand-built anchor", () => {
    const schedule: Schedule = { kind: "interval", everyMs: HOUR, anchor: 15 * 60_000 };
    expect(iso(nextRun(schedule, at("2026-03-10T04:20:00Z")))).toBe("2026-03-10T05:15:00.000Z");
  });
});

describe("dueRuns", () => {
  const every3h = parseSchedule("every 3h", "UTC");
  const lastSlot = at("2026-03-10T00:00:00Z");
  // The ten missed slots: 03:00 on the 10th up to 06:00 on the 11th.
  const missed = Array.from({ length: 10 }, (_, i) => lastSlot + (i + 1) * 3 * HOUR);
  const newest = missed[9];

  it("lists the late policies", () => {
    expect(LATE_POLICIES).toEqual(["skip", "latest", "catch-up"]);
    expect(ON_TIME_MS).toBe(60_000);
  });

  it("catch-up runs all ten missed slots, oldest first", () => {
    const now = newest + 5 * 60_000;
    expect(dueRuns(every3h, lastSlot, now, "catch-up")).toEqual(missed);
    expect(iso(missed[0])).toBe("2026-03-10T03:00:00.000Z");
    expect(iso(newest)).toBe("2026-03-11T06:00:00.000Z");
  });

  it("latest runs only the newest missed slot", () => {
    expect(dueRuns(every3h, lastSlot, newest + 5 * 60_000, "latest")).toEqual([newest]);
  });

  it("skip drops missed slots and keeps only an on-time one", () => {
    expect(dueRuns(every3h, lastSlot, newest + 5 * 60_000, "skip")).toEqual([]);
    expect(dueRuns(every3h, lastSlot, newest + 30_000, "skip")).toEqual([newest]);
    expect(dueRuns(every3h, lastSlot, newest + ON_TIME_MS, "skip")).toEqual([newest]);
    expect(dueRuns(every3h, lastSlot, newest + ON_TIME_MS + 1, "skip")).toEqual([]);
  });

  it("runs nothing when no slot passed since lastSlot", () => {
    for (const policy of LATE_POLICIES) {
      expect(dueRuns(every3h, lastSlot, lastSlot, policy)).toEqual([]);
      expect(dueRuns(every3h, lastSlot, lastSlot + 3 * HOUR - 1, policy)).toEqual([]);
      expect(dueRuns(every3h, newest, lastSlot, policy)).toEqual([]);
    }
  });

  it("on a first start (lastSlot null) runs at most the newest slot, and only if on time", () => {
    for (const policy of LATE_POLICIES) {
      expect(dueRuns(every3h, null, newest + 30_000, policy)).toEqual([newest]);
      expect(dueRuns(every3h, null, newest, policy)).toEqual([newest]);
      expect(dueRuns(every3h, null, newest + 2 * 60_000, policy)).toEqual([]);
    }
    // Even a 1-second interval, with 61 slots inside the grace window, starts just one.
    const everySecond = parseSchedule("every 1s", "UTC");
    expect(dueRuns(everySecond, null, newest + 500, "catch-up")).toEqual([newest]);
  });

  it("caps catch-up at maxCatchUp, keeping the newest slots", () => {
    expect(dueRuns(every3h, lastSlot, newest + 60_000, "catch-up", 3)).toEqual(missed.slice(7));
    expect(dueRuns(every3h, lastSlot, newest + 60_000, "catch-up", 1)).toEqual([newest]);
  });

  it("computes a year of 1-second slots without enumerating them", () => {
    const everySecond = parseSchedule("every 1s", "UTC");
    const now = lastSlot + 365 * DAY + 500;
    const runs = dueRuns(everySecond, lastSlot - 365 * DAY, now, "catch-up");
    expect(runs).toHaveLength(100);
    expect(runs[99]).toBe(lastSlot + 365 * DAY);
    expect(runs[0]).toBe(lastSlot + 365 * DAY - 99_000);
    expect(dueRuns(everySecond, lastSlot - 365 * DAY, now, "latest")).toEqual([runs[99]]);
    // Skip keeps every on-time slot: the whole seconds in [now - 60 s, now], 60 of them here.
    const onTime = dueRuns(everySecond, lastSlot - 365 * DAY, now, "skip");
    expect(onTime).toHaveLength(60);
    expect(onTime[0]).toBe(now - 500 - 59_000);
    expect(onTime[59]).toBe(runs[99]);
  });

  describe("with a cron schedule", () => {
    const berlin = parseSchedule("0 2 * * 0", "Europe/Berlin");
    const last = at("2026-03-22T01:00:00Z");
    const now = at("2026-04-20T09:00:00Z");
    // Sundays across the spring-forward change, as nextRun sees them.
    const sundays = [
      "2026-03-29T01:00:00.000Z",
      "2026-04-05T00:00:00.000Z",
      "2026-04-12T00:00:00.000Z",
      "2026-04-19T00:00:00.000Z",
    ];

    it("applies each policy to the missed Sundays", () => {
      expect(dueRuns(berlin, last, now, "catch-up").map(iso)).toEqual(sundays);
      expect(dueRuns(berlin, last, now, "catch-up", 2).map(iso)).toEqual(sundays.slice(2));
      expect(dueRuns(berlin, last, now, "latest").map(iso)).toEqual([sundays[3]]);
      expect(dueRuns(berlin, last, now, "skip")).toEqual([]);
      const onTime = at(sundays[3]) + 45_000;
      expect(dueRuns(berlin, last, onTime, "skip").map(iso)).toEqual([sundays[3]]);
      expect(dueRuns(berlin, null, onTime, "latest").map(iso)).toEqual([sundays[3]]);
      expect(dueRuns(berlin, null, now, "catch-up")).toEqual([]);
    });

    it("agrees with nextRun across the fall-back night (no repeated 02:00)", () => {
      const fromLast = at("2026-10-18T00:00:00Z");
      expect(dueRuns(berlin, fromLast, at("2026-11-02T00:00:00Z"), "catch-up").map(iso)).toEqual([
        "2026-10-25T00:00:00.000Z",
        "2026-11-01T01:00:00.000Z",
      ]);
      expect(dueRuns(berlin, fromLast, at("2026-10-25T01:30:00Z"), "latest").map(iso)).toEqual([
        "2026-10-25T00:00:00.000Z",
      ]);

      // An hourly cron in the same night: every slot dueRuns lists is a nextRun chain.
      const hourly = parseSchedule("30 * * * *", "Europe/Berlin");
      const start = at("2026-10-24T20:00:00Z");
      const end = at("2026-10-25T06:00:00Z");
      const chain: number[] = [];
      for (let t = nextRun(hourly, start); t <= end; t = nextRun(hourly, t)) chain.push(t);
      expect(chain).toHaveLength(10);
      expect(dueRuns(hourly, start, end, "catch-up")).toEqual(chain);
      expect(dueRuns(hourly, start, end, "catch-up", 4)).toEqual(chain.slice(6));
    });
  });

  it("rejects an unknown policy and a bad maxCatchUp", () => {
    const bad = "sometimes" as unknown as "skip";
    expect(() => dueRuns(every3h, lastSlot, newest, bad)).toThrow(
      /late policy "sometimes": expected one of skip, latest, catch-up/,
    );
    expect(appErrorOf(() => dueRuns(every3h, lastSlot, newest, "catch-up", 0)).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
