import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError, ERROR_CODES } from "./errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const rows = new Map(
  [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [
    m[1],
    { status: Number(m[2]), exitCode: Number(m[3]), summary: m[4] },
  ]),
);

describe("error catalogue", () => {
  it("docs/errors.md lists exactly the codes in the code, with the same status, exit code and text", () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code)).toEqual({
        status: spec.status,
        exitCode: spec.exitCode,
        summary: spec.summary,
      });
    }
  });

  it("an AppError carries its code's status and exit code", () => {
    const e = new AppError("VALIDATION_FAILED", "row 3: bad");
    expect(e.status).toBe(422);
    expect(e.exitCode).toBe(5);
    expect(e.message).toBe("row 3: bad");
  });
});
