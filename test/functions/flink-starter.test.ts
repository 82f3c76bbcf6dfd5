import {
  DescribeApplicationCommand,
  DescribeApplicationOperationCommand,
  InvalidApplicationConfigurationException,
  KinesisAnalyticsV2Client,
  ListApplicationOperationsCommand,
  ListApplicationSnapshotsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  StartApplicationCommand,
  StopApplicationCommand,
  type ApplicationStatus,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { planStop, elapsedSince } from '../../lib/functions/flink-starter/starter-logic';

process.env.LOG_LEVEL = 'SILENT';
// Loaded after LOG_LEVEL is set: the handlers create their loggers at module scope.
const { handler, isCompleteHandler } = require('../../lib/functions/flink-starter') as typeof import('../../lib/functions/flink-starter');

const analytics = mockClient(KinesisAnalyticsV2Client);

const APP = 'lakestream-dev-login-counts';
const metadata = { $metadata: {} };
const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/Processing/1',
  RequestId: 'request-1',
  LogicalResourceId: 'Starter',
  ResourceType: 'Custom::FlinkApplicationStarter',
};

type Props = Record<string, unknown>;
const starterProps: Props = { ApplicationName: APP, GracefulStopSeconds: '300', CodeKey: 'flink-applications/x/abc.zip' };

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Props = starterProps, extra: Props = {}): CustomResourceEvent & { Data?: Props } {
  return {
    ...base,
    RequestType: requestType,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: APP }),
    ...(requestType === 'Update' ? { OldResourceProperties: { ServiceToken: base.ServiceToken, ...properties } } : {}),
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
    ...extra,
  } as CustomResourceEvent & { Data?: Props };
}

function withStatus(status: ApplicationStatus): void {
  analytics.on(DescribeApplicationCommand, { ApplicationName: APP }).resolves({
    ...metadata,
    ApplicationDetail: { ApplicationStatus: status } as never,
  });
}

function withoutApplication(): void {
  analytics.on(DescribeApplicationCommand).rejects(new ResourceNotFoundException({ message: `Application ${APP} not found`, $metadata: {} }));
}

function sent<T>(command: new (input: T) => unknown): T[] {
  return analytics.commandCalls(command as never).map((call) => call.args[0].input as T);
}

beforeEach(() => {
  analytics.reset();
});

describe('starter onEvent: Create', () => {
  it('starts a new application (no snapshots) fresh, so the job reads from the earliest offset, and refuses to drop state', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand, { ApplicationName: APP }).resolves({ ...metadata, SnapshotSummaries: [] });
    analytics.on(StartApplicationCommand).resolves({ ...metadata, OperationId: 'op-start-1' });

    const result = await handler(event('Create'));

    expect(sent(StartApplicationCommand)).toEqual([
      {
        ApplicationName: APP,
        RunConfiguration: {
          FlinkRunConfiguration: { AllowNonRestoredState: false },
          ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' },
        },
      },
    ]);
    expect(result).toEqual({
      PhysicalResourceId: APP,
      Data: { ApplicationName: APP, RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', ReadySnapshots: '0', StartOperationId: 'op-start-1' },
    });
  });

  it('restores the latest snapshot on Create when the application already has state (e.g. a replaced starter resource)', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand).resolves({
      ...metadata,
      SnapshotSummaries: [{ SnapshotName: 's-1', SnapshotStatus: 'READY', ApplicationVersionId: 2 }],
    });
    analytics.on(StartApplicationCommand).resolves({ ...metadata, OperationId: 'op-start-2' });

    const result = await handler(event('Create'));

    expect(sent(StartApplicationCommand)[0].RunConfiguration?.ApplicationRestoreConfiguration).toEqual({
      ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT',
    });
    expect(result.Data).toMatchObject({ RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT', ReadySnapshots: '1' });
  });

  it('does not start again when a retried Create finds the application STARTING or RUNNING', async () => {
    for (const status of ['STARTING', 'RUNNING'] as const) {
      analytics.reset();
      withStatus(status);
      await expect(handler(event('Create'))).resolves.toEqual({ PhysicalResourceId: APP, Data: { ApplicationName: APP } });
      expect(analytics.commandCalls(StartApplicationCommand)).toHaveLength(0);
    }
  });

  it('treats a start that is already in progress as started', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand).resolves({ ...metadata });
    analytics.on(StartApplicationCommand).rejects(new ResourceInUseException({ message: 'busy', $metadata: {} }));
    const result = await handler(event('Create'));
    expect(result.Data).toEqual({ ApplicationName: APP, RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', ReadySnapshots: '0' });
  });

  it('fails when the start request is rejected', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand).resolves({ ...metadata });
    analytics.on(StartApplicationCommand).rejects(new InvalidApplicationConfigurationException({ message: 'jarfile lib/x.jar not found', $metadata: {} }));
    await expect(handler(event('Create'))).rejects.toThrow('jarfile lib/x.jar not found');
  });

  it('fails permanently when the application does not exist or the properties are invalid', async () => {
    withoutApplication();
    await expect(handler(event('Create'))).rejects.toThrow(`Managed Flink application ${APP} does not exist`);
    await expect(handler(event('Create', { ApplicationName: 'no spaces allowed' }))).rejects.toThrow(
      'Invalid ResourceProperties: ApplicationName: must be a Managed Flink application name',
    );
    await expect(handler(event('Create', { ApplicationName: APP, GracefulStopSeconds: 'soon' }))).rejects.toThrow('GracefulStopSeconds');
  });
});

