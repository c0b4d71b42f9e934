import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS, loadConfig } from "./config.js";
import { AppError } from "./errors.js";

const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
const rows = new Map(
  [...doc.matchAll(/^\|\s*`(RISKOMETER_[A-Z0-9_]+)`\s*\|\s*(.+?)\s*\|\s*(.+?)\s*\|$/gm)].map(
    (m) => [m[1], { defaultText: m[2], description: m[3] }],
  ),
);

describe("configuration", () => {
  it("docs/configuration.md lists exactly the settings, with the same defaults and text", () => {
    expect([...rows.keys()].sort()).toEqual(SETTINGS.map((s) => s.env).sort());
    for (const s of SETTINGS) {
      expect(rows.get(s.env)).toEqual({ defaultText: s.defaultText, description: s.description });
    }
  });

  it("defaults to the embedded mode under ./.riskometer", () => {
    const c = loadConfig({});
    expect(c.home).toBe(resolve(".riskometer"));
    expect(c.databaseUrl).toBe(`sqlite:${resolve(".riskometer", "riskometer.db")}`);
    expect(c.artifactsUrl).toBe(resolve(".riskometer", "artifacts"));
    expect(c.bootstrapChampion).toBe(true);
    expect(c.allowSelfApproval).toBe(false);
    expect(c.modelName).toBe("credit-risk");
  });

  it("derives paths from the home, and turns the bootstrap off for Postgres unless set", () => {
    const c = loadConfig({
      RISKOMETER_HOME: "/data/rk",
      RISKOMETER_DATABASE_URL: "postgres://db/rk",
    });
    expect(c.artifactsUrl).toBe("/data/rk/artifacts");
    expect(c.bootstrapChampion).toBe(false);
    expect(
      loadConfig({
        RISKOMETER_DATABASE_URL: "postgres://db/rk",
        RISKOMETER_BOOTSTRAP_CHAMPION: "yes",
      }).bootstrapChampion,
    ).toBe(true);
  });

  it("lets overrides win over the environment", () => {
    const c = loadConfig({ RISKOMETER_HOME: "/a" }, { home: "/b" });
    expect(c.home).toBe("/b");
    expect(c.databaseUrl).toBe("sqlite:/b/riskometer.db");
  });

  it("refuses a malformed value naming the variable", () => {
    const bad = () => loadConfig({ RISKOMETER_ALLOW_SELF_APPROVAL: "maybe" });
    expect(bad).toThrow(AppError);
    expect(bad).toThrow(/RISKOMETER_ALLOW_SELF_APPROVAL="maybe"/);
    expect(() => loadConfig({ RISKOMETER_STALE_RUN_SECONDS: "5" })).toThrow(/≥ 10/);
  });
});
