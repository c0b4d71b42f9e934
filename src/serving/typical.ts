import { type DatasetSpec, featureColumns } from "../data/index.js";
import type { ReferenceProfile } from "../monitoring/reference-profile.js";

/** A column's typical value: a category's value, a number, or null when every value was missing. */
export type TypicalValue = string | number | null;

/**
 * The typical applicant of a version's training data, by column name: the most common value of
 * each categorical column (the first in the spec's order on a tie) and the median of each
 * numeric one (rounded for whole-number columns). A starting point that is true of many
 * applicants, for forms and templates. Columns the profile does not describe are left out.
 */
export function typicalValues(
  spec: DatasetSpec,
  profile: ReferenceProfile,
): Map<string, TypicalValue> {
  const byName = new Map(profile.columns.map((c) => [c.name, c]));
  const out = new Map<string, TypicalValue>();
  for (const column of featureColumns(spec)) {
    const p = byName.get(column.name);
    if (column.kind === "numeric") {
      if (p?.kind !== "numeric") continue;
      const n = p.sorted.length;
      const middle = (p.sorted[Math.floor((n - 1) / 2)] + p.sorted[Math.floor(n / 2)]) / 2;
      out.set(column.name, n === 0 ? null : column.integer ? Math.round(middle) : middle);
    } else {
      if (p?.kind !== "categorical") continue;
      let best: string | null = null;
      let most = 0;
      for (const v of column.values) {
        const seen = Object.hasOwn(p.counts, v.value) ? p.counts[v.value] : 0;
        if (seen > most) {
          best = v.value;
          most = seen;
        }
      }
      out.set(column.name, best);
    }
  }
  return out;
}
