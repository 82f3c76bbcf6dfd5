import {
  CancelJobRunCommand,
  EMRServerlessClient,
  GetJobRunCommand,
  JobRunSummary,
  ListJobRunsCommand,
  ResourceNotFoundException,
  StartJobRunCommand,
  ValidationException,
} from '@aws-sdk/client-emr-serverless';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { loadConfig } from '../../lib/functions/streaming-job-supervisor/config';
import { ACTIVE_STATES, backoffMs, clientToken, decide, RunSummary, summarizeRuns } from '../../lib/functions/streaming-job-supervisor/plan';

const ENV = {
  APPLICATION_ID: '00fabc123def',
  EXECUTION_ROLE_ARN: 'arn:aws:iam::111111111111:role/spark-execution',
  JOB_NAME: 'streaming-bronze',
  ENTRY_POINT: 's3://lake-artifacts/jobs/spark/streaming_bronze.py',
  ENTRY_POINT_ARGUMENTS: JSON.stringify(['--bootstrap-servers', 'b-1:9098', '--bronze-uri', 's3://lake-bronze/']),
  SPARK_SUBMIT_PARAMETERS: '--py-files s3://lake-artifacts/jobs/spark.zip',
  SPARK_DEFAULTS: JSON.stringify({ 'spark.lakestream.userRefKey': 'EMR.secret@lakestream-dev/user-ref-key' }),
  MANAGED_LOGS_KEY_ARN: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  MAX_FAILED_ATTEMPTS_PER_HOUR: '4',
  BACKOFF_BASE_SECONDS: '60',
  BACKOFF_MAX_SECONDS: '900',
  STABLE_RUN_MINUTES: '30',
  SHUTDOWN_GRACE_SECONDS: '90',
  METRICS_NAMESPACE: 'Lakestream',
};
Object.assign(process.env, ENV, { LOG_LEVEL: 'SILENT' });
// Loaded after the environment is set: logger and clients are created at module scope.
const supervisor = require('../../lib/functions/streaming-job-supervisor') as typeof import('../../lib/functions/streaming-job-supervisor');

const emr = mockClient(EMRServerlessClient);
const CONFIG = loadConfig(process.env);
const NOW = new Date('2024-05-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const metadata = { $metadata: {} };

function run(id: string, state: string, createdMinutesAgo: number, endedMinutesAgo = 0, name = ENV.JOB_NAME): JobRunSummary {
  return {
    applicationId: ENV.APPLICATION_ID,
    id,
    name,
    mode: 'STREAMING',
    arn: `arn:aws:emr-serverless:eu-west-1:111111111111:/applications/${ENV.APPLICATION_ID}/jobruns/${id}`,
    createdBy: 'supervisor',
    createdAt: minutesAgo(createdMinutesAgo),
    updatedAt: minutesAgo(endedMinutesAgo),
    executionRole: ENV.EXECUTION_ROLE_ARN,
    state: state as JobRunSummary['state'],
    stateDetails: '',
    releaseLabel: 'emr-7.12.0',
  };
}

/** ListJobRuns answers: the active-state listing and the all-states listing. */
function withRuns(runs: JobRunSummary[]): void {
  const active = runs.filter((r) => (ACTIVE_STATES as readonly string[]).includes(r.state ?? ''));
  emr.on(ListJobRunsCommand).callsFake((input: { states?: string[] }) => ({ ...metadata, jobRuns: input.states ? active : runs }));
}

function withTags(tagsByRun: Record<string, Record<string, string>>): void {
  emr.on(GetJobRunCommand).callsFake((input: { jobRunId: string }) => ({
    ...metadata,
    jobRun: { jobRunId: input.jobRunId, tags: tagsByRun[input.jobRunId] ?? {} },
  }));
}

const currentTags = () => ({ 'lakestream:streaming-job': ENV.JOB_NAME, 'lakestream:config-hash': CONFIG.configurationHash });

/** EMF lines written by Powertools Metrics during `action`. */
async function emitted<T>(action: () => Promise<T>): Promise<{ result?: T; error?: unknown; metrics: Record<string, number>; dimensions: string[][] }> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  let result: T | undefined;
  let error: unknown;
  try {
    result = await action();
  } catch (caught) {
    error = caught;
  } finally {
    spy.mockRestore();
  }
  const emf = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, any>);
  const metrics: Record<string, number> = {};
  for (const entry of emf) for (const def of entry._aws.CloudWatchMetrics[0].Metrics) metrics[def.Name] = entry[def.Name];
  const dimensions = emf.flatMap((entry) => entry._aws.CloudWatchMetrics[0].Dimensions as string[][]);
  if (emf.length > 0) {
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('Lakestream');
    expect(emf[0].JobName).toBe(ENV.JOB_NAME);
    expect(emf[0].service).toBe('streaming-job-supervisor');
  }
  return { result, error, metrics, dimensions };
}