describe('starter onEvent: Update', () => {
  it('leaves a RUNNING, UPDATING or AUTOSCALING application to CloudFormation, which snapshots and restarts it', async () => {
    for (const status of ['RUNNING', 'UPDATING', 'AUTOSCALING'] as const) {
      analytics.reset();
      withStatus(status);
      await expect(handler(event('Update'))).resolves.toEqual({ PhysicalResourceId: APP, Data: { ApplicationName: APP } });
      expect(analytics.commandCalls(StartApplicationCommand)).toHaveLength(0);
      expect(analytics.commandCalls(ListApplicationSnapshotsCommand)).toHaveLength(0);
    }
  });

  it('restarts a stopped application from its latest snapshot', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand).resolves({
      ...metadata,
      SnapshotSummaries: [
        { SnapshotName: 's-1', SnapshotStatus: 'FAILED', ApplicationVersionId: 3 },
        { SnapshotName: 's-2', SnapshotStatus: 'READY', ApplicationVersionId: 4 },
      ],
    });
    analytics.on(StartApplicationCommand).resolves({ ...metadata, OperationId: 'op-2' });

    const result = await handler(event('Update'));

    expect(sent(StartApplicationCommand)[0].RunConfiguration).toEqual({
      FlinkRunConfiguration: { AllowNonRestoredState: false },
      ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' },
    });
    expect(result.Data).toMatchObject({ RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT', StartOperationId: 'op-2' });
  });

  it('starts without restoring when the stopped application has no usable snapshot', async () => {
    withStatus('READY');
    analytics.on(ListApplicationSnapshotsCommand).resolves({
      ...metadata,
      SnapshotSummaries: [{ SnapshotName: 's-1', SnapshotStatus: 'CREATING', ApplicationVersionId: 1 }],
    });
    analytics.on(StartApplicationCommand).resolves({ ...metadata });
    await handler(event('Update'));
    expect(sent(StartApplicationCommand)[0].RunConfiguration?.ApplicationRestoreConfiguration).toEqual({
      ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT',
    });
  });

  it('fails with the service error when the last update was rolled back', async () => {
    withStatus('ROLLED_BACK');
    analytics.on(ListApplicationOperationsCommand).resolves({
      ...metadata,
      ApplicationOperationInfoList: [
        { Operation: 'UpdateApplication', OperationId: 'op-old', OperationStatus: 'FAILED', StartTime: new Date('2024-05-01T10:00:00Z') },
        { Operation: 'UpdateApplication', OperationId: 'op-new', OperationStatus: 'FAILED', StartTime: new Date('2024-05-01T11:00:00Z') },
        { Operation: 'StartApplication', OperationId: 'op-ok', OperationStatus: 'SUCCESSFUL', StartTime: new Date('2024-05-01T12:00:00Z') },
      ],
    });
    analytics.on(DescribeApplicationOperationCommand, { ApplicationName: APP, OperationId: 'op-new' }).resolves({
      ...metadata,
      ApplicationOperationInfoDetails: {
        Operation: 'UpdateApplication',
        StartTime: new Date(),
        EndTime: new Date(),
        OperationStatus: 'FAILED',
        OperationFailureDetails: { ErrorInfo: { ErrorString: 'Job graph changed: cannot restore operator uid login-window' } },
      },
    });
    await expect(handler(event('Update'))).rejects.toThrow(
      `${APP} is ROLLED_BACK: its last update failed and the service rolled it back; latest failed operation UpdateApplication (op-new): Job graph changed: cannot restore operator uid login-window`,
    );
  });

  it('fails when the application is stopping or being deleted', async () => {
    withStatus('STOPPING');
    analytics.on(ListApplicationOperationsCommand).resolves({ ...metadata, ApplicationOperationInfoList: [] });
    await expect(handler(event('Update'))).rejects.toThrow(`${APP} cannot be started from status STOPPING`);
  });
});

