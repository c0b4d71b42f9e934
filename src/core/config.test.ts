import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

  it("reads any setting from the file <NAME>_FILE names, dropping one final newline", () => {
    const dir = mkdtempSync(join(tmpdir(), "riskometer-config-"));
    try {
      const secret = join(dir, "password");
      writeFileSync(secret, "p@ss:w/rd% \n");
      const c = loadConfig({
        RISKOMETER_DATABASE_URL: "postgres://rk@db:5432/rk",
        RISKOMETER_DATABASE_PASSWORD_FILE: secret,
      });
      expect(c.databaseUrl).toBe("postgres://rk:p%40ss%3Aw%2Frd%25%20@db:5432/rk");
      // The driver reads back exactly the password in the file (trailing space included).
      expect(decodeURIComponent(new URL(c.databaseUrl).password)).toBe("p@ss:w/rd% ");
      writeFileSync(join(dir, "level"), "debug\n");
      expect(loadConfig({ RISKOMETER_LOG_LEVEL_FILE: join(dir, "level") }).logLevel).toBe("debug");
      expect(() =>
        loadConfig({ RISKOMETER_TOKEN: "a", RISKOMETER_TOKEN_FILE: join(dir, "level") }),
      ).toThrow(/RISKOMETER_TOKEN and RISKOMETER_TOKEN_FILE are both set/);
      expect(() => loadConfig({ RISKOMETER_TOKEN_FILE: join(dir, "missing") })).toThrow(
        /RISKOMETER_TOKEN_FILE=".*missing" cannot be read: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fills the password into a Postgres URL that has none, and refuses two or no Postgres", () => {
    expect(
      loadConfig({
        RISKOMETER_DATABASE_URL: "postgresql://rk@db/rk?sslmode=require",
        RISKOMETER_DATABASE_PASSWORD: "s3cret",
      }).databaseUrl,
    ).toBe("postgresql://rk:s3cret@db/rk?sslmode=require");
    expect(() =>
      loadConfig({
        RISKOMETER_DATABASE_URL: "postgres://rk:other@db/rk",
        RISKOMETER_DATABASE_PASSWORD: "s3cret",
      }),
    ).toThrow(/has a password and RISKOMETER_DATABASE_PASSWORD gives another/);
    expect(() => loadConfig({ RISKOMETER_DATABASE_PASSWORD: "s3cret" })).toThrow(
      /not a postgres:\/\/ URL/,
    );
    expect(() =>
      loadConfig({
        RISKOMETER_DATABASE_URL: "postgres://db/rk",
        RISKOMETER_DATABASE_PASSWORD: "x",
      }),
    ).toThrow(/names no user/);
  });

  it("takes the listening address and port from RISKOMETER_HOST and RISKOMETER_PORT", () => {
    expect(loadConfig({})).toMatchObject({ host: "127.0.0.1", port: 9696 });
    expect(loadConfig({ RISKOMETER_HOST: "0.0.0.0", RISKOMETER_PORT: "8080" })).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
    });
    expect(() => loadConfig({ RISKOMETER_PORT: "70000" })).toThrow(
      /RISKOMETER_PORT="70000" must be a port number/,
    );
  });
});