const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Processing/1',
  RequestId: 'request-1',
  LogicalResourceId: 'StreamingJob',
  ResourceType: 'Custom::StreamingJob',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider', JobName: ENV.JOB_NAME },
};
function cfnEvent(requestType: 'Create' | 'Update' | 'Delete'): CustomResourceEvent {
  return {
    ...base,
    RequestType: requestType,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `${ENV.APPLICATION_ID}/${ENV.JOB_NAME}` }),
    ...(requestType === 'Update' ? { OldResourceProperties: base.ResourceProperties } : {}),
  } as CustomResourceEvent;
}
const scheduledEvent = { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} };

beforeEach(() => {
  emr.reset();
  jest.useFakeTimers({
    now: NOW,
    doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'],
  });
  emr.on(StartJobRunCommand).resolves({ ...metadata, applicationId: ENV.APPLICATION_ID, jobRunId: 'new-run', arn: 'arn' });
  emr.on(CancelJobRunCommand).resolves({ ...metadata, applicationId: ENV.APPLICATION_ID, jobRunId: 'x' });
});
afterEach(() => jest.useRealTimers());

describe('scheduled supervision', () => {
  it('keeps a healthy running job and reports it', async () => {
    withRuns([run('r1', 'RUNNING', 600)]);
    const { result, metrics, dimensions } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toEqual({ action: 'KEPT', jobRunId: 'r1', consecutiveFailures: 0 });
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(metrics).toEqual({ StreamingJobRestarts: 0, StreamingJobConsecutiveFailures: 0, StreamingJobActive: 1 });
    expect(dimensions[0]).toEqual(['service', 'JobName']);
  });

  it('lists streaming runs of the application, active ones by state', async () => {
    withRuns([]);
    await emitted(() => supervisor.handler(scheduledEvent));
    const inputs = emr.commandCalls(ListJobRunsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual(
      expect.arrayContaining([
        {
          applicationId: ENV.APPLICATION_ID,
          mode: 'STREAMING',
          states: ['SUBMITTED', 'PENDING', 'SCHEDULED', 'RUNNING', 'QUEUED', 'CANCELLING'],
          maxResults: 50,
          nextToken: undefined,
        },
        { applicationId: ENV.APPLICATION_ID, mode: 'STREAMING', states: undefined, maxResults: 50, nextToken: undefined },
      ]),
    );
  });

  it('starts the first run in streaming mode with a retry policy, tags and an idempotency token', async () => {
    withRuns([run('other', 'RUNNING', 10, 0, 'some-other-job')]);
    const { result, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toEqual({ action: 'STARTED', jobRunId: 'new-run', consecutiveFailures: 0 });
    const [call] = emr.commandCalls(StartJobRunCommand);
    expect(call.args[0].input).toEqual({
      applicationId: ENV.APPLICATION_ID,
      executionRoleArn: ENV.EXECUTION_ROLE_ARN,
      name: 'streaming-bronze',
      clientToken: clientToken(ENV.JOB_NAME, CONFIG.configurationHash, undefined, NOW),
      mode: 'STREAMING',
      retryPolicy: { maxFailedAttemptsPerHour: 4 },
      // The secret reference, resolved by EMR Serverless at run start (never the value itself).
      configurationOverrides: {
        applicationConfiguration: [
          { classification: 'spark-defaults', properties: { 'spark.lakestream.userRefKey': 'EMR.secret@lakestream-dev/user-ref-key' } },
        ],
        // The run's managed-storage logs under the customer-managed key (per run: the STARTED application refuses updates).
        monitoringConfiguration: { managedPersistenceMonitoringConfiguration: { enabled: true, encryptionKeyArn: ENV.MANAGED_LOGS_KEY_ARN } },
      },
      jobDriver: {
        sparkSubmit: {
          entryPoint: ENV.ENTRY_POINT,
          entryPointArguments: ['--bootstrap-servers', 'b-1:9098', '--bronze-uri', 's3://lake-bronze/'],
          sparkSubmitParameters: '--py-files s3://lake-artifacts/jobs/spark.zip',
        },
      },
      tags: currentTags(),
    });
    expect(call.args[0].input.clientToken).toMatch(/^[0-9a-f]{64}$/);
    // A first start is not a restart.
    expect(metrics).toEqual({ StreamingJobRestarts: 0, StreamingJobConsecutiveFailures: 0, StreamingJobActive: 1 });
  });

  it('restarts after a cancelled run without backoff and counts the restart', async () => {
    withRuns([run('r1', 'CANCELLED', 300, 1)]);
    const { result, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toMatchObject({ action: 'STARTED', consecutiveFailures: 0 });
    expect(emr.commandCalls(StartJobRunCommand)[0].args[0].input.clientToken).toBe(clientToken(ENV.JOB_NAME, CONFIG.configurationHash, 'r1', NOW));
    expect(metrics.StreamingJobRestarts).toBe(1);
  });

  it('backs off after consecutive quick failures', async () => {
    // Two crash-looping runs; the newest failed 1 minute ago: backoff 60 s x 2 = 2 minutes.
    withRuns([run('r2', 'FAILED', 3, 1), run('r1', 'FAILED', 6, 4)]);
    const { result, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toEqual({ action: 'BACKING_OFF', consecutiveFailures: 2, retryAt: new Date(minutesAgo(1).getTime() + 120_000).toISOString() });
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(metrics).toEqual({ StreamingJobRestarts: 0, StreamingJobConsecutiveFailures: 2, StreamingJobActive: 0 });
  });

  it('restarts once the backoff has elapsed, still reporting the failure streak', async () => {
    withRuns([run('r2', 'FAILED', 5, 3), run('r1', 'FAILED', 8, 6)]);
    const { result, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toEqual({ action: 'STARTED', jobRunId: 'new-run', consecutiveFailures: 2 });
    expect(metrics).toEqual({ StreamingJobRestarts: 1, StreamingJobConsecutiveFailures: 2, StreamingJobActive: 1 });
  });

  it('counts the streak only back to a run that stayed up', async () => {
    // r3 crashed quickly, r2 ran 2 hours before failing (a new incident), r1 is older history.
    withRuns([run('r3', 'FAILED', 12, 11), run('r2', 'FAILED', 200, 80), run('r1', 'FAILED', 300, 299)]);
    const { result } = await emitted(() => supervisor.handler(scheduledEvent));
    // Streak 2 -> backoff 2 minutes after r3 ended 11 minutes ago: start.
    expect(result).toMatchObject({ action: 'STARTED', consecutiveFailures: 2 });
  });

  it('keeps reporting the streak while a young run proves itself, and clears it once stable', async () => {
    withRuns([run('r4', 'RUNNING', 5), run('r3', 'FAILED', 9, 8), run('r2', 'FAILED', 12, 11), run('r1', 'FAILED', 15, 14)]);
    const young = await emitted(() => supervisor.handler(scheduledEvent));
    expect(young.result).toEqual({ action: 'KEPT', jobRunId: 'r4', consecutiveFailures: 3 });
    expect(young.metrics.StreamingJobConsecutiveFailures).toBe(3);

    emr.reset();
    withRuns([run('r4', 'RUNNING', 45), run('r3', 'FAILED', 49, 48)]);
    const stable = await emitted(() => supervisor.handler(scheduledEvent));
    expect(stable.metrics.StreamingJobConsecutiveFailures).toBe(0);
  });

  it('cancels duplicate active runs, keeping the one that owns the checkpoint', async () => {
    withRuns([run('newer', 'SUBMITTED', 1), run('older', 'RUNNING', 120)]);
    const { result } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toMatchObject({ action: 'KEPT', jobRunId: 'older' });
    expect(emr.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input)).toEqual([
      { applicationId: ENV.APPLICATION_ID, jobRunId: 'newer', shutdownGracePeriodInSeconds: 90 },
    ]);
  });

  it('follows pagination to find the job among other jobs runs', async () => {
    emr
      .on(ListJobRunsCommand)
      .callsFake((input: { nextToken?: string; states?: string[] }) =>
        input.nextToken
          ? { ...metadata, jobRuns: [run('mine', 'RUNNING', 100)] }
          : { ...metadata, jobRuns: [run('x', 'RUNNING', 1, 0, 'other')], nextToken: 'page-2' },
      );
    const { result } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(result).toMatchObject({ action: 'KEPT', jobRunId: 'mine' });
    expect(emr.commandCalls(ListJobRunsCommand).filter((c) => c.args[0].input.nextToken === 'page-2')).toHaveLength(2);
  });

  it('racing invocations that see the same history use the same token, and a new predecessor a new one', async () => {
    withRuns([run('r1', 'FAILED', 30, 20)]);
    await emitted(() => supervisor.handler(scheduledEvent));
    await emitted(() => supervisor.handler(scheduledEvent));
    const tokens = emr.commandCalls(StartJobRunCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens[0]).toBe(tokens[1]);
    emr.reset();
    emr.on(StartJobRunCommand).resolves({ ...metadata, jobRunId: 'next' });
    withRuns([run('r2', 'FAILED', 10, 9), run('r1', 'FAILED', 30, 20)]);
    await emitted(() => supervisor.handler(scheduledEvent));
    expect(emr.commandCalls(StartJobRunCommand)[0].args[0].input.clientToken).not.toBe(tokens[0]);
  });

  it('fails when StartJobRun is refused, still reporting the job as down', async () => {
    withRuns([run('r1', 'CANCELLED', 60, 30)]);
    emr.on(StartJobRunCommand).rejects(new ValidationException({ message: 'Execution role cannot be assumed', $metadata: {} }));
    const { error, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(String(error)).toContain('Execution role cannot be assumed');
    expect(metrics).toEqual({ StreamingJobRestarts: 0, StreamingJobConsecutiveFailures: 0, StreamingJobActive: 0 });
  });

  it('fails without metrics when the runs cannot be listed (the alarm treats missing data as breaching)', async () => {
    emr.on(ListJobRunsCommand).rejects(new Error('Rate exceeded'));
    const { error, metrics } = await emitted(() => supervisor.handler(scheduledEvent));
    expect(String(error)).toContain('Rate exceeded');
    expect(metrics).toEqual({});
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
  });

  it('fails with a clear message naming a bad environment variable', () => {
    expect(() => loadConfig({ ...ENV, ENTRY_POINT_ARGUMENTS: '--bronze-uri s3://x' })).toThrow(
      /Invalid streaming-job-supervisor environment: ENTRY_POINT_ARGUMENTS: must be a JSON array of strings/,
    );
    expect(() => loadConfig({ ...ENV, APPLICATION_ID: undefined, ENTRY_POINT: 'jobs/x.py' })).toThrow(
      /APPLICATION_ID: must be set; ENTRY_POINT: must be an s3:\/\/ URI/,
    );
    expect(() => loadConfig({ ...ENV, STABLE_RUN_MINUTES: 'soon' })).toThrow(/STABLE_RUN_MINUTES: must be a number/);
    expect(() => loadConfig({ ...ENV, SPARK_DEFAULTS: '{"spark.x": 1}' })).toThrow(/SPARK_DEFAULTS: must be a JSON object of strings/);
    expect(() => loadConfig({ ...ENV, SPARK_DEFAULTS: '["spark.x"]' })).toThrow(/SPARK_DEFAULTS: must be a JSON object of strings/);
    // Spark properties define the run: changing them makes the next check replace the running run.
    expect(loadConfig({ ...ENV, SPARK_DEFAULTS: '{}' }).configurationHash).not.toBe(CONFIG.configurationHash);
    // So does the logs key: a run started before the key was set is replaced by one that names it.
    expect(loadConfig({ ...ENV, MANAGED_LOGS_KEY_ARN: undefined }).configurationHash).not.toBe(CONFIG.configurationHash);
    expect(loadConfig({ ...ENV, MANAGED_LOGS_KEY_ARN: undefined }).managedLogsKeyArn).toBeUndefined();
    expect(() => loadConfig({ ...ENV, MANAGED_LOGS_KEY_ARN: 'alias/aws/emr' })).toThrow(/MANAGED_LOGS_KEY_ARN: must be a KMS key ARN/);
    expect(() => loadConfig({ ...ENV, BACKOFF_MAX_SECONDS: '10' })).toThrow(/BACKOFF_MAX_SECONDS \(10\) must be at least BACKOFF_BASE_SECONDS \(60\)/);
    expect(() => loadConfig({ ...ENV, MAX_FAILED_ATTEMPTS_PER_HOUR: '11' })).toThrow(/MAX_FAILED_ATTEMPTS_PER_HOUR/);
  });
});

describe('deploy-time custom resource', () => {
  it('Create: onEvent names the resource, isComplete starts the job ignoring any backoff', async () => {
    withRuns([run('old', 'FAILED', 3, 1)]);
    await expect(supervisor.handler(cfnEvent('Create'))).resolves.toEqual({ PhysicalResourceId: `${ENV.APPLICATION_ID}/${ENV.JOB_NAME}` });
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
    const { result } = await emitted(() => supervisor.isCompleteHandler(cfnEvent('Create')));
    expect(result).toEqual({ IsComplete: true, Data: { JobRunId: 'new-run', Action: 'STARTED' } });
  });

  it('Update with a run of an older configuration: cancel, wait while it stops, then start the new one', async () => {
    withRuns([run('old', 'RUNNING', 600)]);
    withTags({ old: { 'lakestream:config-hash': 'previous' } });
    await expect(supervisor.handler(cfnEvent('Update'))).resolves.toEqual({ PhysicalResourceId: `${ENV.APPLICATION_ID}/${ENV.JOB_NAME}` });
    expect(emr.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input.jobRunId)).toEqual(['old']);

    emr.reset();
    withRuns([run('old', 'CANCELLING', 600)]);
    await expect(supervisor.isCompleteHandler(cfnEvent('Update'))).resolves.toEqual({ IsComplete: false });
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
    expect(emr.commandCalls(CancelJobRunCommand)).toHaveLength(0);

    emr.reset();
    emr.on(StartJobRunCommand).resolves({ ...metadata, jobRunId: 'fresh' });
    withRuns([run('old', 'CANCELLED', 600, 0)]);
    const { result, metrics } = await emitted(() => supervisor.isCompleteHandler(cfnEvent('Update')));
    expect(result).toEqual({ IsComplete: true, Data: { JobRunId: 'fresh', Action: 'STARTED' } });
    expect(metrics.StreamingJobRestarts).toBe(1);
  });

  it('Update that left the configuration unchanged keeps the running job', async () => {
    withRuns([run('same', 'RUNNING', 600)]);
    withTags({ same: currentTags() });
    await supervisor.handler(cfnEvent('Update'));
    const { result } = await emitted(() => supervisor.isCompleteHandler(cfnEvent('Update')));
    expect(result).toEqual({ IsComplete: true, Data: { JobRunId: 'same', Action: 'KEPT' } });
    expect(emr.commandCalls(CancelJobRunCommand)).toHaveLength(0);
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
  });

  it('isComplete cancels a stale run it finds (e.g. started by a racing schedule) and waits', async () => {
    withRuns([run('stale', 'RUNNING', 2)]);
    withTags({ stale: { 'lakestream:config-hash': 'previous' } });
    await expect(supervisor.isCompleteHandler(cfnEvent('Update'))).resolves.toEqual({ IsComplete: false });
    expect(emr.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input.jobRunId)).toEqual(['stale']);
  });

  it('Delete cancels active runs and completes once none is left', async () => {
    withRuns([run('r1', 'RUNNING', 600), run('r0', 'FAILED', 900, 700)]);
    await expect(supervisor.handler(cfnEvent('Delete'))).resolves.toEqual({ PhysicalResourceId: `${ENV.APPLICATION_ID}/${ENV.JOB_NAME}` });
    expect(emr.commandCalls(CancelJobRunCommand).map((c) => c.args[0].input)).toEqual([
      { applicationId: ENV.APPLICATION_ID, jobRunId: 'r1', shutdownGracePeriodInSeconds: 90 },
    ]);
    emr.reset();
    withRuns([run('r1', 'CANCELLING', 600)]);
    await expect(supervisor.isCompleteHandler(cfnEvent('Delete'))).resolves.toEqual({ IsComplete: false });
    emr.reset();
    withRuns([run('r1', 'CANCELLED', 600, 0)]);
    await expect(supervisor.isCompleteHandler(cfnEvent('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0);
  });

  it('Delete succeeds when the application is already gone', async () => {
    emr.on(ListJobRunsCommand).rejects(new ResourceNotFoundException({ message: 'Application not found', $metadata: {} }));
    await expect(supervisor.handler(cfnEvent('Delete'))).resolves.toEqual({ PhysicalResourceId: `${ENV.APPLICATION_ID}/${ENV.JOB_NAME}` });
    await expect(supervisor.isCompleteHandler(cfnEvent('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  it('Delete reports other errors to CloudFormation', async () => {
    emr.on(ListJobRunsCommand).rejects(new Error('AccessDeniedException: not authorized'));
    await expect(supervisor.handler(cfnEvent('Delete'))).rejects.toThrow('not authorized');
  });
});

describe('pure planning', () => {
  const summary = (id: string, state: string, created: number, ended = 0): RunSummary => ({
    id,
    state,
    createdAt: minutesAgo(created),
    updatedAt: minutesAgo(ended),
  });

  it('backoff doubles from the base and is capped', () => {
    expect([0, 1, 2, 3, 4, 10, 80].map((n) => backoffMs(n, 60_000, 900_000))).toEqual([0, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  });

  it('a success or cancellation ends the failure streak', () => {
    const history = summarizeRuns([], [summary('c', 'FAILED', 5, 4), summary('b', 'CANCELLED', 10, 9), summary('a', 'FAILED', 20, 19)], NOW, 30 * 60_000);
    expect(history).toMatchObject({ consecutiveFailures: 1, lastFailureAt: minutesAgo(4), latestRunId: 'c', duplicates: [] });
  });

  it('backs off until exactly the retry time', () => {
    const history = summarizeRuns([], [summary('a', 'FAILED', 5, 2)], NOW, 30 * 60_000);
    const settings = { backoffBaseMs: 120_000, backoffMaxMs: 900_000, ignoreBackoff: false };
    expect(decide(history, new Date(NOW.getTime() - 1), settings)).toEqual({ kind: 'BACK_OFF', retryAt: NOW });
    expect(decide(history, NOW, settings)).toEqual({ kind: 'START', restart: true });
    expect(decide(history, minutesAgo(1), { ...settings, ignoreBackoff: true })).toEqual({ kind: 'START', restart: true });
  });

  it('without a predecessor the token rotates hourly', () => {
    expect(clientToken('j', 'h', undefined, NOW)).toBe(clientToken('j', 'h', undefined, new Date(NOW.getTime() + 59 * 60_000)));
    expect(clientToken('j', 'h', undefined, NOW)).not.toBe(clientToken('j', 'h', undefined, new Date(NOW.getTime() + 60 * 60_000)));
    expect(clientToken('j', 'h', 'r1', NOW)).not.toBe(clientToken('j', 'other-config', 'r1', NOW));
  });
});
