import { open, rename, rm, type FileHandle } from "node:fs/promises";

const COPY_BYTES = 4 << 20;

/**
 * An output file written in pieces by several threads, each appending to a file of its own (the
 * first piece directly to the output), put together in order here. As with AtomicFile, the
 * output is built under a temporary name and only takes its own name on `commit`, so a crash or
 * an error never leaves a partial output behind; `abort` also removes the pieces.
 */
export class PartedFile {
  /** Where the output is built; pieces may append to it directly. */
  readonly tmp: string;
  private file: FileHandle | null = null;
  private readonly parts = new Set<string>();
  private copyBuffer: Buffer | null = null;

  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.partial`;
    this.partPrefix = `${path}.${process.pid}.part`;
  }

  /** Creates the temporary output, empty. */
  async create(): Promise<void> {
    await (await open(this.tmp, "w")).close();
    // Appending, as the pieces written in place do.
    this.file = await open(this.tmp, "a");
  }

  /** Piece k is `${partPrefix}${k}`, next to the output. */
  readonly partPrefix: string;

  /** The name of piece `k`, which `abort` removes if it exists by then. */
  part(k: number): string {
    const name = `${this.partPrefix}${k}`;
    this.parts.add(name);
    return name;
  }

  /** Appends a piece to the output and removes the piece. */
  async append(part: string): Promise<void> {
    const out = this.file;
    if (out === null) throw new Error("PartedFile.append before create");
    const buf = (this.copyBuffer ??= Buffer.allocUnsafe(COPY_BYTES));
    const src = await open(part, "r");
    try {
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        let at = 0;
        while (at < bytesRead) at += (await out.write(buf, at, bytesRead - at)).bytesWritten;
      }
    } finally {
      await src.close();
    }
    await rm(part, { force: true });
    this.parts.delete(part);
  }

  async commit(): Promise<void> {
    await this.file?.close();
    this.file = null;
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    await this.file?.close().catch(() => {});
    this.file = null;
    await Promise.all(
      [this.tmp, ...this.parts].map((name) => rm(name, { force: true }).catch(() => {})),
    );
    this.parts.clear();
  }
}
