/**
 * A world for the Risk-O-Meter browser suite: a fresh SQLite home with a small real model
 * (logistic regression, one tuning trial) trained from data/credit-g.arff, which the first-install
 * bootstrap makes champion; and applicant files (CSV, Excel) cut from the same data.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { loadConfig } from "../../src/core/config.js";
import {
  DEFAULT_DATA_PATH,
  loadTrainingData,
  defaultSpec,
  featureColumns,
} from "../../src/data/index.js";
import { runTrainFlow } from "../../src/flows/index.js";
import { type AppContext, openContext } from "../../src/main.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

export interface TrainedWorld {
  readonly ctx: AppContext;
  readonly model: { readonly name: string; readonly version: number };
  close(): Promise<void>;
}

/** Opens a context on a fresh home and trains and registers one quick model that serves. */
export async function trainedWorld(): Promise<TrainedWorld> {
  const home = await mkdtemp(join(tmpdir(), "riskometer-rom-"));
  const ctx = await openContext(
    loadConfig(
      {},
      {
        home,
        databaseUrl: `sqlite:${join(home, "riskometer.db")}`,
        artifactsUrl: join(home, "artifacts"),
        bootstrapChampion: true,
      },
    ),
  );
  try {
    const result = await runTrainFlow(ctx, {
      data: await loadTrainingData(),
      trials: 1,
      seed: 11,
      candidates: ["logreg"],
      top: 1,
      actor: "browser-test",
    });
    if (!result.bootstrap) throw new Error("the trained version did not become champion");
    return {
      ctx,
      model: { name: result.version.name, version: result.version.version },
      close: async () => {
        await ctx.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await ctx.close();
    await rm(home, { recursive: true, force: true });
    throw e;
  }
}

/** The 20 applicant column names, in schema order. */
export const COLUMN_NAMES = GERMAN_COLUMNS.map((c) => c.name);

/** Splits one ARFF data line into its cells ('quoted' cells unquoted). */
function arffCells(line: string): string[] {
  const cells: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|([^,]*))\s*(?:,|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m.index < line.length) {
    cells.push(m[1] !== undefined ? m[1] : m[2].trim());
  }
  return cells;
}

/** The first `count` applicants of the German credit data, keyed by column (class dropped). */
export async function creditRows(count: number): Promise<Record<string, string>[]> {
  const text = await readFile(DEFAULT_DATA_PATH, "utf8");
  const data = text.slice(text.toLowerCase().indexOf("@data") + "@data".length);
  const lines = data
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("%"));
  return lines.slice(0, count).map((line) => {
    const cells = arffCells(line);
    return Object.fromEntries(COLUMN_NAMES.map((name, j) => [name, cells[j]]));
  });
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A CSV file (header + rows) with the given columns. */
export function toCsv(rows: Record<string, string>[], columns: readonly string[] = COLUMN_NAMES) {
  return (
    [columns, ...rows.map((r) => columns.map((c) => r[c] ?? ""))]
      .map((cells) => cells.map(csvCell).join(","))
      .join("\r\n") + "\r\n"
  );
}

/** An Excel workbook (one sheet, header + rows; numeric columns as numbers). */
export async function toXlsx(rows: Record<string, string>[]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet("Applicants");
  sheet.addRow(COLUMN_NAMES);
  const numeric = new Set(GERMAN_COLUMNS.filter((c) => c.kind === "numeric").map((c) => c.name));
  for (const r of rows) {
    sheet.addRow(COLUMN_NAMES.map((c) => (numeric.has(c) ? Number(r[c]) : r[c])));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
