import { checkSpec } from "./spec-check.js";
import { SPEC_FORMAT, type DatasetSpec } from "./spec.js";

/**
 * Model files of format version 1 carry the German credit schema in its first form (values with
 * one UCI `code` each, a target with `positive` and `codes`). They still load: the schema is
 * read as the dataset spec it describes.
 */
export function specFromLegacySchema(schema: unknown, source: string): DatasetSpec {
  const s = schema as {
    columns: {
      name: string;
      label: string;
      description?: string;
      kind: "numeric" | "categorical";
      values?: { value: string; label: string; code: string }[];
      min?: number;
      max?: number;
      integer?: boolean;
      unit?: string;
    }[];
    target: {
      name: string;
      values: string[];
      positive: string;
      aliases: string[];
      codes: Record<string, string>;
    };
  };
  const codes = Object.entries(s.target.codes ?? {});
  return checkSpec(
    {
      format: SPEC_FORMAT,
      formatVersion: 1,
      name: "german-credit",
      version: 1,
      columns: s.columns.map((c) =>
        c.kind === "categorical"
          ? {
              name: c.name,
              label: c.label,
              description: c.description,
              kind: c.kind,
              values: (c.values ?? []).map((v) => ({
                value: v.value,
                label: v.label,
                aliases: [v.code],
              })),
            }
          : {
              name: c.name,
              label: c.label,
              description: c.description,
              kind: c.kind,
              min: c.min,
              max: c.max,
              integer: c.integer === true,
              ...(c.unit !== undefined ? { unit: c.unit } : {}),
            },
      ),
      target: {
        name: s.target.name,
        aliases: s.target.aliases.filter((a) => a !== s.target.name),
        values: s.target.values.map((v) => ({
          value: v,
          label: v,
          aliases: codes.filter(([, to]) => to === v).map(([code]) => code),
        })),
        riskClass: s.target.positive,
      },
    },
    `${source} (schema of format version 1)`,
  );
}
