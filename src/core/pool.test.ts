import { describe, expect, it } from "vitest";
import { AppError } from "./errors.js";
import { createPool, isSourceModule, jobModuleUrl, parallelMap, type JobRef } from "./pool.js";

const FIXTURE = new URL("./pool.fixture.mjs", import.meta.url).href;

/** A TypeScript job (this very module), which a worker thread could not import. */
export function double(shared: { offset: number }, input: number): number {
  return 2 * input + shared.offset;
}
const job = (fn: string): JobRef => ({ module: FIXTURE, fn });

interface Squared {
  i: number;
  value: number;
  threadId: number;
}

describe("jobModuleUrl / isSourceModule", () => {
  it("uses the caller's extension so sources and dist/ both resolve", () => {
    expect(jobModuleUrl("file:///app/dist/ml/cv.js", "./fold-job.js")).toBe(
      "file:///app/dist/ml/fold-job.js",
    );
    expect(jobModuleUrl("file:///app/src/ml/cv.ts", "./fold-job.js")).toBe(
      "file:///app/src/ml/fold-job.ts",
    );
    expect(jobModuleUrl("file:///app/src/ml/cv.ts", "../core/job")).toBe(
      "file:///app/src/core/job.ts",
    );
  });

  it("recognises TypeScript modules", () => {
    expect(isSourceModule("file:///a/b.ts")).toBe(true);
    expect(isSourceModule("file:///a/b.mts")).toBe(true);
    expect(isSourceModule("file:///a/b.js")).toBe(false);
    expect(isSourceModule(FIXTURE)).toBe(false);
  });
});

