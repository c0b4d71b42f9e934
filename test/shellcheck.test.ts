/**
 * Every shell script in the repository (by extension or by its #! line) is clean under
 * shellcheck, the CI entry point among them.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("..", import.meta.url));

async function shellScripts(): Promise<string[]> {
  const { stdout } = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: REPO,
      maxBuffer: 64 << 20,
    },
  );
  const out: string[] = [];
  for (const file of stdout.split("\0").filter(Boolean)) {
    if (/\.(sh|bash)$/.test(file)) {
      out.push(file);
      continue;
    }
    const head = await readFile(join(REPO, file), "utf8").then(
      (t) => t.slice(0, 64),
      () => "",
    );
    if (/^#!\s*(\/usr)?\/bin\/(env\s+)?(ba|da)?sh\b/.test(head)) out.push(file);
  }
  return out.sort();
}

describe("shell scripts", () => {
  it("are clean under shellcheck", async () => {
    const files = await shellScripts();
    expect(files).toEqual(
      expect.arrayContaining([".ci/run", "deploy/make-secrets.sh", "test/support/enter-rootfs.sh"]),
    );
    const result = await run("shellcheck", ["--format=gcc", ...files], { cwd: REPO }).then(
      () => ({ code: 0, out: "" }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => {
        if (e.code === "ENOENT")
          throw new Error("shellcheck is not installed (apt-get install shellcheck)");
        return { code: Number(e.code), out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
      },
    );
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  });
});
