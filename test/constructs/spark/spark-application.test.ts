import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { flattenCfnReference } from '../../../lib/compliance/wildcard-acknowledgements';
import { DEFAULT_EMR_RELEASE_LABEL, SparkApplication, SparkApplicationProps } from '../../../lib/constructs/spark/spark-application';
import { SparkJobRole } from '../../../lib/constructs/spark/spark-job-role';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const env = { account: '111111111111', region: 'eu-west-1' };

interface Scenario {
  readonly app: App;
  readonly template: Template;
  readonly spark: SparkApplication;
  readonly report: SparkJobRole;
  readonly landing: SparkJobRole;
  readonly stack: Stack;
  readonly findings: Finding[];
}

/** A processing stack holding the application, and a data stack holding the buckets (cross-stack grants). */
function build(overrides: Partial<SparkApplicationProps> = {}): Scenario {
  const app = newCompliantTestApp();
  const stage = new Stage(app, 'Test');
  const data = new Stack(stage, 'Data', { env });
  const lakeKey = new kms.Key(data, 'LakeKey', { enableKeyRotation: true });
  const bronze = new s3.Bucket(data, 'Bronze', { encryptionKey: lakeKey, enforceSSL: true });
  const gold = new s3.Bucket(data, 'Gold', { encryptionKey: lakeKey, enforceSSL: true });

  const stack = new Stack(stage, 'S', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const logsBucket = new s3.Bucket(stack, 'Logs', { enforceSSL: true });
  const spark = new SparkApplication(stack, 'Spark', {
    vpc,
    logsBucket,
    logsKey,
    maximumCapacity: { cpuVcpu: 16, memoryGb: 64, diskGb: 200 },
    ...overrides,
  });
  // Two jobs, each with its own role and data: a report reading bronze and writing gold, a loader writing bronze.
  const report = spark.addJobRole('ReportRole', 'daily-report');
  report.grantRead(bronze, 'kafka/logins_raw/');
  report.grantReadWrite(gold, 'reports');
  report.grantGlueTables('lake_gold', ['daily_active_users', 'top_users']);
  const landing = spark.addJobRole('LandingRole', 'landing-to-bronze');
  landing.grantReadWrite(bronze, 'landing');
  // Findings first: the app-level synth is what attaches the compliance aspects to the stage.
  const findings = synthFindings(app).filter((f) => f.path.startsWith(`${spark.node.path}/`));
  const template = Template.fromStack(stack);
  return { app, template, spark, report, landing, stack, findings };
}

describe('SparkApplication', () => {
  let warm: Scenario;
  let cold: Scenario;

  beforeAll(() => {
    warm = build({
      applicationName: 'lakestream-dev-spark',
      preInitializedCapacity: { driverCount: 1, executorCount: 2, executorSize: { cpuVcpu: 8, memoryGb: 32, diskGb: 50 } },
      idleTimeout: Duration.minutes(30),
    });
    cold = build();
  });

  it('is an ARM64 Spark application on a current EMR 7 release with auto start and stop', () => {
    expect(DEFAULT_EMR_RELEASE_LABEL).toMatch(/^emr-7\.\d+\.\d+$/);
    warm.template.hasResourceProperties('AWS::EMRServerless::Application', {
      Name: 'lakestream-dev-spark',
      ReleaseLabel: DEFAULT_EMR_RELEASE_LABEL,
      Type: 'SPARK',
      Architecture: 'ARM64',
      AutoStartConfiguration: { Enabled: true },
      AutoStopConfiguration: { Enabled: true, IdleTimeoutMinutes: 30 },
      MaximumCapacity: { Cpu: '16 vCPU', Memory: '64 GB', Disk: '200 GB' },
    });
    cold.template.hasResourceProperties('AWS::EMRServerless::Application', {
      AutoStopConfiguration: { Enabled: true, IdleTimeoutMinutes: 15 },
    });
  });

  it('pre-initializes workers only when asked to', () => {
    warm.template.hasResourceProperties('AWS::EMRServerless::Application', {
      InitialCapacity: [
        { Key: 'Driver', Value: { WorkerCount: 1, WorkerConfiguration: { Cpu: '4 vCPU', Memory: '16 GB', Disk: '20 GB' } } },
        { Key: 'Executor', Value: { WorkerCount: 2, WorkerConfiguration: { Cpu: '8 vCPU', Memory: '32 GB', Disk: '50 GB' } } },
      ],
    });
    cold.template.hasResourceProperties('AWS::EMRServerless::Application', { InitialCapacity: Match.absent() });
  });

  it('runs in the private subnets with its own security group', () => {
    const app = cold.template.findResources('AWS::EMRServerless::Application');
    const network = Object.values(app)[0].Properties.NetworkConfiguration;
    expect(network.SubnetIds).toEqual([{ Ref: expect.stringMatching(/^VpcPrivateSubnet1Subnet/) }, { Ref: expect.stringMatching(/^VpcPrivateSubnet2Subnet/) }]);
    expect(network.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^SparkSecurityGroup/), 'GroupId'] }]);
    cold.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('EMR Serverless Spark workers'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  it('logs to S3 and CloudWatch, encrypted service-side by default (bucket SSE-KMS, encrypted log group)', () => {
    cold.template.hasResourceProperties('AWS::EMRServerless::Application', {
      MonitoringConfiguration: {
        S3MonitoringConfiguration: {
          LogUri: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^Logs') }, '/emr-serverless/']] },
          EncryptionKeyArn: Match.absent(),
        },
        CloudWatchLoggingConfiguration: {
          Enabled: true,
          LogGroupName: { Ref: Match.stringLikeRegexp('^SparkLogGroup') },
          EncryptionKeyArn: Match.absent(),
        },
        ManagedPersistenceMonitoringConfiguration: { Enabled: true, EncryptionKeyArn: Match.absent() },
      },
    });
    cold.template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
      RetentionInDays: 365,
    });
  });

  it('each job role trusts only EMR Serverless acting for this application in this account', () => {
    expect(cold.spark.jobRoles).toEqual([cold.report, cold.landing]);
    const roles = cold.template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { Service: 'emr-serverless.amazonaws.com' },
              Condition: {
                StringEquals: { 'aws:SourceAccount': '111111111111' },
                ArnLike: {
                  'aws:SourceArn': [
                    { 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkApplication'), 'Arn'] },
                    { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkApplication'), 'Arn'] }, '/jobruns/*']] },
                  ],
                },
              },
            },
          ],
        },
      },
    });
    expect(Object.keys(roles).sort()).toEqual([expect.stringMatching(/^SparkLandingRole/), expect.stringMatching(/^SparkReportRole/)]);
  });

  /** Statements of one job role's policy, with flattened resources. */
  const statementsOf = (scenario: Scenario, rolePrefix: string) => {
    const policies = Object.values(
      scenario.template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(`^${rolePrefix}`) } }),
    );
    expect(policies).toHaveLength(1);
    const statements = scenario.stack.resolve(policies[0].Properties.PolicyDocument.Statement) as Array<{
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }>;
    return statements.map((s) => ({ actions: [s.Action].flat(), resources: [s.Resource].flat().map(flattenCfnReference), condition: s.Condition }));
  };

  it('a job role reaches only what was granted to it, and every prefix grant ends in a slash', () => {
    const landing = statementsOf(cold, 'SparkLandingRole');
    const text = JSON.stringify(landing);
    // The loader writes bronze landing/ only: no gold, no Glue, no other bronze prefix.
    expect(text).not.toMatch(/Gold/);
    expect(text).not.toMatch(/glue:/);
    const writes = landing.filter((s) => s.actions.includes('s3:DeleteObject')).flatMap((s) => s.resources);
    expect(writes).toEqual([expect.stringMatching(/Bronze\w+\/landing\/\*$/)]);
    // `landing` was granted without its slash: `landing*` would also match `landing-x/`.
    expect(text).not.toMatch(/landing\*/);
    // The report reads bronze and may not delete or write there.
    const report = statementsOf(cold, 'SparkReportRole');
    const bronzeWrites = report.filter(
      (s) => s.actions.some((a) => ['s3:PutObject', 's3:DeleteObject'].includes(a)) && s.resources.some((r) => r.includes('Bronze')),
    );
    expect(bronzeWrites).toEqual([]);
  });

  it('job role statements are scoped to named resources', () => {
    const flat = statementsOf(cold, 'SparkReportRole');
    for (const statement of flat) {
      expect(statement.actions.every((a) => !a.includes('*'))).toBe(true);
      expect(statement.resources).not.toContain('*');
    }
    const find = (action: string) => flat.filter((s) => s.actions.includes(action));
    // Logs: the prefix in the logs bucket, the log group, the key.
    expect(find('s3:PutObject').map((s) => s.resources)).toEqual(expect.arrayContaining([[expect.stringMatching(/^<Logs\w+\.Arn>\/emr-serverless\/\*$/)]]));
    expect(find('logs:PutLogEvents')[0].resources).toEqual([expect.stringMatching(/^<SparkLogGroup\w+\.Arn>$/)]);
    expect(find('logs:DescribeLogGroups')[0].resources).toEqual(['arn:aws:logs:eu-west-1:111111111111:log-group:*']);
    // Data: bronze read-only under its prefix, gold read-write under its prefix, through cross-stack imports.
    const bronzeRead = find('s3:GetObject').find((s) => s.resources.some((r: string) => r.includes('Bronze') && r.endsWith('/*')));
    // The prefix (with its trailing slash) and the folder key itself, nothing else of bronze.
    expect([...(bronzeRead?.resources ?? [])].filter((r: string) => r.includes('Bronze')).sort()).toEqual([
      expect.stringMatching(/^Test-Data:ExportsOutputFnGetAttBronze\w+Arn\w+\/kafka\/logins_raw$/),
      expect.stringMatching(/^Test-Data:ExportsOutputFnGetAttBronze\w+Arn\w+\/kafka\/logins_raw\/\*$/),
    ]);
    expect(bronzeRead?.actions).toEqual(['s3:GetObject']);
    const goldWrite = find('s3:DeleteObject')[0];
    expect(goldWrite.resources).toEqual([expect.stringMatching(/Gold\w+\/reports\/\*$/)]);
    const bronzeList = find('s3:ListBucket').find((s) => s.resources[0].includes('Bronze'));
    expect(bronzeList?.condition).toEqual({ StringLike: { 's3:prefix': ['kafka/logins_raw/*', 'kafka/logins_raw'] } });
    // The folder key itself (Hadoop HEADs it) is readable, exactly that one key.
    expect(find('s3:GetObject').flatMap((s) => s.resources)).toContainEqual(expect.stringMatching(/Bronze\w+Arn\w+\/kafka\/logins_raw$/));
    // KMS: explicit actions on the lake key (decrypt only for the read-only bucket is covered by the gold grant).
    // The logs key is used by CloudWatch Logs itself, not by the job role (encryptLogsWithJobRole is off);
    // the managed-logs key is, to write the run's managed-storage logs.
    expect(
      find('kms:GenerateDataKey')
        .flatMap((s) => s.resources)
        .sort(),
    ).toEqual([expect.stringMatching(/^<SparkManagedLogsKey\w+\.Arn>$/), expect.stringMatching(/LakeKey/)]);
    // Glue: catalog, database and tables by name.
    expect(find('glue:BatchCreatePartition')[0].resources).toEqual([
      'arn:aws:glue:eu-west-1:111111111111:catalog',
      'arn:aws:glue:eu-west-1:111111111111:database/lake_gold',
      'arn:aws:glue:eu-west-1:111111111111:table/lake_gold/daily_active_users',
      'arn:aws:glue:eu-west-1:111111111111:table/lake_gold/top_users',
    ]);
  });

  it('keeps managed-storage logs under a rotated key of its own that admits EMR Serverless for this application only', () => {
    const keys = cold.template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys)).toEqual([expect.stringMatching(/^LogsKey/), expect.stringMatching(/^SparkManagedLogsKey/)].sort());
    const key = Object.entries(keys).find(([id]) => id.startsWith('SparkManagedLogsKey'))![1] as {
      Properties: { EnableKeyRotation: boolean; KeyPolicy: { Statement: Array<Record<string, any>> } };
      DeletionPolicy: string;
    };
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const bySid = Object.fromEntries(key.Properties.KeyPolicy.Statement.map((s) => [s.Sid, s]));
    expect(bySid.EmrServerlessManagedLogs).toMatchObject({
      Principal: { Service: 'emr-serverless.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: { 'aws:SourceAccount': '111111111111' },
        ArnLike: {
          'aws:SourceArn': [
            { 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] }, '/jobruns/*']] },
          ],
        },
      },
    });
    // The account's principals may only use it, and only as their IAM policies allow; nothing administers data.
    expect(bySid.UseByGrantedPrincipals.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey']);
    expect(bySid.UseByGrantedPrincipals.Condition).toEqual({ StringEquals: { 'kms:CallerAccount': '111111111111' } });
    expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('kms:*');
    // The application itself names no key: a STARTED application refuses updates, so each run names it.
    cold.template.hasResourceProperties('AWS::EMRServerless::Application', {
      MonitoringConfiguration: Match.objectLike({ ManagedPersistenceMonitoringConfiguration: { Enabled: true, EncryptionKeyArn: Match.absent() } }),
    });
  });

  it('grants a run submitter the use of the managed-logs key, which EMR Serverless checks at submission', () => {
    const stack = new Stack(new App(), 'G', { env });
    const spark = new SparkApplication(stack, 'Spark', {
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
      logsBucket: new s3.Bucket(stack, 'Logs'),
      logsKey: new kms.Key(stack, 'LogsKey'),
      maximumCapacity: { cpuVcpu: 4, memoryGb: 16 },
    });
    const submitter = new iam.Role(stack, 'Submitter', { assumedBy: new iam.AccountRootPrincipal() });
    spark.grantSubmitRuns(submitter);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Submitter') }],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'UseManagedLogsKey',
            Action: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkManagedLogsKey'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('has no unacknowledged cdk-nag or NIST findings, including the cross-stack prefix wildcards', () => {
    expect(formatFindings(warm.findings)).toBe('');
    expect(formatFindings(cold.findings)).toBe('');
  });

  it('rejects invalid sizes and releases with the field names', () => {
    const stack = new Stack(new App(), 'V', { env });
    const base: SparkApplicationProps = {
      vpc: new ec2.Vpc(stack, 'Vpc'),
      logsBucket: new s3.Bucket(stack, 'L'),
      logsKey: new kms.Key(stack, 'K'),
      maximumCapacity: { cpuVcpu: 4, memoryGb: 16 },
    };
    expect(() => new SparkApplication(stack, 'A', { ...base, releaseLabel: 'emr-6.15.0' })).toThrow(/releaseLabel 'emr-6.15.0' is not an EMR 7 release label/);
    expect(() => new SparkApplication(stack, 'B', { ...base, maximumCapacity: { cpuVcpu: 0, memoryGb: 16.5 } })).toThrow(
      /maximumCapacity.cpuVcpu must be an integer of at least 1, got 0; maximumCapacity.memoryGb must be an integer of at least 1, got 16.5/,
    );
    expect(
      () =>
        new SparkApplication(stack, 'C', { ...base, preInitializedCapacity: { driverCount: 1, executorCount: 1, executorSize: { cpuVcpu: 3, memoryGb: 8 } } }),
    ).toThrow(/preInitializedCapacity.executorSize.cpuVcpu must be one of 1, 2, 4, 8, 16, got 3/);
    expect(() => new SparkApplication(stack, 'D', { ...base, idleTimeout: Duration.days(8) })).toThrow(/idleTimeout must be between 1 minute and 7 days/);
  });
});
