import {
  CancelJobRunCommand,
  type ConfigurationOverrides,
  EMRServerlessClient,
  GetJobRunCommand,
  JobRunSummary,
  ListJobRunsCommand,
  ResourceNotFoundException,
  StartJobRunCommand,
} from '@aws-sdk/client-emr-serverless';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CustomResourceEvent, CustomResourceResult, IsCompleteResult } from '../shared/custom-resource';
import { STREAMING_JOB_SUPERVISOR_METRICS, emfDefaultDimensions } from '../../contracts/metrics';
import { createLogger } from '../shared/logger';
import { loadConfig, SupervisorConfig } from './config';
import { ACTIVE_STATES, CONFIG_HASH_TAG, JOB_TAG, RunSummary, clientToken, decide, summarizeRuns } from './plan';

/**
 * Streaming job supervisor. Invoked
 * - every few minutes by an EventBridge rule: starts the Spark streaming job when no run of it is
 *   active, waiting out an exponential backoff after consecutive failures;
 * - as a custom resource at deploy time: Create/Update start it (an Update first cancels a run of
 *   an older configuration and waits for it to stop), Delete cancels it and waits until it stopped,
 *   so the application can be deleted.
 * Metrics go out as CloudWatch Embedded Metric Format log lines (no PutMetricData permission needed).
 */

export const SERVICE_NAME = STREAMING_JOB_SUPERVISOR_METRICS.service;
export const METRIC_RESTARTS = STREAMING_JOB_SUPERVISOR_METRICS.metrics.restarts;
export const METRIC_CONSECUTIVE_FAILURES = STREAMING_JOB_SUPERVISOR_METRICS.metrics.consecutiveFailures;
export const METRIC_ACTIVE = STREAMING_JOB_SUPERVISOR_METRICS.metrics.active;
const RECENT_RUNS = 20;
const MAX_PAGES = 10;

const emr = new EMRServerlessClient({});
const logger = createLogger(SERVICE_NAME);

let config: SupervisorConfig | undefined;
let metrics: Metrics | undefined;

function currentConfig(): SupervisorConfig {
  config ??= loadConfig(process.env);
  return config;
}

function currentMetrics(cfg: SupervisorConfig): Metrics {
  metrics ??= new Metrics({
    namespace: cfg.metricsNamespace,
    serviceName: SERVICE_NAME,
    defaultDimensions: emfDefaultDimensions(STREAMING_JOB_SUPERVISOR_METRICS, { JobName: cfg.jobName }),
  });
  return metrics;
}

export interface SupervisionResult {
  readonly action: 'KEPT' | 'STARTED' | 'BACKING_OFF';
  readonly jobRunId?: string;
  readonly consecutiveFailures: number;
  readonly retryAt?: string;
}

function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  return typeof event === 'object' && event !== null && 'RequestType' in event;
}

function toSummary(run: JobRunSummary): RunSummary {
  return {
    id: run.id ?? '',
    state: run.state ?? 'UNKNOWN',
    createdAt: run.createdAt ?? new Date(0),
    updatedAt: run.updatedAt ?? run.createdAt ?? new Date(0),
    attemptCreatedAt: run.attemptCreatedAt,
  };
}

/** Runs of this job (matched by name), newest pages first, until `limit` are found. */
async function listRuns(cfg: SupervisorConfig, activeOnly: boolean, limit: number): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const output = await emr.send(
      new ListJobRunsCommand({
        applicationId: cfg.applicationId,
        mode: 'STREAMING',
        states: activeOnly ? [...ACTIVE_STATES] : undefined,
        maxResults: 50,
        nextToken,
      }),
    );
    runs.push(...(output.jobRuns ?? []).filter((run) => run.name === cfg.jobName).map(toSummary));
    nextToken = output.nextToken;
    if (!nextToken || runs.length >= limit) break;
  }
  return runs;
}

