import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Command } from 'commander';
import type { ResolvedEnvironment } from '../../config/load-config';
import { MAX_SUBJECTS, MAX_USER_ID_LENGTH, REQUEST_ID_PATTERN, requestKey } from '../../functions/erasure/model';
import { describeAwsError, isAccessDenied, isCredentialsError } from '../common/aws-errors';
import { resolveEnvironment, type EnvironmentOptions } from '../common/environment';
import { CredentialsError, ExitCode, UsageError, type ExitCodeValue } from '../common/exit-codes';
import { jsonEnvelope, renderTable } from '../common/output';
import { runWithProgress } from '../common/progress';
import type { CliDependencies } from '../dependencies';

export interface EraseOptions extends EnvironmentOptions {
  readonly userId: string[];
  readonly requestId: string;
  readonly json?: boolean;
  /** Give up waiting for the first pass after this many minutes (the workflow keeps running). */
  readonly timeoutMinutes?: number;
}

/** The SDK clients `erase` uses; tests pass mocked ones. */
export interface EraseClients {
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

export interface EraseRuntime {
  readonly createClients: (region: string) => EraseClients;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Between history polls. @default 10 s */
  readonly pollIntervalMs: number;
}

export const DEFAULT_RUNTIME: EraseRuntime = {
  createClients: (region) => ({ ssm: new SSMClient({ region }), s3: new S3Client({ region }), sfn: new SFNClient({ region }) }),
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  pollIntervalMs: 10_000,
};

/** What the workflow's SSM parameter says (lib/constructs/gdpr/erasure-workflow.ts). */
interface WorkflowSettings {
  readonly stateMachineArn: string;
  readonly workBucket: string;
  readonly receiptsBucket: string;
  readonly deadlineDays: number;
  readonly sweepDelayHours: number;
}

/** The `result` of `--json`. */
export interface EraseReport {
  readonly requestId: string;
  readonly executionArn: string;
  /** first-pass-done: erased and the initial receipt written, the sweep pass pending. */
  readonly status: 'first-pass-done' | 'already-erased' | 'erased' | 'failed' | 'timed-out';
  readonly receiptKey: string | null;
  readonly receipt: Record<string, unknown> | null;
  readonly error?: string;
}

export function parameterNameFor(config: ResolvedEnvironment): string {
  return `/${config.namePrefix}/${config.stageName}/erasure`;
}

function validate(options: EraseOptions): string[] {
  if (!REQUEST_ID_PATTERN.test(options.requestId)) {
    throw new UsageError(
      `--request-id ${JSON.stringify(options.requestId)} is not allowed (allowed: 1-80 letters, digits, '_' or '-', starting with a letter or digit)`,
    );
  }
  const ids = [...new Set(options.userId ?? [])];
  if (ids.length === 0 || ids.length > MAX_SUBJECTS) throw new UsageError(`--user-id must be given 1 to ${MAX_SUBJECTS} times (got ${ids.length})`);
  const bad = ids.find((id) => id.length > MAX_USER_ID_LENGTH || id.trim() === '');
  if (bad !== undefined) throw new UsageError(`every --user-id must be 1 to ${MAX_USER_ID_LENGTH} characters and not blank`);
  return ids.sort();
}

async function aws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isCredentialsError(error) || isAccessDenied(error)) throw new CredentialsError(`${what}: ${describeAwsError(error)}`);
    throw error;
  }
}

async function readSettings(clients: EraseClients, config: ResolvedEnvironment): Promise<WorkflowSettings> {
  const name = parameterNameFor(config);
  const response = await aws(`ssm:GetParameter ${name}`, () => clients.ssm.send(new GetParameterCommand({ Name: name }))).catch((error: unknown) => {
    if ((error as { name?: string }).name === 'ParameterNotFound')
      throw new UsageError(`environment ${config.stageName} has no erasure workflow (SSM parameter ${name} not found): deploy it first`);
    throw error;
  });
  return JSON.parse(response.Parameter!.Value!) as WorkflowSettings;
}

/**
 * Records the request and starts its execution, without following it: what `erase` does before it
 * waits, and what `smoke` does to erase its synthetic user. Re-running the same request is safe.
 */
export async function requestErasure(
  clients: EraseClients,
  config: ResolvedEnvironment,
  requestId: string,
  userIds: string[],
  now: Date,
): Promise<{ executionArn: string; started: boolean }> {
  const settings = await readSettings(clients, config);
  await writeRequest(clients, settings, requestId, [...userIds].sort(), now);
  const execution = await startExecution(clients, settings, requestId);
  return { executionArn: execution.arn, started: execution.started };
}

/**
 * Writes the request document once. A second run of the same request id with the same ids reuses it
 * (and its requestedAt, from which the deadline counts); with other ids it is refused.
 */
