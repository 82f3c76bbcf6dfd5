import {
  ApplicationStatus,
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  StartApplicationCommand,
  StopApplicationCommand,
  type ApplicationRestoreType,
} from '@aws-sdk/client-kinesis-analytics-v2';
import * as z from 'zod/mini';
import { createLogger } from '../shared/logger';
import { cfnInt, parseProperties, PermanentError, type CustomResourceEvent, type CustomResourceResult, type IsCompleteResult } from '../shared/custom-resource';
import { countReadySnapshots, elapsedSince, planStart, planStop, startProgress } from './starter-logic';

/**
 * Flink starter custom resource. CloudFormation creates and updates a Managed Flink application
 * but never starts it; this resource does, waits for RUNNING (isComplete, bounded by the
 * provider's total timeout) and stops the application cleanly before it is deleted.
 *
 * Resource properties:
 *   ApplicationName       the application to start/stop
 *   GracefulStopSeconds   how long Delete waits for a stop with snapshot before forcing it (default 300)
 *   any other property    a trigger: changing it (e.g. the code location) sends an Update
 */

const analytics = new KinesisAnalyticsV2Client({});
const logger = createLogger('flink-starter');

const APPLICATION_NAME = 'must be a Managed Flink application name (1-128 letters, digits, _ . -)';
const STOP_SECONDS = 'must be between 0 and 3600 seconds';
const StarterProperties = z.object({
  ApplicationName: z.string(APPLICATION_NAME).check(z.regex(/^[a-zA-Z0-9_.-]{1,128}$/, APPLICATION_NAME)),
  GracefulStopSeconds: z._default(z.pipe(cfnInt, z.number().check(z.minimum(0, STOP_SECONDS), z.maximum(3600, STOP_SECONDS))), 300),
});
type StarterProperties = z.infer<typeof StarterProperties>;

/** What the Provider framework passes to isComplete: the event plus onEvent's result. */
export type StarterIsCompleteEvent = CustomResourceEvent & { Data?: Record<string, unknown> };

function isNotFound(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ResourceNotFoundException';
}

function isInUse(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ResourceInUseException';
}

