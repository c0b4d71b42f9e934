import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The local Postgres server tests use (trust auth); override with RISKOMETER_TEST_PG. */
export const TEST_PG_ADMIN_URL =
  process.env.RISKOMETER_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  readonly name: "sqlite" | "postgres";
  readonly url: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file in a temporary folder. */
export async function sqliteTestDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), "riskometer-db-"));
  return {
    name: "sqlite",
    url: `sqlite:${join(dir, "test.db")}`,
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A fresh database of its own on the local Postgres server, dropped afterwards. */
export async function postgresTestDatabase(): Promise<TestDatabase> {
  const name = `riskometer_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name: "postgres",
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const TEST_DATABASES = [
  { name: "sqlite", create: sqliteTestDatabase },
  { name: "postgres", create: postgresTestDatabase },
] as const;
