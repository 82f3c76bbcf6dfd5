import { Match } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { synthApp, type SynthResult } from '../helpers/synth';

/** Targeted assertions on the security, network and data stacks of dev and prod. */
let result: SynthResult;
beforeAll(() => {
  // dev and prod are the two profiles; staging derives from prod and is covered by test/app.
  result = synthApp({ env: 'all', environments: { dev: ENVIRONMENTS.dev, prod: ENVIRONMENTS.prod } });
});

describe('security stack', () => {
  test('three customer-managed keys with rotation, aliases per environment', () => {
    const t = result.template('dev', 'Security');
    t.resourceCountIs('AWS::KMS::Key', 3);
    t.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true, RotationPeriodInDays: 365 });
    for (const name of ['lake', 'streaming', 'logs']) t.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/lakestream-dev/${name}` });
  });

  test('key policies carry no kms:* and scope use to named services', () => {
    const t = result.template('prod', 'Security');
    const keys = t.findResources('AWS::KMS::Key');
    for (const key of Object.values(keys)) {
      const statements = key.Properties.KeyPolicy.Statement as Array<{
        Action: string | string[];
        Sid?: string;
        Condition?: Record<string, Record<string, unknown>>;
      }>;
      for (const s of statements) expect([s.Action].flat()).not.toContain('kms:*');
      const use = statements.find((s) => s.Sid === 'UseThroughPlatformServices');
      expect(use?.Condition?.StringEquals?.['kms:ViaService']).toBeDefined();
    }
  });

  test('the logs key admits CloudWatch Logs for this account only', () => {
    result.template('dev', 'Security').hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchLogsUse',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': Match.anyValue() } } },
          }),
        ]),
      },
    });
  });

  test('keys are retained in prod and destroyable in dev', () => {
    result.template('prod', 'Security').allResources('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    result.template('dev', 'Security').allResources('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });
});

describe('network stack', () => {
  test('dev: two AZs, one NAT gateway; prod: three AZs, three NAT gateways', () => {
    const dev = result.template('dev', 'Network');
    dev.resourceCountIs('AWS::EC2::NatGateway', 1);
    dev.resourceCountIs('AWS::EC2::Subnet', 6);
    const prod = result.template('prod', 'Network');
    prod.resourceCountIs('AWS::EC2::NatGateway', 3);
    prod.resourceCountIs('AWS::EC2::Subnet', 9);
    prod.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1c' });
  });

  test('public subnets do not assign public IPs', () => {
    const subnets = result.template('prod', 'Network').findResources('AWS::EC2::Subnet');
    for (const s of Object.values(subnets)) expect(s.Properties.MapPublicIpOnLaunch ?? false).toBe(false);
  });

  test('S3 gateway endpoint and the interface endpoints the platform needs', () => {
    const t = result.template('dev', 'Network');
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
    const interfaces = Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
    const services = interfaces.map((e) => JSON.stringify(e.Properties.ServiceName));
    for (const svc of ['kms', 'sts', 'secretsmanager', 'logs', 'monitoring', 'glue', 'ssm', 'sqs']) {
      expect(services.some((s) => s.includes(`.${svc}`))).toBe(true);
    }
    for (const e of interfaces) expect(e.Properties.PrivateDnsEnabled).toBe(true);
  });

  test('endpoint security group admits HTTPS from the VPC CIDR only', () => {
    result.template('dev', 'Network').hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface VPC endpoints: HTTPS from inside the VPC',
      SecurityGroupIngress: [{ CidrIp: '10.40.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }],
    });
  });

  test('flow logs of all traffic to a KMS-encrypted log group with configured retention', () => {
    const dev = result.template('dev', 'Network');
    dev.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    dev.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14, KmsKeyId: Match.anyValue() });
    result.template('prod', 'Network').hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
  });

  test('default security group is closed', () => {
    result.template('dev', 'Network').resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});

describe('data stack', () => {
  const BUCKETS = ['LandingBucket', 'BronzeBucket', 'SilverBucket', 'GoldBucket', 'ArtifactsBucket', 'QueryResultsBucket'];

  test('eight buckets: six SSE-KMS data buckets and the erasure receipts bucket with bucket keys, one SSE-S3 access-log bucket', () => {
    const t = result.template('dev', 'Data');
    t.resourceCountIs('AWS::S3::Bucket', 8);
    const buckets = t.findResources('AWS::S3::Bucket');
    const kms = Object.entries(buckets).filter(
      ([, b]) => b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm === 'aws:kms',
    );
    expect(kms).toHaveLength(7);
    for (const [, b] of kms) expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].BucketKeyEnabled).toBe(true);
    for (const id of BUCKETS) expect(Object.keys(buckets).some((k) => k.startsWith(`Lake${id}`))).toBe(true);
  });

  test('every bucket blocks public access, is versioned and owner-enforced', () => {
    result.template('prod', 'Data').allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('bucket policies deny non-TLS and TLS below 1.2', () => {
    const policies = Object.values(result.template('dev', 'Data').findResources('AWS::S3::BucketPolicy'));
    expect(policies.length).toBe(8);
    for (const p of policies) {
      const statements = p.Properties.PolicyDocument.Statement as Array<{ Effect: string; Condition?: Record<string, Record<string, unknown>> }>;
      expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
      expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2)).toBe(true);
    }
  });

  test('data buckets log to the access-log bucket under their own prefix', () => {
    const t = result.template('dev', 'Data');
    t.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'bronze/' } });
  });

  test('lifecycle follows the environment: dev expires bronze after 30 days, prod tiers it and keeps 730', () => {
    const rule = (env: string, prefix: string) => {
      const buckets = result.template(env, 'Data').findResources('AWS::S3::Bucket');
      const [, bucket] = Object.entries(buckets).find(([k]) => k.startsWith(prefix))!;
      return bucket.Properties.LifecycleConfiguration.Rules[0];
    };
    expect(rule('dev', 'LakeBronzeBucket')).toMatchObject({
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      Status: 'Enabled',
    });
    expect(rule('prod', 'LakeBronzeBucket')).toMatchObject({
      ExpirationInDays: 730,
      Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 }],
      NoncurrentVersionExpiration: { NoncurrentDays: 14 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
    // Gold holds per-user reports: bounded too (lib/config/personal-data.ts).
    expect(rule('prod', 'LakeGoldBucket').ExpirationInDays).toBe(730);
    expect(rule('prod', 'LakeAccessLogsBucket')).toMatchObject({ ExpirationInDays: 400, Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }] });
  });

  test('prod retains buckets and never auto-deletes; dev destroys and empties them', () => {
    const prod = result.template('prod', 'Data');
    prod.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    prod.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    const dev = result.template('dev', 'Data');
    // The receipts bucket is retained everywhere: a proof of erasure outlives the platform.
    const devBuckets = Object.entries(dev.findResources('AWS::S3::Bucket'));
    expect(devBuckets.filter(([id, b]) => !id.startsWith('ErasureReceipts') && b.DeletionPolicy !== 'Delete')).toEqual([]);
    expect(devBuckets.filter(([id]) => id.startsWith('ErasureReceipts')).map(([, b]) => b.DeletionPolicy)).toEqual(['Retain']);
    dev.resourceCountIs('Custom::S3AutoDeleteObjects', 7);
  });

  test('a Glue database per tier, retained in prod', () => {
    const prod = result.template('prod', 'Data');
    prod.resourceCountIs('AWS::Glue::Database', 4);
    for (const tier of ['landing', 'bronze', 'silver', 'gold']) {
      prod.hasResource('AWS::Glue::Database', {
        Properties: { DatabaseInput: Match.objectLike({ Name: `lakestream_prod_${tier}` }) },
        DeletionPolicy: 'Retain',
      });
    }
  });

  test('Athena workgroup enforces SSE-KMS results in its own prefix', () => {
    result.template('dev', 'Data').hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'lakestream-dev-analytics',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: Match.objectLike({
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          OutputLocation: { 'Fn::Join': ['', ['s3://', Match.anyValue(), '/athena/']] },
        }),
      }),
    });
  });

  // Renaming a construct on the path of a stateful resource replaces it (and its data): this list must only change on purpose.
  test('stateful logical ids are stable', () => {
    const ids = Object.keys(result.template('prod', 'Data').findResources('AWS::S3::Bucket')).sort();
    expect(ids).toEqual([
      'ErasureReceiptsBucket2B9A16F6',
      'LakeAccessLogsBucketD3286787',
      'LakeArtifactsBucket1B9F5BC1',
      'LakeBronzeBucket70BAB3F7',
      'LakeGoldBucketFA6D7163',
      'LakeLandingBucket6FF82E7F',
      'LakeQueryResultsBucket72EF256C',
      'LakeSilverBucket5C83FE02',
    ]);
  });
});

test('every resource carries the project tags', () => {
  const t = result.template('prod', 'Data');
  t.hasResourceProperties('AWS::S3::Bucket', {
    // CloudFormation tags are rendered sorted by key.
    Tags: Match.arrayWith([
      { Key: 'cost-centre', Value: 'data-platform' },
      { Key: 'data-classification', Value: 'confidential' },
      { Key: 'environment', Value: 'prod' },
      { Key: 'owner', Value: 'platform' },
      { Key: 'project', Value: 'lakestream' },
    ]),
  });
});

describe('observability stack', () => {
  test('Prometheus workspace encrypted with a customer-managed key, scraper, one namespace per rule file', () => {
    const t = result.template('prod', 'Observability');
    t.hasResourceProperties('AWS::APS::Workspace', { KmsKeyArn: Match.anyValue(), AlertManagerDefinition: Match.anyValue() });
    t.resourceCountIs('AWS::APS::Scraper', 1);
    // consumer-lag, flink-consumer-lag (Flink is on), kafka-broker-hosts, kafka-cluster; the ZooKeeper-only file is left out (KRaft).
    t.resourceCountIs('AWS::APS::RuleGroupsNamespace', 4);
    t.resourceCountIs('AWS::Grafana::Workspace', 1);
  });

  test('every alarm notifies the alarm topic', () => {
    const t = result.template('dev', 'Observability');
    const alarms = { ...t.findResources('AWS::CloudWatch::Alarm'), ...t.findResources('AWS::CloudWatch::CompositeAlarm') };
    expect(Object.keys(alarms).length).toBeGreaterThan(10);
    for (const alarm of Object.values(alarms)) {
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toMatch(/AlarmsTopic/);
    }
  });

  test('Lambda errors and throttles, state machine failures and EMR job failures are alarmed', () => {
    const alarms = Object.values(result.template('dev', 'Observability').findResources('AWS::CloudWatch::Alarm'));
    const metrics = alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`);
    expect(metrics).toEqual(expect.arrayContaining(['AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/States/ExecutionsFailed']));
    // EMR's FailedJobs is a math expression over the two dimension sets EMR releases publish.
    expect(JSON.stringify(alarms)).toContain('"MetricName":"FailedJobs"');
  });
});

