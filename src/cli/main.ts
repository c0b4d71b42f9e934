import { PACKAGE_VERSION, isAppError } from "../core/index.js";
import { Command, CommanderError } from "commander";
import { cvCommand } from "./cv.js";
import { trainCommand } from "./train.js";
import { predictCommand } from "./predict.js";

/** Exit codes: 0 ok, 1 internal error, 2 bad arguments; data and model errors per docs/errors.md. */
export function buildProgram(): Command {
  const program = new Command()
    .name("riskometer")
    .description("Credit-risk models: cross-validate, train, and score applicants.")
    .version(PACKAGE_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.addCommand(cvCommand());
  program.addCommand(trainCommand());
  program.addCommand(predictCommand());
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError();
  return program;
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
