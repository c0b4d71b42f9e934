import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../core/errors.js";
import {
  type RowError,
  type ValidatedBatch,
  readApplicants,
  readXlsxApplicants,
  validateApplicant,
} from "../../data/index.js";
import {
  type DecisionRow,
  type DecisionTuple,
  type NewDecision,
  TUPLE_INDEX,
  fromDecisionValues,
  newDecisionId,
} from "../../decisions/index.js";
import type { ServingModels, ServingState } from "../serving-state.js";
import { withProblems } from "../schemas.js";
import type { Scorer } from "../scoring.js";
import { type DecisionContext, decision } from "../decide.js";

/** Largest JSON array of applicants in one request; larger sets go as a file. */
export const MAX_JSON_APPLICANTS = 10_000;

const XLSX_TYPES = new Set([
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.ms-excel.sheet.macroenabled.12",
]);

const READ_NOTE =
  "Scoring needs no token (the server binds to 127.0.0.1 unless told otherwise). Every decision is written to the decision log before the response is sent.";

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

/** What the request asks for besides its applicants. */
interface RequestInfo {
  readonly requestId: string;
  readonly createdAt: number;
  /** Also explain `good` decisions (`?reasons=all`); `bad` ones always are. */
  readonly explainGood: boolean;
  /** Arrays and files: most predictions listed in the answer (`?limit=`); all by default. */
  readonly limit: number;
}

type Common = RequestInfo & DecisionContext;

/** `predictionOf` for a row of the decision log. */
function predictionOfRow(row: DecisionRow): PredictionOut {
  return predictionOf({
    id: row.id,
    rowNumber: row.row_number,
    risk: row.risk as "good" | "bad",
    probabilityBad: row.probability_bad,
    confidence: row.confidence,
    modelName: row.model_name,
    modelVersion: row.model_version,
    reasons: JSON.parse(row.reasons) as unknown[],
  });
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
    errors: { type: "array", items: { $ref: "RowError#" } },
  },
  required: ["predictions", "errors"],
} as const;