async function cancelRun(cfg: SupervisorConfig, run: RunSummary, why: string): Promise<void> {
  if (run.state === 'CANCELLING') return;
  logger.warn('Cancelling streaming job run', { jobRunId: run.id, state: run.state, why });
  await emr.send(new CancelJobRunCommand({ applicationId: cfg.applicationId, jobRunId: run.id, shutdownGracePeriodInSeconds: cfg.shutdownGraceSeconds }));
}

/** The run's spark-defaults and the key of its managed-storage logs; undefined when it has neither. */
function configurationOverrides(cfg: SupervisorConfig): ConfigurationOverrides | undefined {
  const overrides: ConfigurationOverrides = {
    ...(Object.keys(cfg.sparkDefaults).length > 0
      ? { applicationConfiguration: [{ classification: 'spark-defaults', properties: { ...cfg.sparkDefaults } }] }
      : {}),
    ...(cfg.managedLogsKeyArn
      ? { monitoringConfiguration: { managedPersistenceMonitoringConfiguration: { enabled: true, encryptionKeyArn: cfg.managedLogsKeyArn } } }
      : {}),
  };
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

async function startRun(cfg: SupervisorConfig, token: string): Promise<string> {
  const output = await emr.send(
    new StartJobRunCommand({
      applicationId: cfg.applicationId,
      executionRoleArn: cfg.executionRoleArn,
      name: cfg.jobName,
      clientToken: token,
      mode: 'STREAMING',
      // EMR restarts failed attempts inside the run (from the checkpoint) up to this budget per hour;
      // past it the run fails and this supervisor takes over with its own backoff.
      retryPolicy: { maxFailedAttemptsPerHour: cfg.maxFailedAttemptsPerHour },
      configurationOverrides: configurationOverrides(cfg),
      jobDriver: {
        sparkSubmit: {
          entryPoint: cfg.entryPoint,
          entryPointArguments: [...cfg.entryPointArguments],
          sparkSubmitParameters: cfg.sparkSubmitParameters || undefined,
        },
      },
      tags: { [JOB_TAG]: cfg.jobName, [CONFIG_HASH_TAG]: cfg.configurationHash },
    }),
  );
  if (!output.jobRunId) throw new Error(`StartJobRun for ${cfg.jobName} returned no job run id`);
  return output.jobRunId;
}

/**
 * Looks at the job's runs and keeps, starts or backs off. Metrics are published once the runs could
 * be read: when they cannot, the consecutive-failures metric goes missing, which its alarm treats as
 * breaching, rather than reporting a reassuring zero.
 */
async function supervise(trigger: 'schedule' | 'deploy', now = new Date()): Promise<SupervisionResult> {
  const cfg = currentConfig();
  const [activeRuns, recentRuns] = await Promise.all([listRuns(cfg, true, RECENT_RUNS), listRuns(cfg, false, RECENT_RUNS)]);
  const history = summarizeRuns(activeRuns, recentRuns, now, cfg.stableRunMs);
  const consecutiveFailures = history.consecutiveFailures;
  let restarted = false;
  let active = history.active !== undefined;
  try {
    for (const duplicate of history.duplicates) {
      await cancelRun(cfg, duplicate, `run ${history.active?.id} already owns the checkpoint`);
    }
    const decision = decide(history, now, { backoffBaseMs: cfg.backoffBaseMs, backoffMaxMs: cfg.backoffMaxMs, ignoreBackoff: trigger === 'deploy' });
    if (decision.kind === 'KEEP') {
      logger.info('Streaming job run is active', { jobRunId: decision.run.id, state: decision.run.state, consecutiveFailures, trigger });
      return { action: 'KEPT', jobRunId: decision.run.id, consecutiveFailures };
    }
    if (decision.kind === 'BACK_OFF') {
      logger.warn('Streaming job keeps failing; waiting before the next restart', { consecutiveFailures, retryAt: decision.retryAt.toISOString(), trigger });
      return { action: 'BACKING_OFF', consecutiveFailures, retryAt: decision.retryAt.toISOString() };
    }
    const jobRunId = await startRun(cfg, clientToken(cfg.jobName, cfg.configurationHash, history.latestRunId, now));
    restarted = decision.restart;
    active = true;
    logger.info('Started streaming job run', { jobRunId, restart: decision.restart, consecutiveFailures, trigger });
    return { action: 'STARTED', jobRunId, consecutiveFailures };
  } finally {
    const out = currentMetrics(cfg);
    out.addMetric(METRIC_RESTARTS, MetricUnit.Count, restarted ? 1 : 0);
    out.addMetric(METRIC_CONSECUTIVE_FAILURES, MetricUnit.Count, consecutiveFailures);
    out.addMetric(METRIC_ACTIVE, MetricUnit.Count, active ? 1 : 0);
    out.publishStoredMetrics();
  }
}

/** Active runs of this job whose configuration tag differs from the deployed one. */
async function staleRuns(cfg: SupervisorConfig, activeRuns: RunSummary[]): Promise<RunSummary[]> {
  const stale: RunSummary[] = [];
  for (const run of activeRuns) {
    const { jobRun } = await emr.send(new GetJobRunCommand({ applicationId: cfg.applicationId, jobRunId: run.id }));
    if (jobRun?.tags?.[CONFIG_HASH_TAG] !== cfg.configurationHash) stale.push(run);
  }
  return stale;
}

function physicalResourceId(cfg: SupervisorConfig): string {
  return `${cfg.applicationId}/${cfg.jobName}`;
}

async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
  const cfg = currentConfig();
  switch (event.RequestType) {
    case 'Create':
      // isComplete starts the run once nothing else holds the checkpoint.
      return { PhysicalResourceId: physicalResourceId(cfg) };
    case 'Update': {
      for (const run of await staleRuns(cfg, await listRuns(cfg, true, RECENT_RUNS))) {
        await cancelRun(cfg, run, `configuration ${cfg.configurationHash} was deployed`);
      }
      return { PhysicalResourceId: event.PhysicalResourceId ?? physicalResourceId(cfg) };
    }
    case 'Delete':
      try {
        for (const run of await listRuns(cfg, true, RECENT_RUNS)) await cancelRun(cfg, run, 'the stack is deleting the job');
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        logger.info('Application already gone; nothing to cancel', { applicationId: cfg.applicationId });
      }
      return { PhysicalResourceId: event.PhysicalResourceId ?? physicalResourceId(cfg) };
  }
}

