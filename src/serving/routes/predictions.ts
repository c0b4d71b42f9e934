import type { Readable } from "node:stream";
import { noteForAudit, userOf } from "../access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../core/errors.js";
import { MAX_LISTED_ERRORS, readApplicants, readXlsxApplicants } from "../../data/index.js";
import { type DecisionTuple, TUPLE_INDEX } from "../../decisions/index.js";
import type { DecidedBatch, Decider, DecisionRequest } from "../../scoring/index.js";
import type { ServingModels } from "../serving-state.js";
import { modelQuery, withProblems } from "../schemas.js";

/** Largest JSON array of applicants in one request; larger sets go as a file. */
export const MAX_JSON_APPLICANTS = 10_000;

/**
 * Default largest JSON body of a scoring request: 10,000 applicants of a wide data set fit. A
 * JSON body is parsed whole on the event loop, so it must not be allowed the size of a file
 * (CSV bodies and uploads stream through the reader and keep `maxFileBytes`).
 */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

const XLSX_TYPES = new Set([
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.ms-excel.sheet.macroenabled.12",
]);

type Applicant = Record<string, unknown>;

interface PredictionOut {
  id: string;
  row?: number;
  risk: "good" | "bad";
  probabilityBad: number;
  confidence: number;
  model: { name: string; version: number };
  reasons: readonly unknown[];
}

/** What the API answers for a decision (the same shape for a fresh one and a logged one). */
export function predictionOf(d: {
  readonly id: string;
  readonly rowNumber: number | null;
  readonly risk: "good" | "bad";
  readonly probabilityBad: number;
  readonly confidence: number;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly reasons: readonly unknown[];
}): PredictionOut {
  return {
    id: d.id,
    ...(d.rowNumber === null ? {} : { row: d.rowNumber }),
    risk: d.risk,
    probabilityBad: d.probabilityBad,
    confidence: d.confidence,
    model: { name: d.modelName, version: d.modelVersion },
    reasons: d.reasons,
  };
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(
    "FILE_TOO_LARGE",
    `the file is larger than the ${(maxBytes / 1e6).toLocaleString("en", { maximumFractionDigits: 3 })} MB this server accepts; split it`,
  );
}

/** Caps a streamed upload: fastify's body limit does not see bodies handed on as streams. */
async function* limited(stream: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      throw tooLarge(maxBytes);
    }
    yield buf;
  }
}

const REASON_SCHEMA = {
  type: "object",
  properties: {
    feature: { type: "string" },
    label: { type: "string" },
    value: {
      type: ["string", "number", "null"],
      description: "The category's value or the number; null when the value is missing",
    },
    valueLabel: { type: "string" },
    contribution: { type: "number" },
    text: { type: "string" },
  },
} as const;

export const PREDICTION_SCHEMA = {
  type: "object",
  properties: {
    id: { type: "string", description: "Id of the logged decision (for outcomes)" },
    row: { type: "integer", description: "1-based data row of the applicant in the array or file" },
    risk: { type: "string", enum: ["good", "bad"] },
    probabilityBad: { type: "number", description: "Calibrated probability of a bad outcome" },
    confidence: { type: "number", description: "Calibrated probability of the predicted class" },
    model: {
      type: "object",
      properties: { name: { type: "string" }, version: { type: "integer" } },
    },
    reasons: {
      type: "array",
      items: REASON_SCHEMA,
      description: "Up to three features pushing this applicant towards bad, largest first",
    },
  },
} as const;

const PREDICTIONS_RESPONSE = {
  type: "object",
  properties: {
    batchId: {
      type: "string",
      description: "Arrays and files: id for downloading the scored rows as CSV",
    },
    summary: {
      type: "object",
      properties: {
        rows: { type: "integer" },
        scored: { type: "integer" },
        rejected: { type: "integer" },
        good: { type: "integer" },
        bad: { type: "integer" },
      },
    },
    predictions: { type: "array", items: PREDICTION_SCHEMA },
    errors: {
      type: "array",
      items: { $ref: "RowError#" },
      description: `The invalid applicants' errors in row order, at most ${MAX_LISTED_ERRORS}; \`errorCounts\` counts all of them`,
    },
    errorCounts: {
      type: "object",
      description: "Arrays and files: every error counted, listed or not",
      properties: {
        total: { type: "integer", description: "Errors in all" },
        rows: { type: "integer", description: "Rows with at least one error" },
        byColumn: {
          type: "array",
          description: "Errors per column (null: the whole row) and reason, most frequent first",
          items: {
            type: "object",
            properties: {
              column: { type: ["string", "null"] },
              kind: { type: "string" },
              count: { type: "integer" },
            },
            required: ["column", "kind", "count"],
          },
        },
      },
      required: ["total", "rows", "byColumn"],
    },
  },
  required: ["predictions", "errors"],
} as const;