async function describeStatus(applicationName: string): Promise<ApplicationStatus | undefined> {
  try {
    const out = await analytics.send(new DescribeApplicationCommand({ ApplicationName: applicationName }));
    return out.ApplicationDetail?.ApplicationStatus;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function readySnapshotCount(applicationName: string): Promise<number> {
  const out = await analytics.send(new ListApplicationSnapshotsCommand({ ApplicationName: applicationName, Limit: 50 }));
  return countReadySnapshots((out.SnapshotSummaries ?? []).map((snapshot) => snapshot.SnapshotStatus));
}

async function startApplication(applicationName: string, restoreType: ApplicationRestoreType): Promise<string | undefined> {
  try {
    const out = await analytics.send(
      new StartApplicationCommand({
        ApplicationName: applicationName,
        RunConfiguration: {
          // A changed job graph must fail the start instead of silently dropping state.
          FlinkRunConfiguration: { AllowNonRestoredState: false },
          ApplicationRestoreConfiguration: { ApplicationRestoreType: restoreType },
        },
      }),
    );
    return out.OperationId;
  } catch (error) {
    // A retried request finds the first start still in progress; isComplete waits for it.
    if (isInUse(error)) {
      logger.warn('Start already in progress', { applicationName });
      return undefined;
    }
    throw error;
  }
}

async function stopApplication(applicationName: string, force: boolean): Promise<void> {
  try {
    await analytics.send(new StopApplicationCommand({ ApplicationName: applicationName, Force: force }));
    logger.info('Stop requested', { applicationName, force });
  } catch (error) {
    // Busy (e.g. still STARTING or already stopping) or gone: the next poll looks again.
    if (isInUse(error) || isNotFound(error)) {
      logger.info('Stop not accepted now', { applicationName, force, reason: (error as Error).name });
      return;
    }
    throw error;
  }
}

export async function onEvent(event: CustomResourceEvent): Promise<CustomResourceResult> {
  const props = parseProperties(StarterProperties, event.ResourceProperties);
  const name = props.ApplicationName;
  logger.info('Flink starter event', { requestType: event.RequestType, applicationName: name });

  if (event.RequestType === 'Delete') {
    const status = await describeStatus(name);
    const plan = planStop(status, 0, props.GracefulStopSeconds * 1000);
    if (plan.kind === 'stop') await stopApplication(name, plan.force);
    return {
      PhysicalResourceId: event.PhysicalResourceId,
      Data: { ApplicationName: name, StopRequestedAt: new Date().toISOString() },
    };
  }

  const status = await describeStatus(name);
  if (status === undefined) throw new PermanentError(`Managed Flink application ${name} does not exist`);
  const snapshots = status === 'READY' ? await readySnapshotCount(name) : 0;
  const plan = planStart(name, status, snapshots);
  logger.info('Start plan', { applicationName: name, status, plan });
  if (plan.kind === 'fail') throw new Error(`${plan.reason}${await latestFailure(name)}`);

  const data: Record<string, string> = { ApplicationName: name };
  if (plan.kind === 'start') {
    const operationId = await startApplication(name, plan.restoreType);
    data.RestoreType = plan.restoreType;
    data.ReadySnapshots = String(snapshots);
    if (operationId) data.StartOperationId = operationId;
  }
  // The application name is the identity; a new name means CloudFormation deletes (stops) the old one.
  return { PhysicalResourceId: name, Data: data };
}

async function describeOperation(applicationName: string, operationId: string) {
  const out = await analytics.send(new DescribeApplicationOperationCommand({ ApplicationName: applicationName, OperationId: operationId }));
  return out.ApplicationOperationInfoDetails;
}

/** ": <operation> failed: <error>" for the most recent failed operation, or '' when none is recorded. */
async function latestFailure(applicationName: string): Promise<string> {
  const out = await analytics.send(new ListApplicationOperationsCommand({ ApplicationName: applicationName, Limit: 20 }));
  const failed = (out.ApplicationOperationInfoList ?? [])
    .filter((operation) => operation.OperationStatus === 'FAILED' && operation.OperationId)
    .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
  if (!failed?.OperationId) return '';
  const details = await describeOperation(applicationName, failed.OperationId);
  const error = details?.OperationFailureDetails?.ErrorInfo?.ErrorString ?? 'no error detail recorded';
  return `; latest failed operation ${failed.Operation ?? 'unknown'} (${failed.OperationId}): ${error}`;
}

async function diagnoseStopped(applicationName: string, status: ApplicationStatus, startOperationId: string | undefined): Promise<IsCompleteResult> {
  if (status === 'READY' && startOperationId) {
    const details = await describeOperation(applicationName, startOperationId);
    if (details?.OperationStatus === 'IN_PROGRESS') return { IsComplete: false };
    if (details?.OperationStatus === 'FAILED') {
      const error = details.OperationFailureDetails?.ErrorInfo?.ErrorString ?? 'no error detail recorded';
      throw new Error(`${applicationName} failed to start (operation ${startOperationId}): ${error}`);
    }
    throw new Error(
      `${applicationName} is READY (stopped) although its start operation ${startOperationId} ended ${details?.OperationStatus ?? 'with no status'}; see the application's CloudWatch logs`,
    );
  }
  const failure = await latestFailure(applicationName);
  throw new Error(`${applicationName} is ${status}, not RUNNING${failure || "; no failed operation is recorded, see the application's CloudWatch logs"}`);
}

export async function isComplete(event: StarterIsCompleteEvent): Promise<IsCompleteResult> {
  const props: StarterProperties = parseProperties(StarterProperties, event.ResourceProperties);
  const name = props.ApplicationName;
  const status = await describeStatus(name);
  logger.info('Flink starter poll', { requestType: event.RequestType, applicationName: name, status });

  if (event.RequestType === 'Delete') {
    const plan = planStop(status, elapsedSince(event.Data?.StopRequestedAt, new Date()), props.GracefulStopSeconds * 1000);
    if (plan.kind === 'complete') return { IsComplete: true };
    if (plan.kind === 'stop') await stopApplication(name, plan.force);
    return { IsComplete: false };
  }

  if (status === undefined) throw new Error(`${name} was deleted while waiting for it to reach RUNNING`);
  const progress = startProgress(name, status);
  switch (progress.kind) {
    case 'complete':
      return { IsComplete: true, Data: { ApplicationStatus: status } };
    case 'wait':
      return { IsComplete: false };
    case 'diagnose': {
      const operationId = typeof event.Data?.StartOperationId === 'string' ? event.Data.StartOperationId : undefined;
      return diagnoseStopped(name, status, operationId);
    }
    case 'fail':
      throw new Error(progress.reason);
  }
}
