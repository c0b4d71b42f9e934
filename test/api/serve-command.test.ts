/**
 * `riskometer serve`: opens the context from the environment, listens, prints the URL, answers
 * requests, and on SIGTERM stops listening and closes the database.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { serveCommand } from "../../src/cli/serve.js";

describe("serve command", () => {
  let home: string | undefined;

  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("serves on the given port until SIGTERM, then frees it", async () => {
    home = await mkdtemp(join(tmpdir(), "riskometer-serve-"));
    vi.stubEnv("RISKOMETER_HOME", home);
    const printed: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });

    const listenersBefore = process.listenerCount("SIGTERM");
    const done = serveCommand().parseAsync(["--port", "0"], { from: "user" });
    await vi.waitFor(
      () => expect(printed.join("")).toMatch(/serving at http:\/\/127\.0\.0\.1:\d+/),
      {
        timeout: 10_000,
      },
    );
    const base = /serving at (http:\/\/127\.0\.0\.1:\d+)/.exec(printed.join(""))?.[1] as string;
    expect(printed.join("")).toContain(`${base}/api/docs`);

    const res = await fetch(`${base}/api/v1/experiments`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ experiments: [] });

    process.emit("SIGTERM", "SIGTERM");
    await done;
    expect(printed.join("")).toContain("SIGTERM received");
    await expect(fetch(`${base}/api/v1/experiments`)).rejects.toThrow();
    expect(process.listenerCount("SIGTERM")).toBe(listenersBefore);
  });
});