describe('starter onEvent: Delete', () => {
  it('stops a RUNNING application gracefully and records when', async () => {
    withStatus('RUNNING');
    analytics.on(StopApplicationCommand).resolves({ ...metadata });
    const before = Date.now();
    const result = await handler(event('Delete'));
    expect(sent(StopApplicationCommand)).toEqual([{ ApplicationName: APP, Force: false }]);
    expect(result.PhysicalResourceId).toBe(APP);
    expect(Date.parse(String(result.Data?.StopRequestedAt))).toBeGreaterThanOrEqual(before - 1);
  });

  it('succeeds without stopping when the application is READY or already gone', async () => {
    withStatus('READY');
    await expect(handler(event('Delete'))).resolves.toMatchObject({ PhysicalResourceId: APP });
    analytics.reset();
    withoutApplication();
    await expect(handler(event('Delete'))).resolves.toMatchObject({ PhysicalResourceId: APP });
    expect(analytics.commandCalls(StopApplicationCommand)).toHaveLength(0);
  });

  it('leaves a stop the service refuses now (still STARTING) to isComplete', async () => {
    withStatus('STARTING');
    analytics.on(StopApplicationCommand).rejects(new ResourceInUseException({ message: 'starting', $metadata: {} }));
    await expect(handler(event('Delete'))).resolves.toMatchObject({ PhysicalResourceId: APP });
  });
});

describe('starter isComplete after Create/Update', () => {
  it('is complete once RUNNING', async () => {
    withStatus('RUNNING');
    await expect(isCompleteHandler(event('Create'))).resolves.toEqual({ IsComplete: true, Data: { ApplicationStatus: 'RUNNING' } });
  });

  it('keeps waiting while STARTING, UPDATING, AUTOSCALING or in MAINTENANCE', async () => {
    for (const status of ['STARTING', 'UPDATING', 'AUTOSCALING', 'MAINTENANCE'] as const) {
      analytics.reset();
      withStatus(status);
      await expect(isCompleteHandler(event('Update'))).resolves.toEqual({ IsComplete: false });
    }
  });

  it('keeps waiting while the start operation is still in progress', async () => {
    withStatus('READY');
    analytics.on(DescribeApplicationOperationCommand).resolves({
      ...metadata,
      ApplicationOperationInfoDetails: { Operation: 'StartApplication', StartTime: new Date(), EndTime: undefined, OperationStatus: 'IN_PROGRESS' },
    });
    await expect(isCompleteHandler(event('Create', starterProps, { Data: { StartOperationId: 'op-1' } }))).resolves.toEqual({ IsComplete: false });
  });

  it('reports the error of a failed start operation', async () => {
    withStatus('READY');
    analytics.on(DescribeApplicationOperationCommand, { ApplicationName: APP, OperationId: 'op-1' }).resolves({
      ...metadata,
      ApplicationOperationInfoDetails: {
        Operation: 'StartApplication',
        StartTime: new Date(),
        EndTime: new Date(),
        OperationStatus: 'FAILED',
        OperationFailureDetails: { ErrorInfo: { ErrorString: 'org.apache.kafka.common.errors.SaslAuthenticationException: Access denied' } },
      },
    });
    await expect(isCompleteHandler(event('Create', starterProps, { Data: { StartOperationId: 'op-1' } }))).rejects.toThrow(
      `${APP} failed to start (operation op-1): org.apache.kafka.common.errors.SaslAuthenticationException: Access denied`,
    );
  });

  it('fails when the application stopped after a start that succeeded', async () => {
    withStatus('READY');
    analytics.on(DescribeApplicationOperationCommand).resolves({
      ...metadata,
      ApplicationOperationInfoDetails: { Operation: 'StartApplication', StartTime: new Date(), EndTime: new Date(), OperationStatus: 'SUCCESSFUL' },
    });
    await expect(isCompleteHandler(event('Create', starterProps, { Data: { StartOperationId: 'op-1' } }))).rejects.toThrow(
      'although its start operation op-1 ended SUCCESSFUL',
    );
  });

  it('without an operation id, reports the most recent failed operation, or says none is recorded', async () => {
    withStatus('READY');
    analytics.on(ListApplicationOperationsCommand).resolves({
      ...metadata,
      ApplicationOperationInfoList: [{ Operation: 'StartApplication', OperationId: 'op-9', OperationStatus: 'FAILED', StartTime: new Date() }],
    });
    analytics.on(DescribeApplicationOperationCommand).resolves({
      ...metadata,
      ApplicationOperationInfoDetails: {
        Operation: 'StartApplication',
        StartTime: new Date(),
        EndTime: new Date(),
        OperationStatus: 'FAILED',
        OperationFailureDetails: { ErrorInfo: { ErrorString: 'ModuleNotFoundError: No module named job_config' } },
      },
    });
    await expect(isCompleteHandler(event('Update'))).rejects.toThrow(
      `${APP} is READY, not RUNNING; latest failed operation StartApplication (op-9): ModuleNotFoundError: No module named job_config`,
    );

    analytics.reset();
    withStatus('READY');
    analytics.on(ListApplicationOperationsCommand).resolves({ ...metadata, ApplicationOperationInfoList: [] });
    await expect(isCompleteHandler(event('Update'))).rejects.toThrow('no failed operation is recorded');
  });

  it('fails on a rollback, a stop or a deletion while waiting', async () => {
    withStatus('ROLLING_BACK');
    analytics.on(ListApplicationOperationsCommand).resolves({ ...metadata, ApplicationOperationInfoList: [] });
    await expect(isCompleteHandler(event('Update'))).rejects.toThrow(`${APP} is ROLLING_BACK, not RUNNING`);

    for (const status of ['STOPPING', 'FORCE_STOPPING', 'DELETING'] as const) {
      analytics.reset();
      withStatus(status);
      await expect(isCompleteHandler(event('Create'))).rejects.toThrow(`${APP} went to status ${status} while waiting for RUNNING`);
    }

    analytics.reset();
    withoutApplication();
    await expect(isCompleteHandler(event('Create'))).rejects.toThrow(`${APP} was deleted while waiting for it to reach RUNNING`);
  });
});