export interface PredictionRouteOptions {
  readonly models: ServingModels;
  /** Largest uploaded file in bytes. */
  readonly maxFileBytes: number;
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
      bodyLimit: opts.maxFileBytes,
      schema: {
        tags: ["scoring"],
        summary: "Score applicants",
        description: `One applicant (a JSON object keyed by column name) or many (a JSON array of up to ${MAX_JSON_APPLICANTS}); or a file: a \`text/csv\` body, or a \`multipart/form-data\` upload of a .csv or .xlsx file in the field \`file\`. Valid applicants are scored and logged; invalid ones are listed in \`errors\` with row, column and reason. A single invalid applicant is refused with 422 and nothing is logged. Each refused (\`bad\`) prediction carries the top reasons towards \`bad\` (exact contributions; see docs/api.md); accepted ones too with \`?reasons=all\`. ${READ_NOTE}`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            model: {
              type: "string",
              maxLength: 200,
              description:
                "The registered model whose `champion` version scores (default: the configured model). The applicants are validated against that version's dataset spec (`GET /api/v1/schema?model=NAME`)",
            },
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
      const model = state.requireScorer();
      const info: RequestInfo = {
        requestId: request.id,
        createdAt: Date.now(),
        explainGood: request.query.reasons === "all",
        limit: request.query.limit ?? Infinity,
      };
      if (request.isMultipart()) return scoreUpload(state, request, model, info);
      const body = request.body;
      if (isStream(body)) {
        return scoreFile(
          state,
          model,
          info,
          readApplicants(limited(body, opts.maxFileBytes), { spec: model.spec }),
        );
      }
      if (Array.isArray(body)) {
        // An array is a batch: its decisions keep their row numbers and download as a file.
        return scoreArray(state, body, model, { ...info, source: "api", batchId: newDecisionId() });
      }
      const common: Common = { ...info, source: "api", batchId: null };
      if (body === null || typeof body !== "object") {
        throw new AppError(
          "INVALID_ARGUMENT",
          "the body must be a JSON object (one applicant) or an array of them",
        );
      }
      const checked = validateApplicant(body, model.spec);
      if (checked.values === null) {
        throw new AppError(
          "VALIDATION_FAILED",
          `the applicant is invalid: ${checked.errors.map((e) => `${e.column ?? "row"}: ${e.message}`).join("; ")}`,
          { details: { errors: checked.errors } },
        );
      }
      const values = checked.values;
      const made = decision(model, model.score(values, info.explainGood), values, common, {
        id: newDecisionId(),
        rowNumber: null,
      });
      await state.log.append(made);
      state.metrics.count(made.risk, "api", made.probabilityBad, values);
      return { predictions: [predictionOf(made)], errors: [] };
    },
  );

  async function scoreArray(
    state: ServingState,
    body: Applicant[],
    model: Scorer,
    common: Common & { readonly batchId: string },
  ) {
    const { limit } = common;
    if (body.length > MAX_JSON_APPLICANTS) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `at most ${MAX_JSON_APPLICANTS} applicants per JSON request (got ${body.length}); send a CSV or Excel file instead`,
      );
    }
    const errors: RowError[] = [];
    const decisions: NewDecision[] = [];
    const valuesOf: ArrayLike<number>[] = [];
    body.forEach((applicant, i) => {
      const row = i + 1;
      if (applicant === null || typeof applicant !== "object" || Array.isArray(applicant)) {
        errors.push({ row, column: null, kind: "not_an_object", message: "not a JSON object" });
        return;
      }
      const checked = validateApplicant(applicant, model.spec);
      if (checked.values === null) {
        for (const e of checked.errors) errors.push({ ...e, row });
        return;
      }
      const values = checked.values;
      valuesOf.push(values);
      decisions.push(
        decision(model, model.score(values, common.explainGood), values, common, {
          id: newDecisionId(),
          rowNumber: row,
        }),
      );
    });
    await state.log.appendMany(decisions);
    decisions.forEach((d, i) => state.metrics.count(d.risk, "api", d.probabilityBad, valuesOf[i]));
    const bad = decisions.filter((d) => d.risk === "bad").length;
    return {
      batchId: common.batchId,
      summary: summaryOf(body.length, decisions.length, bad, errors),
      predictions: decisions.slice(0, limit).map(predictionOf),
      errors,
    };
  }

  async function scoreUpload(
    state: ServingState,
    request: FastifyRequest,
    model: Scorer,
    info: RequestInfo,
  ) {
    const file = await request.file({ limits: { fileSize: opts.maxFileBytes, files: 1 } });
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
    // size limit, and scoreFile commits nothing for it.
    const truncated = () => {
      if (file.file.truncated) throw tooLarge(opts.maxFileBytes);
    };
    const batches = isXlsx
      ? readXlsxApplicants(file.file, { spec: model.spec })
      : readApplicants(file.file, { spec: model.spec });
    try {
      return await scoreFile(state, model, info, batches, truncated);
    } catch (e) {
      truncated();
      throw e;
    }
  }

  async function scoreFile(
    state: ServingState,
    model: Scorer,
    info: RequestInfo,
    batches: AsyncIterable<ValidatedBatch>,
    beforeCommit?: () => void,
  ) {
    const { limit } = info;
    // The whole file is read and validated before anything is written: a file that fails
    // half-way (a syntax error, the size limit) leaves no decision behind, and a slow upload
    // never holds the decision log's writer.
    const read: ValidatedBatch[] = [];
    const errors: RowError[] = [];
    let rows = 0;
    for await (const batch of batches) {
      rows += batch.records;
      for (const e of batch.errors) errors.push(e);
      read.push(batch);
    }
    beforeCommit?.();
    const batchId = newDecisionId();
    const predictions: PredictionOut[] = [];
    const scored = read.reduce((n, b) => n + b.table.n, 0);
    const probabilities = new Float64Array(scored);
    const isBad = new Uint8Array(scored);
    let bad = 0;
    let at = 0;
    // Every batch goes to the scoring workers at once and comes back as finished decision rows,
    // in file order; the log writes each while later ones are still being made, all in one
    // transaction. Ids are made here, so they increase in file order.
    const context: DecisionContext = {
      requestId: info.requestId,
      createdAt: info.createdAt,
      source: "file",
      batchId,
    };
    const results = read.map((b) =>
      model.decideBatch({
        columns: b.table.columns,
        n: b.table.n,
        rowNumbers: b.rowNumbers,
        ids: Array.from({ length: b.table.n }, () => newDecisionId()),
        extras: b.extras,
        context,
        explainGood: info.explainGood,
      }),
    );
    // A batch that fails is reported through the stream; the others must not go unhandled.
    for (const r of results) r.catch(() => {});
    async function* decisionRows(): AsyncGenerator<DecisionTuple[]> {
      for (const result of results) {
        const rows = await result;
        for (const row of rows) {
          const p = row[TUPLE_INDEX.probability_bad] as number;
          probabilities[at] = p;
          if (row[TUPLE_INDEX.risk] === "bad") {
            isBad[at] = 1;
            bad++;
          }
          at++;
          if (predictions.length < limit) {
            predictions.push(predictionOfRow(fromDecisionValues(row)));
          }
        }
        yield rows;
      }
    }
    await state.log.appendStream(decisionRows());
    let i = 0;
    for (const { table } of read) {
      const values = new Float64Array(table.columns.length);
      for (let k = 0; k < table.n; k++, i++) {
        for (let j = 0; j < values.length; j++) values[j] = table.columns[j][k];
        state.metrics.count(isBad[i] === 1 ? "bad" : "good", "file", probabilities[i], values);
      }
    }
    return {
      batchId,
      summary: summaryOf(rows, scored, bad, errors),
      predictions,
      errors,
    };
  }
}

function summaryOf(rows: number, scored: number, bad: number, errors: readonly RowError[]) {
  const rejected = new Set(errors.map((e) => e.row)).size;
  return { rows, scored, rejected, good: scored - bad, bad };
}

function isStream(body: unknown): body is Readable {
  return typeof (body as Readable | null)?.pipe === "function";
}
