import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { AppError } from "./errors.js";

/**
 * Every setting in one annotated table: environment variable, default, parser and the text that
 * `docs/configuration.md` shows (a test keeps the two in step). Settings are read once at start
 * into a plain `Config`; nothing else reads `process.env`.
 */
export interface Config {
  /** Data directory of the embedded mode (database file, artifacts). */
  readonly home: string;
  /** Password filled into a Postgres URL that has none (kept apart as a secret). */
  readonly databasePassword: string | undefined;
  /** Metadata database: `sqlite:<file>` or `postgres://…` (with the password filled in). */
  readonly databaseUrl: string;
  /** Artifact store: a folder, `file://…`, `gs://bucket/prefix` or `s3://bucket/prefix`. */
  readonly artifactsUrl: string;
  readonly s3Endpoint: string | undefined;
  readonly s3Region: string | undefined;
  readonly gcsEndpoint: string | undefined;
  /** The registered model that training adds versions to and serving loads. */
  readonly modelName: string;
  /** The experiment training runs are recorded under. */
  readonly experimentName: string;
  /** Let the first version serve when no version of any model has ever served (audited as a bootstrap). */
  readonly bootstrapChampion: boolean;
  /** Let the person who registered a version approve it into the serving alias (audited). */
  readonly allowSelfApproval: boolean;
  /** A RUNNING run whose heartbeat is older than this is marked FAILED. */
  readonly staleRunSeconds: number;
  /** The API token the command line acts with (`users add` prints one). */
  readonly token: string | undefined;
  /** Address `serve` and `up` bind to (`--host` wins). */
  readonly host: string;
  /** TCP port `serve` and `up` listen on (`--port` wins). */
  readonly port: number;
  /** Host names the server answers to (empty: see `allowedHostsFor`). */
  readonly allowedHosts: readonly string[];
  /** Who may call the server: `secured` (every route needs its role) or `open` (a local trial). */
  readonly access: "secured" | "open";
  /** Bearer token Prometheus sends to read `/metrics`; none: `/metrics` is open. */
  readonly metricsToken: string | undefined;
  /** A browser session unused this many minutes ends. */
  readonly sessionIdleMinutes: number;
  /** A browser session ends this many hours after sign-in. */
  readonly sessionHours: number;
  /** The OpenID Connect provider people may sign in with (none: passwords only). */
  readonly oidcIssuer: string | undefined;
  readonly oidcClientId: string | undefined;
  readonly oidcClientSecret: string | undefined;
  /** Scopes asked of the provider. */
  readonly oidcScopes: string;
  /** The claim whose values give the role. */
  readonly oidcRoleClaim: string;
  /** `value=role` pairs, comma-separated (empty: the role names themselves). */
  readonly oidcRoles: string;
  /** Server log level: fatal, error, warn, info, debug, trace or silent. */
  readonly logLevel: string;
  /** When a logged decision counts as durable in a SQLite decision log. */
  readonly decisionSync: "normal" | "full";
  /** Time zone of cron schedules (IANA name). */
  readonly timezone: string;
  /** Schedule of the `retrain` flow (cron or `every …`), or `off`. */
  readonly retrainSchedule: string;
  /** Schedule of the `drift-report` flow, or `off`. */
  readonly driftSchedule: string;
  /** Which missed schedule slots run after downtime: skip, latest or catch-up. */
  readonly lateRuns: "skip" | "latest" | "catch-up";
  /** Called when a flow run fails for good. */
  readonly flowWebhook: string | undefined;
  /** Decisions older than this many days have their personal fields erased (0 keeps them). */
  readonly decisionRetentionDays: number;
  /** Finished flow runs older than this many days are deleted (0 keeps them). */
  readonly flowRetentionDays: number;
  /** How often a running flow run says it is alive; six missed beats make it CRASHED. */
  readonly flowHeartbeatSeconds: number;
  /** Delay before a flow's first retry (doubling after); undefined: each flow's own. */
  readonly flowRetrySeconds: number | undefined;
}

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly env: string;
  /** Shown in docs/configuration.md. */
  readonly defaultText: string;
  readonly description: string;
  readonly parse: (raw: string | undefined, partial: Partial<Config>) => Config[K];
}