describe("parallelMap, in-process", () => {
  it("returns results in input order and reports progress", async () => {
    const inputs = [3, 1, 4, 1, 5].map((i) => ({ i }));
    const progress: [number, number][] = [];
    const out = await parallelMap<{ i: number }, Squared>(
      job("square"),
      { scale: new Float64Array([2]) },
      inputs,
      { threads: 1, onProgress: (d, t) => progress.push([d, t]) },
    );
    expect(out.map((r) => r.value)).toEqual([18, 2, 32, 2, 50]);
    expect(progress).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ]);
  });

  it("runs TypeScript job modules in-process whatever the thread count", async () => {
    const pool = createPool(
      { module: import.meta.url, fn: "double" },
      { offset: 1 },
      { threads: 4 },
    );
    try {
      expect(pool.inProcess).toBe(true);
      expect(pool.threads).toBe(1);
      expect(await pool.map([1, 2, 3])).toEqual([3, 5, 7]);
    } finally {
      await pool.close();
    }
  });

  it("gives each call a private copy of shared, as workers have", async () => {
    const values = new Float64Array([1, 2, 3]);
    const out = await parallelMap<{ i: number }, { sum: number; isFloat64: boolean }>(
      job("sumAndMutate"),
      { values },
      [{ i: 0 }, { i: 1 }],
      { threads: 1 },
    );
    // The job's copy is mutated between its own calls; the caller's array is not.
    expect(out.map((r) => r.sum)).toEqual([6, 1006]);
    expect(out[0].isFloat64).toBe(true);
    expect(Array.from(values)).toEqual([1, 2, 3]);
  });

  it("rejects with the job's own error and runs nothing after it", async () => {
    const seen: number[] = [];
    const call = parallelMap(
      job("failing"),
      { failAt: 2 },
      [0, 1, 2, 3].map((i) => ({ i })),
      { threads: 1, onProgress: (d) => seen.push(d) },
    );
    await expect(call).rejects.toThrow(new RangeError("input 2 is out of range"));
    expect(seen).toEqual([1, 2]);
  });

  it("rejects for a missing export", async () => {
    await expect(parallelMap(job("nope"), {}, [{ i: 0 }], { threads: 1 })).rejects.toThrow(
      /has no exported function "nope"/,
    );
  });

  it("returns [] for no inputs and honours an aborted signal", async () => {
    expect(await parallelMap(job("square"), {}, [])).toEqual([]);
    const ac = new AbortController();
    ac.abort(new Error("stopped by user"));
    await expect(parallelMap(job("square"), {}, [{ i: 1 }], { signal: ac.signal })).rejects.toThrow(
      "stopped by user",
    );
  });

  it("validates the thread count", async () => {
    await expect(parallelMap(job("square"), {}, [{ i: 1 }], { threads: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});

describe("parallelMap, worker threads", () => {
  it("distributes work dynamically and keeps input order", async () => {
    // Early inputs are slow, so a static split would finish them last on one worker.
    const inputs = Array.from({ length: 8 }, (_, i) => ({ i, delay: i < 2 ? 120 : 5 }));
    const progress: number[] = [];
    const out = await parallelMap<{ i: number; delay: number }, Squared>(
      job("square"),
      { scale: new Float64Array([3]) },
      inputs,
      { threads: 2, onProgress: (d, t) => progress.push(d * 100 + t) },
    );
    expect(out.map((r) => r.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(out.map((r) => r.value)).toEqual([0, 3, 12, 27, 48, 75, 108, 147]);
    const threadIds = new Set(out.map((r) => r.threadId));
    expect(threadIds.size).toBe(2);
    expect(threadIds.has(0)).toBe(false); // 0 is the main thread
    expect(progress).toEqual([108, 208, 308, 408, 508, 608, 708, 808]);
  });

  it("gives the same results as the in-process path", async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => ({ i }));
    const shared = { scale: new Float64Array([0.5]) };
    const strip = (rs: Squared[]): number[] => rs.map((r) => r.value);
    const one = await parallelMap<{ i: number }, Squared>(job("square"), shared, inputs, {
      threads: 1,
    });
    const two = await parallelMap<{ i: number }, Squared>(job("square"), shared, inputs, {
      threads: 2,
    });
    expect(strip(two)).toEqual(strip(one));
    expect(one.every((r) => r.threadId === 0)).toBe(true);
  });

  it("copies typed arrays in shared to each worker once", async () => {
    const out = await parallelMap<{ i: number }, { sum: number; isFloat64: boolean }>(
      job("sumAndMutate"),
      { values: new Float64Array([1, 2, 3]) },
      [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }],
      { threads: 2 },
    );
    expect(out.every((r) => r.isFloat64)).toBe(true);
    // Each worker's copy starts at 6 and gains 1000 per call it serves: two copies, so the
    // pristine sum 6 is seen exactly twice whatever the distribution of the other calls.
    const sums = out.map((r) => r.sum);
    expect(sums.filter((s) => s === 6)).toHaveLength(2);
    expect(sums.every((s) => s % 1000 === 6)).toBe(true);
  });

  it("rejects with the original error type and message and stops the pool", async () => {
    const pool = createPool<{ i: number }, number>(job("failing"), { failAt: 3 }, { threads: 2 });
    expect(pool.inProcess).toBe(false);
    const call = pool.map(Array.from({ length: 10 }, (_, i) => ({ i })));
    await expect(call).rejects.toThrow(new RangeError("input 3 is out of range"));
    await expect(pool.run({ i: 0 })).rejects.toThrow("input 3 is out of range");
    await pool.close();
  });

  it("revives AppError with its code and details", async () => {
    const error = await parallelMap(job("appFailing"), {}, [{ i: 4 }, { i: 5 }], {
      threads: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("TRAINING_FAILED");
    expect((error as AppError).message).toMatch(/^training failed on fold [45]$/);
    expect((error as AppError).details).toEqual({
      fold: Number(/\d$/.exec((error as AppError).message)![0]),
    });
  });

  it("rejects when a worker dies or the module cannot be loaded", async () => {
    await expect(
      parallelMap(
        job("exiting"),
        {},
        [0, 1, 2, 3].map((i) => ({ i })),
        { threads: 2 },
      ),
    ).rejects.toThrow(/exited unexpectedly \(code 3\)/);
    await expect(
      parallelMap(
        { module: new URL("./no-such-module.mjs", import.meta.url).href, fn: "x" },
        {},
        [{ i: 0 }, { i: 1 }],
        { threads: 2 },
      ),
    ).rejects.toThrow(/no-such-module\.mjs/);
  });

  it("aborts running work", async () => {
    const ac = new AbortController();
    const started = Date.now();
    const call = parallelMap(
      job("spin"),
      {},
      Array.from({ length: 6 }, (_, i) => ({ i, ms: 400 })),
      { threads: 2, signal: ac.signal },
    );
    setTimeout(() => ac.abort(new Error("cancelled")), 50);
    await expect(call).rejects.toThrow("cancelled");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("serves concurrent map calls from one persistent pool", async () => {
    const pool = createPool<{ i: number }, Squared>(
      job("square"),
      { scale: new Float64Array([1]) },
      { threads: 2 },
    );
    try {
      const [a, b] = await Promise.all([
        pool.map([1, 2, 3].map((i) => ({ i }))),
        pool.map([4, 5].map((i) => ({ i }))),
      ]);
      const c = await pool.run({ i: 6 });
      expect(a.map((r) => r.value)).toEqual([1, 4, 9]);
      expect(b.map((r) => r.value)).toEqual([16, 25]);
      expect(c.value).toBe(36);
    } finally {
      await pool.close();
    }
    await expect(pool.run({ i: 1 })).rejects.toThrow("closed");
  });
});
