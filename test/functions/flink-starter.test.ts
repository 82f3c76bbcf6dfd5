import { execFileSync } from 'node:child_process';
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
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { planStop, elapsedSince } from '../../lib/functions/flink-starter/starter-logic';
import { entryContent, newEntry, readZip, writeZip, ZipFormatError } from '../../lib/functions/flink-starter/zip-archive';
import { mergeJars } from '../../lib/functions/flink-starter/application-package';

process.env.LOG_LEVEL = 'SILENT';
// Loaded after LOG_LEVEL is set: the handlers create their loggers at module scope.
const { handler, isCompleteHandler, packageHandler } = require('../../lib/functions/flink-starter') as typeof import('../../lib/functions/flink-starter');

const analytics = mockClient(KinesisAnalyticsV2Client);
const s3 = mockClient(S3Client);

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
  s3.reset();
});

describe('starter onEvent: Create', () => {
  it('starts a READY application without restoring a snapshot and refuses to drop state', async () => {
    withStatus('READY');
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
    expect(analytics.commandCalls(ListApplicationSnapshotsCommand)).toHaveLength(0);
    expect(result).toEqual({
      PhysicalResourceId: APP,
      Data: { ApplicationName: APP, RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', StartOperationId: 'op-start-1' },
    });
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
    analytics.on(StartApplicationCommand).rejects(new ResourceInUseException({ message: 'busy', $metadata: {} }));
    const result = await handler(event('Create'));
    expect(result.Data).toEqual({ ApplicationName: APP, RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' });
  });

  it('fails when the start request is rejected', async () => {
    withStatus('READY');
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

// ---- packager ----------------------------------------------------------------------------------

/** Builds ZIP archives with Python's zipfile, an implementation independent of the one under test. */
function pythonZip(files: Array<{ name: string; text?: string; size?: number; deflate?: boolean; zip64?: boolean }>): Buffer {
  const script = `
import base64, io, json, sys, zipfile
spec = json.load(sys.stdin)
out = io.BytesIO()
with zipfile.ZipFile(out, "w") as archive:
    for f in spec:
        data = f["text"].encode() if "text" in f else bytes(i % 251 for i in range(f.get("size", 0)))
        info = zipfile.ZipInfo(f["name"], (2020, 1, 2, 3, 4, 6))
        info.compress_type = zipfile.ZIP_DEFLATED if f.get("deflate", True) else zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=f.get("zip64", False)) as handle:
            handle.write(data)
sys.stdout.write(base64.b64encode(out.getvalue()).decode())
`;
  return Buffer.from(execFileSync('python3', ['-c', script], { input: JSON.stringify(files) }).toString(), 'base64');
}

/** Reads an archive with Python's zipfile: CRC-checked names and texts of the listed members. */
function pythonRead(
  archive: Buffer,
  textMembers: string[] = [],
  nested?: { member: string; textMembers: string[] },
): { names: string[]; texts: Record<string, string>; nested?: { names: string[]; texts: Record<string, string> } } {
  const script = `
import base64, io, json, sys, zipfile
request = json.load(sys.stdin)
def read(data, members):
    archive = zipfile.ZipFile(io.BytesIO(data))
    bad = archive.testzip()
    if bad: raise SystemExit("bad CRC in " + bad)
    return {"names": archive.namelist(), "texts": {m: archive.read(m).decode() for m in members}}, archive
result, archive = read(base64.b64decode(request["archive"]), request["texts"])
if request.get("nested"):
    result["nested"], _ = read(archive.read(request["nested"]), request["nestedTexts"])
print(json.dumps(result))
`;
  const input = JSON.stringify({ archive: archive.toString('base64'), texts: textMembers, nested: nested?.member, nestedTexts: nested?.textMembers ?? [] });
  return JSON.parse(execFileSync('python3', ['-c', script], { input, maxBuffer: 64 * 1024 * 1024 }).toString());
}

const kafkaConnectorJar = () =>
  pythonZip([
    { name: 'META-INF/MANIFEST.MF', text: 'Manifest-Version: 1.0\r\nMain-Class: x\r\n' },
    { name: 'META-INF/services/org.apache.flink.table.factories.Factory', text: 'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\norg.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory\n' },
    { name: 'org/apache/flink/connector/kafka/KafkaSource.class', size: 5000 },
    { name: 'LICENSE', text: 'connector licence' },
  ]);
const mskIamJar = () =>
  pythonZip([
    { name: 'META-INF/MANIFEST.MF', text: 'Manifest-Version: 1.0\r\n' },
    { name: 'META-INF/SIGNER.SF', text: 'signature' },
    { name: 'META-INF/SIGNER.RSA', text: 'signature' },
    { name: 'META-INF/services/org.apache.flink.table.factories.Factory', text: '# comment\norg.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory\ncom.example.OtherFactory\n' },
    { name: 'software/amazon/msk/auth/iam/IAMLoginModule.class', size: 3000, deflate: false },
    { name: 'LICENSE', text: 'iam licence' },
  ]);
const codeAsset = () =>
  pythonZip([
    { name: '__init__.py', text: '' },
    { name: 'main.py', text: 'print("login counts")\n' },
    { name: 'login_sql.py', text: 'STATEMENTS = []\n' },
    { name: '__pycache__/main.cpython-311.pyc', size: 100 },
  ]);

const packagerProps: Props = {
  CodeBucket: 'cdk-assets-111111111111-eu-west-1',
  CodeKey: 'abc123.zip',
  CodeFolder: 'job',
  EntryPoint: 'main.py',
  JarBucket: 'lakestream-dev-artifacts',
  JarKeys: ['jars/flink-connector-kafka-3.4.0-1.20.jar', 'jars/aws-msk-iam-auth-2.3.2-all.jar'],
  JarPath: 'lib/lakestream-connectors.jar',
  TargetBucket: 'lakestream-dev-artifacts',
  TargetPrefix: 'flink-applications/login-counts/',
};
const { packageKey } = require('../../lib/functions/flink-starter/packager') as typeof import('../../lib/functions/flink-starter/packager');
const EXPECTED_KEY = packageKey(packagerProps as never);

function packagerEvent(requestType: 'Create' | 'Update' | 'Delete', physicalId?: string, properties: Props = packagerProps): CustomResourceEvent {
  return {
    ...base,
    LogicalResourceId: 'Package',
    RequestType: requestType,
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    ...(requestType === 'Update' ? { OldResourceProperties: { ServiceToken: base.ServiceToken } } : {}),
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
  } as CustomResourceEvent;
}

function s3Object(content: Buffer) {
  return { ...metadata, Body: { transformToByteArray: async () => new Uint8Array(content) } as never };
}

describe('packager', () => {
  it('writes one zip with the code under its folder and the connector jars merged into one jar', async () => {
    s3.on(GetObjectCommand, { Bucket: 'cdk-assets-111111111111-eu-west-1', Key: 'abc123.zip' }).resolves(s3Object(codeAsset()));
    s3.on(GetObjectCommand, { Bucket: 'lakestream-dev-artifacts', Key: 'jars/flink-connector-kafka-3.4.0-1.20.jar' }).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Bucket: 'lakestream-dev-artifacts', Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(mskIamJar()));
    s3.on(PutObjectCommand).resolves({ ...metadata });

    const result = await packageHandler(packagerEvent('Create'));

    expect(EXPECTED_KEY).toMatch(/^flink-applications\/login-counts\/[0-9a-f]{32}\.zip$/);
    expect(result.PhysicalResourceId).toBe(`s3://lakestream-dev-artifacts/${EXPECTED_KEY}`);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'lakestream-dev-artifacts', Key: EXPECTED_KEY, ContentType: 'application/zip' });
    const archive = Buffer.from(put.Body as Buffer);
    expect(result.Data).toEqual({ Bucket: 'lakestream-dev-artifacts', Key: EXPECTED_KEY, Bytes: String(archive.length) });

    const factory = 'META-INF/services/org.apache.flink.table.factories.Factory';
    const read = pythonRead(archive, ['job/main.py'], { member: 'lib/lakestream-connectors.jar', textMembers: ['META-INF/MANIFEST.MF', factory, 'LICENSE'] });
    expect(read.names).toEqual(['job/', 'job/__init__.py', 'job/main.py', 'job/login_sql.py', 'lib/', 'lib/lakestream-connectors.jar']);
    expect(read.texts['job/main.py']).toBe('print("login counts")\n');
    const jar = read.nested!;
    expect(jar.names.slice(0, 2)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF']);
    expect(jar.names).toEqual(expect.arrayContaining([
      'org/apache/flink/connector/kafka/KafkaSource.class',
      'software/amazon/msk/auth/iam/IAMLoginModule.class',
      factory,
    ]));
    expect(jar.names.filter((name) => name.endsWith('.SF') || name.endsWith('.RSA'))).toEqual([]);
    expect(jar.texts['META-INF/MANIFEST.MF']).not.toContain('Main-Class');
    expect(jar.texts[factory].split('\n')).toEqual([
      'org.apache.flink.streaming.connectors.kafka.table.KafkaDynamicTableFactory',
      'org.apache.flink.streaming.connectors.kafka.table.UpsertKafkaDynamicTableFactory',
      'com.example.OtherFactory',
      '',
    ]);
    expect(jar.texts.LICENSE).toBe('connector licence');
  });

  it('derives the key from the inputs: another jar version or code asset gives another key', () => {
    const otherJar = { ...packagerProps, JarKeys: ['jars/flink-connector-kafka-3.4.1-1.20.jar', 'jars/aws-msk-iam-auth-2.3.2-all.jar'] };
    const otherCode = { ...packagerProps, CodeKey: 'def456.zip' };
    const keys = new Set([EXPECTED_KEY, packageKey(otherJar as never), packageKey(otherCode as never)]);
    expect(keys.size).toBe(3);
    expect(packageKey({ ...packagerProps } as never)).toBe(EXPECTED_KEY);
  });

  it('produces the same bytes for the same inputs, so a retried Create writes the same object', async () => {
    s3.on(GetObjectCommand, { Key: 'abc123.zip' }).resolves(s3Object(codeAsset()));
    s3.on(GetObjectCommand, { Key: 'jars/flink-connector-kafka-3.4.0-1.20.jar' }).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(mskIamJar()));
    s3.on(PutObjectCommand).resolves({ ...metadata });
    await packageHandler(packagerEvent('Create'));
    await packageHandler(packagerEvent('Update', `s3://lakestream-dev-artifacts/${EXPECTED_KEY}`));
    const [first, second] = s3.commandCalls(PutObjectCommand).map((call) => Buffer.from(call.args[0].input.Body as Buffer));
    expect(first.equals(second)).toBe(true);
  });

  it('fails permanently, naming the object, when an input is missing or not an archive', async () => {
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).rejects(new NoSuchKey({ message: 'NoSuchKey', $metadata: {} }));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow(
      's3://lakestream-dev-artifacts/jars/aws-msk-iam-auth-2.3.2-all.jar does not exist',
    );

    s3.reset();
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'jars/aws-msk-iam-auth-2.3.2-all.jar' }).resolves(s3Object(Buffer.from('<html>proxy error</html>')));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow(
      'Cannot package the Flink application: s3://lakestream-dev-artifacts/jars/aws-msk-iam-auth-2.3.2-all.jar is not a ZIP archive',
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('fails when the code asset has no entry point', async () => {
    s3.on(GetObjectCommand).resolves(s3Object(kafkaConnectorJar()));
    s3.on(GetObjectCommand, { Key: 'abc123.zip' }).resolves(s3Object(pythonZip([{ name: 'app.py', text: '' }])));
    await expect(packageHandler(packagerEvent('Create'))).rejects.toThrow(
      'has no entry point main.py at its root (entries: app.py)',
    );
  });

  it('rejects invalid properties', async () => {
    await expect(packageHandler(packagerEvent('Create', undefined, { ...packagerProps, JarKeys: [], CodeFolder: 'a/b' }))).rejects.toThrow(
      /Invalid ResourceProperties: .*CodeFolder: must be a single folder name.*JarKeys: needs at least one connector jar/,
    );
    await expect(packageHandler(packagerEvent('Create', undefined, { ...packagerProps, TargetPrefix: 'no-trailing-slash' }))).rejects.toThrow(
      "TargetPrefix: must be empty or a key prefix ending with '/'",
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('deletes the package it wrote, and nothing when a failed Create left no package', async () => {
    s3.on(DeleteObjectCommand).resolves({ ...metadata });
    await packageHandler(packagerEvent('Delete', 's3://lakestream-dev-artifacts/flink-applications/login-counts/old.zip'));
    expect(s3.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: 'lakestream-dev-artifacts', Key: 'flink-applications/login-counts/old.zip' },
    ]);
    await expect(packageHandler(packagerEvent('Delete', 'request-1'))).resolves.toEqual({ PhysicalResourceId: 'request-1' });
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });
});

describe('zip archive', () => {
  it('reads ZIP64 members written by another implementation', () => {
    const archive = pythonZip([{ name: 'big.bin', size: 70_000, zip64: true }, { name: 'small.txt', text: 'hi' }]);
    const entries = readZip(archive, 'python.zip');
    expect(entries.map((entry) => [entry.name, entry.uncompressedSize])).toEqual([['big.bin', 70_000], ['small.txt', 2]]);
    expect(entryContent(entries[1], 'python.zip').toString()).toBe('hi');
  });

  it('writes a ZIP64 end record that other readers accept when there are more than 65,535 entries', () => {
    const entries = Array.from({ length: 65_540 }, (_, i) => newEntry(`c/${i}.class`, Buffer.from(String(i)), { compress: false }));
    const archive = writeZip(entries);
    expect(readZip(archive, 'many.jar')).toHaveLength(65_540);
    const read = pythonRead(archive, ['c/65539.class']);
    expect(read.names).toHaveLength(65_540);
    expect(read.texts['c/65539.class']).toBe('65539');
  });

  it('detects corrupted member data', () => {
    const [entry] = readZip(pythonZip([{ name: 'a.txt', text: 'hello world', deflate: false }]), 'a.zip');
    const corrupted = { ...entry, compressedData: Buffer.from('hellO world') };
    expect(() => entryContent(corrupted, 'a.zip')).toThrow('a.zip: entry a.txt fails its size or CRC check');
  });

  it('refuses jars with entries that escape their folder', () => {
    const evil = pythonZip([{ name: '../../etc/cron.d/x', text: 'x' }]);
    expect(() => mergeJars([{ label: 'evil.jar', archive: evil }])).toThrow(ZipFormatError);
  });
});
