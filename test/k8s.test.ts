/**
 * The Kubernetes manifests in deploy/k8s: every file parses and is used by its kustomization,
 * every complete object passes the Kubernetes API schema (kubernetes-models), the gcp overlay's
 * patches aim at objects of the base, and the kustomize builds of the base and of the gcp overlay
 * wire serve, worker, Service, autoscaler, settings and the one external Secret together. With
 * neither `kustomize` nor `kubectl` on the PATH, the build checks run on the raw files instead.
 * docs/deploy-gcp.md shows the apply command and every placeholder of the overlay.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile, readdir, stat } from "node:fs/promises";
import { delimiter, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import {
  HorizontalPodAutoscaler,
  type IHorizontalPodAutoscaler,
} from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { type IService, Service } from "kubernetes-models/v1/Service";
import { type IServiceAccount, ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { SETTINGS, loadConfig } from "../src/core/config.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const K8S = join(ROOT, "deploy/k8s");
const BASE = join(K8S, "base");
const GCP = join(K8S, "overlays/gcp");
const DOC = join(ROOT, "docs/deploy-gcp.md");

/** The one Secret the manifests use without defining it: the operator creates it. */
const SECRET = "riskometer-secrets";
const SECRET_KEY = "database-password";
/** What the operator replaces in the gcp overlay before applying it. */
const PLACEHOLDERS = ["BUCKET", "INSTANCE", "PROJECT_ID", "REGION"];
const PROXY_IMAGE = /^gcr\.io\/cloud-sql-connectors\/cloud-sql-proxy:2\.\d+\.\d+$/;
const GCP_SERVICE_ACCOUNT = /^[a-z][-a-z0-9]*@[A-Za-z0-9_-]+\.iam\.gserviceaccount\.com$/;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion: string;
  kind: string;
  namespace?: string;
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: { kind?: string; name?: string } }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

type Model<T> = new (data: T) => { validate(): void };

function schema<T>(model: Model<T>): (o: K8sObject) => void {
  return (o) => new model(o as unknown as T).validate();
}

/**
 * apiVersion/kind → its schema check. The model classes set apiVersion and kind themselves, so
 * the key is what checks those two; a kind missing here fails instead of passing unchecked.
 */
const SCHEMAS: Record<string, (o: K8sObject) => void> = {
  "v1/Namespace": schema(Namespace),
  "v1/ServiceAccount": schema(ServiceAccount),
  "v1/ConfigMap": schema(ConfigMap),
  "v1/Service": schema(Service),
  "apps/v1/Deployment": schema(Deployment),
  "autoscaling/v2/HorizontalPodAutoscaler": schema(HorizontalPodAutoscaler),
  "policy/v1/PodDisruptionBudget": schema(PodDisruptionBudget),
};

function validate(o: K8sObject, where: string): void {
  const key = `${o.apiVersion}/${o.kind}`;
  const check = SCHEMAS[key];
  if (!check) throw new Error(`${where}: no schema check for ${key}; add one to SCHEMAS`);
  if (typeof o.metadata?.name !== "string" || o.metadata.name === "") {
    throw new Error(`${where}: ${key} has no metadata.name`);
  }
  try {
    check(o);
  } catch (e) {
    throw new Error(`${where}: ${key} ${o.metadata.name}: ${(e as Error).message}`);
  }
}

