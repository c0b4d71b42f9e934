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

    // Nobody can sign in on a fresh store: the first admin's one-time link is printed.
    expect((await fetch(`${base}/api/v1/experiments`)).status).toBe(401);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/sign-in\/link\?token=\S+)/.exec(
      printed.join(""),
    )?.[1];
    expect(link, printed.join("")).toBeDefined();
    const opened = await fetch(link as string, { redirect: "manual" });
    expect(opened.status).toBe(303);
    expect(opened.headers.get("location")).toBe("/sign-in.html?set-password=1");
    const cookie = (opened.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie).toMatch(/^riskometer_session=/);
    const res = await fetch(`${base}/api/v1/experiments`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ experiments: [] });
    // The link works once.
    const again = await fetch(link as string, { redirect: "manual" });
    expect(again.headers.get("location")).toBe("/sign-in.html?link=spent");

    process.emit("SIGTERM", "SIGTERM");
    await done;
    expect(printed.join("")).toContain("SIGTERM received");
    await expect(fetch(`${base}/api/v1/experiments`)).rejects.toThrow();
    expect(process.listenerCount("SIGTERM")).toBe(listenersBefore);
  });

  it("refuses open mode on an address other machines reach, before opening anything", async () => {
    home = await mkdtemp(join(tmpdir(), "riskometer-serve-"));
    vi.stubEnv("RISKOMETER_HOME", home);
    vi.stubEnv("RISKOMETER_ACCESS", "open");
    await expect(
      serveCommand().parseAsync(["--port", "0", "--host", "0.0.0.0"], { from: "user" }),
    ).rejects.toThrow(/RISKOMETER_ACCESS=open .* refused on 0\.0\.0\.0/);
  });
});
