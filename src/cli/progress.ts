/**
 * Progress on stderr for long work. On a terminal it redraws one line; elsewhere (CI, pipes) it
 * prints a line at most every few seconds so logs stay readable. Silent for work that finishes
 * within `delayMs`, so quick commands print nothing extra.
 */
export class Progress {
  private readonly start = Date.now();
  private lastPrint = 0;
  private printed = false;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly delayMs = 1000,
  ) {}

  /** `total` undefined: the amount of work is not known in advance (a stream). */
  update(done: number, total?: number, note = ""): void {
    const now = Date.now();
    if (now - this.start < this.delayMs) return;
    const finished = total !== undefined && done >= total;
    if (now - this.lastPrint < (this.tty ? 100 : 3000) && !finished) return;
    this.lastPrint = now;
    this.printed = true;
    const secs = ((now - this.start) / 1000).toFixed(1);
    const count =
      total === undefined
        ? `${done}`
        : `${done}/${total} (${total > 0 ? Math.floor((100 * done) / total) : 0}%)`;
    const line = `${this.label}: ${count} ${secs}s${note ? ` ${note}` : ""}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  }

  done(note = ""): void {
    if (!this.printed) return;
    const secs = ((Date.now() - this.start) / 1000).toFixed(1);
    const line = `${this.label}: done in ${secs}s${note ? ` ${note}` : ""}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}
