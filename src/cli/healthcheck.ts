/**
 * The container's health check: exits 0 when this machine's `serve` or `up` answers `/healthz`
 * with 200 within 4 s, else 1. A file of its own rather than a CLI command, so a check every 30 s
 * loads only the settings, not every command.
 */
import { loadConfig } from "../core/config.js";

const { host, port } = loadConfig();
// A wildcard bind is reached on loopback; a specific address is asked directly.
const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
const url = `http://${target.includes(":") ? `[${target}]` : target}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exitCode = res.ok ? 0 : 1;
  if (!res.ok) process.stderr.write(`${url}: HTTP ${res.status}\n`);
} catch (e) {
  process.stderr.write(`${url}: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
