// Kills a scoring server with SIGKILL while clients keep it busy, then compares the decisions the
// clients were told about (200 responses with an id) with those in the decision log. Shared by
// test/compiled-server.test.ts and bench/serve-crash.bench.mjs. Plain JS so both can import it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../dist/cli/bin.js", import.meta.url));

/** Starts `riskometer serve --port 0` on a home; resolves with its URL once it is ready. */
export async function startServer(env) {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    env: { ...process.env, RISKOMETER_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /serving at (http:\/\/[^/\s]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, url };
}

/**
 * Runs `clients` request loops against `url` for `killAfterMs`, then SIGKILLs the server.
 * Resolves with the ids of every decision a client received a 200 for.
 */
export async function loadThenKill({ child, url, applicant, clients = 16, killAfterMs = 1500 }) {
  const acknowledged = [];
  let stop = false;
  let failures = 0;
  const body = JSON.stringify(applicant);
  const loop = async () => {
    while (!stop) {
      try {
        const r = await fetch(`${url}/api/v1/predictions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        if (r.status === 200) acknowledged.push((await r.json()).predictions[0].id);
        else failures++;
      } catch {
        // The server is gone: a request in flight at the kill gets no answer, so no promise.
        if (stop) return;
        failures++;
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  await new Promise((r) => setTimeout(r, killAfterMs));
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  stop = true;
  await exited;
  await Promise.all(loops);
  return { acknowledged, failures };
}
