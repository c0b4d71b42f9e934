import { Command } from "commander";
import { sql } from "kysely";
import { loadConfig } from "../core/config.js";
import {
  type Database,
  migrateToLatest,
  migrations,
  openDatabase,
  wrapConnectionError,
} from "../storage/index.js";
import { writeJson } from "./common.js";
import { formatTable, print } from "./table.js";

/** Opens the database without migrating it (these commands decide that themselves). */
async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(loadConfig().databaseUrl, { migrate: false });
  try {
    return await fn(database);
  } catch (e) {
    throw wrapConnectionError(e, database.url);
  } finally {
    await database.close();
  }
}

// Kysely's Migrator keeps its record here (name + ISO timestamp per applied migration).
const MIGRATION_TABLE = "kysely_migration";

interface MigrationState {
  readonly name: string;
  /** applied; pending (known to this release, not applied); unknown (applied by a newer release). */
  readonly state: "applied" | "pending" | "unknown";
  readonly appliedAt: string | null;
}

async function migrationStates(database: Database): Promise<MigrationState[]> {
  const tables = await database.db.introspection.getTables({ withInternalKyselyTables: true });
  const applied = tables.some((t) => t.name === MIGRATION_TABLE)
    ? (
        await sql<{
          name: string;
          timestamp: string;
        }>`SELECT name, timestamp FROM ${sql.table(MIGRATION_TABLE)} ORDER BY name`.execute(
          database.db,
        )
      ).rows
    : [];
  const appliedAt = new Map(applied.map((r) => [r.name, new Date(r.timestamp).toISOString()]));
  const known = Object.keys(migrations(database.dialect)).sort();
  return [
    ...known.map((name): MigrationState => ({
      name,
      state: appliedAt.has(name) ? "applied" : "pending",
      appliedAt: appliedAt.get(name) ?? null,
    })),
    ...applied
      .filter((r) => !known.includes(r.name))
      .map((r): MigrationState => ({
        name: r.name,
        state: "unknown",
        appliedAt: appliedAt.get(r.name) ?? null,
      })),
  ];
}

function migrateCommand(): Command {
  return new Command("migrate")
    .description(
      "Apply the database migrations this release has and the database lacks. Every other command does this on its own; run it explicitly to upgrade a shared (Postgres) database at a time of your choosing.",
    )
    .option("--json", "print { database, applied, migrations } as JSON")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (database) => {
        const report = await migrateToLatest(database.db as never, database.dialect);
        if (opts.json) {
          return writeJson({
            database: database.url,
            applied: report.applied,
            migrations: await migrationStates(database),
          });
        }
        if (report.applied.length === 0) {
          return print(`${database.url}: up to date, no migration applied`);
        }
        print(`${database.url}: applied ${report.applied.length} migration(s):`);
        for (const name of report.applied) print(`  ${name}`);
      });
    });
}

function statusCommand(): Command {
  return new Command("status")
    .description(
      "Show the database in use (password hidden) and which migrations it has, without changing it.",
    )
    .option("--json", "print { database, dialect, upToDate, migrations } as JSON")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (database) => {
        const states = await migrationStates(database);
        const pending = states.filter((s) => s.state === "pending").length;
        const unknown = states.filter((s) => s.state === "unknown").length;
        if (opts.json) {
          return writeJson({
            database: database.url,
            dialect: database.dialect.name,
            upToDate: pending === 0 && unknown === 0,
            migrations: states,
          });
        }
        print(`database: ${database.url} (${database.dialect.name})`);
        print(
          formatTable(
            ["migration", "state", "applied at"],
            states.map((s) => [s.name, s.state, s.appliedAt?.replace(/\.\d{3}Z$/, "Z") ?? "—"]),
          ),
        );
        if (unknown > 0) {
          print(
            `${unknown} migration(s) come from a newer release of riskometer: upgrade before using this database`,
          );
        } else if (pending > 0) {
          print(`${pending} migration(s) pending: run \`riskometer db migrate\``);
        } else {
          print("up to date");
        }
      });
    });
}

export function dbCommand(): Command {
  return new Command("db")
    .summary("migrate the metadata database and show its state")
    .description(
      "The metadata database (runs, registry, users): SQLite under RISKOMETER_HOME, or Postgres from RISKOMETER_DATABASE_URL.",
    )
    .addCommand(migrateCommand())
    .addCommand(statusCommand());
}