/** Provider-framework waiter: Create/Update finish once a current run is started; Delete once none is active. */
export async function isCompleteHandler(event: CustomResourceEvent): Promise<IsCompleteResult> {
  const cfg = currentConfig();
  if (event.RequestType === 'Delete') {
    try {
      const remaining = await listRuns(cfg, true, RECENT_RUNS);
      logger.info('Waiting for streaming job runs to stop', { remaining: remaining.map((r) => `${r.id}:${r.state}`) });
      return { IsComplete: remaining.length === 0 };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return { IsComplete: true };
      throw error;
    }
  }
  const activeRuns = await listRuns(cfg, true, RECENT_RUNS);
  const stopping = activeRuns.filter((run) => run.state === 'CANCELLING');
  const stale = await staleRuns(
    cfg,
    activeRuns.filter((run) => run.state !== 'CANCELLING'),
  );
  if (stopping.length > 0 || stale.length > 0) {
    for (const run of stale) await cancelRun(cfg, run, `configuration ${cfg.configurationHash} was deployed`);
    logger.info('Waiting for the previous run to stop before starting the new configuration', {
      stopping: stopping.map((r) => r.id),
      stale: stale.map((r) => r.id),
    });
    return { IsComplete: false };
  }
  const result = await supervise('deploy');
  return { IsComplete: true, Data: { JobRunId: result.jobRunId ?? '', Action: result.action } };
}

export async function handler(event: unknown): Promise<SupervisionResult | CustomResourceResult> {
  if (isCustomResourceEvent(event)) return onEvent(event);
  return supervise('schedule');
}
