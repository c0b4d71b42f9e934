#!/usr/bin/env node
import { main } from "./main.js";

// Output piped into a reader that stops early (`riskometer … | head`) is not an error: stop
// quietly, as Unix tools do, instead of crashing on the broken pipe.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv);