describe('starter isComplete after Delete', () => {
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  it('is complete when the application is READY, DELETING or gone', async () => {
    for (const status of ['READY', 'DELETING'] as const) {
      analytics.reset();
      withStatus(status);
      await expect(isCompleteHandler(event('Delete', starterProps, { Data: { StopRequestedAt: minutesAgo(1) } }))).resolves.toEqual({ IsComplete: true });
    }
    analytics.reset();
    withoutApplication();
    await expect(isCompleteHandler(event('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  it('waits for a graceful stop, then forces it after GracefulStopSeconds', async () => {
    withStatus('STOPPING');
    analytics.on(StopApplicationCommand).resolves({ ...metadata });
    await expect(isCompleteHandler(event('Delete', starterProps, { Data: { StopRequestedAt: minutesAgo(2) } }))).resolves.toEqual({ IsComplete: false });
    expect(analytics.commandCalls(StopApplicationCommand)).toHaveLength(0);

    await expect(isCompleteHandler(event('Delete', starterProps, { Data: { StopRequestedAt: minutesAgo(6) } }))).resolves.toEqual({ IsComplete: false });
    expect(sent(StopApplicationCommand)).toEqual([{ ApplicationName: APP, Force: true }]);
  });

  it('does not force again while FORCE_STOPPING', async () => {
    withStatus('FORCE_STOPPING');
    await expect(isCompleteHandler(event('Delete', starterProps, { Data: { StopRequestedAt: minutesAgo(10) } }))).resolves.toEqual({ IsComplete: false });
    expect(analytics.commandCalls(StopApplicationCommand)).toHaveLength(0);
  });

  it('retries the stop of an application that was still starting, gracefully first', async () => {
    withStatus('RUNNING');
    analytics.on(StopApplicationCommand).resolves({ ...metadata });
    await isCompleteHandler(event('Delete', starterProps, { Data: { StopRequestedAt: minutesAgo(1) } }));
    await isCompleteHandler(event('Delete', { ...starterProps, GracefulStopSeconds: '60' }, { Data: { StopRequestedAt: minutesAgo(2) } }));
    expect(sent(StopApplicationCommand)).toEqual([
      { ApplicationName: APP, Force: false },
      { ApplicationName: APP, Force: true },
    ]);
  });
});

describe('starter logic', () => {
  it('elapsedSince ignores missing or unreadable timestamps', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    expect(elapsedSince('2024-05-01T11:59:00Z', now)).toBe(60_000);
    expect(elapsedSince(undefined, now)).toBe(0);
    expect(elapsedSince('not a date', now)).toBe(0);
  });

  it('planStop forces any stoppable state once overdue', () => {
    expect(planStop('UPDATING', 0, 1000)).toEqual({ kind: 'stop', force: false });
    expect(planStop('UPDATING', 1000, 1000)).toEqual({ kind: 'stop', force: true });
    expect(planStop(undefined, 0, 1000)).toEqual({ kind: 'complete' });
  });
});
