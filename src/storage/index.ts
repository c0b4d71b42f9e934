/** The metadata database (SQLite or Postgres, with migrations) and the artifact stores. */
export {
  DATABASE_URL_SCHEMES,
  openDatabase,
  wrapConnectionError,
  type Database,
  type OpenDatabaseOptions,
} from "./database.js";
export {
  DIALECTS,
  migrateToLatest,
  migrations,
  type DialectName,
  type DialectProfile,
} from "./migrations.js";
export type {
  AliasAuditTable,
  DatabaseSchema,
  DecisionsTable,
  FlowLogsTable,
  FlowRunsTable,
  OutcomesTable,
} from "./schema.js";
