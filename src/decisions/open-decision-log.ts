import { sql } from "kysely";
import { AppError } from "../core/errors.js";
import type { Database, DialectName } from "../storage/index.js";
import { DecisionLog, type DecisionLogOptions } from "./decision-log.js";
import { SqlDecisionStore } from "./sql-decision-store.js";
import { SqliteWorkerAppender } from "./sqlite-worker-appender.js";
import type { DecisionAppender } from "./types.js";

/**
 * Where each database commits decision batches. SQLite files commit from a worker thread (its
 * driver is synchronous, see `SqliteWorkerAppender`); an in-memory SQLite database cannot be
 * shared with a worker, so it commits in-thread; Postgres commits through the pool.
 */
const APPENDERS: Record<
  DialectName,
  (database: Database, options: OpenDecisionLogOptions) => Promise<DecisionAppender>
> = {
  sqlite: async (database, options) => {
    const file = database.url.slice("sqlite:".length);
    return file === ":memory:"
      ? new SqlDecisionStore(database)
      : SqliteWorkerAppender.open(file, { synchronous: options.sqliteSync });
  },
  postgres: async (database) => {
    // With synchronous_commit off, Postgres acknowledges a commit before its WAL reaches disk: a
    // crash of the database server could then lose decisions the clients were told about.
    const { rows } = await sql<{
      synchronous_commit: string;
    }>`SHOW synchronous_commit`.execute(database.db);
    if (rows[0]?.synchronous_commit === "off") {
      throw new AppError(
        "CONFIG_INVALID",
        `the decision log needs durable commits, but ${database.url} has synchronous_commit = off; turn it on for this database (ALTER DATABASE … SET synchronous_commit = on)`,
      );
    }
    return new SqlDecisionStore(database);
  },
};

/**
 * The decision log of an open (migrated) database, with the appender that suits its dialect.
 * `close()` the log before the database.
 *
 * @example
 * const log = await openDecisionLog(database);
 * await log.append(decision);
 */
export async function openDecisionLog(
  database: Database,
  options: OpenDecisionLogOptions = {},
): Promise<DecisionLog> {
  return new DecisionLog(await APPENDERS[database.dialect.name](database, options), options);
}

export interface OpenDecisionLogOptions extends DecisionLogOptions {
  /**
   * SQLite files: when a commit counts as durable (see SqliteWorkerAppenderOptions.synchronous).
   * Postgres always commits with its own durable `synchronous_commit`.
   */
  readonly sqliteSync?: "full" | "normal";
}
