/**
 * The compose stack (deploy/docker-compose.yml) as Compose itself reads it: `docker-compose
 * config` (or `docker compose config`) accepts it, and the resolved model has the services,
 * ports, health checks and start order the stack needs, settings that are real Riskometer
 * settings, secrets only as files, pinned images, and mounts of the Prometheus and Grafana
 * provisioning that exist and point at the right services. The secrets script makes the files
 * once and keeps them.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTINGS } from "../src/core/config.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const DEPLOY = join(REPO, "deploy");
const COMPOSE_FILE = join(DEPLOY, "docker-compose.yml");

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  ports?: (string | { target: number; published: number | string })[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  secrets?: (string | { source: string })[];
  volumes?: (string | { source: string; target: string; type: string })[];
}
interface Model {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

let model: Model;
let tmp: string;

/** Compose v1 (Debian's docker-compose) or the v2 plugin, whichever is installed. */
async function composeCommand(): Promise<string[]> {
  for (const candidate of [["docker-compose"], ["docker", "compose"]]) {
    try {
      await run(candidate[0], [...candidate.slice(1), "version"]);
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error(
    "neither docker-compose nor `docker compose` is installed (apt-get install docker-compose)",
  );
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "riskometer-compose-"));
  const compose = await composeCommand();
  const { stdout } = await run(compose[0], [...compose.slice(1), "-f", COMPOSE_FILE, "config"], {
    env: { ...process.env, RISKOMETER_IMAGE: "" },
  });
  model = parse(stdout) as Model;
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Port mappings as "host:container", whichever syntax the Compose version prints. */
function ports(s: Service): string[] {
  return (s.ports ?? []).map((p) =>
    typeof p === "string" ? p.replace(/\/tcp$/, "") : `${p.published}:${p.target}`,
  );
}

function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { source: v.source, target: v.target };
    const [source, target] = v.split(":");
    return { source, target };
  });
}

const KNOWN = new Set(SETTINGS.flatMap((s) => [s.env, `${s.env}_FILE`]));

