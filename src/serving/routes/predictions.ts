import type { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../../core/errors.js";
import {
  type CreditSchema,
  type RowError,
  type ValidatedBatch,
  readApplicants,
  readXlsxApplicants,
  validateApplicant,
} from "../../data/index.js";
import { type DecisionSource, type NewDecision, newDecisionId } from "../../decisions/index.js";
import type { ServingState } from "../serving-state.js";
import { withProblems } from "../schemas.js";
import type { Scorer } from "../scoring.js";

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

/** The canonical applicant (schema values by column name) that a decision records. */
function canonicalInput(
  schema: CreditSchema,
  values: ArrayLike<number>,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  schema.columns.forEach((column, j) => {
    const v = values[j];
    out[column.name] = column.kind === "categorical" ? column.values[v].value : v;
  });
  return out;
}

/** What every decision of one request shares. */
interface RequestInfo {
  readonly requestId: string;
  readonly createdAt: number;
  /** Also explain `good` decisions (`?reasons=all`); `bad` ones always are. */
  readonly explainGood: boolean;
}

interface Common extends RequestInfo {
  readonly source: DecisionSource;
  readonly batchId: string | null;
}

function decide(
  scorer: Scorer,
  values: ArrayLike<number>,
  common: Common,
  rowNumber: number | null,
  extras?: Record<string, string>,
): { decision: NewDecision; out: PredictionOut } {
  const scored = scorer.score(values, common.explainGood);
  const id = newDecisionId();
  const decision: NewDecision = {
    id,
    createdAt: common.createdAt,
    requestId: common.requestId,
    batchId: common.batchId,
    rowNumber,
    source: common.source,
    modelName: scorer.name,
    modelVersion: scorer.version,
    input: extras
      ? { ...canonicalInput(scorer.schema, values), ...extras }
      : canonicalInput(scorer.schema, values),
    risk: scored.risk,
    probabilityBad: scored.probabilityBad,
    confidence: scored.confidence,
    threshold: scorer.threshold,
    reasons: scored.reasons,
  };
  const out: PredictionOut = {
    id,
    ...(rowNumber === null ? {} : { row: rowNumber }),
    risk: scored.risk,
    probabilityBad: scored.probabilityBad,
    confidence: scored.confidence,
    model: { name: scorer.name, version: scorer.version },
    reasons: scored.reasons,
  };
  return { decision, out };
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
    value: { type: ["string", "number"] },
    valueLabel: { type: "string" },
    contribution: { type: "number" },
    text: { type: "string" },
  },
} as const;

const PREDICTION_SCHEMA = {
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
  readonly state: ServingState;
  /** Largest uploaded file in bytes. */
  readonly maxFileBytes: number;
}

