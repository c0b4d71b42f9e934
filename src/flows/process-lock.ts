import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { AppError } from "../core/errors.js";
import { isProcessAlive } from "../core/process-alive.js";

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * Takes the one flow-process place of an embedded SQLite store (a lock file beside it, made with
 * O_EXCL, so two processes starting together cannot both win). Two `up` or `worker` processes
 * on one SQLite file would both keep the schedules, and a flow could run twice at once; on
 * Postgres, pg-boss shares the work and any number may run. A lock left by a process that is
 * gone is taken over. Resolves with the release; refuses with CONFLICT, saying who holds it.
 *
 * Written by hand: a lock file of a pid is a few lines, and the lock libraries on npm either
 * poll a directory or need a native build.
 */
export async function lockEmbeddedFlows(databaseFile: string): Promise<() => Promise<void>> {
  const path = `${databaseFile}.flows-lock`;
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, text, { flag: "wx" });
      return async () => {
        // Only our own lock: a process that took over a stale one keeps its.
        if ((await readFile(path, "utf8").catch(() => "")) === text)
          await unlink(path).catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder: LockHolder | null = null;
    try {
      holder = JSON.parse(await readFile(path, "utf8")) as LockHolder;
    } catch {
      // Empty or cut short: a process may be writing it this instant.
      const fresh = await stat(path).then(
        (s) => Date.now() - s.mtimeMs < 5000,
        () => false,
      );
      if (fresh) {
        throw new AppError(
          "CONFLICT",
          `another flow process is starting on ${databaseFile} (${path} was just made)`,
        );
      }
    }
    const foreignHost = holder !== null && holder.host !== me.host;
    if (holder !== null && (foreignHost || isProcessAlive(holder.pid))) {
      throw new AppError(
        "CONFLICT",
        `another flow process (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}) already keeps the schedules and runs the flows of ${databaseFile}: two on one SQLite store could run a flow twice. Stop it first (\`riskometer serve\` may run beside it), or run several workers on Postgres (RISKOMETER_DATABASE_URL); if that process is gone, delete ${path}`,
      );
    }
    // Left by a process that is gone (or half-written): take it over.
    await unlink(path).catch(() => {});
  }
  throw new AppError(
    "CONFLICT",
    `could not take the flow lock ${path}: another process keeps taking it`,
  );
}
