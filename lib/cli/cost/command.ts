import type { Command } from 'commander';
import { ENVIRONMENTS } from '../../config/environments';
import type { ResolvedEnvironment } from '../../config/load-config';
import { resolveEnvironment, synthesizeEnvironment } from '../common/environment';
import { ExitCode, UsageError, type ExitCodeValue } from '../common/exit-codes';
import { renderTable } from '../common/output';
import { runWithProgress } from '../common/progress';
import type { CliDependencies } from '../dependencies';
import { DEFAULT_ASSUMPTIONS, estimateCost, type CostEstimate, type TemplateLike } from './estimate';
import { PRICE_TABLE } from './prices';

export interface CostOptions {
  readonly env: string;
  readonly owner?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly grafanaEditors?: string;
  readonly batchMinutes?: string;
}

/** Every stack template of the environment's stage, synthesized in-process without credentials. */
export function synthesizeTemplates(config: ResolvedEnvironment): TemplateLike[] {
  return synthesizeEnvironment(config, (assembly) => assembly.stacksRecursively.map((s) => s.template as TemplateLike));
}

function positive(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0, not ${value}`);
  return n;
}

/** Runs `cost` for one environment or `all`; exit 0, or 2 for usage (unknown environment, unpriced region). */
export async function runCost(options: CostOptions, deps: CliDependencies): Promise<ExitCodeValue> {
  const names = options.env === 'all' ? Object.keys(ENVIRONMENTS) : [options.env];
  const assumptions = {
    ...DEFAULT_ASSUMPTIONS,
    grafanaEditors: positive(options.grafanaEditors, DEFAULT_ASSUMPTIONS.grafanaEditors, '--grafana-editors'),
    batchJobMinutes: positive(options.batchMinutes, DEFAULT_ASSUMPTIONS.batchJobMinutes, '--batch-minutes'),
  };
  const configs = names.map((env) => resolveEnvironment({ env, owner: options.owner, region: options.region }, deps.processEnv));
  for (const c of configs) {
    if (!PRICE_TABLE[c.region])
      throw new UsageError(
        `no prices for ${c.region} in lib/cli/cost/prices.ts (priced: ${Object.keys(PRICE_TABLE).join(', ')}); add the region's prices with their source`,
      );
  }
  const synthesize = deps.synthesizeTemplates ?? synthesizeTemplates;
  const estimates = await runWithProgress<CostEstimate>(
    configs.map((config) => ({
      title: `Synthesize ${config.stageName} and price it`,
      run: async () => estimateCost(config, synthesize(config), PRICE_TABLE[config.region], assumptions),
      done: (e) => `${config.stageName}: $${e.totalMonthlyUsd.toFixed(2)}/month`,
    })),
    { quiet: Boolean(options.json) || deps.quiet === true, stream: deps.stderr },
  );
  if (options.json) {
    const document = {
      command: 'cost',
      ok: true,
      exitCode: ExitCode.OK,
      result: { environments: configs.map((c, i) => ({ name: c.name, stage: c.stageName, ...estimates[i] })) },
    };
    deps.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    deps.stdout(`${configs.map((c, i) => formatEstimate(c, estimates[i])).join('\n\n')}\n`);
  }
  return ExitCode.OK;
}

export function formatEstimate(config: ResolvedEnvironment, e: CostEstimate): string {
  const rows = e.lines.map((l) => [`$${l.monthlyUsd.toFixed(2)}`, l.component, `${l.basis}\n  changes with: ${l.settings}`]);
  const top = e.lines
    .slice(0, 3)
    .map((l) => `${l.component} ($${l.monthlyUsd.toFixed(0)})`)
    .join(', ');
  return [
    `Monthly estimate for ${config.stageName} in ${e.region}: $${e.totalMonthlyUsd.toFixed(2)} (list prices from the table of ${e.pricesAsOf}, lib/cli/cost/prices.ts; usage not in config is assumed, see below)`,
    '',
    renderTable(['USD/MONTH', 'COMPONENT', 'BASIS'], rows),
    '',
    `Top cost drivers: ${top}`,
    `Assumed: ${e.assumptions.hoursPerMonth} h/month, batch jobs ${e.assumptions.batchJobMinutes} min/day each, ${e.assumptions.seriesPerBroker} Prometheus series per broker, ${e.assumptions.grafanaEditors} Grafana editor, ${e.assumptions.logsGbPerMonth} GB logs, ${e.assumptions.lakeGb} GB lake. Data transfer, requests and Athena scans are not included.`,
  ].join('\n');
}

/** Adds `cost` to the program. */
export function registerCost(program: Command, deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): void {
  program
    .command('cost')
    .description('Monthly cost estimate per environment from config and the synthesized templates, at the dated price table (offline)')
    .requiredOption('--env <name>', 'environment name from lib/config/environments.ts, or all')
    .option('--owner <name>', 'personal sandbox owner (as -c owner=)')
    .option('--region <region>', 'region when the environment entry names none (as -c region=)')
    .option('--grafana-editors <n>', 'active Grafana editors/admins', String(DEFAULT_ASSUMPTIONS.grafanaEditors))
    .option('--batch-minutes <n>', 'minutes each daily batch job runs', String(DEFAULT_ASSUMPTIONS.batchJobMinutes))
    .option('--json', 'print a stable JSON document instead of the table')
    .action(async (options: CostOptions) => {
      setExitCode(await runCost(options, deps));
    });
}
