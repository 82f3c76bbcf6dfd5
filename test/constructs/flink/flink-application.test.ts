import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Duration, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import {
  CONNECTOR_JAR_PATH,
  FLINK_JOBS_DIR,
  FlinkApplication,
  FlinkApplicationProps,
  RUN_OPTIONS_GROUP,
} from '../../../lib/constructs/flink/flink-application';
import { LakestreamFunction } from '../../../lib/constructs/core/lakestream-function';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const JOB_DIR = path.join(FLINK_JOBS_DIR, 'login_counts');
const APP_NAME = 'lakestream-test-login-counts';

interface Scenario {
  readonly app: App;
  readonly stack: Stack;
  readonly template: Template;
  readonly flink: FlinkApplication;
  readonly findings: Finding[];
}

interface Fixture {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly logsKey: kms.Key;
  readonly artifacts: s3.Bucket;
  readonly artifactsKey: kms.Key;
  readonly asset: s3assets.Asset;
}

/**
 * The artifacts bucket lives in a data stack and the application in a processing stack, as in the
 * app. `env: undefined` builds an environment-agnostic processing stack (ARNs with pseudo parameters).
 */
function build(overrides: (fixture: Fixture) => Partial<FlinkApplicationProps> = () => ({}), envAgnostic = false): Scenario {
  const env = envAgnostic ? undefined : { account: '111111111111', region: 'eu-west-1' };
  const app = newCompliantTestApp();
  const stage = new Stage(app, 'Test');
  const data = new Stack(stage, 'Data', { env });
  const artifactsKey = new kms.Key(data, 'ArtifactsKey', { enableKeyRotation: true });
  const artifacts = new s3.Bucket(data, 'Artifacts', { encryptionKey: artifactsKey, enforceSSL: true, versioned: true });

  const stack = new Stack(stage, 'Processing', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const asset = FlinkApplication.codeAsset(stack, 'LoginCountsCode', JOB_DIR);
  const flink = new FlinkApplication(stack, 'LoginCounts', {
    applicationName: APP_NAME,
    codeAsset: asset,
    connectorJars: {
      bucket: artifacts,
      keys: [
        'artifacts/flink-connector-kafka/3.4.0-1.20/flink-connector-kafka-3.4.0-1.20.jar',
        'artifacts/aws-msk-iam-auth/2.3.6/aws-msk-iam-auth-2.3.6-all.jar',
      ],
    },
    vpc,
    logsKey,
    logRetention: logs.RetentionDays.ONE_MONTH,
    applicationProperties: { lakestream: { 'bootstrap.servers': 'b-1:9098', 'window.minutes': '5' } },
    ...overrides({ stack, vpc, logsKey, artifacts, artifactsKey, asset }),
  });
  // Findings first: the app-level synth is what attaches the compliance aspects to the stage.
  const findings = synthFindings(app).filter((f) => f.path.startsWith(`${flink.node.path}/`));
  const template = Template.fromStack(stack);
  return { app, stack, template, flink, findings };
}

function logicalId(scenario: Scenario, construct: { node: { defaultChild?: unknown } } | CfnResource): string {
  const resource = construct instanceof CfnResource ? construct : (construct.node.defaultChild as CfnResource);
  return scenario.stack.getLogicalId(resource);
}

function policyStatementsOf(template: Template, roleLogicalIdPrefix: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalIdPrefix))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
}

