import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.js";
import { decodeModelFile, encodeModelFile } from "./model-file.js";

const body = { model: { kind: "logreg", weights: [0.1, -2.5e-7, 3] }, note: "ü" };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as AppError).code;
  }
  return undefined;
}

describe("model file envelope", () => {
  it("round-trips the body exactly", () => {
    const text = encodeModelFile(body);
    expect(decodeModelFile(text)).toEqual(body);
    expect(encodeModelFile(decodeModelFile(text))).toBe(text);
  });

  it("rejects a truncated file", () => {
    const text = encodeModelFile(body);
    expect(codeOf(() => decodeModelFile(text.slice(0, text.length - 20)))).toBe(
      "MODEL_FILE_INVALID",
    );
  });

  it("rejects a modified file through its checksum", () => {
    const text = encodeModelFile(body).replace("-2.5e-7", "-2.6e-7");
    expect(() => decodeModelFile(text)).toThrow(/checksum/);
  });

  it("rejects an unknown format version, naming the supported ones", () => {
    const parsed = JSON.parse(encodeModelFile(body));
    parsed.formatVersion = 99;
    expect(codeOf(() => decodeModelFile(JSON.stringify(parsed)))).toBe("MODEL_VERSION_UNSUPPORTED");
    expect(() => decodeModelFile(JSON.stringify(parsed))).toThrow(
      /version 99; this release reads version\(s\) 1/,
    );
  });

  it("rejects JSON that is not a model file", () => {
    expect(() => decodeModelFile('{"hello":1}')).toThrow(/not a Riskometer model file/);
    expect(codeOf(() => decodeModelFile("[1,2]"))).toBe("MODEL_FILE_INVALID");
  });
});
