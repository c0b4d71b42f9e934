import { sql, type Kysely } from "kysely";
import { AppError } from "../core/errors.js";
import type { DatasetSpec } from "../data/index.js";
import { ERASED_GROUPS, groupsOf } from "../monitoring/fairness.js";
import type { Database, DatabaseSchema } from "../storage/index.js";

/** Which decisions to erase; every given condition must hold. */
export interface ErasureFilter {
  /** These decisions. */
  readonly ids?: readonly string[];
  /** Decisions made before this time (ms): retention. */
  readonly before?: number;
  /** Decisions whose applicant had this value in this column (an applicant id, say). */
  readonly match?: { readonly column: string; readonly value: string | number };
}

/** The dataset spec a model version was trained on, for its fairness groups. */
export type SpecOf = (model: string, version: number) => Promise<DatasetSpec | null>;

/** The spec of a registered version, read from its model file. */
export function specOfVersion(registry: {
  loadModel(ref: string): Promise<{ model: { spec: DatasetSpec } }>;
}): SpecOf {
  return async (model, version) => (await registry.loadModel(`${model}/${version}`)).model.spec;
}

const PAGE = 500;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Erases the personal fields of logged decisions: the applicant's values become only the
 * fairness groups they were in (`{"$groups": {"age": "< 25", …}}`), the reasons and the
 * explanation (which quote values) go; the scores, risk, threshold, model, time, batch and row,
 * and the outcome stay, so monitoring and fairness keep working. A decision is erased once; the
 * database refuses any other change to it (and any delete).
 */
export class DecisionEraser {
  private readonly db: Kysely<DatabaseSchema>;

  constructor(
    private readonly database: Database,
    private readonly specOf: SpecOf,
  ) {
    this.db = database.db;
  }

  /** Erases the decisions `filter` selects that are not erased yet; returns how many. */
  async erase(
    filter: ErasureFilter,
    now = Date.now(),
    onProgress?: (erased: number) => void,
  ): Promise<number> {
    if (filter.ids === undefined && filter.before === undefined && filter.match === undefined) {
      throw new AppError("INVALID_ARGUMENT", "say which decisions to erase (ids, before or match)");
    }
    if (filter.match && !COLUMN.test(filter.match.column)) {
      throw new AppError("INVALID_ARGUMENT", `"${filter.match.column}" is not a column name`);
    }
    if (filter.ids?.length === 0) return 0;
    const specs = new Map<string, DatasetSpec | null>();
    let erased = 0;
    for (;;) {
      let q = this.db
        .selectFrom("decisions")
        .select(["id", "model_name", "model_version", "input"])
        .where("erased_at", "is", null);
      if (filter.ids !== undefined) q = q.where("id", "in", [...filter.ids]);
      if (filter.before !== undefined) q = q.where("created_at", "<", filter.before);
      if (filter.match)
        q = q.where(this.matches(filter.match.column), "=", String(filter.match.value));
      const rows = await q.orderBy("created_at").orderBy("id").limit(PAGE).execute();
      if (rows.length === 0) return erased;
      const updates: { id: string; input: string }[] = [];
      for (const row of rows) {
        const key = `${row.model_name}/${row.model_version}`;
        if (!specs.has(key)) {
          specs.set(key, await this.specOf(row.model_name, row.model_version).catch(() => null));
        }
        const spec = specs.get(key) ?? null;
        const values = JSON.parse(row.input) as Record<string, unknown>;
        const input = JSON.stringify({ [ERASED_GROUPS]: groupsOf(spec?.fairness ?? [], values) });
        updates.push({ id: row.id, input });
      }
      await this.db.transaction().execute(async (tx) => {
        for (const u of updates) {
          await tx
            .updateTable("decisions")
            .set({ input: u.input, reasons: "[]", explanation: null, erased_at: now })
            .where("id", "=", u.id)
            .where("erased_at", "is", null)
            .execute();
        }
      });
      erased += updates.length;
      onProgress?.(erased);
      if (rows.length < PAGE) return erased;
    }
  }

  /** The applicant's value in `column` as text, in this database's JSON dialect. */
  private matches(column: string) {
    // The column name is checked against COLUMN and passed as a bound JSON path or key.
    return this.database.dialect.name === "sqlite"
      ? sql<string>`CAST(json_extract(input, ${`$."${column}"`}) AS TEXT)`
      : sql<string>`(input::jsonb ->> ${column})`;
  }
}