async function writeRequest(clients: EraseClients, settings: WorkflowSettings, requestId: string, userIds: string[], now: Date): Promise<'written' | 'reused'> {
  const key = requestKey(requestId);
  try {
    await aws(`s3:PutObject s3://${settings.workBucket}/${key}`, () =>
      clients.s3.send(
        new PutObjectCommand({
          Bucket: settings.workBucket,
          Key: key,
          Body: JSON.stringify({ requestId, userIds, requestedAt: now.toISOString() }),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      ),
    );
    return 'written';
  } catch (error) {
    if (!(error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 412 || error.name === 'PreconditionFailed'))) throw error;
    const existing = await clients.s3.send(new GetObjectCommand({ Bucket: settings.workBucket, Key: key }));
    const document = JSON.parse(await existing.Body!.transformToString('utf-8')) as { userIds?: string[] };
    if (JSON.stringify([...(document.userIds ?? [])].sort()) !== JSON.stringify(userIds)) {
      throw new UsageError(`request id ${requestId} is already in use for other user ids: choose a new request id`);
    }
    return 'reused';
  }
}

async function startExecution(clients: EraseClients, settings: WorkflowSettings, requestId: string): Promise<{ arn: string; started: boolean }> {
  const arn = `${settings.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
  try {
    const response = await aws('states:StartExecution', () =>
      clients.sfn.send(new StartExecutionCommand({ stateMachineArn: settings.stateMachineArn, name: requestId, input: JSON.stringify({ requestId }) })),
    );
    return { arn: response.executionArn ?? arn, started: true };
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    return { arn, started: false };
  }
}

async function history(clients: EraseClients, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000, includeExecutionData: true }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The output of the named state once it has exited, or undefined. */
function exitedOutput(events: readonly HistoryEvent[], stateName: string): string | undefined {
  const event = events.find((e) => e.stateExitedEventDetails?.name === stateName);
  return event ? (event.stateExitedEventDetails?.output ?? '{}') : undefined;
}

type Milestone = { state: string; output: string } | { failed: string } | { finished: 'SUCCEEDED' };

/** Polls until one of `states` has exited, or the execution ended. */
async function waitFor(
  clients: EraseClients,
  runtime: EraseRuntime,
  executionArn: string,
  states: readonly string[],
  deadline: number,
): Promise<Milestone | undefined> {
  for (;;) {
    const events = await history(clients, executionArn);
    for (const state of states) {
      const output = exitedOutput(events, state);
      if (output !== undefined) return { state, output };
    }
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === 'SUCCEEDED') return { finished: 'SUCCEEDED' };
    if (described.status && described.status !== 'RUNNING' && described.status !== 'PENDING_REDRIVE') {
      return { failed: `${described.status}: ${described.error ?? ''} ${described.cause ?? ''}`.trim() };
    }
    if (runtime.now().getTime() >= deadline) return undefined;
    await runtime.sleep(runtime.pollIntervalMs);
  }
}

/** Runs `erase` and returns the exit code. */
export async function runErase(options: EraseOptions, deps: CliDependencies, runtime: EraseRuntime = DEFAULT_RUNTIME): Promise<ExitCodeValue> {
  const config = resolveEnvironment(options, deps.processEnv);
  const userIds = validate(options);
  const { requestId } = options;
  const clients = runtime.createClients(config.region);
  const quiet = Boolean(options.json) || deps.quiet === true;
  const deadline = runtime.now().getTime() + (options.timeoutMinutes ?? 120) * 60_000;
  const step = async <T>(title: string, run: () => Promise<T>, done: (r: T) => string): Promise<T> =>
    (await runWithProgress<T>([{ title, run, done }], { quiet, stream: deps.stderr }))[0]!;

  const settings = await step(
    `Find the erasure workflow of ${config.stageName}`,
    () => readSettings(clients, config),
    (s) => `Workflow ${s.stateMachineArn.split(':').pop()}`,
  );
  await step(
    'Record the request (the only place the user ids are written)',
    () => writeRequest(clients, settings, requestId, userIds, runtime.now()),
    (r) =>
      r === 'written'
        ? `Request ${requestId} recorded for ${userIds.length} user id(s)`
        : `Request ${requestId} already recorded with the same user ids: resuming`,
  );
  const execution = await step(
    'Start the erasure workflow',
    () => startExecution(clients, settings, requestId),
    (e) => (e.started ? `Started execution ${requestId}` : `Execution ${requestId} already exists: following it`),
  );
  const prepared = await step(
    'Prepare: validate and digest the ids',
    () => waitFor(clients, runtime, execution.arn, ['Prepare'], deadline),
    (m) => describeMilestone(m, 'prepared'),
  );
  let outcome = prepared;
  if (prepared && 'state' in prepared && !(JSON.parse(prepared.output) as { alreadyErased?: boolean }).alreadyErased) {
    outcome = await step(
      'Erase from the lake (Spark rewrite and old versions), Kafka (tombstones) and Flink (snapshots)',
      () => waitFor(clients, runtime, execution.arn, ['FirstPass'], deadline),
      (m) => describeMilestone(m, 'first pass done'),
    );
    if (outcome && 'state' in outcome) {
      outcome = await step(
        'Write the initial receipt',
        () => waitFor(clients, runtime, execution.arn, ['InitialReceipt'], deadline),
        (m) => describeMilestone(m, 'receipt written'),
      );
    }
  }

  const report = reportOf(requestId, execution.arn, prepared, outcome);
  const exitCode = report.status === 'failed' || report.status === 'timed-out' ? ExitCode.FAILED : ExitCode.OK;
  if (options.json) deps.stdout(`${JSON.stringify(jsonEnvelope<EraseReport>('erase', config, exitCode, report), null, 2)}\n`);
  else deps.stdout(`${formatErase(config, settings, report)}\n`);
  return exitCode;
}

function describeMilestone(m: Milestone | undefined, done: string): string {
  if (!m) return 'still running: stopped waiting (the workflow continues)';
  if ('failed' in m) return `failed: ${m.failed}`;
  return done;
}

function reportOf(requestId: string, executionArn: string, prepared: Milestone | undefined, outcome: Milestone | undefined): EraseReport {
  const base = { requestId, executionArn };
  if (outcome && 'failed' in outcome) return { ...base, status: 'failed', receiptKey: null, receipt: null, error: outcome.failed };
  if (!outcome) return { ...base, status: 'timed-out', receiptKey: null, receipt: null };
  if (prepared && 'state' in prepared && (JSON.parse(prepared.output) as { alreadyErased?: boolean }).alreadyErased) {
    return { ...base, status: 'already-erased', receiptKey: `receipts/${requestId}/final.json`, receipt: null };
  }
  if ('finished' in outcome) return { ...base, status: 'erased', receiptKey: `receipts/${requestId}/final.json`, receipt: null };
  const written = JSON.parse(outcome.output) as { key?: string; receipt?: Record<string, unknown> };
  return { ...base, status: 'first-pass-done', receiptKey: written.key ?? null, receipt: written.receipt ?? null };
}

/** The human summary: one row per store, then what happens next. */
export function formatErase(config: ResolvedEnvironment, settings: WorkflowSettings, report: EraseReport): string {
  const lines = [`Erasure ${report.requestId} in ${config.stageName} (${report.executionArn})`, ''];
  if (report.status === 'already-erased') {
    lines.push(`Already erased: the final receipt is s3://${settings.receiptsBucket}/${report.receiptKey}`);
    return lines.join('\n');
  }
  if (report.status === 'failed')
    return [...lines, `FAILED: ${report.error}`, 'Fix the cause and run the same command again: every step is idempotent.'].join('\n');
  if (report.status === 'timed-out') return [...lines, 'Still running; run the same command again to follow it.'].join('\n');
  const stores = (report.receipt?.stores as Array<Record<string, unknown>> | undefined) ?? [];
  const rows = stores.map((s) => [String(s.store), describeStore(s)]);
  lines.push(renderTable(['STORE', 'RESULT'], rows), '');
  lines.push(`Receipt: s3://${settings.receiptsBucket}/${report.receiptKey} (write-once)`);
  if (report.receipt?.sweepAt)
    lines.push(
      `Second pass at ${String(report.receipt.sweepAt)}, then the final receipt receipts/${report.requestId}/final.json; deadline ${String(report.receipt.deadline)}.`,
    );
  return lines.join('\n');
}

