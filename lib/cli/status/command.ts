import type { Command } from 'commander';
import type { ExitCodeValue } from '../common/exit-codes';
import { runWithProgress } from '../common/progress';
import { StackResources } from '../common/stack-resources';
import type { CliDependencies } from '../dependencies';
import { addEnvironmentOptions, openContext, printRows, row, STATUS_LABEL, type OpsOptions, type Row } from '../ops/rows';
import { STATUS_PROBES, type StatusProbe } from './probes';

/** Runs `status` and returns the exit code: 0 every component healthy, 1 one is not, 2 could not check. */
export async function runStatus(options: OpsOptions, deps: CliDependencies, probes: readonly StatusProbe[] = STATUS_PROBES): Promise<ExitCodeValue> {
  const quiet = Boolean(options.json) || deps.quiet === true;
  const context = await openContext(options, deps);
  const [resources] = await runWithProgress(
    [
      {
        title: `Read the stacks ${context.config.qualifier}-*`,
        run: () => StackResources.load(context.clients.cloudFormation, context.map.stackNames),
        done: (r: StackResources) =>
          `Read the stacks ${context.config.qualifier}-*${r.missingStacks.length ? ` (not deployed: ${r.missingStacks.join(', ')})` : ''}`,
      },
    ],
    { quiet, stream: deps.stderr },
  );
  const rows = await runWithProgress<Row>(
    probes.map((p) => ({ title: p.title, run: () => p.run(context, resources), done: (r) => `${p.title}: ${STATUS_LABEL[r.status]}` })),
    { quiet, stream: deps.stderr },
  );
  const all = resources.missingStacks.length
    ? [
        row(
          'stacks',
          'Stacks',
          'fail',
          `not deployed: ${resources.missingStacks.join(', ')}`,
          `npx cdk deploy --all -c env=${context.config.name}${context.config.owner ? ` -c owner=${context.config.owner}` : ''}`,
        ),
        ...rows,
      ]
    : rows;
  const heading = `Status of ${context.config.stageName} (stacks ${context.config.qualifier}-*) in account ${context.account}, region ${context.config.region}, at ${context.now().toISOString()}`;
  return printRows(deps, options, 'status', context, heading, all);
}

/** Adds `status` to the program. */
export function registerStatus(program: Command, deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): void {
  addEnvironmentOptions(
    program
      .command('status')
      .description(
        'One line per component: MSK, topics, Flink, EMR Serverless and the streaming job, supervisor, daily report, replay, GA4, Prometheus, scraper, Grafana, alarms',
      ),
  ).action(async (options: OpsOptions) => {
    setExitCode(await runStatus(options, deps));
  });
}