function bool(env: string, fallback: (partial: Partial<Config>) => boolean) {
  return (raw: string | undefined, partial: Partial<Config>): boolean => {
    if (raw === undefined || raw === "") return fallback(partial);
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    throw new AppError("CONFIG_INVALID", `${env}="${raw}" is not a boolean (use true or false)`);
  };
}

function wholeNumber(env: string, fallback: number, min: number) {
  return (raw: string | undefined): number => {
    const text = optional(raw);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new AppError("CONFIG_INVALID", `${env}="${raw}" must be a whole number ≥ ${min}`);
    }
    return n;
  };
}

function optional(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
}

function isSqlite(url: string | undefined): boolean {
  return url === undefined || url.startsWith("sqlite:");
}

/** The settings, in the order they are parsed (later defaults may depend on earlier values). */
export const SETTINGS = [
  {
    key: "home",
    env: "RISKOMETER_HOME",
    defaultText: "`./.riskometer`",
    description:
      "Data directory of the embedded mode: the SQLite database and the artifact folder live here, created on first use.",
    parse: (raw) => resolve(optional(raw) ?? ".riskometer"),
  } satisfies Setting<"home">,
  {
    key: "databasePassword",
    env: "RISKOMETER_DATABASE_PASSWORD",
    defaultText: "none",
    description:
      "Password of a Postgres `RISKOMETER_DATABASE_URL` that has none, kept apart as a secret (usually as `RISKOMETER_DATABASE_PASSWORD_FILE`).",
    // Not trimmed: a password may end in spaces. A file's final newline is dropped on reading.
    parse: (raw) => (raw === undefined || raw === "" ? undefined : raw),
  } satisfies Setting<"databasePassword">,
  {
    key: "databaseUrl",
    env: "RISKOMETER_DATABASE_URL",
    defaultText: "`sqlite:<home>/riskometer.db`",
    description:
      "Metadata database (runs, registry, users): `sqlite:<file>` or `postgres://user:password@host:5432/db` (the password may come from `RISKOMETER_DATABASE_PASSWORD` instead).",
    parse: (raw, p) => {
      const url = optional(raw) ?? `sqlite:${resolve(p.home as string, "riskometer.db")}`;
      return p.databasePassword === undefined ? url : withPassword(url, p.databasePassword);
    },
  } satisfies Setting<"databaseUrl">,
  {
    key: "artifactsUrl",
    env: "RISKOMETER_ARTIFACTS_URL",
    defaultText: "`<home>/artifacts`",
    description:
      "Artifact store (model files, plots): a folder, `file:///abs/path`, `gs://bucket/prefix` or `s3://bucket/prefix`.",
    parse: (raw, p) => optional(raw) ?? resolve(p.home as string, "artifacts"),
  } satisfies Setting<"artifactsUrl">,
  {
    key: "s3Endpoint",
    env: "RISKOMETER_S3_ENDPOINT",
    defaultText: "AWS",
    description:
      "Endpoint of an S3-compatible store (MinIO, Ceph, R2…); credentials come from the AWS SDK's usual environment.",
    parse: optional,
  } satisfies Setting<"s3Endpoint">,
  {
    key: "s3Region",
    env: "RISKOMETER_S3_REGION",
    defaultText: "`AWS_REGION`, else `us-east-1`",
    description: "Region for `s3://` artifact stores.",
    parse: optional,
  } satisfies Setting<"s3Region">,
  {
    key: "gcsEndpoint",
    env: "RISKOMETER_GCS_ENDPOINT",
    defaultText: "Google Cloud Storage",
    description:
      "API endpoint for `gs://` artifact stores (an emulator); credentials come from `GOOGLE_APPLICATION_CREDENTIALS` or the metadata server.",
    parse: optional,
  } satisfies Setting<"gcsEndpoint">,
  {
    key: "modelName",
    env: "RISKOMETER_MODEL_NAME",
    defaultText: "`credit-risk`",
    description:
      "Registered model that `train` adds versions to and serving loads (`<name>@champion`).",
    parse: (raw) => optional(raw) ?? "credit-risk",
  } satisfies Setting<"modelName">,
  {
    key: "experimentName",
    env: "RISKOMETER_EXPERIMENT",
    defaultText: "`credit-risk`",
    description: "Experiment that `train` records its runs under.",
    parse: (raw) => optional(raw) ?? "credit-risk",
  } satisfies Setting<"experimentName">,
  {
    key: "bootstrapChampion",
    env: "RISKOMETER_BOOTSTRAP_CHAMPION",
    defaultText: "`true` with SQLite, `false` with Postgres",
    description:
      "When no version of any model has ever served, let the first trained version become `champion` (recorded in the audit log as a bootstrap).",
    parse: bool("RISKOMETER_BOOTSTRAP_CHAMPION", (p) => isSqlite(p.databaseUrl)),
  } satisfies Setting<"bootstrapChampion">,
  {
    key: "allowSelfApproval",
    env: "RISKOMETER_ALLOW_SELF_APPROVAL",
    defaultText: "`false`",
    description:
      "Single-person setting: allow an approver to promote a version they registered into `champion` (the audit record says so).",
    parse: bool("RISKOMETER_ALLOW_SELF_APPROVAL", () => false),
  } satisfies Setting<"allowSelfApproval">,
  {
    key: "staleRunSeconds",
    env: "RISKOMETER_STALE_RUN_SECONDS",
    defaultText: "`300`",
    description:
      "A RUNNING run whose process sent no heartbeat for this long is marked FAILED (a run whose process is gone from this host is marked KILLED at once).",
    parse: (raw) => {
      const text = optional(raw);
      if (text === undefined) return 300;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 10) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_STALE_RUN_SECONDS="${raw}" must be an integer ≥ 10`,
        );
      }
      return n;
    },
  } satisfies Setting<"staleRunSeconds">,
  {
    key: "token",
    env: "RISKOMETER_TOKEN",
    defaultText: "none",
    description:
      "API token the command line acts with (for `models promote`, `users …`, and as the author of trained versions).",
    parse: optional,
  } satisfies Setting<"token">,
  {
    key: "host",
    env: "RISKOMETER_HOST",
    defaultText: "`127.0.0.1`",
    description:
      "Address `serve` and `up` bind to (`--host` wins); `0.0.0.0` in the container image.",
    parse: (raw) => optional(raw) ?? "127.0.0.1",
  } satisfies Setting<"host">,
  {
    key: "allowedHosts",
    env: "RISKOMETER_ALLOWED_HOSTS",
    defaultText: "none",
    description:
      "Host names the server answers to, comma-separated (the `Host` header; its port does not matter), e.g. `risk.bank.example`; others get 403. None set: only `localhost`, `127.0.0.1` and `::1` when bound to loopback (so a web page cannot reach it by DNS rebinding), any name when bound elsewhere.",
    parse: (raw) =>
      (optional(raw) ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ""),
  } satisfies Setting<"allowedHosts">,
  {
    key: "access",
    env: "RISKOMETER_ACCESS",
    defaultText: "`secured`",
    description:
      "`secured`: every route needs a signed-in user or an API token with its role (docs/security.md). `open`: for a one-person trial on this machine, callers without credentials act as the clerk `local` (approving and admin work still need a named user); refused at start unless the server listens on loopback only.",
    parse: (raw) => {
      const v = (optional(raw) ?? "secured").toLowerCase();
      if (v !== "secured" && v !== "open") {
        throw new AppError("CONFIG_INVALID", `RISKOMETER_ACCESS="${raw}" must be secured or open`);
      }
      return v;
    },
  } satisfies Setting<"access">,
  {
    key: "metricsToken",
    env: "RISKOMETER_METRICS_TOKEN",
    defaultText: "none",
    description:
      "Bearer token Prometheus must send to read `/metrics` (usually `RISKOMETER_METRICS_TOKEN_FILE`, a secret). None set: `/metrics` is open; it holds no personal data.",
    parse: optional,
  } satisfies Setting<"metricsToken">,
  {
    key: "oidcIssuer",
    env: "RISKOMETER_OIDC_ISSUER",
    defaultText: "none",
    description:
      "Issuer URL of an OpenID Connect provider (Keycloak, Entra ID, Okta…) for single sign-on; the sign-in page then offers it next to passwords (docs/security.md).",
    parse: (raw) => {
      const text = optional(raw);
      if (text === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new AppError("CONFIG_INVALID", `RISKOMETER_OIDC_ISSUER="${raw}" is not a URL`);
      }
      const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
      if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_OIDC_ISSUER="${raw}" must be an https URL (http only for a provider on this machine)`,
        );
      }
      return text;
    },
  } satisfies Setting<"oidcIssuer">,
  {
    key: "oidcClientId",
    env: "RISKOMETER_OIDC_CLIENT_ID",
    defaultText: "none",
    description: "Riskometer's client id at the provider (needed with `RISKOMETER_OIDC_ISSUER`).",
    parse: (raw, p) => {
      const id = optional(raw);
      if (p.oidcIssuer !== undefined && id === undefined) {
        throw new AppError(
          "CONFIG_INVALID",
          "RISKOMETER_OIDC_ISSUER is set but RISKOMETER_OIDC_CLIENT_ID is not: give the client id registered at the provider",
        );
      }
      return id;
    },
  } satisfies Setting<"oidcClientId">,
  {
    key: "oidcClientSecret",
    env: "RISKOMETER_OIDC_CLIENT_SECRET",
    defaultText: "none (a public client, PKCE only)",
    description:
      "The client's secret at the provider (usually `RISKOMETER_OIDC_CLIENT_SECRET_FILE`). The redirect URI to register is `<server address>/sign-in/oidc/callback`.",
    parse: optional,
  } satisfies Setting<"oidcClientSecret">,
  {
    key: "oidcScopes",
    env: "RISKOMETER_OIDC_SCOPES",
    defaultText: "`openid profile email`",
    description:
      "Scopes asked of the provider; add the one that releases the role claim if it needs one.",
    parse: (raw) => {
      const scopes = optional(raw) ?? "openid profile email";
      if (!scopes.split(/\s+/).includes("openid")) {
        throw new AppError("CONFIG_INVALID", `RISKOMETER_OIDC_SCOPES="${raw}" must include openid`);
      }
      return scopes;
    },
  } satisfies Setting<"oidcScopes">,
  {
    key: "oidcRoleClaim",
    env: "RISKOMETER_OIDC_ROLE_CLAIM",
    defaultText: "`roles`",
    description:
      "The claim (in the ID token or from userinfo) whose values give a user's role, e.g. `groups`.",
    parse: (raw) => optional(raw) ?? "roles",
  } satisfies Setting<"oidcRoleClaim">,
  {
    key: "oidcRoles",
    env: "RISKOMETER_OIDC_ROLES",
    defaultText: "the role names",
    description:
      "Which claim values give which role, e.g. `risk-admins=admin,risk-approvers=approver,risk-clerks=clerk,staff=viewer`; the highest wins, and a user with none may not sign in. Unset: the values `viewer`, `clerk`, `approver` and `admin` themselves.",
    parse: (raw) => optional(raw) ?? "",
  } satisfies Setting<"oidcRoles">,
  {
    key: "sessionIdleMinutes",
    env: "RISKOMETER_SESSION_IDLE_MINUTES",
    defaultText: "`30`",
    description: "A browser session unused for this many minutes ends; the user signs in again.",
    parse: wholeNumber("RISKOMETER_SESSION_IDLE_MINUTES", 30, 1),
  } satisfies Setting<"sessionIdleMinutes">,
  {
    key: "sessionHours",
    env: "RISKOMETER_SESSION_HOURS",
    defaultText: "`12`",
    description: "A browser session ends this many hours after sign-in, used or not.",
    parse: wholeNumber("RISKOMETER_SESSION_HOURS", 12, 1),
  } satisfies Setting<"sessionHours">,
  {
    key: "port",
    env: "RISKOMETER_PORT",
    defaultText: "`9696`",
    description: "TCP port `serve` and `up` listen on (`--port` wins); 0 picks a free one.",
    parse: (raw) => {
      const text = optional(raw);
      if (text === undefined) return 9696;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || n > 65_535) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_PORT="${raw}" must be a port number from 0 to 65535`,
        );
      }
      return n;
    },
  } satisfies Setting<"port">,
  {
    key: "logLevel",
    env: "RISKOMETER_LOG_LEVEL",
    defaultText: "`info`",
    description:
      "Level of the server's log lines on stdout (one JSON object each, or lines for people when stdout is a terminal): `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.",
    parse: (raw) => {
      const level = optional(raw)?.toLowerCase() ?? "info";
      const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
      if (!levels.includes(level)) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_LOG_LEVEL="${raw}" is not one of ${levels.join(", ")}`,
        );
      }
      return level;
    },
  } satisfies Setting<"logLevel">,
  {
    key: "decisionSync",
    env: "RISKOMETER_DECISION_SYNC",
    defaultText: "`normal`",
    description:
      "SQLite decision log: `normal` answers once a decision is in the write-ahead log (survives the server being killed, not a power loss); `full` also flushes it to disk first (survives a power loss; one disk flush per group commit, which limits throughput). Postgres always commits durably.",
    parse: (raw) => {
      const v = optional(raw)?.toLowerCase() ?? "normal";
      if (v !== "normal" && v !== "full") {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_DECISION_SYNC="${raw}" must be normal or full`,
        );
      }
      return v;
    },
  } satisfies Setting<"decisionSync">,
  {
    key: "timezone",
    env: "RISKOMETER_TIMEZONE",
    defaultText: "`UTC`",
    description:
      "Time zone of cron schedules, an IANA name such as `Europe/Berlin` (daylight saving time included).",
    parse: (raw) => {
      const zone = optional(raw) ?? "UTC";
      try {
        new Intl.DateTimeFormat("en", { timeZone: zone });
      } catch {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_TIMEZONE="${raw}" is not a time zone (use an IANA name such as Europe/Berlin or UTC)`,
        );
      }
      return zone;
    },
  } satisfies Setting<"timezone">,
  {
    key: "retrainSchedule",
    env: "RISKOMETER_RETRAIN_SCHEDULE",
    defaultText: "`0 2 * * 0` (Sunday 02:00)",
    description:
      "When the `retrain` flow runs: a 5-field cron expression in `RISKOMETER_TIMEZONE`, an interval such as `every 6h`, or `off`.",
    parse: (raw) => optional(raw) ?? "0 2 * * 0",
  } satisfies Setting<"retrainSchedule">,
  {
    key: "driftSchedule",
    env: "RISKOMETER_DRIFT_SCHEDULE",
    defaultText: "`every 3h`",
    description:
      "When the `drift-report` flow runs: an interval (`every 3h`, clock-aligned: 00:00, 03:00 … UTC), a cron expression, or `off`.",
    parse: (raw) => optional(raw) ?? "every 3h",
  } satisfies Setting<"driftSchedule">,
  {
    key: "decisionRetentionDays",
    env: "RISKOMETER_DECISION_RETENTION_DAYS",
    defaultText: "`0` (keep)",
    description:
      "Decisions older than this many days have the applicant's values, reasons and explanation erased by the `retention` flow, run daily at 00:00 UTC while this is above 0; scores, risk, outcome, model, time and the fairness groups stay, so monitoring and fairness reports keep working (docs/security.md).",
    parse: wholeNumber("RISKOMETER_DECISION_RETENTION_DAYS", 0, 0),
  } satisfies Setting<"decisionRetentionDays">,
  {
    key: "lateRuns",
    env: "RISKOMETER_LATE_RUNS",
    defaultText: "`latest`",
    description:
      "Schedule slots missed while nothing ran (downtime): `skip` them, run only the `latest`, or `catch-up` on all of them (at most 100).",
    parse: (raw) => {
      const v = optional(raw)?.toLowerCase() ?? "latest";
      if (v !== "skip" && v !== "latest" && v !== "catch-up") {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_LATE_RUNS="${raw}" must be skip, latest or catch-up`,
        );
      }
      return v;
    },
  } satisfies Setting<"lateRuns">,
  {
    key: "flowWebhook",
    env: "RISKOMETER_FLOW_WEBHOOK",
    defaultText: "none",
    description:
      "URL that receives a JSON POST when a flow run ends FAILED or CRASHED with no retry left.",
    parse: (raw) => {
      const url = optional(raw);
      if (url === undefined) return undefined;
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_FLOW_WEBHOOK="${raw}" is not an http(s) URL`,
        );
      }
      return url;
    },
  } satisfies Setting<"flowWebhook">,
  {
    key: "flowRetentionDays",
    env: "RISKOMETER_FLOW_RETENTION_DAYS",
    defaultText: "`90`",
    description:
      "Finished flow runs (and their logs) older than this are deleted; `0` keeps them all.",
    parse: (raw) => {
      const v = optional(raw) ?? "90";
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) {
        throw new AppError(
          "CONFIG_INVALID",
          `RISKOMETER_FLOW_RETENTION_DAYS="${raw}" must be a number of days, 0 or more`,
        );
      }
      return n;
    },
  } satisfies Setting<"flowRetentionDays">,
  {
    key: "flowHeartbeatSeconds",
    env: "RISKOMETER_FLOW_HEARTBEAT_SECONDS",
    defaultText: "`5`",
    description:
      "How often a running flow run records that it is alive; a run silent for six of these (its worker died or hung) is declared CRASHED and retried if attempts are left.",
    parse: (raw) => positiveSeconds("RISKOMETER_FLOW_HEARTBEAT_SECONDS", raw) ?? 5,
  } satisfies Setting<"flowHeartbeatSeconds">,
  {
    key: "flowRetrySeconds",
    env: "RISKOMETER_FLOW_RETRY_SECONDS",
    defaultText: "each flow's own (`retrain` 300, `drift-report` 60)",
    description:
      "Delay before a failed or crashed flow run's first retry; each further retry waits twice as long.",
    parse: (raw) => positiveSeconds("RISKOMETER_FLOW_RETRY_SECONDS", raw, true),
  } satisfies Setting<"flowRetrySeconds">,
] as const;

function positiveSeconds(env: string, raw: string | undefined, zeroOk = false): number | undefined {
  const v = optional(raw);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) {
    throw new AppError(
      "CONFIG_INVALID",
      `${env}="${raw}" must be a number of seconds${zeroOk ? ", 0 or more" : " above 0"}`,
    );
  }
  return n;
}

/** A Postgres URL with `password` filled in; refuses a URL that has a password of its own. */
function withPassword(url: string, password: string): string {
  if (!/^postgres(ql)?:/i.test(url)) {
    throw new AppError(
      "CONFIG_INVALID",
      "RISKOMETER_DATABASE_PASSWORD is set, but RISKOMETER_DATABASE_URL is not a postgres:// URL",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError("CONFIG_INVALID", "RISKOMETER_DATABASE_URL is not a valid URL");
  }
  if (parsed.password !== "") {
    throw new AppError(
      "CONFIG_INVALID",
      "RISKOMETER_DATABASE_URL has a password and RISKOMETER_DATABASE_PASSWORD gives another: keep one",
    );
  }
  if (parsed.username === "") {
    throw new AppError(
      "CONFIG_INVALID",
      "RISKOMETER_DATABASE_URL names no user for RISKOMETER_DATABASE_PASSWORD (postgres://user@host/db)",
    );
  }
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * A setting's raw value: the variable itself, or the contents of the file that `<NAME>_FILE`
 * names (the convention of Docker and Kubernetes secrets; one final newline is dropped).
 */
function rawSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file === undefined || file === "") return env[name];
  if (env[name] !== undefined && env[name] !== "") {
    throw new AppError("CONFIG_INVALID", `${name} and ${name}_FILE are both set: keep one`);
  }
  try {
    return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    throw new AppError(
      "CONFIG_INVALID",
      `${name}_FILE="${file}" cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
}

/**
 * Reads the configuration from the environment (each setting also as `<NAME>_FILE`);
 * `overrides` (command-line options) win.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Config {
  const partial: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const override = overrides[setting.key];
    partial[setting.key] =
      override !== undefined
        ? override
        : (setting.parse as (raw: string | undefined, p: Partial<Config>) => unknown)(
            rawSetting(env, setting.env),
            partial as Partial<Config>,
          );
  }
  return partial as unknown as Config;
}
