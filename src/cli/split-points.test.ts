import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../core/index.js";
import { RecordBoundaryScanner, quoteParity } from "./split-points.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "riskometer-split-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
function write(text: string): string {
  const path = join(dir, `f${files++}.csv`);
  writeFileSync(path, text);
  return path;
}

/** The definition, byte by byte: the first offset ≥ target just after an LF with even quotes before. */
function expected(bytes: Buffer, target: number): number {
  let odd = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x22) odd = !odd;
    else if (bytes[i] === 0x0a && !odd && i + 1 >= target) return i + 1;
  }
  return bytes.length;
}

async function scan(path: string, targets: number[], chunkBytes: number): Promise<number[]> {
  const scanner = await RecordBoundaryScanner.open(path, chunkBytes);
  try {
    const out: number[] = [];
    for (const t of targets) out.push(await scanner.next(t));
    return out;
  } finally {
    await scanner.close();
  }
}

/** Next targets after each answer, as a caller splitting into pieces of `step` bytes asks. */
async function pieces(path: string, step: number, chunkBytes: number): Promise<number[]> {
  const scanner = await RecordBoundaryScanner.open(path, chunkBytes);
  try {
    const out: number[] = [];
    for (let at = 0; at < scanner.size;) {
      at = await scanner.next(at + step);
      out.push(at);
    }
    return out;
  } finally {
    await scanner.close();
  }
}

function expectedPieces(bytes: Buffer, step: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < bytes.length;) {
    at = expected(bytes, at + step);
    out.push(at);
  }
  return out;
}

describe("RecordBoundaryScanner", () => {
  it("skips line breaks inside quotes, with quotes and CRLF across chunk boundaries", async () => {
    const text = 'a,b\r\n"x\r\ny",1\r\n"say ""hi""\n",2\r\n"",3\r\nlast,4\r\n';
    const bytes = Buffer.from(text);
    const path = write(text);
    for (const chunk of [1, 2, 3, 5, 64]) {
      for (let t = 1; t <= bytes.length; t++) {
        expect(await scan(path, [t], chunk)).toEqual([expected(bytes, t)]);
      }
      expect(await pieces(path, 3, chunk)).toEqual(expectedPieces(bytes, 3));
    }
    // The boundaries themselves: after the header and after each record.
    expect(await pieces(path, 1, 4)).toEqual([5, 15, 32, 38, 46]);
  });

  it("answers the file size when no line break follows, as without a final line break", async () => {
    const text = 'h\n1\n"open\n2\nend';
    const path = write(text);
    expect(await scan(path, [1, 3], 2)).toEqual([2, 4]);
    expect(await scan(path, [5], 2)).toEqual([text.length]);
    expect(await scan(write(""), [1], 4)).toEqual([0]);
  });

  it("matches the definition on random quoted text", async () => {
    const rng = new Rng(7);
    const alphabet = ['"', '"', "\n", "\r\n", ",", "a", "bc", "é"];
    for (let round = 0; round < 20; round++) {
      let text = "";
      while (text.length < 400) text += alphabet[Math.floor(rng.next() * alphabet.length)];
      const bytes = Buffer.from(text);
      const path = write(text);
      for (const [step, chunk] of [
        [1, 1],
        [7, 3],
        [40, 16],
        [100, 1 << 20],
      ]) {
        expect(await pieces(path, step, chunk)).toEqual(expectedPieces(bytes, step));
      }
    }
  });

  it("refuses targets that do not increase", async () => {
    const scanner = await RecordBoundaryScanner.open(write("a\nb\nc\n"));
    try {
      expect(await scanner.next(1)).toBe(2);
      await expect(scanner.next(2)).rejects.toThrow(RangeError);
    } finally {
      await scanner.close();
    }
  });
});

describe("quoteParity", () => {
  it("counts sparse, dense and mixed quotes like a plain loop", () => {
    const rng = new Rng(11);
    for (const density of [0, 0.001, 0.05, 0.3, 0.9]) {
      const buf = Buffer.alloc(50_000);
      for (let i = 0; i < buf.length; i++) buf[i] = rng.next() < density ? 0x22 : 0x61;
      for (const [from, to] of [
        [0, buf.length],
        [17, 40_000],
        [1000, 1001],
        [5, 5],
      ]) {
        let n = 0;
        for (let i = from; i < to; i++) if (buf[i] === 0x22) n++;
        expect(quoteParity(buf, from, to)).toBe(n % 2 === 1);
      }
    }
  });
});
