/**
 * One error type for the whole project. Each code is stable (never reused), carries an HTTP
 * status for the API and a safe message; `docs/errors.md` lists every code (a test keeps them
 * in step).
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: {
    status: 400,
    exitCode: 2,
    summary: "An argument, option or request field is invalid.",
  },
  FILE_NOT_FOUND: {
    status: 404,
    exitCode: 3,
    summary: "An input file does not exist or cannot be read.",
  },
  PARSE_ERROR: {
    status: 400,
    exitCode: 4,
    summary: "A data file could not be parsed (ARFF or CSV syntax).",
  },
  SCHEMA_MISMATCH: {
    status: 422,
    exitCode: 4,
    summary: "A data file lacks required columns or has the wrong structure.",
  },
  VALIDATION_FAILED: {
    status: 422,
    exitCode: 5,
    summary: "One or more rows failed validation; the errors list each row, column and reason.",
  },
  MODEL_FILE_INVALID: {
    status: 500,
    exitCode: 6,
    summary: "A model file is corrupted, truncated or does not match its checksum.",
  },
  MODEL_VERSION_UNSUPPORTED: {
    status: 500,
    exitCode: 6,
    summary: "A model file has a format version this release cannot read.",
  },
  TRAINING_FAILED: {
    status: 500,
    exitCode: 7,
    summary: "Training could not produce a model (for example a single-class training set).",
  },
  STORE_URI_INVALID: {
    status: 500,
    exitCode: 2,
    summary:
      "A store URI has an unknown scheme or is malformed; the message lists the valid schemes.",
  },
  CONFIG_INVALID: {
    status: 500,
    exitCode: 2,
    summary: "A configuration value (environment variable or option) is invalid.",
  },
  STORE_UNAVAILABLE: {
    status: 503,
    exitCode: 8,
    summary: "The metadata database or the artifact store cannot be reached or written.",
  },
  STORE_SCHEMA_TOO_NEW: {
    status: 500,
    exitCode: 8,
    summary: "The database was migrated by a newer release than this one.",
  },
  NOT_FOUND: {
    status: 404,
    exitCode: 9,
    summary: "An experiment, run, model, version, alias, user or artifact does not exist.",
  },
  CONFLICT: {
    status: 409,
    exitCode: 10,
    summary:
      "The request conflicts with stored state (a taken name, a param re-logged with another value, a finished run).",
  },
  INVALID_QUERY: {
    status: 400,
    exitCode: 2,
    summary:
      "A run search filter or order-by clause is malformed; the message points at the problem.",
  },
  UNAUTHENTICATED: {
    status: 401,
    exitCode: 11,
    summary:
      "No credentials were given (an API token, or a signed-in session), or they are unknown, revoked or expired.",
  },
  FORBIDDEN: {
    status: 403,
    exitCode: 11,
    summary:
      "The user's role does not allow the action, or the four-eyes rule forbids approving one's own version.",
  },
  RATE_LIMITED: {
    status: 429,
    exitCode: 11,
    summary:
      "Too many requests, or too many failed sign-ins for a user, in a short time; the message says when to try again.",
  },
  FILE_TOO_LARGE: {
    status: 413,
    exitCode: 4,
    summary: "An uploaded file is larger than the server accepts; split it.",
  },
  MODEL_NOT_READY: {
    status: 503,
    exitCode: 6,
    summary:
      "No model is serving: no version has the serving alias yet, or its model file could not be loaded.",
  },
  DATASET_SPEC_INVALID: {
    status: 422,
    exitCode: 4,
    summary:
      "A dataset spec is malformed or inconsistent; the message names the file, the JSON path and the reason.",
  },
  INTERNAL: { status: 500, exitCode: 1, summary: "An unexpected internal error." },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
