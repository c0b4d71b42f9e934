import type { Generated } from "kysely";

/**
 * The metadata database's tables as Kysely sees them. Both dialects store the same shapes:
 * times are integer milliseconds since the epoch, JSON documents are text, flags are 0/1
 * integers, so one set of queries serves SQLite and Postgres.
 */
export interface ExperimentsTable {
  id: string;
  name: string;
  /** "active" or "deleted" (soft delete keeps the name taken; a hard delete frees it). */
  lifecycle: string;
  tags: string;
  created_at: number;
  updated_at: number;
}

export interface RunsTable {
  id: string;
  experiment_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
  code_version: string | null;
  package_version: string;
  /** `host/pid` of the process that runs it, to tell a dead process from a slow one. */
  owner: string;
  heartbeat_at: number;
  /** Why a run FAILED or was KILLED, when known. */
  status_reason: string | null;
}

export interface RunKeyValueTable {
  run_id: string;
  key: string;
  value: string;
}

export interface MetricsTable {
  id: Generated<number>;
  run_id: string;
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface LatestMetricsTable {
  run_id: string;
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface RunInputsTable {
  run_id: string;
  name: string;
  digest: string;
  role: string;
  rows: number | null;
}

export interface RunArtifactsTable {
  run_id: string;
  path: string;
  size: number;
  media_type: string;
}

export interface RegisteredModelsTable {
  name: string;
  description: string;
  tags: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface ModelVersionsTable {
  model_name: string;
  version: number;
  run_id: string;
  /** Key of the model file in the artifact store. */
  artifact_path: string;
  sha256: string;
  status: string;
  description: string;
  tags: string;
  signature: string;
  input_example: string;
  created_by: string;
  created_at: number;
}

export interface ModelAliasesTable {
  model_name: string;
  alias: string;
  version: number;
  updated_at: number;
}

export interface AliasAuditTable {
  id: Generated<number>;
  model_name: string;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  actor_role: string;
  note: string;
  /** 1 when the approver registered the version themselves (allowed only by setting). */
  self_approved: number;
  /** 1 when the move is the first-version bootstrap of a new install. */
  bootstrap: number;
  at: number;
}

export interface UsersTable {
  name: string;
  role: string;
  created_at: number;
  disabled_at: number | null;
  /** scrypt hash of the user's password (see auth/passwords.ts); null: none set. */
  password_hash: string | null;
}

/** A browser session; the cookie holds the secret, this table only its SHA-256. */
export interface SessionsTable {
  id_hash: string;
  user_name: string;
  /** Sent back by the pages on every write (X-CSRF-Token). */
  csrf_token: string;
  /** How the user signed in: password, link or sso. */
  via: string;
  created_at: number;
  last_seen_at: number;
  ended_at: number | null;
}

/** A one-time sign-in link (the first admin's); only its SHA-256 is kept. */
export interface SignInLinksTable {
  id_hash: string;
  user_name: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ApiTokensTable {
  id: string;
  user_name: string;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  label: string;
  created_at: number;
  revoked_at: number | null;
  /** After this moment (ms) the token no longer authenticates; null: never (older tokens). */
  expires_at: number | null;
}

/** One credit decision the server made; append-only (triggers refuse UPDATE and DELETE). */
export interface DecisionsTable {
  /** Time-ordered UUIDv7 made by the application, so it can be returned before the commit. */
  id: string;
  created_at: number;
  request_id: string;
  /** The file upload the row came from, or null for a single applicant. */
  batch_id: string | null;
  /** 1-based data row within the batch. */
  row_number: number | null;
  /** "api", "file" or "form". */
  source: string;
  model_name: string;
  model_version: number;
  /** JSON of the applicant as given, with canonical field names. */
  input: string;
  /** "good" or "bad". */
  risk: string;
  probability_bad: number;
  confidence: number;
  threshold: number;
  /** JSON array of the reasons given (text or objects). */
  reasons: string;
  /** JSON explanation, when one was computed. */
  explanation: string | null;
  /**
   * When the personal fields were erased (retention, or a request): `input` then holds only the
   * fairness groups (`{"$groups": {column: group}}`), `reasons` is `[]`, `explanation` null.
   */
  erased_at: number | null;
  /** The user who scored it; null for decisions made before users were recorded. */
  scored_by: string | null;
}

/** Who read or changed applicants' data (append-only); never holds the data itself. */
export interface AccessLogTable {
  id: string;
  at: number;
  user_name: string;
  role: string;
  /** score, read-decision, read-batch, download-scored, record-outcome, erase, sign-in, … */
  action: string;
  /** The decision, batch or user acted on, if one. */
  target: string | null;
  /** The HTTP status answered (200 for work done outside a request). */
  status: number;
  /** The client's address (or `local` for the command line and flows). */
  address: string;
  detail: string | null;
}

/** The observed outcome of a decision; written once (append-only like decisions). */
export interface OutcomesTable {
  decision_id: string;
  /** "good" or "bad". */
  outcome: string;
  recorded_at: number;
  recorded_by: string;
}

/** One attempt of a flow run (a retry is a new row pointing at the attempt it retries). */
export interface FlowRunsTable {
  id: string;
  flow: string;
  /** SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED or CRASHED. */
  state: string;
  /** "schedule", "manual" or "retry". */
  trigger: string;
  /** When it is due (ms). */
  scheduled_for: number;
  /** `<flow>@<slot ms>` for a scheduled first attempt: unique, so a slot runs once. */
  slot_key: string | null;
  /** JSON object of the parameters. */
  params: string;
  attempt: number;
  max_attempts: number;
  /** The attempt this one retries. */
  retry_of: string | null;
  requested_by: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  heartbeat_at: number | null;
  /** `host:pid` of the process that runs it. */
  worker: string | null;
  /** JSON of the flow's result. */
  result: string | null;
  error: string | null;
  /** JSON array of the steps: name, start, end, state. */
  steps: string;
}

/** A flow run's captured log lines. */
export interface FlowLogsTable {
  run_id: string;
  seq: number;
  at: number;
  level: string;
  message: string;
}

export interface DatabaseSchema {
  experiments: ExperimentsTable;
  runs: RunsTable;
  run_tags: RunKeyValueTable;
  run_params: RunKeyValueTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  run_inputs: RunInputsTable;
  run_artifacts: RunArtifactsTable;
  registered_models: RegisteredModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  alias_audit: AliasAuditTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  sign_in_links: SignInLinksTable;
  decisions: DecisionsTable;
  access_log: AccessLogTable;
  outcomes: OutcomesTable;
  flow_runs: FlowRunsTable;
  flow_logs: FlowLogsTable;
}