describe('serving views and the Grafana role', () => {
  /** Intrinsics as text, imports as `{import:<export name>}`. */
  const text = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.map(text).join(',');
    if (typeof value !== 'object' || value === null) return String(value);
    const node = value as Record<string, unknown>;
    if (node['Fn::Join']) return (node['Fn::Join'] as [string, unknown[]])[1].map(text).join((node['Fn::Join'] as [string])[0]);
    if (node['Fn::ImportValue'] !== undefined) return `{import:${text(node['Fn::ImportValue'])}}`;
    return `{${Object.entries(node)
      .map(([k, v]) => `${k}:${text(v)}`)
      .join(',')}}`;
  };

  test.each(['dev', 'prod'])('%s: Grafana may read, through Athena, every table the serving views read (catalog entries and objects)', (env) => {
    const tables = Object.values(result.template(env, 'Processing').findResources('AWS::Glue::Table')) as Array<{
      Properties: {
        DatabaseName: string;
        TableInput: { Name: string; TableType: string; ViewOriginalText?: string; StorageDescriptor: { Location: unknown } };
      };
    }>;
    const byName = new Map(tables.map((t) => [`${t.Properties.DatabaseName}.${t.Properties.TableInput.Name}`, t]));
    const relations = new Set<string>();
    for (const view of tables.filter((t) => t.Properties.TableInput.TableType === 'VIRTUAL_VIEW')) {
      relations.add(`${view.Properties.DatabaseName}.${view.Properties.TableInput.Name}`);
      const encoded = /^\/\* Presto View: (\S+) \*\/$/.exec(view.Properties.TableInput.ViewOriginalText!)![1]!;
      const sql = (JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { originalSql: string }).originalSql;
      for (const m of sql.matchAll(/"(\w+)"\."(\w+)"/g)) relations.add(`${m[1]}.${m[2]}`);
    }
    expect(relations.size).toBeGreaterThanOrEqual(6);

    const grafanaStatements = Object.values(result.template(env, 'Observability').findResources('AWS::IAM::Policy'))
      .map(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties.PolicyDocument.Statement,
      )
      .find((statements) => statements.some((s) => [s.Action].flat().includes('athena:StartQueryExecution')))!;
    const allowed = (action: string) =>
      grafanaStatements
        .filter((s) => [s.Action].flat().includes(action))
        .map((s) => text(s.Resource))
        .join(' ');
    // Grafana's role has no bronze statement at all: no bucket, database or table of the tier.
    expect(text(grafanaStatements)).not.toMatch(/Bronze|_bronze/);
    for (const relation of relations) {
      const table = byName.get(relation);
      expect(table).toBeDefined();
      const [database] = relation.split('.');
      // Whole gold database; of silver only the named tables the views read; nothing of bronze.
      expect(database).not.toMatch(/_bronze$/);
      expect(allowed('glue:GetTable')).toMatch(new RegExp(`:table/${database}/(\\*|${relation.split('.')[1]})(,| |$)`));
      if (table!.Properties.TableInput.TableType === 'VIRTUAL_VIEW') continue;
      // The location refers to the bucket by name (Ref), the grant by ARN (GetAtt): compare the bucket's logical id.
      const bucketId = /ExportsOutputRef(\w+Bucket[0-9A-F]{8})/.exec(text(table!.Properties.TableInput.StorageDescriptor.Location))![1];
      expect(allowed('s3:GetObject')).toContain(`ExportsOutputFnGetAtt${bucketId}Arn`);
      // ...and only below the table's own prefix, not the whole bucket.
      const prefix = /\/((?:kafka|reports)\/\w+\/)/.exec(text(table!.Properties.TableInput.StorageDescriptor.Location))![1];
      expect(allowed('s3:GetObject')).toMatch(new RegExp(`/(${prefix}|reports/)\\*`));
    }
  });
});

