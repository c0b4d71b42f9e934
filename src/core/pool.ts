/**
 * A small worker-thread pool for CPU-bound jobs (cross-validation folds, search trials), so a
 * training run uses every core instead of one.
 *
 * A job is an exported function of an ES module, named by the module's absolute URL and the
 * export name, because worker threads cannot receive functions: each worker imports the module
 * once, receives `shared` once (structured clone, so typed arrays are copied, not shared) and
 * then calls `fn(shared, input)` for every input it is handed. Inputs go to whichever worker is
 * free next and results come back in input order; a job must take every random draw from a seed
 * carried in its own input, which makes the results independent of the thread count and of the
 * order in which workers finish.
 *
 * In-process fallback: with one thread, or when the job module is TypeScript (`.ts`, `.mts`,
 * `.cts`, i.e. code running from sources under vitest, where a worker could not load it), jobs
 * run one after another on the calling thread with the same semantics: `shared` is
 * structure-cloned once, each input and each result is structure-cloned, and the first error
 * fails the whole pool.
 */
import { availableParallelism } from "node:os";
import { isMainThread, Worker } from "node:worker_threads";
import { AppError, ERROR_CODES, type ErrorCode } from "./errors.js";

/** An exported function `fn(shared, input)` of the ES module at `module` (absolute URL). */
export interface JobRef {
  readonly module: string;
  readonly fn: string;
}

export interface PoolOptions {
  /**
   * Number of worker threads. Default: `os.availableParallelism()` on the main thread and 1
   * inside a worker, so a job that itself calls `parallelMap` does not oversubscribe the cores.
   */
  readonly threads?: number;
  /** Aborting terminates the workers and rejects every pending and later call with the reason. */
  readonly signal?: AbortSignal;
}

