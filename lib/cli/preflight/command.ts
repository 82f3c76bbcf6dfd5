import type { Command } from 'commander';
import type { ResolvedEnvironment } from '../../config/load-config';
import type { ClientRegions } from '../common/aws-clients';
import { callerAccount } from '../common/caller';
import { resolveEnvironment, synthesizeEnvironment, type EnvironmentOptions } from '../common/environment';
import { ExitCode, type ExitCodeValue } from '../common/exit-codes';
import { jsonEnvelope, renderTable } from '../common/output';
import { runWithProgress } from '../common/progress';
import type { CliDependencies } from '../dependencies';
import { PREFLIGHT_CHECKS } from './checks';
import { requirementsFromAssembly, type PreflightRequirements } from './requirements';
import type { CheckResult, CheckStatus, PreflightCheck } from './types';

export interface PreflightOptions extends EnvironmentOptions {
  readonly json?: boolean;
  /** Where IAM Identity Center lives, when not in the environment's region. */
  readonly identityCenterRegion?: string;
}

/** Everything preflight found; the `result` of the `--json` envelope. */
export interface PreflightReport {
  readonly checks: CheckResult[];
  readonly summary: Record<CheckStatus, number>;
}

const STATUS_LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', error: 'ERROR' };

/** error (could not judge) outranks fail, which outranks warn and pass. */
export function exitCodeFor(checks: readonly CheckResult[]): ExitCodeValue {
  if (checks.some((c) => c.status === 'error')) return ExitCode.USAGE_OR_CREDENTIALS;
  if (checks.some((c) => c.status === 'fail')) return ExitCode.FAILED;
  return ExitCode.OK;
}

/** Runs preflight and returns the exit code; output goes through `deps`. */
export async function runPreflight(
  options: PreflightOptions,
  deps: CliDependencies,
  checks: readonly PreflightCheck[] = PREFLIGHT_CHECKS,
): Promise<ExitCodeValue> {
  const config = resolveEnvironment(options, deps.processEnv);
  const regions: ClientRegions = { region: config.region, identityCenterRegion: options.identityCenterRegion };
  const clients = deps.createAwsClients(regions);
  const quiet = Boolean(options.json) || deps.quiet === true;

  const [requirements, account] = (await runWithProgress<PreflightRequirements | string>(
    [
      {
        title: `Synthesize ${config.stageName} to read what it needs`,
        run: async () => deps.synthesizeRequirements(config),
        done: (r) => `Synthesized ${config.stageName}: ${(r as PreflightRequirements).resourceTypes.length} resource types`,
      },
      { title: 'Read the caller identity', run: () => callerAccount(clients, config), done: (a) => `Account ${String(a)}, region ${config.region}` },
    ],
    { quiet, stream: deps.stderr },
  )) as [PreflightRequirements, string];

  const context = { config, account, requirements, clients };
  const results = await runWithProgress<CheckResult>(
    checks.map((check) => ({ title: check.title, run: () => check.run(context), done: (r) => `${check.title}: ${STATUS_LABEL[r.status]}` })),
    { quiet, stream: deps.stderr },
  );

  const exitCode = exitCodeFor(results);
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, error: 0 };
  for (const r of results) summary[r.status] += 1;
  if (options.json) {
    deps.stdout(`${JSON.stringify(jsonEnvelope<PreflightReport>('preflight', config, exitCode, { checks: results, summary }, account), null, 2)}\n`);
  } else {
    deps.stdout(`${formatPreflight(config, account, results, summary)}\n`);
  }
  return exitCode;
}

/** The human table: one row per check, the remedy under every row that needs action. */
export function formatPreflight(config: ResolvedEnvironment, account: string, results: readonly CheckResult[], summary: Record<CheckStatus, number>): string {
  const rows = results.map((r) => [STATUS_LABEL[r.status], r.title, r.remedy ? `${r.detail}\n-> ${r.remedy}` : r.detail]);
  const verdict = summary.error > 0 ? 'could not check everything' : summary.fail > 0 ? 'not ready to deploy' : 'ready to deploy';
  return [
    `Preflight for ${config.stageName} (stacks ${config.qualifier}-*) in account ${account}, region ${config.region}`,
    '',
    renderTable(['STATUS', 'CHECK', 'DETAIL'], rows),
    '',
    `${summary.pass} passed, ${summary.warn} warnings, ${summary.fail} failed, ${summary.error} errors: ${verdict}`,
  ].join('\n');
}

/** Adds `preflight` to the program. */
export function registerPreflight(program: Command, deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): void {
  program
    .command('preflight')
    .description('Check the target account before the first deploy: IAM Identity Center, CDK bootstrap, service-linked roles, region services, quotas')
    .requiredOption('--env <name>', 'environment name from lib/config/environments.ts')
    .option('--owner <name>', 'personal sandbox owner (as -c owner=)')
    .option('--region <region>', 'region when the environment entry names none (as -c region=)')
    .option('--identity-center-region <region>', 'region of the IAM Identity Center instance, when not the environment region')
    .option('--json', 'print a stable JSON document instead of the table')
    .action(async (options: PreflightOptions) => {
      setExitCode(await runPreflight(options, deps));
    });
}

/** The default requirement reader: synthesize the stage in-process. */
export function synthesizeRequirements(config: ResolvedEnvironment): PreflightRequirements {
  return synthesizeEnvironment(config, requirementsFromAssembly);
}