function describeStore(s: Record<string, unknown>): string {
  if (s.rowsRemoved !== undefined)
    return `${String(s.rowsRemoved)} rows removed, ${String(s.objectsRewritten)} objects rewritten, ${String(s.objectsDeleted)} deleted`;
  if (s.versionsDeleted !== undefined) return `${String(s.versionsDeleted)} old versions deleted`;
  if (s.keysTombstoned !== undefined) return `${String(s.keysTombstoned)} keys tombstoned on ${String(s.topic)}`;
  if (s.snapshotsDeleted !== undefined)
    return s.application ? `${(s.snapshotsDeleted as string[]).length} snapshots deleted; state expires by TTL` : 'not deployed';
  return `expires by retention within ${String(s.maxAgeDays)} days`;
}

/** Adds `erase` to the program. */
export function registerErase(
  program: Command,
  deps: CliDependencies,
  setExitCode: (code: ExitCodeValue) => void,
  runtime: EraseRuntime = DEFAULT_RUNTIME,
): void {
  program
    .command('erase')
    .description('Erase people from every store (GDPR): lake tiers, Kafka, Flink state; waits for the first pass and prints the receipt')
    .requiredOption('--env <name>', 'environment name from lib/config/environments.ts')
    .requiredOption('--user-id <id>', 'user id to erase (repeat for several)', (value: string, previous: string[] = []) => [...previous, value])
    .requiredOption('--request-id <id>', 'your reference for this request; re-running it is safe')
    .option('--owner <name>', 'personal sandbox owner (as -c owner=)')
    .option('--region <region>', 'region when the environment entry names none (as -c region=)')
    .option('--timeout-minutes <n>', 'stop following the workflow after this long (it keeps running)', (v) => Number(v), 120)
    .option('--json', 'print a stable JSON document instead of the summary')
    .action(async (options: EraseOptions) => {
      setExitCode(await runErase(options, deps, runtime));
    });
}