describe("the compose stack", () => {
  it("has the app, worker, postgres, prometheus and grafana services on the documented ports", () => {
    expect(Object.keys(model.services).sort()).toEqual([
      "app",
      "grafana",
      "postgres",
      "prometheus",
      "worker",
    ]);
    const { app, worker, prometheus, grafana, postgres } = model.services;
    expect(ports(app)).toEqual(["9696:9696"]);
    expect(ports(prometheus)).toEqual(["9091:9090"]);
    expect(ports(grafana)).toEqual(["3000:3000"]);
    expect(ports(worker)).toEqual([]);
    expect(ports(postgres)).toEqual([]);
    expect(app.command).toEqual(["serve"]);
    expect(worker.command).toEqual(["worker"]);
    // Both run the project's image, built from the repository's Dockerfile.
    for (const s of [app, worker]) {
      expect(s.build?.context).toBe(REPO.replace(/\/$/, ""));
      expect(s.build?.dockerfile).toBe("Dockerfile");
      expect(s.image).toBe("riskometer:local");
    }
  });

  it("starts in order: app and worker wait for a healthy Postgres, Grafana for Prometheus", () => {
    const { app, worker, prometheus, grafana, postgres } = model.services;
    for (const s of [app, worker]) {
      expect(s.depends_on).toEqual({
        postgres: expect.objectContaining({ condition: "service_healthy" }),
      });
    }
    expect(prometheus.depends_on).toEqual({
      app: expect.objectContaining({ condition: "service_started" }),
    });
    expect(grafana.depends_on).toEqual({
      prometheus: expect.objectContaining({ condition: "service_healthy" }),
    });
    expect(postgres.healthcheck?.test).toEqual([
      "CMD",
      "pg_isready",
      "-U",
      "riskometer",
      "-d",
      "riskometer",
    ]);
    for (const s of [app, prometheus, grafana]) expect(s.healthcheck?.test?.[0]).toBe("CMD");
    // Turned off: v2 prints `disable: true`, v1 its meaning, the test NONE.
    const off = worker.healthcheck?.disable === true || worker.healthcheck?.test?.[0] === "NONE";
    expect(off, JSON.stringify(worker.healthcheck)).toBe(true);
  });

  it("gives the app the image's own health check and a database URL for the postgres service", async () => {
    const dockerfile = await readFile(join(REPO, "Dockerfile"), "utf8");
    const imageCheck = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)?.[1];
    expect(model.services.app.healthcheck?.test).toEqual([
      "CMD",
      ...(JSON.parse(imageCheck ?? "[]") as string[]),
    ]);
    const url = new URL(model.services.app.environment?.RISKOMETER_DATABASE_URL ?? "");
    expect(url.hostname).toBe("postgres");
    expect(url.password).toBe("");
    const pg = model.services.postgres.environment ?? {};
    expect(url.username).toBe(pg.POSTGRES_USER);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
  });

  it("sets only real Riskometer settings, and secrets only through files", () => {
    for (const name of ["app", "worker"]) {
      const env = model.services[name].environment ?? {};
      const unknown = Object.keys(env).filter((k) => k.startsWith("RISKOMETER_") && !KNOWN.has(k));
      expect(unknown, name).toEqual([]);
      expect(env.RISKOMETER_DATABASE_PASSWORD_FILE).toBe("/run/secrets/postgres_password");
      expect(env.RISKOMETER_METRICS_TOKEN_FILE).toBe("/run/secrets/metrics_token");
    }
    for (const [name, s] of Object.entries(model.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|TOKEN|SECRET|CREDENTIAL/.test(key)) {
          expect(key, `${name}: ${key} must come from a file`).toMatch(/_FILE$/);
          expect(value).toMatch(/^\/run\/secrets\//);
        }
      }
    }
    for (const [name, secret] of Object.entries(model.secrets)) {
      expect(secret.file, name).toBe(join(DEPLOY, "secrets", name));
    }
  });

  it("pins every image to a version", () => {
    for (const [name, s] of Object.entries(model.services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it("mounts Prometheus's configuration, scraping the app's port, and Grafana's provisioning", async () => {
    const prom = mounts(model.services.prometheus);
    expect(prom).toContainEqual({
      source: join(DEPLOY, "prometheus", "prometheus.yml"),
      target: "/etc/prometheus/prometheus.yml",
    });
    const config = parse(await readFile(join(DEPLOY, "prometheus", "prometheus.yml"), "utf8")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(config.scrape_configs[0].static_configs[0].targets).toEqual([
      `app:${ports(model.services.app)[0].split(":")[1]}`,
    ]);

    const graf = mounts(model.services.grafana);
    expect(graf).toContainEqual({
      source: join(DEPLOY, "grafana", "provisioning"),
      target: "/etc/grafana/provisioning",
    });
    expect(graf).toContainEqual({
      source: join(DEPLOY, "grafana", "dashboards"),
      target: "/var/lib/grafana/dashboards",
    });
    for (const m of [...prom, ...graf]) {
      if (m.source.startsWith("/"))
        expect(
          await stat(m.source).then(
            () => true,
            () => false,
          ),
          m.source,
        ).toBe(true);
    }
    const datasource = parse(
      await readFile(
        join(DEPLOY, "grafana", "provisioning", "datasources", "prometheus.yml"),
        "utf8",
      ),
    ) as { datasources: { url: string }[] };
    expect(datasource.datasources[0].url).toBe(
      `http://prometheus:${ports(model.services.prometheus)[0].split(":")[1]}`,
    );
    const home =
      model.services.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? "";
    expect(
      await stat(join(DEPLOY, "grafana", "dashboards", home.split("/").at(-1) ?? "")).then(
        () => true,
      ),
    ).toBe(true);
  });

  it("keeps the store on named volumes: the database, and the models shared by app and worker", () => {
    expect(Object.keys(model.volumes).sort()).toEqual([
      "grafana-data",
      "postgres-data",
      "prometheus-data",
      "riskometer-data",
    ]);
    for (const name of ["app", "worker"]) {
      expect(mounts(model.services[name])).toContainEqual({
        source: "riskometer-data",
        target: "/data",
      });
    }
    expect(mounts(model.services.postgres)).toContainEqual({
      source: "postgres-data",
      target: "/var/lib/postgresql/data",
    });
  });

  it("makes random secret files once, readable by the containers' users, and keeps them", async () => {
    const copy = join(tmp, "deploy");
    await cp(join(DEPLOY, "make-secrets.sh"), join(copy, "make-secrets.sh"));
    const first = await run("sh", [join(copy, "make-secrets.sh")]);
    expect(first.stdout).toMatch(/made .*postgres_password/);
    const files = ["postgres_password", "grafana_admin_password", "metrics_token"].map((n) =>
      join(copy, "secrets", n),
    );
    const values = await Promise.all(files.map((f) => readFile(f, "utf8")));
    expect(values[0]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(values[0]).not.toBe(values[1]);
    for (const f of files) expect((await stat(f)).mode & 0o777).toBe(0o644);
    const second = await run("sh", [join(copy, "make-secrets.sh")]);
    expect(second.stdout).not.toMatch(/made/);
    expect(await Promise.all(files.map((f) => readFile(f, "utf8")))).toEqual(values);
    // The repository never holds them.
    const ignored = await run("git", ["check-ignore", "deploy/secrets/postgres_password"], {
      cwd: REPO,
    });
    expect(ignored.stdout.trim()).toBe("deploy/secrets/postgres_password");
  });
});