function parseYaml(text: string, where: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(`${where}: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

async function readObjects(file: string): Promise<K8sObject[]> {
  return parseYaml(await readFile(file, "utf8"), relative(ROOT, file)) as K8sObject[];
}

async function kustomization(dir: string): Promise<Kustomization> {
  const [k] = (await readObjects(join(dir, "kustomization.yaml"))) as unknown as Kustomization[];
  expect(k.apiVersion).toBe("kustomize.config.k8s.io/v1beta1");
  expect(k.kind).toBe("Kustomization");
  return k;
}

/** The files a kustomization lists as resources (not the directories: those are bases). */
async function resourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await kustomization(dir)).resources ?? []) {
    const path = resolve(dir, entry);
    if ((await stat(path)).isFile()) out.push(path);
  }
  return out;
}

async function rawResources(dir: string): Promise<K8sObject[]> {
  const out: K8sObject[] = [];
  for (const file of await resourceFiles(dir)) out.push(...(await readObjects(file)));
  return out;
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** `kustomize build` or `kubectl kustomize`, whichever is on the PATH (kustomize first). */
async function findBuilder(): Promise<((dir: string) => Promise<K8sObject[]>) | undefined> {
  const kustomize = await onPath("kustomize");
  const kubectl = kustomize ? undefined : await onPath("kubectl");
  const command = kustomize ? [kustomize, "build"] : kubectl ? [kubectl, "kustomize"] : undefined;
  if (!command) return undefined;
  return async (dir) => {
    const { stdout } = await promisify(execFile)(command[0], [command[1], dir], {
      maxBuffer: 16 << 20,
    });
    return parseYaml(stdout, `${command.join(" ")} ${relative(ROOT, dir)}`) as K8sObject[];
  };
}

function find<T>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([`${kind}/${name}`]);
  return found[0] as unknown as T;
}

function allContainers(d: IDeployment): IContainer[] {
  return [
    ...(d.spec?.template.spec?.containers ?? []),
    ...(d.spec?.template.spec?.initContainers ?? []),
  ];
}

function appContainer(d: IDeployment): IContainer {
  const found = (d.spec?.template.spec?.containers ?? []).filter((c) => c.name === "riskometer");
  expect(found).toHaveLength(1);
  return found[0];
}

/** Whether every label of `selector` is on `labels` (how a selector matches). */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string>) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

interface Ref {
  kind: "configMap" | "secret";
  name: string | undefined;
  key?: string;
}

/** Every ConfigMap and Secret an object refers to (env, envFrom, volumes, projections). */
function refs(node: unknown, out: Ref[] = []): Ref[] {
  if (Array.isArray(node)) {
    for (const item of node) refs(item, out);
  } else if (node !== null && typeof node === "object") {
    for (const [field, value] of Object.entries(node)) {
      const r = value as { name?: string; key?: string; secretName?: string };
      if (["configMapRef", "configMapKeyRef", "configMap"].includes(field)) {
        out.push({ kind: "configMap", name: r.name, key: r.key });
      } else if (field === "secretRef" || field === "secretKeyRef") {
        out.push({ kind: "secret", name: r.name, key: r.key });
      } else if (field === "secret") {
        out.push({ kind: "secret", name: r.secretName });
      }
      refs(value, out);
    }
  }
  return out;
}

/** The checks every build (or, without a build tool, the raw base) must pass. */
function checkWiring(objects: K8sObject[], built: boolean): void {
  for (const o of objects) validate(o, built ? "build" : "base");
  // Secrets are created by the operator, never kept in the repository.
  expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
  if (built) {
    for (const o of objects) {
      expect(o.metadata.labels?.["app.kubernetes.io/name"], `${o.kind}/${o.metadata.name}`).toBe(
        "riskometer",
      );
    }
  }

  const serve = find<IDeployment>(objects, "Deployment", "riskometer-serve");
  const worker = find<IDeployment>(objects, "Deployment", "riskometer-worker");
  const serveLabels = serve.spec?.template.metadata?.labels ?? {};
  const workerLabels = worker.spec?.template.metadata?.labels ?? {};
  expect(serveLabels["app.kubernetes.io/component"]).toBe("serve");
  expect(workerLabels["app.kubernetes.io/component"]).toBe("worker");
  for (const d of [serve, worker]) {
    expect(selects(d.spec?.selector.matchLabels, d.spec?.template.metadata?.labels ?? {})).toBe(
      true,
    );
  }
  expect(selects(serve.spec?.selector.matchLabels, workerLabels)).toBe(false);

  // Roles, port and probes.
  const serveApp = appContainer(serve);
  const workerApp = appContainer(worker);
  expect(serveApp.args).toEqual(["serve"]);
  expect(workerApp.args).toEqual(["worker"]);
  expect(serveApp.ports).toEqual([{ name: "http", containerPort: 9696, protocol: "TCP" }]);
  expect(serveApp.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
  expect(serveApp.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
  expect(serveApp.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
  expect([workerApp.ports, workerApp.readinessProbe, workerApp.livenessProbe]).toEqual([
    undefined,
    undefined,
    undefined,
  ]);
  const annotations = serve.spec?.template.metadata?.annotations ?? {};
  expect([
    annotations["prometheus.io/scrape"],
    annotations["prometheus.io/port"],
    annotations["prometheus.io/path"],
  ]).toEqual(["true", "9696", "/metrics"]);

  // Replicas (the autoscaler owns serve's count) and shutdown.
  expect(serve.spec?.replicas).toBeUndefined();
  expect(worker.spec?.replicas).toBe(2);
  const serveGrace = serve.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
  const workerGrace = worker.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
  expect(serveGrace).toBeGreaterThanOrEqual(15);
  expect(workerGrace).toBeGreaterThanOrEqual(300);

  // Resources and security of every container, sidecars included.
  for (const d of [serve, worker]) {
    const pod = d.spec?.template.spec;
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.securityContext?.runAsUser).toBe(1000);
    expect(pod?.securityContext?.runAsGroup).toBe(1000);
    for (const c of allContainers(d)) {
      const where = `${d.metadata?.name}/${c.name}`;
      expect(c.resources?.requests?.cpu, where).toBeTruthy();
      expect(c.resources?.requests?.memory, where).toBeTruthy();
      expect(c.resources?.limits?.memory, where).toBeTruthy();
      expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
      expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
      expect(c.securityContext?.capabilities?.drop, where).toEqual(["ALL"]);
      expect(c.securityContext?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot, where).toBe(
        true,
      );
      if (built) expect(c.image, where).toMatch(/:[\w][\w.-]*$/);
      expect(c.image, where).not.toMatch(/:latest$/);
    }
    const app = appContainer(d);
    expect(app.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser).toBe(1000);
    // RISKOMETER_HOME and the temporary files on scratch volumes (the root is read-only).
    for (const path of ["/data", "/tmp"]) {
      const mount = app.volumeMounts?.find((m) => m.mountPath === path);
      const volume = pod?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.emptyDir, `${d.metadata?.name} ${path}`).toBeDefined();
    }
    // Settings from the ConfigMap, the password from the Secret.
    expect(app.envFrom).toEqual([{ configMapRef: { name: "riskometer-config" } }]);
    expect(app.env?.find((e) => e.name === "RISKOMETER_DATABASE_PASSWORD")?.valueFrom).toEqual({
      secretKeyRef: { name: SECRET, key: SECRET_KEY },
    });
    find<IServiceAccount>(objects, "ServiceAccount", pod?.serviceAccountName ?? "(none)");
  }

  // Every ConfigMap or Secret referred to is in the build or is the documented Secret.
  const configMaps = objects.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name);
  for (const r of refs(objects)) {
    if (r.kind === "configMap") expect(configMaps).toContain(r.name);
    else
      expect({ name: r.name, key: r.key ?? SECRET_KEY }).toEqual({ name: SECRET, key: SECRET_KEY });
  }

  // The Service sends traffic to the serve pods' named port, and to no worker.
  const service = find<IService>(objects, "Service", "riskometer");
  expect(service.spec?.type ?? "ClusterIP").toBe("ClusterIP");
  expect(selects(service.spec?.selector, serveLabels)).toBe(true);
  expect(selects(service.spec?.selector, workerLabels)).toBe(false);
  expect(service.spec?.ports).toEqual([
    { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
  ]);

  // The autoscaler and the disruption budget aim at serve.
  const hpa = find<IHorizontalPodAutoscaler>(
    objects,
    "HorizontalPodAutoscaler",
    "riskometer-serve",
  );
  expect(hpa.spec?.scaleTargetRef).toEqual({
    apiVersion: "apps/v1",
    kind: "Deployment",
    name: serve.metadata?.name,
  });
  expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([2, 10]);
  expect(hpa.spec?.metrics).toEqual([
    {
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
    },
  ]);
  const pdb = find<IPodDisruptionBudget>(objects, "PodDisruptionBudget", "riskometer-serve");
  expect(selects(pdb.spec?.selector?.matchLabels, serveLabels)).toBe(true);
  expect(selects(pdb.spec?.selector?.matchLabels, workerLabels)).toBe(false);

  // The settings are ones Riskometer knows, with values it accepts.
  checkSettings(find<IConfigMap>(objects, "ConfigMap", "riskometer-config").data ?? {});
}

function checkSettings(data: Record<string, string>): void {
  const known = SETTINGS.map((s) => s.env as string);
  expect(Object.keys(data).filter((k) => !known.includes(k))).toEqual([]);
  const config = loadConfig({ ...data });
  expect(config.databaseUrl).toMatch(/^postgres:\/\//);
  // No password in the ConfigMap: RISKOMETER_DATABASE_PASSWORD comes from the Secret and fills
  // in the URL's.
  expect(data.RISKOMETER_DATABASE_PASSWORD).toBeUndefined();
  expect(new URL(config.databaseUrl).password).toBe("");
  const withSecret = loadConfig({ ...data, RISKOMETER_DATABASE_PASSWORD: "from-the-secret" });
  expect(new URL(withSecret.databaseUrl).password).toBe("from-the-secret");
  // A bucket every pod shares (the pods' own /data is scratch space).
  expect(config.artifactsUrl).toMatch(/^(gs|s3):\/\/[^/]+/);
  expect(config.bootstrapChampion).toBe(false);
}

function checkProxy(c: IContainer | undefined, dbUrl: string): void {
  expect(c?.restartPolicy).toBe("Always");
  expect(c?.image).toMatch(PROXY_IMAGE);
  const args = c?.args ?? [];
  expect(args).toContain("--structured-logs");
  // One instance, by its connection name PROJECT_ID:REGION:INSTANCE.
  const instances = args.filter((a) => !a.startsWith("-"));
  expect(instances).toHaveLength(1);
  expect(instances[0]).toMatch(/^[^:\s]+:[^:\s]+:[^:\s]+$/);
  // The app's database URL goes through the proxy's port on the loopback.
  const url = new URL(dbUrl);
  expect(url.hostname).toBe("127.0.0.1");
  expect(args).toContain(`--port=${url.port}`);
  // The app starts once the proxy listens.
  expect(c?.startupProbe?.httpGet?.path).toBe("/startup");
  expect(c?.securityContext?.runAsNonRoot).toBe(true);
}

function checkGcpServiceAccount(sa: IServiceAccount | K8sObject): void {
  expect(sa.metadata?.annotations?.["iam.gke.io/gcp-service-account"]).toMatch(GCP_SERVICE_ACCOUNT);
}

/** The string values (not keys) of a parsed YAML tree. */
function strings(node: unknown, out: string[] = []): string[] {
  if (typeof node === "string") out.push(node);
  else if (Array.isArray(node)) for (const item of node) strings(item, out);
  else if (node !== null && typeof node === "object") {
    for (const value of Object.values(node)) strings(value, out);
  }
  return out;
}

describe("Kubernetes manifests", () => {
  it("parses every YAML file, and each is a kustomization or a resource or patch one lists", async () => {
    const files = await yamlFiles(K8S);
    const used = new Set<string>();
    for (const dir of [BASE, GCP]) {
      used.add(join(dir, "kustomization.yaml"));
      for (const file of await resourceFiles(dir)) used.add(file);
      for (const p of (await kustomization(dir)).patches ?? []) {
        if (p.path) used.add(resolve(dir, p.path));
      }
    }
    for (const file of files) {
      expect(parseYaml(await readFile(file, "utf8"), file).length).toBeGreaterThan(0);
    }
    expect(files.map((f) => relative(K8S, f))).toEqual(
      [...used].map((f) => relative(K8S, f)).sort(),
    );
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it("refuses an object with a schema error and a kind it has no schema for", () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { spec: { containers: [{ name: "c", ports: [{ containerPort: "http" }] }] } },
      },
    };
    expect(() => validate(bad, "test")).toThrow(/containerPort must be integer/);
    const unknown = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "x" },
    };
    expect(() => validate(unknown, "test")).toThrow(
      /no schema check for networking.k8s.io\/v1\/Ingress/,
    );
  });

  it("gives every object of the base and every resource of the gcp overlay a valid schema", async () => {
    const base = await rawResources(BASE);
    for (const o of base) validate(o, "base");
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "ConfigMap/riskometer-config",
      "Deployment/riskometer-serve",
      "Deployment/riskometer-worker",
      "HorizontalPodAutoscaler/riskometer-serve",
      "PodDisruptionBudget/riskometer-serve",
      "Service/riskometer",
      "ServiceAccount/riskometer",
    ]);
    const gcp = await rawResources(GCP);
    for (const o of gcp) validate(o, "overlays/gcp");
    expect(gcp.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Namespace/riskometer"]);
  });

  it("aims each patch of the gcp overlay at an object of the base", async () => {
    const base = await rawResources(BASE);
    const targets: string[] = [];
    for (const p of (await kustomization(GCP)).patches ?? []) {
      expect(p.path, "patches are files").toBeDefined();
      const docs = await readObjects(resolve(GCP, p.path ?? ""));
      expect(docs).toHaveLength(1);
      const kind = p.target?.kind ?? docs[0].kind;
      const name = p.target?.name ?? docs[0].metadata.name;
      expect(docs[0].kind).toBe(kind);
      expect(base.filter((o) => o.kind === kind && o.metadata.name === name)).toHaveLength(1);
      targets.push(`${kind}/${name}`);
    }
    expect(targets.sort()).toEqual([
      "ConfigMap/riskometer-config",
      "Deployment/riskometer-serve",
      "Deployment/riskometer-worker",
      "ServiceAccount/riskometer",
    ]);
  });
});

describe("kustomize builds (or the raw files without kustomize or kubectl)", () => {
  it("wires serve, worker, Service, autoscaler, settings and the Secret together in the base", async () => {
    const build = await findBuilder();
    if (build) checkWiring(await build(BASE), true);
    else checkWiring(await rawResources(BASE), false);
  });

  it("puts the gcp overlay in namespace riskometer with the Cloud SQL proxy, Workload Identity and a gs:// bucket", async () => {
    const overlay = await kustomization(GCP);
    const appImage = overlay.images?.find((i) => i.name === "ghcr.io/riskometer/riskometer");
    expect(appImage?.newTag).toMatch(/^\d+\.\d+\.\d+$/);
    const build = await findBuilder();
    if (build) {
      const objects = await build(GCP);
      checkWiring(objects, true);
      for (const o of objects) {
        if (o.kind === "Namespace") expect(o.metadata.name).toBe("riskometer");
        else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe("riskometer");
      }
      const data = find<IConfigMap>(objects, "ConfigMap", "riskometer-config").data ?? {};
      expect(data.RISKOMETER_DATABASE_URL).toBe("postgres://riskometer@127.0.0.1:5432/riskometer");
      expect(data.RISKOMETER_ARTIFACTS_URL).toMatch(/^gs:\/\/[^/]+\/\S+$/);
      checkGcpServiceAccount(find<IServiceAccount>(objects, "ServiceAccount", "riskometer"));
      for (const name of ["riskometer-serve", "riskometer-worker"]) {
        const d = find<IDeployment>(objects, "Deployment", name);
        expect(d.spec?.template.spec?.serviceAccountName).toBe("riskometer");
        const sidecars = d.spec?.template.spec?.initContainers ?? [];
        expect(sidecars.map((c) => c.name)).toEqual(["cloud-sql-proxy"]);
        checkProxy(sidecars[0], data.RISKOMETER_DATABASE_URL);
        expect(appContainer(d).image).toBe(`${appImage?.newName}:${appImage?.newTag}`);
      }
    } else {
      // The raw overlay: its kustomization, and what each patch adds.
      expect(overlay.namespace).toBe("riskometer");
      const base = find<IConfigMap>(await rawResources(BASE), "ConfigMap", "riskometer-config");
      const [patch] = await readObjects(join(GCP, "configmap-patch.yaml"));
      const data = { ...base.data, ...(patch.data as Record<string, string>) };
      checkSettings(data);
      expect(data.RISKOMETER_DATABASE_URL).toBe("postgres://riskometer@127.0.0.1:5432/riskometer");
      expect(data.RISKOMETER_ARTIFACTS_URL).toMatch(/^gs:\/\/[^/]+\/\S+$/);
      const [sa] = await readObjects(join(GCP, "serviceaccount-patch.yaml"));
      checkGcpServiceAccount(sa);
      const proxyPatches = (overlay.patches ?? []).filter(
        (p) => p.path === "cloud-sql-proxy-patch.yaml",
      );
      expect(proxyPatches.map((p) => p.target)).toEqual([
        { kind: "Deployment", name: "riskometer-serve" },
        { kind: "Deployment", name: "riskometer-worker" },
      ]);
      const [proxy] = (await readObjects(
        join(GCP, "cloud-sql-proxy-patch.yaml"),
      )) as unknown as IDeployment[];
      const sidecars = proxy.spec?.template.spec?.initContainers ?? [];
      expect(sidecars.map((c) => c.name)).toEqual(["cloud-sql-proxy"]);
      checkProxy(sidecars[0], data.RISKOMETER_DATABASE_URL);
      for (const c of sidecars) {
        expect(c.resources?.requests?.cpu).toBeTruthy();
        expect(c.resources?.limits?.memory).toBeTruthy();
      }
    }
  });
});

describe("docs/deploy-gcp.md", () => {
  it("shows the apply command, the Secret to create and how to fill in every placeholder of the overlay", async () => {
    const doc = await readFile(DOC, "utf8");
    expect(doc).toContain("kubectl apply -k deploy/k8s/overlays/gcp");
    // Shell lines continued with a backslash, joined.
    expect(doc.replace(/\s*\\\n\s*/g, " ")).toContain(
      `create secret generic ${SECRET} --from-literal=${SECRET_KEY}=`,
    );
    // The placeholders are the capitalised words in the overlay's values (comments aside).
    const used = new Set<string>();
    for (const file of await yamlFiles(GCP)) {
      for (const value of strings(parseYaml(await readFile(file, "utf8"), file))) {
        for (const [word] of value.matchAll(
          /(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]{3,}(?![A-Za-z0-9_])/g,
        )) {
          used.add(word);
        }
      }
    }
    expect([...used].sort()).toEqual(PLACEHOLDERS);
    for (const p of PLACEHOLDERS) {
      expect(doc).toContain(`\`${p}\``);
      expect(doc).toContain(`s/${p}/`);
    }
  });
});
