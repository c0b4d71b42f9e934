import { SqlSessionStore, SqlUserStore } from "./auth/index.js";
import { type Config, loadConfig } from "./core/config.js";
import { RegistryService, SqlRegistryStore } from "./registry/index.js";
import { type Database, openDatabase } from "./storage/index.js";
import { type ArtifactStore, openArtifactStore } from "./storage/artifacts/index.js";
import { type ReapedRun, SqlTrackingStore, TrackingService } from "./tracking/index.js";

/** Everything a command or the server needs, built once from the configuration. */
export interface AppContext {
  readonly config: Config;
  readonly database: Database;
  readonly artifacts: ArtifactStore;
  readonly tracking: TrackingService;
  readonly registry: RegistryService;
  readonly users: SqlUserStore;
  /** Browser sessions and one-time sign-in links. */
  readonly sessions: SqlSessionStore;
  /** Runs the reaper ended at start (their process had died). */
  readonly reaped: readonly ReapedRun[];
  close(): Promise<void>;
}

export interface OpenContextOptions {
  readonly clock?: () => number;
  /** Apply migrations and end dead runs (default true). */
  readonly start?: boolean;
}

/**
 * The composition root: configuration → database (migrated) → artifact store → services. Every
 * start also ends runs whose process died, so none stays RUNNING.
 */
export async function openContext(
  config: Config = loadConfig(),
  options: OpenContextOptions = {},
): Promise<AppContext> {
  const start = options.start ?? true;
  const database = await openDatabase(config.databaseUrl, { migrate: start });
  try {
    const artifacts = openArtifactStore(config.artifactsUrl, {
      env: {
        RISKOMETER_S3_ENDPOINT: config.s3Endpoint,
        RISKOMETER_S3_REGION: config.s3Region,
        RISKOMETER_GCS_ENDPOINT: config.gcsEndpoint,
      },
    });
    const tracking = new TrackingService(new SqlTrackingStore(database), artifacts, {
      staleRunMs: config.staleRunSeconds * 1000,
      clock: options.clock,
    });
    const registry = new RegistryService(new SqlRegistryStore(database), artifacts, {
      allowSelfApproval: config.allowSelfApproval,
      clock: options.clock,
    });
    const users = new SqlUserStore(database);
    const sessions = new SqlSessionStore(database, {
      idleMs: config.sessionIdleMinutes * 60_000,
      absoluteMs: config.sessionHours * 3_600_000,
    });
    const reaped = start ? await tracking.reapStaleRuns() : [];
    return {
      config,
      database,
      artifacts,
      tracking,
      registry,
      users,
      sessions,
      reaped,
      close: () => database.close(),
    };
  } catch (e) {
    await database.close();
    throw e;
  }
}
