import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { describeAwsError, isAccessDenied, isCredentialsError, isNotFound } from '../common/aws-errors';
import { CredentialsError, ExitCode, UsageError, type ExitCodeValue } from '../common/exit-codes';
import { jsonEnvelope } from '../common/output';
import { StackResources } from '../common/stack-resources';
import type { CliDependencies } from '../dependencies';
import { addEnvironmentOptions, formatAge, openContext, type OpsOptions } from '../ops/rows';
import { followReplay, type ReplayOutcome } from './follow';

export interface ReplayOptions extends OpsOptions {
  /** Give up following after this many minutes (the replay goes on). */
  readonly timeoutMinutes?: string;
}

/** `s3://bucket/key` -> its parts; anything else is a usage error. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) throw new UsageError(`"${uri}" is not an s3://bucket/key URI of one object`);
  return { bucket: match[1], key: match[2] };
}

/** Starts a replay of one landing object and follows it to the end: exit 0 succeeded, 1 failed or still running at the deadline. */
export async function runReplay(uri: string, options: ReplayOptions, deps: CliDependencies): Promise<ExitCodeValue> {
  const { bucket, key } = parseS3Uri(uri);
  const timeoutMinutes = Number(options.timeoutMinutes ?? '60');
  if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0)
    throw new UsageError(`--timeout-minutes must be a positive number, not ${options.timeoutMinutes}`);
  const context = await openContext(options, deps);
  const { map, clients } = context;
  const quiet = Boolean(options.json) || deps.quiet === true;
  const report = (line: string) => {
    if (!quiet) deps.stderr.write(`${line}\n`);
  };
  let executionArn: string;
  try {
    const resources = await StackResources.load(clients.cloudFormation, [map.landingBucket.stackName, map.replayStateMachine.stackName]);
    const landing = resources.get(map.landingBucket).physicalId;
    // The replay's plan function refuses objects of other buckets; say so before starting anything.
    if (bucket !== landing)
      throw new UsageError(`replay reads the landing bucket of ${context.config.stageName} only (s3://${landing}/); copy the object there first`);
    let etag: string | undefined;
    try {
      etag = (await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag?.replace(/"/g, '');
    } catch (error) {
      if (isNotFound(error, 'NotFound', 'NoSuchKey')) throw new UsageError(`s3://${bucket}/${key} does not exist`);
      throw error;
    }
    const name = `cli-${context
      .now()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}-${Math.random().toString(36).slice(2, 8)}`;
    const started = await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: resources.get(map.replayStateMachine).physicalId,
        name,
        input: JSON.stringify({ bucket, key, ...(etag ? { etag } : {}) }),
      }),
    );
    executionArn = started.executionArn ?? '';
  } catch (error) {
    if (isCredentialsError(error) || isAccessDenied(error)) {
      throw new CredentialsError(
        `${describeAwsError(error)}: replay needs cloudformation:ListStackResources, s3:GetObject on the landing bucket, states:StartExecution, DescribeExecution and GetExecutionHistory, and kms:Decrypt on the logs key (alias/<qualifier>/logs) through Step Functions`,
      );
    }
    throw error;
  }
  report(`Started ${executionArn}`);
  const outcome = await followReplay(context, executionArn, { deadlineMs: timeoutMinutes * 60_000, report });
  const exitCode = outcome.status === 'SUCCEEDED' ? ExitCode.OK : ExitCode.FAILED;
  if (options.json) {
    deps.stdout(`${JSON.stringify(jsonEnvelope('replay', context.config, exitCode, { object: { bucket, key }, ...outcome }, context.account), null, 2)}\n`);
  } else {
    deps.stdout(`${formatOutcome(bucket, key, outcome)}\n`);
  }
  return exitCode;
}

function formatOutcome(bucket: string, key: string, outcome: ReplayOutcome): string {
  const s = outcome.summary ?? {};
  const totals = outcome.summary
    ? `${String(s.records ?? 0)} records, ${String(s.rejected ?? 0)} rejected, ${String(s.bytes ?? 0)} bytes in ${String(s.ranges ?? 0)} ranges${s.skippedReason ? ` (skipped: ${String(s.skippedReason)})` : ''}`
    : '';
  return [
    `Replay of s3://${bucket}/${key}: ${outcome.status} after ${formatAge(outcome.elapsedSeconds * 1000)}`,
    totals,
    outcome.error ? `error: ${outcome.error}` : '',
    `execution: ${outcome.executionArn}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Adds `replay` to the program. */
export function registerReplay(program: Command, deps: CliDependencies, setExitCode: (code: ExitCodeValue) => void): void {
  addEnvironmentOptions(
    program
      .command('replay')
      .description('Replay one landing-bucket object into Kafka and follow it to the end, with progress')
      .argument('<s3-uri>', 's3://<landing bucket>/<key> of the object'),
  )
    .option('--timeout-minutes <minutes>', 'stop following after this long (the replay continues)', '60')
    .action(async (uri: string, options: ReplayOptions) => {
      setExitCode(await runReplay(uri, options, deps));
    });
}
