import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import type { Params, SearchSpace } from "../types.js";
import { randomSearch, search, tpeSearch, type SearchResult, type Trial } from "./search.js";
import { compileSpace, inSpace, sampleRandom } from "./space.js";
import { erfc, normalMass, observationWeights, suggestTpe } from "./tpe.js";

const PLANE: SearchSpace = {
  x: { type: "float", low: -5, high: 5 },
  y: { type: "float", low: -5, high: 5 },
};

/** Minimum 0 at x = 1.5, y = -2. */
function quadratic(p: Params): number {
  return ((p.x as number) - 1.5) ** 2 + ((p.y as number) + 2) ** 2;
}

const QUADRATIC_SPACE: SearchSpace = {
  ...PLANE,
  c: { type: "choice", values: ["a", "b", "c", "d"] },
};

const CHOICE_PENALTY: Record<string, number> = { a: 3, b: 0, c: 1.5, d: 5 };

/** Minimum 0 at x = 1.5, y = -2, c = "b". */
function quadraticWithChoice(p: Params): number {
  return quadratic(p) + CHOICE_PENALTY[p.c as string];
}

const MIXED_SPACE: SearchSpace = {
  lr: { type: "float", low: 1e-5, high: 1, log: true },
  depth: { type: "int", low: 2, high: 12 },
  leaves: { type: "int", low: 1, high: 1000, log: true },
  frac: { type: "float", low: 0.25, high: 0.75 },
  kind: { type: "choice", values: [true, false] },
};

/** Minimum 0 at lr = 1e-3, depth = 7, leaves = 100, frac = 0.5, kind = true. */
function mixed(p: Params): number {
  return (
    (Math.log10(p.lr as number) + 3) ** 2 +
    ((p.depth as number) - 7) ** 2 / 4 +
    (Math.log10(p.leaves as number) - 2) ** 2 +
    ((p.frac as number) - 0.5) ** 2 * 10 +
    (p.kind ? 0 : 1)
  );
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("search space", () => {
  it("rejects invalid specs", () => {
    expect(() => compileSpace({})).toThrow(RangeError);
    expect(() => compileSpace({ a: { type: "float", low: 2, high: 1 } })).toThrow(/range/);
    expect(() => compileSpace({ a: { type: "float", low: 0, high: 1, log: true } })).toThrow(/log/);
    expect(() => compileSpace({ a: { type: "int", low: 0, high: 9, log: true } })).toThrow(/≥ 1/);
    expect(() => compileSpace({ a: { type: "int", low: 0.5, high: 9 } })).toThrow(/integers/);
    expect(() => compileSpace({ a: { type: "choice", values: [] } })).toThrow(/no values/);
  });

  it("random draws respect bounds, int-ness and log scale", () => {
    const dims = compileSpace({
      u: { type: "float", low: 2, high: 4 },
      l: { type: "float", low: 1e-4, high: 1, log: true },
      i: { type: "int", low: -3, high: 3 },
      li: { type: "int", low: 1, high: 64, log: true },
      k: { type: "choice", values: ["p", "q", "r"] },
    });
    const rng = new Rng(7);
    const n = 4000;
    const draws = Array.from({ length: n }, () => sampleRandom(dims, rng));
    for (const d of draws) for (const dim of dims) expect(inSpace(dim, d[dim.name])).toBe(true);
    const frac = (pred: (p: Params) => boolean): number => draws.filter(pred).length / n;
    // Uniform: half below the midpoint. Log-uniform: half below the geometric midpoint.
    expect(frac((p) => (p.u as number) < 3)).toBeCloseTo(0.5, 1);
    expect(frac((p) => (p.l as number) < 1e-2)).toBeCloseTo(0.5, 1);
    expect(frac((p) => (p.l as number) < 0.5)).toBeGreaterThan(0.9);
    // Log int: [0.5, 64.5] on the log scale, so P(li ≤ 5) = ln(11) / ln(129) ≈ 0.493.
    expect(frac((p) => (p.li as number) <= 5)).toBeCloseTo(0.493, 1);
    // Every integer of a plain int range, equally often (7 values, 1/7 ≈ 0.143 each).
    for (let v = -3; v <= 3; v++) expect(frac((p) => p.i === v)).toBeCloseTo(1 / 7, 1);
    expect(new Set(draws.map((p) => p.k))).toEqual(new Set(["p", "q", "r"]));
    // The extreme ints are reachable.
    expect(draws.some((p) => p.li === 1)).toBe(true);
    expect(draws.some((p) => p.li === 64)).toBe(true);
  });
});

describe("TPE internals", () => {
  it("computes normal probabilities", () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 6);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 6);
    expect(normalMass(-1.959964, 1.959964)).toBeCloseTo(0.95, 6);
    expect(normalMass(3, 4)).toBeCloseTo(0.001318, 6);
    expect(normalMass(-4, -3)).toBeCloseTo(0.001318, 6);
    expect(normalMass(1, 1)).toBe(0);
  });

  it("weights older observations less beyond 25", () => {
    expect(observationWeights(3)).toEqual([1, 1, 1]);
    const w = observationWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
    expect(observationWeights(26)).toEqual([1 / 26, ...new Array(25).fill(1)]);
  });

  it("proposes near the good trials", () => {
    const dims = compileSpace({ x: { type: "float", low: 0, high: 100 } });
    // Values fall with |x - 80|: the good group sits at 75–85.
    const done = Array.from({ length: 40 }, (_, i) => {
      const x = (i * 37) % 100;
      return { index: i, params: { x }, value: Math.abs(x - 80) };
    });
    const rng = new Rng(3);
    const xs = Array.from(
      { length: 50 },
      () => suggestTpe(dims, done, [], "minimize", rng).x as number,
    );
    expect(xs.filter((x) => Math.abs(x - 80) < 10).length).toBeGreaterThan(40);
  });

  it("is random before the startup trials", () => {
    const dims = compileSpace(QUADRATIC_SPACE);
    const done = [{ index: 0, params: { x: 1.5, y: -2, c: "b" }, value: 0 }];
    expect(suggestTpe(dims, done, [], "minimize", new Rng(5))).toEqual(
      sampleRandom(dims, new Rng(5)),
    );
  });
});

