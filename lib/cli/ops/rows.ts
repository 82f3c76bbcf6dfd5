import type { Command } from 'commander';
import type { ResolvedEnvironment } from '../../config/load-config';
import { describeAwsError, isAccessDenied, isCredentialsError } from '../common/aws-errors';
import { callerAccount } from '../common/caller';
import type { DeploymentMap } from '../common/deployment';
import { resolveEnvironment, type EnvironmentOptions } from '../common/environment';
import { CredentialsError, ExitCode, type ExitCodeValue } from '../common/exit-codes';
import { createOpsClients, type OpsClients } from '../common/ops-clients';
import { jsonEnvelope, renderTable } from '../common/output';
import { NotDeployedError } from '../common/stack-resources';
import type { CheckResult, CheckStatus } from '../preflight/types';
import type { CliDependencies } from '../dependencies';

/** One row of `status` or `smoke`: the same stable shape as a preflight check. */
export type Row = CheckResult;

export const STATUS_LABEL: Record<CheckStatus, string> = { pass: 'OK', warn: 'WARN', fail: 'FAIL', error: 'ERROR' };

/** Everything the runtime commands share: the environment, its map, its clients, a clock. */
export interface OpsContext {
  readonly config: ResolvedEnvironment;
  readonly account: string;
  readonly map: DeploymentMap;
  readonly clients: OpsClients;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export function row(id: string, title: string, status: CheckStatus, detail: string, remedy: string | null = null): Row {
  return { id, title, status, detail, remedy };
}

/**
 * Runs one probe. Missing credentials abort the command (exit 2); access denied makes the row an
 * error naming the permissions; a resource the stage defines but the account lacks is a failure.
 */
export async function probe(id: string, title: string, permissions: string, body: () => Promise<Row>): Promise<Row> {
  try {
    return await body();
  } catch (error) {
    if (isCredentialsError(error)) throw new CredentialsError(`AWS credentials are missing or invalid: ${describeAwsError(error)}`);
    if (error instanceof NotDeployedError) return row(id, title, 'fail', error.message, 'deploy the environment: npx cdk deploy --all -c env=<name>');
    if (isAccessDenied(error)) return row(id, title, 'error', `access denied: ${describeAwsError(error)}`, `allow ${permissions}`);
    return row(id, title, 'error', `could not check: ${describeAwsError(error)}`, null);
  }
}

/** error (could not judge) outranks fail, which outranks warn and pass. */
export function exitCodeForRows(rows: readonly Row[]): ExitCodeValue {
  if (rows.some((r) => r.status === 'error')) return ExitCode.USAGE_OR_CREDENTIALS;
  if (rows.some((r) => r.status === 'fail')) return ExitCode.FAILED;
  return ExitCode.OK;
}

export function summarize(rows: readonly Row[]): Record<CheckStatus, number> {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, error: 0 };
  for (const r of rows) summary[r.status] += 1;
  return summary;
}

export function rowsTable(rows: readonly Row[], titleHeader: string): string {
  return renderTable(
    ['STATUS', titleHeader, 'DETAIL'],
    rows.map((r) => [STATUS_LABEL[r.status], r.title, r.remedy ? `${r.detail}\n-> ${r.remedy}` : r.detail]),
  );
}

/** Environment options every runtime command takes. */
export interface OpsOptions extends EnvironmentOptions {
  readonly json?: boolean;
}

export function addEnvironmentOptions(command: Command): Command {
  return command
    .requiredOption('--env <name>', 'environment name from lib/config/environments.ts')
    .option('--owner <name>', 'personal sandbox owner (as -c owner=)')
    .option('--region <region>', 'region when the environment entry names none (as -c region=)')
    .option('--json', 'print a stable JSON document instead of the table');
}

/** Loads the environment, its deployment map and clients, and checks the credentials' account. */
export async function openContext(options: EnvironmentOptions, deps: CliDependencies): Promise<OpsContext> {
  const config = resolveEnvironment(options, deps.processEnv);
  const clients = (deps.createOpsClients ?? createOpsClients)(config.region);
  const describe =
    deps.describeDeployment ?? ((c: ResolvedEnvironment) => (require('../common/deployment') as typeof import('../common/deployment')).describeDeployment(c));
  const map = describe(config);
  const account = await callerAccount(clients, config);
  return {
    config,
    account,
    map,
    clients,
    now: deps.now ?? (() => new Date()),
    sleep: deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}

/** Prints rows as JSON or as the table with a heading and a verdict line. */
export function printRows(
  deps: CliDependencies,
  options: OpsOptions,
  command: string,
  context: OpsContext,
  heading: string,
  rows: readonly Row[],
  extra: Record<string, unknown> = {},
): ExitCodeValue {
  const exitCode = exitCodeForRows(rows);
  const summary = summarize(rows);
  if (options.json) {
    deps.stdout(`${JSON.stringify(jsonEnvelope(command, context.config, exitCode, { ...extra, rows, summary }, context.account), null, 2)}\n`);
  } else {
    const verdict = exitCode === ExitCode.OK ? 'healthy' : exitCode === ExitCode.FAILED ? 'unhealthy' : 'could not check everything';
    deps.stdout(
      `${[heading, '', rowsTable(rows, command === 'smoke' ? 'STEP' : 'COMPONENT'), '', `${summary.pass} ok, ${summary.warn} warnings, ${summary.fail} failed, ${summary.error} errors: ${verdict}`].join('\n')}\n`,
    );
  }
  return exitCode;
}

/** `3h 12m`, `45s`: an age or a duration for a table cell. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