describe('FlinkApplication', () => {
  let defaults: Scenario;
  let custom: Scenario;

  beforeAll(() => {
    defaults = build();
    custom = build(({ stack, vpc, logsKey }) => {
      // Stands in for the artifact mirror: jar keys known only at deploy time.
      const mirror = new CfnResource(stack, 'Mirror', {
        type: 'Custom::ArtifactMirror',
        properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:m' },
      });
      const packages = new s3.Bucket(stack, 'Packages', { encryptionKey: logsKey, enforceSSL: true });
      const securityGroup = new ec2.SecurityGroup(stack, 'FlinkSg', { vpc, allowAllOutbound: false, description: 'flink' });
      return {
        connectorJars: { bucket: packages, keys: [mirror.getAtt('kafka.Key').toString()] },
        packageLocation: { bucket: packages, prefix: 'code/flink/' },
        securityGroup,
        parallelism: 4,
        parallelismPerKpu: 2,
        autoScaling: true,
        checkpointInterval: Duration.seconds(30),
        removalPolicy: RemovalPolicy.RETAIN,
        stateEncryptionKey: logsKey,
        logLevel: 'WARN',
        startTimeout: Duration.minutes(25),
        gracefulStopTimeout: Duration.minutes(2),
        entryPoint: 'main.py',
        codeFolder: 'login_counts',
      };
    }, true);
  });

  it('is a Python application on the FLINK-1_20 runtime with checkpoints, snapshots and rollback on', () => {
    defaults.template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationName: APP_NAME,
      RuntimeEnvironment: 'FLINK-1_20',
      ApplicationMode: 'STREAMING',
      ApplicationConfiguration: Match.objectLike({
        FlinkApplicationConfiguration: {
          CheckpointConfiguration: { ConfigurationType: 'CUSTOM', CheckpointingEnabled: true, CheckpointInterval: 60000, MinPauseBetweenCheckpoints: 5000 },
          MonitoringConfiguration: { ConfigurationType: 'CUSTOM', LogLevel: 'INFO', MetricsLevel: 'APPLICATION' },
          ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 1, ParallelismPerKPU: 1, AutoScalingEnabled: false },
        },
        ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
        ApplicationSystemRollbackConfiguration: { RollbackEnabled: true },
        ApplicationEncryptionConfiguration: Match.absent(),
      }),
    });
  });

  it('runs the packaged zip: code folder, entry point and merged jar named in the run options', () => {
    const packageId = logicalId(defaults, defaults.flink.node.findChild('CodePackage') as never);
    defaults.template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        ApplicationCodeConfiguration: {
          CodeContentType: 'ZIPFILE',
          CodeContent: { S3ContentLocation: { BucketARN: Match.anyValue(), FileKey: { 'Fn::GetAtt': [packageId, 'Key'] } } },
        },
        EnvironmentProperties: {
          PropertyGroups: [
            { PropertyGroupId: RUN_OPTIONS_GROUP, PropertyMap: { python: 'job/main.py', jarfile: CONNECTOR_JAR_PATH, pyFiles: 'job' } },
            { PropertyGroupId: 'lakestream', PropertyMap: { 'bootstrap.servers': 'b-1:9098', 'window.minutes': '5' } },
          ],
        },
      }),
    });
    defaults.template.hasResourceProperties('Custom::FlinkApplicationPackage', {
      CodeBucket: Match.anyValue(),
      CodeKey: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$'),
      CodeFolder: 'job',
      EntryPoint: 'main.py',
      JarBucket: { 'Fn::ImportValue': Match.stringLikeRegexp('Artifacts') },
      JarKeys: [
        'artifacts/flink-connector-kafka/3.4.0-1.20/flink-connector-kafka-3.4.0-1.20.jar',
        'artifacts/aws-msk-iam-auth/2.3.6/aws-msk-iam-auth-2.3.6-all.jar',
      ],
      JarPath: 'lib/lakestream-connectors.jar',
      TargetPrefix: `flink-applications/${APP_NAME}/`,
    });
  });

  it('takes the jar keys from the mirror, so packaging waits for it, and writes where it is told', () => {
    custom.template.hasResourceProperties('Custom::FlinkApplicationPackage', {
      JarKeys: [{ 'Fn::GetAtt': ['Mirror', 'kafka.Key'] }],
      TargetPrefix: 'code/flink/',
      CodeFolder: 'login_counts',
    });
    custom.template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        EnvironmentProperties: {
          PropertyGroups: Match.arrayWith([
            { PropertyGroupId: RUN_OPTIONS_GROUP, PropertyMap: { python: 'login_counts/main.py', jarfile: CONNECTOR_JAR_PATH, pyFiles: 'login_counts' } },
          ]),
        },
        FlinkApplicationConfiguration: Match.objectLike({
          CheckpointConfiguration: Match.objectLike({ CheckpointInterval: 30000 }),
          MonitoringConfiguration: Match.objectLike({ LogLevel: 'WARN' }),
          ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 4, ParallelismPerKPU: 2, AutoScalingEnabled: true },
        }),
        ApplicationEncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('LogsKey'), 'Arn'] } },
      }),
    });
  });

  it('places the application in the private subnets with a security group that only reaches MSK over IAM/TLS', () => {
    defaults.template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        VpcConfigurations: [
          {
            SubnetIds: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }],
            SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('LoginCountsSecurityGroup'), 'GroupId'] }],
          },
        ],
      }),
    });
    defaults.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Managed Flink application'),
      SecurityGroupEgress: [{ IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098, CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('Vpc'), 'CidrBlock'] } }],
      SecurityGroupIngress: Match.absent(),
    });
    expect(
      custom.template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Managed Flink application') } }),
    ).toEqual({});
  });

  it('logs to its own KMS-encrypted log group and stream with the given retention and removal policy', () => {
    defaults.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/kinesis-analytics/${APP_NAME}`,
      RetentionInDays: 30,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('LogsKey'), 'Arn'] },
    });
    defaults.template.hasResourceProperties('AWS::Logs::LogStream', { LogStreamName: 'application' });
    defaults.template.hasResourceProperties('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', {
      ApplicationName: { Ref: logicalId(defaults, defaults.flink.application) },
      CloudWatchLoggingOption: {
        LogStreamARN: `arn:aws:logs:eu-west-1:111111111111:log-group:/aws/kinesis-analytics/${APP_NAME}:log-stream:application`,
      },
    });
    custom.template.hasResourceProperties('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', {
      CloudWatchLoggingOption: {
        LogStreamARN: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':logs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:log-group:/aws/kinesis-analytics/${APP_NAME}:log-stream:application`,
            ],
          ],
        },
      },
    });
    custom.template.hasResource('AWS::Logs::LogGroup', { Properties: { LogGroupName: `/aws/kinesis-analytics/${APP_NAME}` }, DeletionPolicy: 'Retain' });
    defaults.template.hasResource('AWS::Logs::LogGroup', { Properties: { LogGroupName: `/aws/kinesis-analytics/${APP_NAME}` }, DeletionPolicy: 'Delete' });
  });

  it('has an execution role only this application can assume', () => {
    defaults.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'kinesisanalytics.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '111111111111' },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          },
        ],
      },
    });
    expect(defaults.flink.applicationArn).toContain('application/');
  });

  it('scopes the execution role to its code object, its log group and its VPC', () => {
    const roleId = logicalId(defaults, defaults.flink.role);
    const statements = policyStatementsOf(defaults.template, roleId);
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid ?? JSON.stringify(statement.Action), statement]));
    const packageId = logicalId(defaults, defaults.flink.node.findChild('CodePackage') as never);

    expect(bySid.ReadApplicationCode).toMatchObject({
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::ImportValue': expect.stringMatching(/Artifacts/) }, '/', { 'Fn::GetAtt': [packageId, 'Key'] }]] },
    });
    expect(bySid.WriteApplicationLogs).toMatchObject({ Action: 'logs:PutLogEvents' });
    expect(JSON.stringify(bySid.WriteApplicationLogs.Resource)).toContain(`log-group:/aws/kinesis-analytics/${APP_NAME}:log-stream:application`);
    expect(JSON.stringify(bySid.FindApplicationLogStream.Resource)).toContain(`log-group:/aws/kinesis-analytics/${APP_NAME}:log-stream:*`);
    expect(bySid.DescribeVpcForNetworkInterfaces).toMatchObject({ Resource: '*' });
    expect((bySid.DescribeVpcForNetworkInterfaces.Action as string[]).every((action) => action.startsWith('ec2:Describe'))).toBe(true);
    const create = JSON.stringify(bySid.CreateNetworkInterfacesInApplicationSubnets.Resource);
    expect(create).toContain(':network-interface/*');
    expect(create).toContain(':subnet/');
    expect(create).toContain(':security-group/');
    expect(bySid.ManageNetworkInterfacesInVpc).toMatchObject({
      Action: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface'],
      Condition: { ArnEquals: { 'ec2:Vpc': expect.anything() } },
    });
    const decrypt = statements.find((statement) => statement.Action === 'kms:Decrypt');
    expect(JSON.stringify(decrypt?.Resource)).toContain('ArtifactsKey');
    for (const statement of statements) {
      expect([statement.Action].flat().every((action) => !String(action).includes('*'))).toBe(true);
    }
  });

  it('lets the packager read only the code asset and the jars, and write only under its prefix', () => {
    const packagerRoleId = logicalId(defaults, (defaults.flink.node.findChild('Packager') as LakestreamFunction).role);
    const statements = policyStatementsOf(defaults.template, packagerRoleId);
    const read = statements.find((statement) => statement.Sid === 'ReadCodeAndConnectorJars')!;
    expect(read.Action).toBe('s3:GetObject');
    const readResources = JSON.stringify(read.Resource);
    expect(readResources).toContain('flink-connector-kafka-3.4.0-1.20.jar');
    expect(readResources).toContain('aws-msk-iam-auth-2.3.6-all.jar');
    expect(readResources).toContain('.zip');
    const write = statements.find((statement) => statement.Sid === 'WriteApplicationPackages')!;
    expect([write.Action].flat().sort()).toEqual(['s3:DeleteObject', 's3:PutObject']);
    expect(JSON.stringify(write.Resource)).toContain(`/flink-applications/${APP_NAME}/*`);
    const kmsActions = statements.flatMap((statement) => [statement.Action].flat()).filter((action) => String(action).startsWith('kms:'));
    expect(kmsActions.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('starts the application after its logging option, with a bounded wait, and lets the starter touch only this application', () => {
    const start = defaults.template.findResources('Custom::FlinkApplicationStarter');
    const [starter] = Object.values(start);
    const packageId = logicalId(defaults, defaults.flink.node.findChild('CodePackage') as never);
    expect(starter.Properties).toMatchObject({
      ApplicationName: { Ref: logicalId(defaults, defaults.flink.application) },
      GracefulStopSeconds: '300',
      CodeKey: { 'Fn::GetAtt': [packageId, 'Key'] },
    });
    expect(starter.Properties.ConfigurationHash).toMatch(/^[0-9a-f]{16}$/);
    expect(starter.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/LoginCountsLogging/)]));
    custom.template.hasResourceProperties('Custom::FlinkApplicationStarter', { GracefulStopSeconds: '120' });

    const functionRoleId = (id: string) => logicalId(defaults, (defaults.flink.node.findChild(id) as LakestreamFunction).role);
    const analyticsStatement = (id: string) => {
      const statements = policyStatementsOf(defaults.template, functionRoleId(id)).filter((statement) =>
        [statement.Action].flat().some((action) => String(action).startsWith('kinesisanalytics:')),
      );
      expect(statements).toHaveLength(1);
      return statements[0];
    };
    const starterStatement = analyticsStatement('Starter');
    expect([starterStatement.Action].flat().sort()).toEqual([
      'kinesisanalytics:DescribeApplication',
      'kinesisanalytics:DescribeApplicationOperation',
      'kinesisanalytics:ListApplicationOperations',
      'kinesisanalytics:ListApplicationSnapshots',
      'kinesisanalytics:StartApplication',
      'kinesisanalytics:StopApplication',
    ]);
    const waiterStatement = analyticsStatement('StarterWaiter');
    expect([waiterStatement.Action].flat().sort()).toEqual([
      'kinesisanalytics:DescribeApplication',
      'kinesisanalytics:DescribeApplicationOperation',
      'kinesisanalytics:ListApplicationOperations',
      'kinesisanalytics:StopApplication',
    ]);
    for (const statement of [starterStatement, waiterStatement]) {
      expect(defaults.stack.resolve(statement.Resource)).toEqual(defaults.stack.resolve(defaults.flink.applicationArn));
      expect(JSON.stringify(statement.Resource)).toContain(`:application/${APP_NAME}`);
    }
    // The Provider waiter gives up after the start timeout (20 min default, polled every 30 s).
    const machines = Object.values(defaults.template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    expect(JSON.stringify(machines[0].Properties.DefinitionString)).toContain('"MaxAttempts\\":40');
    const customMachines = Object.values(custom.template.findResources('AWS::StepFunctions::StateMachine'));
    expect(JSON.stringify(customMachines[0].Properties.DefinitionString)).toContain('"MaxAttempts\\":50');
  });

  it('gives the starter and its waiter the operator permissions on the state key, through Managed Flink and for this application only', () => {
    /** Statements with the given Sid in the policies of the starter's and the waiter's roles. */
    const operatorStatements = (scenario: Scenario, sid: string) =>
      ['Starter', 'StarterWaiter']
        .flatMap((id) => policyStatementsOf(scenario.template, logicalId(scenario, (scenario.flink.node.findChild(id) as LakestreamFunction).role)))
        .filter((statement) => (statement as { Sid?: string }).Sid === sid) as Array<Record<string, unknown>>;
    expect(operatorStatements(defaults, 'FlinkStateKeyUse')).toEqual([]);
    const use = operatorStatements(custom, 'FlinkStateKeyUse');
    expect(use).toHaveLength(2);
    for (const statement of use) {
      expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext']);
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^LogsKey/), 'Arn'] });
      expect(JSON.stringify(statement.Condition)).toContain('"kms:EncryptionContext:aws:kinesisanalytics:arn":{"Fn::Join"');
      expect(JSON.stringify(statement.Condition)).toContain(`application/${APP_NAME}`);
      expect(JSON.stringify(statement.Condition)).toContain('kinesisanalytics.');
    }
    for (const grant of operatorStatements(custom, 'FlinkStateKeyGrant')) {
      expect(grant.Condition).toMatchObject({
        'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
        StringEquals: expect.objectContaining({ 'kms:GrantConstraintType': 'EncryptionContextSubset' }),
      });
    }
  });

  it('wires three functions: packager, starter and waiter, each with its handler', () => {
    const handlers = Object.entries(defaults.template.findResources('AWS::Lambda::Function'))
      .filter(([id]) => id.startsWith('LoginCounts'))
      .map(([, fn]) => fn.Properties.Handler as string)
      .filter((handler) => !handler.startsWith('framework.'))
      .sort();
    expect(handlers).toEqual(['index.handler', 'index.handler', 'index.isCompleteHandler']);
  });

  it('has no unacknowledged cdk-nag or NIST finding, with a concrete or an environment-agnostic stack', () => {
    expect(formatFindings(defaults.findings)).toBe('');
    expect(formatFindings(custom.findings)).toBe('');
  });

  it('builds code assets whose hash ignores Python caches', () => {
    // CDK caches fingerprints per source path, so each variant gets its own folder.
    const jobFolder = (main: string, withCache: boolean) => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-job-'));
      fs.writeFileSync(path.join(directory, 'main.py'), main);
      if (withCache) {
        fs.mkdirSync(path.join(directory, '__pycache__'));
        fs.writeFileSync(path.join(directory, '__pycache__', 'main.cpython-311.pyc'), 'cache');
        fs.writeFileSync(path.join(directory, 'stray.pyc'), 'cache');
      }
      return directory;
    };
    const stack = new Stack(new App(), 'A');
    const clean = FlinkApplication.codeAsset(stack, 'Clean', jobFolder('print(1)\n', false)).assetHash;
    expect(FlinkApplication.codeAsset(stack, 'Cached', jobFolder('print(1)\n', true)).assetHash).toBe(clean);
    expect(FlinkApplication.codeAsset(stack, 'Changed', jobFolder('print(2)\n', false)).assetHash).not.toBe(clean);
  });

  describe('validation', () => {
    const fixture = () => {
      const stack = new Stack(new App(), 'V');
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      const key = new kms.Key(stack, 'K');
      const bucket = new s3.Bucket(stack, 'B');
      const asset = new s3assets.Asset(stack, 'A', { path: JOB_DIR });
      const base: FlinkApplicationProps = {
        applicationName: 'ok',
        codeAsset: asset,
        connectorJars: { bucket, keys: ['a.jar'] },
        vpc,
        subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        logsKey: key,
        logRetention: logs.RetentionDays.ONE_WEEK,
      };
      return { stack, base };
    };

    it.each<[string, Partial<FlinkApplicationProps>, string]>([
      ['a bad name', { applicationName: 'has spaces' }, "applicationName must be 1-128 letters, digits, '_', '.' or '-', got 'has spaces'"],
      ['no jars', { connectorJars: { bucket: undefined as never, keys: [] } }, 'needs at least one connector jar'],
      ['a nested code folder', { codeFolder: 'a/b' }, "codeFolder must be a single folder name, got 'a/b'"],
      ['a non-Python entry point', { entryPoint: 'main.sh' }, 'entryPoint must be a .py file'],
      ['zero parallelism', { parallelism: 0 }, 'parallelism must be a whole number of at least 1, got 0'],
      ['too many tasks per KPU', { parallelismPerKpu: 9 }, 'parallelismPerKpu must be at most 8, got 9'],
      ['a sub-second checkpoint interval', { checkpointInterval: Duration.millis(500) }, 'checkpointInterval must be at least 1 second'],
      ['the reserved property group', { applicationProperties: { [RUN_OPTIONS_GROUP]: { python: 'x.py' } } }, `must not set ${RUN_OPTIONS_GROUP}`],
      [
        'a package prefix without a slash',
        { packageLocation: { bucket: undefined as never, prefix: 'code' } },
        "packageLocation.prefix must be empty or end with '/'",
      ],
    ])('rejects %s', (_what, override, message) => {
      const { stack, base } = fixture();
      const props = { ...base, ...override } as FlinkApplicationProps;
      if (override.connectorJars) (props as { connectorJars: unknown }).connectorJars = { ...override.connectorJars, bucket: base.connectorJars.bucket };
      if (override.packageLocation)
        (props as { packageLocation: unknown }).packageLocation = { ...override.packageLocation, bucket: base.connectorJars.bucket };
      expect(() => new FlinkApplication(stack, 'F', props)).toThrow(message);
    });
  });
});