/** `POST /api/v1/predictions` (JSON, CSV, multipart CSV or Excel) and the batch download. */
export async function predictionRoutes(app: FastifyInstance, opts: PredictionRouteOptions) {
  const { state } = opts;
  // CSV bodies reach the handler as a stream, parsed row by row as they arrive.
  app.addContentTypeParser(["text/csv", "application/csv"], (_request, payload, done) =>
    done(null, payload),
  );

  app.post<{ Body: Applicant | Applicant[] | Readable; Querystring: { reasons: "bad" | "all" } }>(
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
            reasons: {
              type: "string",
              enum: ["bad", "all"],
              default: "bad",
              description:
                "`bad` (default): reasons for every refused applicant; `all`: for accepted ones too (exact explanations of a large forest or blend cost milliseconds per applicant)",
            },
          },
        },
        response: withProblems({ 200: PREDICTIONS_RESPONSE }),
      },
    },
    async (request) => {
      const model = state.requireScorer();
      const info: RequestInfo = {
        requestId: request.id,
        createdAt: Date.now(),
        explainGood: request.query.reasons === "all",
      };
      if (request.isMultipart()) return scoreUpload(request, model, info);
      const body = request.body;
      if (isStream(body)) {
        return scoreFile(model, info, readApplicants(limited(body, opts.maxFileBytes)));
      }
      if (Array.isArray(body)) {
        // An array is a batch: its decisions keep their row numbers and download as a file.
        return scoreArray(body, model, { ...info, source: "api", batchId: newDecisionId() });
      }
      const common: Common = { ...info, source: "api", batchId: null };
      if (body === null || typeof body !== "object") {
        throw new AppError(
          "INVALID_ARGUMENT",
          "the body must be a JSON object (one applicant) or an array of them",
        );
      }
      const checked = validateApplicant(body);
      if (checked.values === null) {
        throw new AppError(
          "VALIDATION_FAILED",
          `the applicant is invalid: ${checked.errors.map((e) => `${e.column ?? "row"}: ${e.message}`).join("; ")}`,
          { details: { errors: checked.errors } },
        );
      }
      const { decision, out } = decide(model, checked.values, common, null);
      await state.log.append(decision);
      state.metrics.count(out.risk, "api", out.probabilityBad);
      return { predictions: [out], errors: [] };
    },
  );

  async function scoreArray(
    body: Applicant[],
    model: Scorer,
    common: Common & { readonly batchId: string },
  ) {
    if (body.length > MAX_JSON_APPLICANTS) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `at most ${MAX_JSON_APPLICANTS} applicants per JSON request (got ${body.length}); send a CSV or Excel file instead`,
      );
    }
    const errors: RowError[] = [];
    const decisions: NewDecision[] = [];
    const predictions: PredictionOut[] = [];
    body.forEach((applicant, i) => {
      const row = i + 1;
      if (applicant === null || typeof applicant !== "object" || Array.isArray(applicant)) {
        errors.push({ row, column: null, kind: "not_an_object", message: "not a JSON object" });
        return;
      }
      const checked = validateApplicant(applicant);
      if (checked.values === null) {
        for (const e of checked.errors) errors.push({ ...e, row });
        return;
      }
      const { decision, out } = decide(model, checked.values, common, row);
      decisions.push(decision);
      predictions.push(out);
    });
    await state.log.appendMany(decisions);
    for (const p of predictions) state.metrics.count(p.risk, "api", p.probabilityBad);
    const bad = predictions.filter((p) => p.risk === "bad").length;
    const rejected = new Set(errors.map((e) => e.row)).size;
    return {
      batchId: common.batchId,
      summary: {
        rows: body.length,
        scored: predictions.length,
        rejected,
        good: predictions.length - bad,
        bad,
      },
      predictions,
      errors,
    };
  }

  async function scoreUpload(request: FastifyRequest, model: Scorer, info: RequestInfo) {
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
    const batches = isXlsx ? readXlsxApplicants(file.file) : readApplicants(file.file);
    try {
      return await scoreFile(model, info, batches, truncated);
    } catch (e) {
      truncated();
      throw e;
    }
  }

  async function scoreFile(
    model: Scorer,
    info: RequestInfo,
    batches: AsyncIterable<ValidatedBatch>,
    beforeCommit?: () => void,
  ) {
    const batchId = newDecisionId();
    const common: Common = { ...info, source: "file", batchId };
    const predictions: PredictionOut[] = [];
    const errors: RowError[] = [];
    let rows = 0;
    let bad = 0;
    const all: NewDecision[] = [];
    for await (const batch of batches) {
      rows += batch.records;
      errors.push(...batch.errors);
      const values = new Float64Array(batch.table.columns.length);
      const extraHeader = batch.extras.header;
      for (let k = 0; k < batch.table.n; k++) {
        for (let j = 0; j < values.length; j++) values[j] = batch.table.columns[j][k];
        const extras =
          extraHeader.length === 0
            ? undefined
            : Object.fromEntries(extraHeader.map((h, e) => [h, batch.extras.values[k][e]]));
        const { decision, out } = decide(model, values, common, batch.rowNumbers[k], extras);
        all.push(decision);
        predictions.push(out);
      }
    }
    // One commit once the whole file has been read: a file that fails half-way (a syntax error,
    // the size limit) leaves no decision behind, and a logged file is a complete one.
    beforeCommit?.();
    await state.log.appendMany(all);
    for (const d of all) {
      if (d.risk === "bad") bad++;
      state.metrics.count(d.risk, "file", d.probabilityBad);
    }
    const rejected = new Set(errors.map((e) => e.row)).size;
    return {
      batchId,
      summary: { rows, scored: predictions.length, rejected, good: predictions.length - bad, bad },
      predictions,
      errors,
    };
  }
}

function isStream(body: unknown): body is Readable {
  return typeof (body as Readable | null)?.pipe === "function";
}
