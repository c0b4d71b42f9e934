import { PACKAGE_VERSION, isAppError } from "../core/index.js";
import { Command, CommanderError } from "commander";
import { cvCommand } from "./cv.js";
import { trainCommand } from "./train.js";
import { predictCommand } from "./predict.js";
import { experimentsCommand } from "./experiments.js";
import { runsCommand } from "./runs.js";
import { modelsCommand } from "./models.js";
import { usersCommand } from "./users.js";
import { auditCommand } from "./audit.js";
import { dbCommand } from "./db.js";
import { serveCommand } from "./serve.js";
import { upCommand } from "./up.js";
import { workerCommand } from "./worker.js";
import { flowsCommand } from "./flows.js";
import { driftCommand } from "./drift.js";
import { exploreCommand } from "./explore.js";
import { openApiCommand } from "./openapi.js";
import { datasetsCommand } from "./datasets.js";

/**
 * Exit codes: 0 ok, 1 internal error, 2 bad arguments; data, model, store and access errors per
 * docs/errors.md.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name("riskometer")
    .description(
      "Credit-risk models: cross-validate, train and score applicants; track runs, manage the model registry (versions, aliases, approvals), users and the metadata database; serve the API and web pages.",
    )
    .version(PACKAGE_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.addCommand(cvCommand());
  program.addCommand(trainCommand());
  program.addCommand(datasetsCommand());
  program.addCommand(predictCommand());
  program.addCommand(experimentsCommand());
  program.addCommand(runsCommand());
  program.addCommand(modelsCommand());
  program.addCommand(usersCommand());
  program.addCommand(auditCommand());
  program.addCommand(serveCommand());
  program.addCommand(upCommand());
  program.addCommand(workerCommand());
  program.addCommand(flowsCommand());
  program.addCommand(driftCommand());
  program.addCommand(exploreCommand());
  program.addCommand(openApiCommand());
  program.addCommand(dbCommand());
  for (const cmd of program.commands) overrideExit(cmd);
  return program;
}

// Added commands do not inherit these settings, and without exitOverride a nested command's
// usage error would call process.exit itself instead of becoming exit code 2.
function overrideExit(cmd: Command): void {
  cmd.exitOverride().showHelpAfterError();
  for (const sub of cmd.commands) overrideExit(sub);
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isAppError(e)) {
      process.stderr.write(`riskometer: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`riskometer: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