export interface PredictionRouteOptions {
  readonly models: ServingModels;
  /** Largest uploaded file in bytes. */
  readonly maxFileBytes: number;
  /** Largest JSON body in bytes (default MAX_JSON_BYTES). */
  readonly maxJsonBytes?: number;
}

/** `POST /api/v1/predictions` (JSON, CSV, multipart CSV or Excel) and the batch download. */
export async function predictionRoutes(app: FastifyInstance, opts: PredictionRouteOptions) {
  const { models } = opts;
  // CSV bodies reach the handler as a stream, parsed row by row as they arrive.
  app.addContentTypeParser(["text/csv", "application/csv"], (_request, payload, done) =>
    done(null, payload),
  );

  app.post<{
    Body: Applicant | Applicant[] | Readable;
    Querystring: { reasons: "bad" | "all"; limit?: number; model?: string };
  }>(
    "/api/v1/predictions",
    {
      // Fastify applies it to the JSON parser only: the CSV parser hands over the stream.
      bodyLimit: opts.maxJsonBytes ?? MAX_JSON_BYTES,
      schema: {
        tags: ["scoring"],
        summary: "Score applicants",
        description: `One applicant (a JSON object keyed by column name) or many (a JSON array of up to ${MAX_JSON_APPLICANTS}); or a file: a \`text/csv\` body, or a \`multipart/form-data\` upload of a .csv or .xlsx file in the field \`file\`. Valid applicants are scored and logged; invalid ones are listed in \`errors\` with row, column and reason. A single invalid applicant is refused with 422 and nothing is logged. Each refused (\`bad\`) prediction carries the top reasons towards \`bad\` (exact contributions; see docs/api.md); accepted ones too with \`?reasons=all\`. Every decision is written to the decision log before the response is sent.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            model: modelQuery(
              "The registered model whose `champion` version scores (default: the configured model). The applicants are validated against that version's dataset spec (`GET /api/v1/schema?model=NAME`)",
            ),
            reasons: {
              type: "string",
              enum: ["bad", "all"],
              default: "bad",
              description:
                "`bad` (default): reasons for every refused applicant; `all`: for accepted ones too (exact explanations of a large forest or blend cost milliseconds per applicant)",
            },
            limit: {
              type: "integer",
              minimum: 0,
              description:
                "Arrays and files: list at most this many predictions (the first rows, in order) in the answer; the summary still counts all of them, and every one is logged. Read the rest page by page, sorted and filtered, from `GET /api/v1/batches/{batchId}/predictions`. Default: all",
            },
          },
        },
        response: withProblems({ 200: PREDICTIONS_RESPONSE }),
      },
    },
    async (request) => {
      const state = await models.get(request.query.model);
      const decider = state.requireDecider();
      const info = {
        requestId: request.id,
        createdAt: Date.now(),
        explainGood: request.query.reasons === "all",
        scoredBy: userOf(request).name,
      };
      const limit = request.query.limit ?? Infinity;
      if (request.isMultipart()) {
        return answer(
          await scoreUpload(request, decider, { ...info, source: "file" }, limit),
          request,
        );
      }
      const body = request.body;
      if (isStream(body)) {
        const batches = readApplicants(limited(body, opts.maxFileBytes), { spec: decider.spec });
        return answer(
          await decider.decideFile(batches, { ...info, source: "file" }, limit),
          request,
        );
      }
      if (Array.isArray(body)) {
        if (body.length > MAX_JSON_APPLICANTS) {
          throw new AppError(
            "INVALID_ARGUMENT",
            `at most ${MAX_JSON_APPLICANTS} applicants per JSON request (got ${body.length}); send a CSV or Excel file instead`,
          );
        }
        // An array is a batch: its decisions keep their row numbers and download as a file.
        return answer(await decider.decideArray(body, { ...info, source: "api" }, limit), request);
      }
      if (body === null || typeof body !== "object") {
        throw new AppError(
          "INVALID_ARGUMENT",
          "the body must be a JSON object (one applicant) or an array of them",
        );
      }
      const made = await decider.decideOne(body, { ...info, source: "api" });
      const prediction = predictionOfTuple(made);
      noteForAudit(request, { target: prediction.id, counts: { rows: 1, scored: 1, rejected: 0 } });
      return { predictions: [prediction], errors: [] };
    },
  );

  async function scoreUpload(
    request: FastifyRequest,
    decider: Decider,
    info: DecisionRequest,
    limit: number,
  ): Promise<DecidedBatch> {
    const file = await request
      .file({ limits: { fileSize: opts.maxFileBytes, files: 1 } })
      .catch((e: unknown) => {
        throw unreadableForm(e);
      });
    if (!file)
      throw new AppError(
        "INVALID_ARGUMENT",
        'the upload has no file (send it in the field "file")',
      );
    const name = file.filename.toLowerCase();
    const isXlsx = name.endsWith(".xlsx") || XLSX_TYPES.has(file.mimetype);
    const isCsv = /\.(csv|txt|tsv)$/.test(name) || file.mimetype.startsWith("text/");
    if (!isXlsx && !isCsv) {
      file.file.resume();
      throw new AppError(
        "INVALID_ARGUMENT",
        `"${file.filename}" is neither a CSV (.csv) nor an Excel (.xlsx) file`,
      );
    }
    // The multipart parser cuts a file at the limit without an error (it marks it truncated):
    // the reader then fails on the cut-off row, or finishes early. Either way the answer is the
    // size limit, and nothing of the file is logged.
    const truncated = () => {
      if (file.file.truncated) throw tooLarge(opts.maxFileBytes);
    };
    const batches = isXlsx
      ? readXlsxApplicants(file.file, { spec: decider.spec })
      : readApplicants(file.file, { spec: decider.spec });
    try {
      return await decider.decideFile(batches, info, limit, truncated);
    } catch (e) {
      truncated();
      throw unreadableForm(e);
    }
  }
}

/**
 * A multipart body the form parser cannot read (a wrong boundary, a cut-off part) is the
 * client's error, not the server's: 400 PARSE_ERROR. Errors of our own pass unchanged.
 */
function unreadableForm(e: unknown): unknown {
  if (e instanceof AppError || !(e instanceof Error)) return e;
  // The plugin's own errors carry their status (413 for a limit, 406 for a content type).
  if (typeof (e as { statusCode?: unknown }).statusCode === "number") return e;
  if (!/multipart|boundary|part header|end of form/i.test(e.message)) return e;
  // The parser's own words are kept as the cause, not passed to the client.
  return new AppError(
    "PARSE_ERROR",
    "the upload is not a readable multipart form (its boundary does not match the content type's, or a part is cut off)",
    { cause: e },
  );
}

/** The answer for an array or a file. */
function answer(batch: DecidedBatch, request: FastifyRequest) {
  const rejected = batch.errorCounts.rows;
  noteForAudit(request, {
    target: batch.batchId,
    counts: { rows: batch.rows, scored: batch.scored, rejected },
  });
  return {
    batchId: batch.batchId,
    summary: {
      rows: batch.rows,
      scored: batch.scored,
      rejected,
      good: batch.scored - batch.bad,
      bad: batch.bad,
    },
    predictions: batch.decisions.map(predictionOfTuple),
    errors: batch.errors,
    errorCounts: batch.errorCounts,
  };
}

/** `predictionOf` for a decision as the scoring path encodes it for the log. */
function predictionOfTuple(t: DecisionTuple): PredictionOut {
  return predictionOf({
    id: t[TUPLE_INDEX.id] as string,
    rowNumber: t[TUPLE_INDEX.row_number] as number | null,
    risk: t[TUPLE_INDEX.risk] as "good" | "bad",
    probabilityBad: t[TUPLE_INDEX.probability_bad] as number,
    confidence: t[TUPLE_INDEX.confidence] as number,
    modelName: t[TUPLE_INDEX.model_name] as string,
    modelVersion: t[TUPLE_INDEX.model_version] as number,
    reasons: JSON.parse(t[TUPLE_INDEX.reasons] as string) as unknown[],
  });
}

function isStream(body: unknown): body is Readable {
  return typeof (body as Readable | null)?.pipe === "function";
}
