import type { RowError, RowErrorKind } from "./validate.js";

/** Most row errors an answer lists; the others are counted by column and reason. */
export const MAX_LISTED_ERRORS = 1_000;

/** How many row errors there were, beyond the ones listed. */
export interface RowErrorCounts {
  readonly total: number;
  /** Rows with at least one error (none of them was scored). */
  readonly rows: number;
  /** Errors per column (null: the whole row) and reason, the most frequent first. */
  readonly byColumn: readonly {
    readonly column: string | null;
    readonly kind: RowErrorKind;
    readonly count: number;
  }[];
}

/**
 * Row errors as they stream in, in row order, kept in bounded memory: the first `limit` in
 * full, and counts of all of them. A file of 200,000 invalid rows then answers with a thousand
 * errors and a table of counts, where the whole list would take gigabytes.
 */
export class RowErrorTally {
  readonly listed: RowError[] = [];
  private total = 0;
  private rows = 0;
  private lastRow = Number.NaN;
  private readonly perColumn = new Map<
    string,
    { column: string | null; kind: RowErrorKind; count: number }
  >();

  constructor(private readonly limit = MAX_LISTED_ERRORS) {}

  add(e: RowError): void {
    this.total++;
    // A row's errors arrive together.
    if (e.row !== this.lastRow) {
      this.rows++;
      this.lastRow = e.row;
    }
    if (this.listed.length < this.limit) this.listed.push(e);
    const key = `${e.column ?? ""}\u0000${e.kind}`;
    const c = this.perColumn.get(key);
    if (c) c.count++;
    else this.perColumn.set(key, { column: e.column, kind: e.kind, count: 1 });
  }

  addAll(errors: readonly RowError[]): void {
    for (const e of errors) this.add(e);
  }

  counts(): RowErrorCounts {
    const byColumn = [...this.perColumn.values()]
      .map((c) => ({ ...c }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.column ?? "").localeCompare(b.column ?? "") ||
          a.kind.localeCompare(b.kind),
      );
    return { total: this.total, rows: this.rows, byColumn };
  }
}