describe('pseudonymous user references (gdpr.dashboardUserIdentity)', () => {
  const statementsOf = (env: string, stack: string) =>
    Object.entries(result.template(env, stack).findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      (
        p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> } } }
      ).Properties.PolicyDocument.Statement.map((s) => ({ policy: id, ...s })),
    );

  test.each(['dev', 'prod'])('%s: the key is a generated 64-character secret under its own rotating customer-managed key', (env) => {
    const data = result.template(env, 'Data');
    data.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: `lakestream-${env}/user-ref-key`,
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UserRefKey[0-9A-F]{8}$'), 'Arn'] },
    });
    data.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('user_ref'), EnableKeyRotation: true });
  });

  test('prod retains the secret and its key: a new key would change every user_ref', () => {
    const data = result.template('prod', 'Data');
    data.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    data.hasResource('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('user_ref') }, DeletionPolicy: 'Retain' });
  });

  test('the runs that write user_ref get the secret reference as a Spark property; the value is never in a template', () => {
    const processing = result.template('dev', 'Processing');
    const conf = { 'spark.lakestream.userRefKey': 'EMR.secret@lakestream-dev/user-ref-key' };
    // Daily report: the state machine's StartJobRun carries it as a spark-defaults override.
    const machines = Object.values(processing.findResources('AWS::StepFunctions::StateMachine')).map((m) => JSON.stringify(m.Properties));
    const withConf = machines.filter((m) => m.includes('EMR.secret@lakestream-dev/user-ref-key'));
    expect(withConf).toHaveLength(1);
    expect(withConf[0]).toContain('daily-report');
    expect(withConf[0]).toContain('\\"Classification\\":\\"spark-defaults\\"');
    // Streaming job: the supervisor passes it on every StartJobRun.
    processing.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JOB_NAME: 'streaming-bronze', SPARK_DEFAULTS: JSON.stringify(conf) }) },
    });
    // Not on the application: EMR Serverless refuses to update a STARTED application's runtime configuration.
    for (const app of Object.values(processing.findResources('AWS::EMRServerless::Application'))) expect(app.Properties.RuntimeConfiguration).toBeUndefined();
    // The key is generated by Secrets Manager: no template carries a secret value.
    const secrets = Object.values(result.template('dev', 'Data').findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    for (const secret of secrets) expect(secret.Properties.SecretString).toBeUndefined();
  });

  test('only the roles of the Spark jobs that write user_ref may read the secret and decrypt it, and only through Secrets Manager', () => {
    const secretReaders = new Set<string>();
    for (const stack of ['Data', 'Streaming', 'Processing', 'Observability']) {
      for (const s of statementsOf('dev', stack)) {
        const actions = [s.Action].flat();
        const resource = JSON.stringify(s.Resource);
        if (actions.some((a) => a.startsWith('secretsmanager:')) && /UserRefKeySecret/.test(resource)) secretReaders.add(`${stack}/${s.policy}`);
        if (/UserRefKey[0-9A-F]{8}/.test(resource)) {
          expect(actions).toEqual(['kms:Decrypt']);
          expect(JSON.stringify(s.Condition)).toContain('secretsmanager.');
          secretReaders.add(`${stack}/${s.policy}`);
        }
      }
    }
    // The daily report and the streaming job write user_ref; landing-to-bronze and erasure never see the key.
    expect([...secretReaders].map((p) => p.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'Processing/SparkDailyReportRoleDefaultPolicy',
      'Processing/SparkStreamingBronzeRoleDefaultPolicy',
    ]);
    // Both grants were found (the scan is not vacuous): the secret and the key's decrypt.
    const spark = statementsOf('dev', 'Processing').filter((s) => /UserRefKey/.test(JSON.stringify(s.Resource)));
    expect(spark.map((s) => [s.Action].flat().sort())).toEqual(
      expect.arrayContaining([['kms:Decrypt'], ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']]),
    );
  });

  test('dev and prod dashboards show user_ref: the pushed dashboards never mention user_id', () => {
    for (const env of ['dev', 'prod']) {
      const provisioner = Object.values(result.template(env, 'Observability').findResources('Custom::GrafanaProvisioner'))[0] as {
        Properties: { Dashboards: string };
      };
      expect(provisioner.Properties.Dashboards).toContain('user_ref');
      expect(provisioner.Properties.Dashboards).not.toContain('user_id');
    }
  });
});
