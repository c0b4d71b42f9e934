// The scoring server end to end: cold start to ready, single-applicant JSON predictions with the
// decision log on (wrk, 2 threads, 16 connections) by a clerk's API token, against the same
// requests without access control (a second server in open mode, same store, alternating
// rounds), and resident memory after many predictions.
// Usage: node bench/serve.bench.mjs [algorithm=gbdt] [seconds=15] [predictions for memory=1000000]
// Needs wrk (Debian: apt-get install wrk).
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, cli, fmt } from "./lib.mjs";

const algorithm = process.argv[2] ?? "gbdt";
const seconds = Number(process.argv[3] ?? 15);
const memoryPredictions = Number(process.argv[4] ?? 1_000_000);
const PORT = 9700 + Math.floor(Math.random() * 200);
const OPEN_PORT = PORT + 200;

try {
  execFileSync("wrk", ["--version"], { stdio: "ignore" });
} catch (e) {
  if (e.code === "ENOENT") {
    console.error("wrk is not installed (apt-get install wrk)");
    process.exit(1);
  }
}

const APPLICANT = {
  checking_status: "<0",
  duration: 24,
  credit_history: "existing paid",
  purpose: "radio/tv",
  credit_amount: 3000,
  savings_status: "<100",
  employment: "1<=X<4",
  installment_commitment: 3,
  personal_status: "male single",
  other_parties: "none",
  residence_since: 2,
  property_magnitude: "car",
  age: 30,
  other_payment_plans: "none",
  housing: "own",
  existing_credits: 1,
  job: "skilled",
  num_dependents: 1,
  own_telephone: "none",
  foreign_worker: "yes",
};

async function waitReady(url, started, timeoutMs = 30_000) {
  for (;;) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > timeoutMs) throw new Error("server did not become ready");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rssMb(pid) {
  const status = execFileSync("cat", [`/proc/${pid}/status`]).toString();
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

function wrk(url, script, duration) {
  const out = execFileSync(
    "wrk",
    ["-t2", "-c16", `-d${duration}s`, "--latency", "-s", script, `${url}/api/v1/predictions`],
    { encoding: "utf8", maxBuffer: 16 << 20 },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]];
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p50ms = Number(p50[1]) * { us: 0.001, ms: 1, s: 1000 }[p50[2]];
  const total = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return { rps, p50ms, p99ms, total, errors: non2xx ? Number(non2xx[1]) : 0 };
}

const dir = await mkdtemp(join(tmpdir(), "riskometer-serve-bench-"));
const env = { RISKOMETER_HOME: join(dir, "home") };
let server;
let openServer;
try {
  const trained = await cli(
    ["train", "--algorithm", algorithm, "--trials", "5", "--top", "1", "--json"],
    env,
  );
  if (trained.code !== 0) throw new Error(`train failed: ${trained.stderr}`);
  const model = JSON.parse(trained.stdout).model;
  // A clerk and their token (the store has no admin yet, so none is needed to make one).
  const added = await cli(["users", "add", "bench-clerk", "--role", "clerk", "--days", "0"], env);
  if (added.code !== 0) throw new Error(`users add failed: ${added.stderr}`);
  const token = /^token: (\S+)$/m.exec(added.stdout)[1];
  const body = JSON.stringify(JSON.stringify(APPLICANT));
  const script = join(dir, "post.lua");
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${token}"\nwrk.body = ${body}\n`,
  );
  const openScript = join(dir, "post-open.lua");
  await writeFile(
    openScript,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${body}\n`,
  );

  const url = `http://127.0.0.1:${PORT}`;
  const started = performance.now();
  server = spawn(process.execPath, [BIN, "serve", "--port", String(PORT)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const coldStartMs = await waitReady(url, started);
  const openUrl = `http://127.0.0.1:${OPEN_PORT}`;
  openServer = spawn(process.execPath, [BIN, "serve", "--port", String(OPEN_PORT)], {
    env: { ...process.env, ...env, RISKOMETER_ACCESS: "open" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitReady(openUrl, performance.now());
  console.log(
    `serve (${algorithm}, ${model.name}/${model.version}): cold start to ready ${fmt(coldStartMs, 0)} ms (bar ≤ 1000 ms)`,
  );

  const sample = await (
    await fetch(`${url}/api/v1/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(APPLICANT),
    })
  ).json();
  console.log(`  one prediction: ${JSON.stringify(sample.predictions[0]).slice(0, 200)}…`);

  wrk(url, script, 3); // warm-up
  wrk(openUrl, openScript, 3);
  // Both sides on the same machine in one run; each side's better round counts.
  const rounds = { token: [], open: [] };
  // A B B A: the log grows as the rounds go, so each side runs first once and last once.
  for (const side of ["open", "token", "token", "open"]) {
    rounds[side].push(
      side === "open" ? wrk(openUrl, openScript, seconds) : wrk(url, script, seconds),
    );
  }
  const best = (list) => list.reduce((a, b) => (b.rps > a.rps ? b : a));
  const r = best(rounds.token);
  const o = best(rounds.open);
  console.log(
    `  wrk -t2 -c16 -d${seconds}s with a clerk's token: ${Math.round(r.rps).toLocaleString("en")} requests/s (bar ≥ 8,000), p50 ${fmt(r.p50ms, 2)} ms, p99 ${fmt(r.p99ms, 2)} ms (bar ≤ 10 ms), ${r.errors} non-2xx`,
  );
  console.log(
    `  without access control (open mode): ${Math.round(o.rps).toLocaleString("en")} requests/s, p99 ${fmt(o.p99ms, 2)} ms, ${o.errors} non-2xx; rounds ${rounds.open.map((x) => Math.round(x.rps)).join(", ")} vs token ${rounds.token.map((x) => Math.round(x.rps)).join(", ")}`,
  );
  console.log(`  token/open throughput ratio: ${fmt(r.rps / o.rps, 3)} (bar ≥ 0.90)`);
  openServer.kill("SIGTERM");

  let done = r.total + 3 * r.rps;
  while (done < memoryPredictions) {
    const more = wrk(
      url,
      script,
      Math.min(60, Math.ceil((memoryPredictions - done) / Math.max(1, r.rps)) + 1),
    );
    done += more.total;
  }
  // A fresh connection (node:http without an agent): fetch's pooled one may have idled past the
  // server's keep-alive while wrk ran.
  const metrics = await new Promise((resolve, reject) => {
    get(`${url}/metrics`, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
  const logged = metrics
    .split("\n")
    .filter((l) => l.startsWith("riskometer_decisions_logged_total"))
    .map((l) => Number(l.split(" ").pop()))[0];
  console.log(
    `  resident memory after ${Math.round(done).toLocaleString("en")} predictions (${Math.round(logged).toLocaleString("en")} decisions logged): ${fmt(rssMb(server.pid), 0)} MB (bar ≤ 200 MB)`,
  );
  const db = await readFile(join(dir, "home", "riskometer.db")).then((b) => b.length);
  console.log(`  decision log: ${fmt(db / 1e6, 0)} MB SQLite file (WAL not counted)`);
} finally {
  if (openServer?.exitCode === null) openServer.kill("SIGTERM");
  server?.kill("SIGTERM");
  await new Promise((r) => (server ? server.once("exit", r) : r()));
  await rm(dir, { recursive: true, force: true });
}