export interface MapOptions {
  /** Called after each input of this call completes, in completion order. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ParallelMapOptions extends PoolOptions, MapOptions {}

/**
 * A pool that keeps its workers (and their copy of `shared`) between calls, for callers that
 * submit work in many small rounds, such as a search whose trials each run a cross-validation.
 * Concurrent `run`/`map` calls share one queue. The first job error fails the pool: workers are
 * terminated and every pending and later call rejects with that error.
 */
export interface WorkerPool<I, O> {
  /** Threads the pool may use; 1 when it runs in-process. */
  readonly threads: number;
  readonly inProcess: boolean;
  run(input: I): Promise<O>;
  map(inputs: readonly I[], opts?: MapOptions): Promise<O[]>;
  /** Terminates the workers; pending calls reject. Idempotent. */
  close(): Promise<void>;
}

/** True when `module` must run in-process because a worker thread could not import it. */
export function isSourceModule(module: string): boolean {
  let path: string;
  try {
    path = new URL(module).pathname;
  } catch {
    path = module;
  }
  return /\.[cm]?tsx?$/.test(path);
}

/**
 * URL of a job module next to the calling module, with the caller's own extension: `.js` once
 * compiled into dist/, `.ts` when running from sources (which then runs in-process).
 *
 * ```ts
 * const job = { module: jobModuleUrl(import.meta.url, "./fold-job.js"), fn: "fitFold" };
 * ```
 */
export function jobModuleUrl(importMetaUrl: string, specifier: string): string {
  const base = new URL(importMetaUrl);
  const ext = /\.([cm]?[jt]sx?)$/.exec(base.pathname)?.[1] ?? "js";
  const stem = specifier.replace(/\.[cm]?[jt]sx?$/, "");
  return new URL(`${stem}.${ext}`, base).href;
}

/** Thread count used when none is given (see `PoolOptions.threads`). */
export function defaultThreads(): number {
  return isMainThread ? Math.max(1, availableParallelism()) : 1;
}

function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be an integer ≥ 1, got ${threads}`);
  }
  return threads;
}

/**
 * Runs `fn(shared, input)` for every input and resolves with the results in input order.
 * Uses `min(threads, inputs.length)` workers; see the module comment for the in-process case.
 */
export async function parallelMap<I, O>(
  job: JobRef,
  shared: unknown,
  inputs: readonly I[],
  opts: ParallelMapOptions = {},
): Promise<O[]> {
  const threads = resolveThreads(opts.threads);
  opts.signal?.throwIfAborted();
  if (inputs.length === 0) return [];
  const pool = createPool<I, O>(job, shared, {
    threads: Math.min(threads, inputs.length),
    signal: opts.signal,
  });
  try {
    return await pool.map(inputs, { onProgress: opts.onProgress });
  } finally {
    await pool.close();
  }
}

/** Creates a pool; workers start lazily, as work arrives, up to `threads`. Call `close()`. */
export function createPool<I, O>(
  job: JobRef,
  shared: unknown,
  opts: PoolOptions = {},
): WorkerPool<I, O> {
  const threads = resolveThreads(opts.threads);
  const core =
    threads === 1 || isSourceModule(job.module)
      ? new InProcessCore(job, shared)
      : new ThreadCore(job, shared, threads);
  return new Pool<I, O>(core, opts.signal);
}

interface Task {
  readonly input: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Executes tasks; reports a job error or a dead worker through `onFatal`. */
interface Core {
  readonly threads: number;
  readonly inProcess: boolean;
  /** Set by the pool: the core reports a fatal error through it. */
  onFatal: (error: unknown) => void;
  submit(task: Task): void;
  /** Rejects queued and running tasks with `error` and stops all work. */
  shutdown(error: unknown): Promise<void>;
}

class Pool<I, O> implements WorkerPool<I, O> {
  private error: unknown = undefined;
  private failed = false;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.fail(this.signal?.reason);

  constructor(
    private readonly core: Core,
    signal: AbortSignal | undefined,
  ) {
    this.signal = signal;
    core.onFatal = (error) => this.fail(error);
    if (signal?.aborted) this.fail(signal.reason);
    else signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  get threads(): number {
    return this.core.threads;
  }

  get inProcess(): boolean {
    return this.core.inProcess;
  }

  run(input: I): Promise<O> {
    if (this.failed) return Promise.reject(this.error);
    if (this.closing) return Promise.reject(new Error("worker pool is closed"));
    return new Promise<O>((resolve, reject) => {
      this.core.submit({ input, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  map(inputs: readonly I[], opts: MapOptions = {}): Promise<O[]> {
    const total = inputs.length;
    let done = 0;
    return Promise.all(
      inputs.map((input) =>
        this.run(input).then((out) => {
          done++;
          opts.onProgress?.(done, total);
          return out;
        }),
      ),
    );
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.signal?.removeEventListener("abort", this.onAbort);
      this.closing = this.stopping ?? this.core.shutdown(new Error("worker pool is closed"));
    }
    return this.closing;
  }

  private fail(error: unknown): void {
    if (this.failed || this.closing) return;
    this.failed = true;
    this.error = error;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.stopping = this.core.shutdown(error);
  }
}

/** Runs tasks one at a time on the calling thread. */
class InProcessCore implements Core {
  readonly threads = 1;
  readonly inProcess = true;
  onFatal: (error: unknown) => void = () => {};
  private readonly queue: Task[] = [];
  private current: Task | undefined;
  private running = false;
  private stopped = false;
  private loaded: Promise<{ fn: JobFn; shared: unknown }> | undefined;

  constructor(
    private readonly job: JobRef,
    private readonly shared: unknown,
  ) {}

  submit(task: Task): void {
    this.queue.push(task);
    if (!this.running) void this.drain();
  }

  async shutdown(error: unknown): Promise<void> {
    this.stopped = true;
    for (const task of this.queue.splice(0)) task.reject(error);
    this.current?.reject(error);
  }

  private load(): Promise<{ fn: JobFn; shared: unknown }> {
    // Cloned like a worker's copy, so a job that mutates `shared` behaves the same either way.
    this.loaded ??= importJob(this.job).then((fn) => ({
      fn,
      shared: structuredClone(this.shared),
    }));
    return this.loaded;
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.stopped) {
      const task = this.queue.shift()!;
      this.current = task;
      try {
        const { fn, shared } = await this.load();
        const out = await fn(shared, structuredClone(task.input));
        task.resolve(structuredClone(out));
      } catch (error) {
        task.reject(error);
        this.onFatal(error);
        break;
      } finally {
        this.current = undefined;
      }
      // Lets timers and abort signals fire between synchronous jobs.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.running = false;
  }
}

type JobFn = (shared: unknown, input: unknown) => unknown;

async function importJob(job: JobRef): Promise<JobFn> {
  const mod = (await import(job.module)) as Record<string, unknown>;
  const fn = mod[job.fn];
  if (typeof fn !== "function") {
    throw new TypeError(`job module ${job.module} has no exported function "${job.fn}"`);
  }
  return fn as JobFn;
}

interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: unknown;
  readonly details?: unknown;
}

type WorkerReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

/*
 * Worker body, evaluated as a CommonJS script so the pool needs no separate worker file (which
 * would not exist next to pool.ts when running from sources). Errors travel as plain fields
 * because structured clone drops custom classes and their properties (AppError's code).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { module: url, fn: name, shared } = workerData;
const loading = import(url).then((mod) => {
  const fn = mod[name];
  if (typeof fn !== "function") {
    throw new TypeError("job module " + url + " has no exported function \\"" + name + "\\"");
  }
  return fn;
});
loading.catch(() => {});
function serialize(e) {
  if (e instanceof Error) {
    const out = { name: e.name, message: e.message, stack: e.stack };
    if (e.code !== undefined) out.code = e.code;
    if (e.details !== undefined) {
      try { out.details = structuredClone(e.details); } catch {}
    }
    return out;
  }
  return { name: "Error", message: String(e) };
}
parentPort.on("message", async (input) => {
  try {
    const fn = await loading;
    const value = await fn(shared, input);
    parentPort.postMessage({ ok: true, value });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: serialize(e) });
  }
});
`;

const BUILTIN_ERRORS: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function reviveError(e: SerializedError): Error {
  let error: Error;
  if (e.name === "AppError" && typeof e.code === "string" && e.code in ERROR_CODES) {
    error = new AppError(e.code as ErrorCode, e.message, { details: e.details });
  } else {
    error = new (BUILTIN_ERRORS[e.name] ?? Error)(e.message);
    if (error.name !== e.name) error.name = e.name;
    if (e.code !== undefined) Object.assign(error, { code: e.code });
  }
  if (e.stack !== undefined) error.stack = e.stack;
  return error;
}

interface Slot {
  readonly worker: Worker;
  task: Task | undefined;
}

/** Hands each task to the next free worker; at most one task per worker at a time. */
class ThreadCore implements Core {
  readonly inProcess = false;
  onFatal: (error: unknown) => void = () => {};
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private stopped = false;

