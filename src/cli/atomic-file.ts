import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { rename, rm } from "node:fs/promises";

/**
 * A write stream to a temporary file that only takes the final name on `commit`, so a crash or
 * an error never leaves a half-written output behind.
 */
export class AtomicFile {
  private readonly stream: WriteStream;
  private readonly tmp: string;

  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.partial`;
    this.stream = createWriteStream(this.tmp);
  }

  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, "drain");
  }

  async commit(): Promise<void> {
    this.stream.end();
    await once(this.stream, "finish");
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmp, { force: true });
  }
}