describe("search", () => {
  it("keeps every proposal in the space, for both samplers", async () => {
    for (const sampler of ["random", "tpe"] as const) {
      const { trials } = await search({
        space: MIXED_SPACE,
        trials: 60,
        seed: 11,
        objective: mixed,
        direction: "minimize",
        sampler,
      });
      expect(trials).toHaveLength(60);
      const dims = compileSpace(MIXED_SPACE);
      for (const t of trials) {
        for (const dim of dims) expect(inSpace(dim, t.params[dim.name])).toBe(true);
        expect(Object.keys(t.params)).toEqual(Object.keys(MIXED_SPACE));
      }
    }
  });

  it("is deterministic for a seed, and the seed matters", async () => {
    const run = (seed: number, concurrency = 1): Promise<SearchResult> =>
      search({
        space: QUADRATIC_SPACE,
        trials: 25,
        seed,
        objective: quadraticWithChoice,
        direction: "minimize",
        concurrency,
      });
    const a = await run(42);
    const b = await run(42);
    expect(b.trials).toEqual(a.trials);
    expect(b.best).toEqual(a.best);
    expect((await run(43)).trials).not.toEqual(a.trials);
    const c = await run(42, 3);
    expect((await run(42, 3)).trials).toEqual(c.trials);
  });

  it("fixes each batch before evaluating it, whatever the evaluation timing", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const run = (delay: (index: number) => number): Promise<SearchResult> =>
      search({
        space: QUADRATIC_SPACE,
        trials: 24,
        seed: 9,
        direction: "minimize",
        concurrency: 3,
        objective: async (params, { index }) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, delay(index)));
          inFlight--;
          return quadraticWithChoice(params);
        },
      });
    const slowFirst = await run((i) => (i % 3 === 0 ? 8 : 1));
    const slowLast = await run((i) => (i % 3 === 2 ? 8 : 1));
    expect(maxInFlight).toBe(3);
    expect(slowLast.trials).toEqual(slowFirst.trials);
  });

  const runSeeds = (
    sampler: "random" | "tpe",
    space: SearchSpace,
    objective: (p: Params) => number,
    concurrency = 1,
  ): Promise<SearchResult[]> =>
    Promise.all(
      [1, 2, 3, 4, 5].map((seed) =>
        search({ space, trials: 60, seed, objective, direction: "minimize", sampler, concurrency }),
      ),
    );
  const bestValues = (rs: SearchResult[]): number[] => rs.map((r) => r.best.value);

  it("TPE beats random search with the same budget", async () => {
    const tpeQ = await runSeeds("tpe", PLANE, quadratic);
    const rndQ = await runSeeds("random", PLANE, quadratic);
    expect(mean(bestValues(tpeQ))).toBeLessThan(0.2 * mean(bestValues(rndQ)));
    bestValues(tpeQ).forEach((v, i) => expect(v).toBeLessThan(bestValues(rndQ)[i]));

    const tpeC = await runSeeds("tpe", QUADRATIC_SPACE, quadraticWithChoice);
    const rndC = await runSeeds("random", QUADRATIC_SPACE, quadraticWithChoice);
    expect(mean(bestValues(tpeC))).toBeLessThan(0.6 * mean(bestValues(rndC)));
    // After the startup trials TPE proposes the best choice more often than 1 in 4.
    const shareB = (rs: SearchResult[]): number =>
      mean(rs.map((r) => r.trials.slice(10).filter((t) => t.params.c === "b").length / 50));
    expect(shareB(tpeC)).toBeGreaterThan(1.4 * shareB(rndC));

    const tpeM = await runSeeds("tpe", MIXED_SPACE, mixed);
    const rndM = await runSeeds("random", MIXED_SPACE, mixed);
    expect(mean(bestValues(tpeM))).toBeLessThan(0.6 * mean(bestValues(rndM)));
    // On the log scale the later proposals gather around lr = 1e-3.
    const lrError = (rs: SearchResult[]): number =>
      mean(
        rs.flatMap((r) =>
          r.trials.slice(40).map((t) => Math.abs(Math.log10(t.params.lr as number) + 3)),
        ),
      );
    expect(lrError(tpeM)).toBeLessThan(0.5 * lrError(rndM));
  });

  it("still beats random when trials run in batches", async () => {
    const tpe = await runSeeds("tpe", PLANE, quadratic, 4);
    const rnd = await runSeeds("random", PLANE, quadratic, 4);
    expect(mean(bestValues(tpe))).toBeLessThan(0.2 * mean(bestValues(rnd)));
    // The constant liar keeps a batch from proposing one point several times.
    for (const r of tpe) {
      for (let b = 12; b < 60; b += 4) {
        const xs = r.trials.slice(b, b + 4).map((t) => t.params.x);
        expect(new Set(xs).size).toBe(4);
      }
    }
  });

  it("maximises, starts from initial params and reports trials in order", async () => {
    const seen: [number, number][] = [];
    const result = await tpeSearch({
      space: QUADRATIC_SPACE,
      trials: 30,
      seed: 4,
      objective: (p) => -quadraticWithChoice(p),
      direction: "maximize",
      initial: [{ x: 1, y: -2, c: "b", ignored: 3 }, { c: "a" }],
      concurrency: 2,
      onTrial: (t: Trial, best: Trial) => seen.push([t.index, best.value]),
    });
    expect(result.trials[0].params).toEqual({ x: 1, y: -2, c: "b" });
    expect(result.trials[0].value).toBeCloseTo(-0.25, 12);
    expect(result.trials[1].params.c).toBe("a");
    expect(typeof result.trials[1].params.x).toBe("number");
    expect(seen.map((s) => s[0])).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The running best never gets worse and ends at the reported best.
    for (let i = 1; i < seen.length; i++) expect(seen[i][1]).toBeGreaterThanOrEqual(seen[i - 1][1]);
    expect(seen[29][1]).toBe(result.best.value);
    expect(result.best.value).toBe(Math.max(...result.trials.map((t) => t.value)));
    expect(result.best.value).toBeGreaterThanOrEqual(-0.25);
  });

  it("counts NaN as the worst value", async () => {
    const result = await randomSearch({
      space: { x: { type: "float", low: 0, high: 1 } },
      trials: 20,
      seed: 1,
      objective: (p) => ((p.x as number) < 0.5 ? NaN : (p.x as number)),
      direction: "minimize",
    });
    expect(result.trials.some((t) => Number.isNaN(t.value))).toBe(true);
    expect(result.best.value).toBeGreaterThanOrEqual(0.5);
    const allNaN = await search({
      space: { x: { type: "int", low: 0, high: 3 } },
      trials: 12,
      seed: 1,
      objective: () => NaN,
      direction: "maximize",
    });
    expect(allNaN.best.index).toBe(0);
  });

  it("validates its options", async () => {
    const base = {
      space: QUADRATIC_SPACE,
      seed: 1,
      objective: quadraticWithChoice,
      direction: "minimize" as const,
    };
    await expect(search({ ...base, trials: 0 })).rejects.toThrow(/trials/);
    await expect(search({ ...base, trials: 5, concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(search({ ...base, trials: 5, initial: [{ x: 11 }] })).rejects.toThrow(
      /outside the search space/,
    );
    await expect(
      search({ ...base, trials: 5, objective: () => "1" as unknown as number }),
    ).rejects.toThrow(TypeError);
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(search({ ...base, trials: 5, signal: ac.signal })).rejects.toThrow("stop");
  });
});
