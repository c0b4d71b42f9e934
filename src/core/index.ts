/** Cross-cutting building blocks: errors, seeded randomness, worker threads, version. */
export { AppError, ERROR_CODES, isAppError, type ErrorCode } from "./errors.js";
export { Rng } from "./rng.js";
export { createPool, defaultThreads, parallelMap, type JobRef, type WorkerPool } from "./pool.js";
export { PACKAGE_VERSION } from "./version.js";
export { SETTINGS, loadConfig, type Config } from "./config.js";
