import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { AppError } from "../core/errors.js";
import { DIALECTS, type DialectProfile, migrateToLatest } from "./migrations.js";
import type { DatabaseSchema } from "./schema.js";

/** An open metadata database: one Kysely instance and the profile of its dialect. */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DialectProfile;
  /** The URL it was opened from, with any password hidden. */
  readonly url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations (default true; `db migrate` does it explicitly). */
  readonly migrate?: boolean;
}

type Opener = (url: string) => Database | Promise<Database>;

const PG_INT8 = 20;

/** One table from URL scheme to driver; an unknown scheme is an error that lists these. */
const DATABASE_SCHEMES: Record<string, Opener> = {
  "sqlite:": openSqlite,
  "postgres:": openPostgres,
  "postgresql:": openPostgres,
};

export const DATABASE_URL_SCHEMES = Object.keys(DATABASE_SCHEMES);

function openSqlite(url: string): Database {
  const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
  if (path === "") {
    throw new AppError("STORE_URI_INVALID", `database URL "${url}" names no file (sqlite:<file>)`);
  }
  const file = path === ":memory:" ? path : resolve(path);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  let handle: SqliteDatabase.Database;
  try {
    handle = new SqliteDatabase(file);
  } catch (e) {
    throw new AppError("STORE_UNAVAILABLE", `cannot open SQLite database ${file}: ${String(e)}`, {
      cause: e,
    });
  }
  // WAL lets readers (the server) go on while a writer (training) commits; FULL makes each
  // commit durable before it returns; the busy timeout lets several processes share the file.
  handle.pragma("journal_mode = WAL");
  handle.pragma("synchronous = FULL");
  handle.pragma("foreign_keys = ON");
  handle.pragma("busy_timeout = 10000");
  return {
    db: new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: handle }) }),
    dialect: DIALECTS.sqlite,
    url: `sqlite:${file}`,
    close: async () => {},
  };
}

async function openPostgres(url: string): Promise<Database> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new AppError("STORE_URI_INVALID", `database URL is not a valid URL: ${String(e)}`);
  }
  // Loaded on first use, so the embedded (SQLite) mode never pays for the Postgres driver.
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // Times are stored as int8 milliseconds; they fit a double exactly, so read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === PG_INT8
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's error (the server restarted) must not crash the process; the next query
  // reports it instead.
  pool.on("error", () => {});
  if (parsed.password) parsed.password = "***";
  return {
    db: new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) }),
    dialect: DIALECTS.postgres,
    url: parsed.toString(),
    close: async () => {},
  };
}

/**
 * Opens the metadata database named by `url` (`sqlite:<file>`, `sqlite::memory:`,
 * `postgres://…`), creating the SQLite file and applying migrations on first use.
 *
 * @example const { db } = await openDatabase("sqlite:.riskometer/riskometer.db");
 */
export async function openDatabase(
  url: string,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase();
  const opener = scheme === undefined ? undefined : DATABASE_SCHEMES[scheme];
  if (!opener) {
    throw new AppError(
      "STORE_URI_INVALID",
      `unknown database URL scheme ${scheme ? `"${scheme}"` : "(none)"} in "${redact(url)}"; valid: ${DATABASE_URL_SCHEMES.join(", ")}`,
    );
  }
  const opened = await opener(url);
  const database: Database = { ...opened, close: () => opened.db.destroy() };
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(database.db as never, database.dialect);
    } catch (e) {
      await database.close();
      throw wrapConnectionError(e, database.url);
    }
  }
  return database;
}

/** Turns driver errors (refused connection, unknown database) into STORE_UNAVAILABLE. */
export function wrapConnectionError(e: unknown, url: string): unknown {
  if (e instanceof AppError) {
    if (e.code === "STORE_UNAVAILABLE" && e.cause !== undefined && !e.message.includes(url)) {
      return new AppError("STORE_UNAVAILABLE", `${url}: ${e.message}`, { cause: e.cause });
    }
    return e;
  }
  return new AppError("STORE_UNAVAILABLE", `database ${url}: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
