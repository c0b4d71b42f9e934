/**
 * Throughput of the CSV reader + validator on the 21-column credit CSV.
 *
 * Run from the package root after `npm run build` (Node 20 cannot run TypeScript directly):
 *
 *   npx tsc bench/csv-read.bench.ts --outDir dist/bench --module nodenext \
 *     --moduleResolution nodenext --target es2022 --types node --skipLibCheck
 *   node dist/bench/csv-read.bench.js [rows=1000000]
 *
 * The script writes a CSV of `rows` applicants (the 1000 German credit rows repeated) to the
 * temp directory, then times over that file: readApplicants (read + parse + validate, the
 * number that counts), the same on an all-fields-quoted copy, with the write-back options
 * (`keepRawLines`, `keepRaw`), the parser alone producing string records, and csv-parse on a
 * slice for comparison. It prints rows/s (wall clock) for each and deletes the files.
 */
import { parse } from "csv-parse";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as DataModule from "../dist/data/index.js";

type Data = typeof DataModule;

const root = process.cwd();
const data = (await import(pathToFileURL(resolve(root, "dist/data/index.js")).href)) as Data;

const rows = Number(process.argv[2] ?? 1_000_000);

async function collectArffRows(): Promise<{ header: string[]; records: string[][] }> {
  const records: string[][] = [];
  let header: string[] = [];
  for await (const rec of data.readArff(data.DEFAULT_DATA_PATH)) {
    if (header.length === 0) header = Object.keys(rec);
    records.push(header.map((h) => rec[h]));
  }
  return { header, records };
}

async function writeCsv(path: string, quoteAll: boolean): Promise<void> {
  const { header, records } = await collectArffRows();
  const fmt = (cells: string[]): string =>
    quoteAll
      ? cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(",")
      : data.formatCsvRow(cells, ",");
  const lines = records.map((r) => fmt(r) + "\n");
  const out = createWriteStream(path);
  out.write(fmt(header) + "\n");
  let block = "";
  for (let i = 0; i < rows; i++) {
    block += lines[i % lines.length];
    if (block.length > 1 << 20) {
      if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
      block = "";
    }
  }
  out.write(block);
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

/**
 * Runs `run` and prints rows/s by wall clock and by CPU time of this process (user + system,
 * which also counts GC and JIT threads); on a machine shared with other work the CPU figure is
 * the steadier one.
 */
async function time(label: string, n: number, run: () => Promise<number>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const got = await run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  if (got !== n) throw new Error(`${label}: expected ${n} rows, got ${got}`);
  const rate = (x: number): string =>
    Math.round(n / x)
      .toLocaleString("en-US")
      .padStart(11);
  console.log(
    `${label.padEnd(42)} ${String(n).padStart(9)} rows ${s.toFixed(2).padStart(6)} s ` +
      `${rate(s)} rows/s wall ${rate(cpuS)} rows/s cpu`,
  );
}

async function readApplicantsRows(
  path: string,
  options: { keepRaw?: boolean; keepRawLines?: boolean } = {},
): Promise<number> {
  let n = 0;
  for await (const b of data.readApplicants(path, options)) {
    if (b.errors.length > 0) throw new Error(`unexpected error: ${b.errors[0].message}`);
    n += b.table.n;
  }
  return n;
}

async function parserRows(path: string): Promise<number> {
  const input = await data.openCsv(path);
  let n = 0;
  for await (const b of input.batches(8192)) n += b.records.length;
  return n;
}

async function csvParseRows(path: string, limit: number): Promise<number> {
  const parser = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(
    parse({ from_line: 2, to_line: limit + 1, bom: true }),
  );
  let n = 0;
  for await (const rec of parser as AsyncIterable<string[]>) if (rec.length > 0) n++;
  return n;
}

const dir = await mkdtemp(join(tmpdir(), "riskometer-bench-"));
try {
  const plain = join(dir, "applicants.csv");
  const quoted = join(dir, "applicants-quoted.csv");
  await writeCsv(plain, false);
  await writeCsv(quoted, true);
  const mb = (await stat(plain)).size / 1e6;
  console.log(`node ${process.version}; ${rows} rows, ${mb.toFixed(0)} MB, 21 columns`);
  await time("readApplicants (read+parse+validate)", rows, () => readApplicantsRows(plain));
  await time("  same, second run", rows, () => readApplicantsRows(plain));
  await time("readApplicants, every field quoted", rows, () => readApplicantsRows(quoted));
  await time("readApplicants + rawLines (write-back)", rows, () =>
    readApplicantsRows(plain, { keepRawLines: true }),
  );
  await time("readApplicants + raw cells", rows, () =>
    readApplicantsRows(plain, { keepRaw: true }),
  );
  await time("openCsv string records, no validation", rows, () => parserRows(plain));
  const slice = Math.min(rows, 200_000);
  await time("csv-parse only (first rows)", slice, () => csvParseRows(plain, slice));
} finally {
  await rm(dir, { recursive: true, force: true });
}
