import { Command, CommanderError } from 'commander';
import { defaultDependencies, type CliDependencies } from './dependencies';
import { CredentialsError, ExitCode, UsageError, type ExitCodeValue } from './common/exit-codes';
import { registerCost } from './cost/command';
import { registerPreflight } from './preflight/command';
import { registerErase } from './erase/command';
import { registerReplay } from './replay/command';
import { registerSmoke } from './smoke/command';
import { registerStatus } from './status/command';

/**
 * The `lakestream` operator CLI. Each command lives in lib/cli/<command>/ and registers itself
 * here; they share the environment options (--env, --owner, --json), the exit codes and the JSON
 * envelope in lib/cli/common/.
 */
export function createProgram(deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): Command {
  const program = new Command('lakestream')
    .description('Operator CLI of the Lakestream data platform. Exit codes: 0 pass, 1 fail, 2 usage or credentials.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => deps.stdout(text), writeErr: (text) => deps.stderr.write(text) });
  registerPreflight(program, deps, setExitCode);
  registerErase(program, deps, setExitCode);
  registerStatus(program, deps, setExitCode);
  registerReplay(program, deps, setExitCode);
  registerSmoke(program, deps, setExitCode);
  registerCost(program, deps, setExitCode);
  return program;
}

/** Parses `argv` (without node and script), runs the command and returns the exit code. */
export async function runCli(argv: readonly string[], deps: CliDependencies = defaultDependencies()): Promise<ExitCodeValue> {
  let exitCode: ExitCodeValue = ExitCode.OK;
  const program = createProgram(deps, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; parse errors with 1, which is ours for "failed".
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE_OR_CREDENTIALS;
    }
    if (error instanceof UsageError || error instanceof CredentialsError) {
      deps.stderr.write(`lakestream: ${error.message}\n`);
      return ExitCode.USAGE_OR_CREDENTIALS;
    }
    deps.stderr.write(`lakestream: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.FAILED;
  }
}