  constructor(
    private readonly job: JobRef,
    private readonly shared: unknown,
    readonly threads: number,
  ) {}

  submit(task: Task): void {
    this.queue.push(task);
    this.dispatch();
  }

  async shutdown(error: unknown): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const task of this.queue.splice(0)) task.reject(error);
    for (const slot of this.slots) {
      slot.task?.reject(error);
      slot.task = undefined;
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (!this.stopped && this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === undefined);
      if (!slot) {
        if (this.slots.length >= this.threads) return;
        slot = this.spawn();
        if (!slot) return;
      }
      const task = this.queue.shift()!;
      slot.task = task;
      // Busy workers keep the process alive; idle ones must not (a pool left open).
      slot.worker.ref();
      try {
        slot.worker.postMessage(task.input);
      } catch (error) {
        // The input cannot be structure-cloned: same outcome as a failing job.
        slot.task = undefined;
        slot.worker.unref();
        task.reject(error);
        this.onFatal(error);
        return;
      }
    }
  }

  private spawn(): Slot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: this.job.module, fn: this.job.fn, shared: this.shared },
      });
    } catch (error) {
      this.onFatal(error);
      return undefined;
    }
    const slot: Slot = { worker, task: undefined };
    this.slots.push(slot);
    worker.on("message", (reply: WorkerReply) => {
      const task = slot.task;
      if (this.stopped || !task) return;
      slot.task = undefined;
      worker.unref();
      if (reply.ok) {
        task.resolve(reply.value);
        this.dispatch();
      } else {
        const error = reviveError(reply.error);
        task.reject(error);
        this.onFatal(error);
      }
    });
    const die = (error: unknown): void => {
      if (this.stopped) return;
      slot.task?.reject(error);
      slot.task = undefined;
      this.onFatal(error);
    };
    worker.on("error", die);
    worker.on("messageerror", die);
    worker.on("exit", (code) => die(new Error(`worker thread exited unexpectedly (code ${code})`)));
    return slot;
  }
}
