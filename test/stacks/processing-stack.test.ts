import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadEnvironment, type ResolvedEnvironment } from '../../lib/config/load-config';
import { LakestreamStage } from '../../lib/app/lakestream-stage';
import { FLINK_CONSUMER_GROUP, ProcessingStack, SPARK_GROUP_ID_PREFIX } from '../../lib/stacks/processing-stack';
import { formatFindings, newCompliantTestApp, synthFindings, type Finding } from '../helpers/compliance';

const ACCOUNT = '111111111111';

interface Scenario {
  readonly config: ResolvedEnvironment;
  readonly processing: ProcessingStack;
  readonly template: Template;
  readonly annotations: Annotations;
  readonly findings: Finding[];
}

/** The real stage for a config (every stack, as the app wires them), synthesized with the compliance packs. */
function build(config: ResolvedEnvironment): Scenario {
  const app = newCompliantTestApp({}, { templateValidation: true });
  const processing = new LakestreamStage(app, config.stageName, { config }).processing;
  const template = Template.fromStack(processing);
  const annotations = Annotations.fromStack(processing);
  return { config, processing, template, annotations, findings: synthFindings(app) };
}

/** Every IAM statement of the stack, flattened. */
/** Policies and the overflow managed policies CDK splits a role's statements into above IAM's inline size limit. */
function policies(template: Template): unknown[] {
  return [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))];
}

function statements(template: Template): Array<Record<string, unknown>> {
  return policies(template).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

/** The Spark jobs, each with a role of its own (`Spark<Job>Role`). */
type SparkJob = 'LandingToBronze' | 'DailyReport' | 'StreamingBronze' | 'EraseSubjects';

/** The statements of the policy attached to one Spark job's role. */
function jobRoleStatements(template: Template, job: SparkJob): Array<Record<string, unknown>> {
  const roleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => new RegExp(`^Spark${job}Role[0-9A-F]{8}$`).test(id));
  expect(roleIds).toHaveLength(1);
  return policies(template)
    .filter((policy) => JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles) === JSON.stringify([{ Ref: roleIds[0] }]))
    .flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement);
}

/**
 * CloudFormation intrinsics rendered as text (`{Ref:X}`, `{X.Attr}`, `{import:Name}`, joins
 * concatenated), so assertions read like the deployed value.
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(flatten).join(',')}]`;
  if (typeof value !== 'object' || value === null) return String(value);
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (node.Ref !== undefined) return `{Ref:${String(node.Ref)}}`;
  if (node['Fn::GetAtt']) return `{${(node['Fn::GetAtt'] as string[]).join('.')}}`;
  if (node['Fn::ImportValue'] !== undefined) return `{import:${flatten(node['Fn::ImportValue'])}}`;
  if (node['Fn::Select'] !== undefined) return `{select:${(node['Fn::Select'] as [number])[0]}}`;
  return `{${Object.entries(node)
    .map(([k, v]) => `${k}:${flatten(v)}`)
    .join(',')}}`;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

let plain: Scenario;
/** An environment that turned something off (built once per set of overrides, on first use). */
const turnedOff = new Map<string, Scenario>();
function off(overrides: Record<string, unknown>): Scenario {
  const key = JSON.stringify(overrides);
  if (!turnedOff.has(key)) {
    turnedOff.set(key, build(loadEnvironment('lean', { processEnv: {}, account: ACCOUNT, environments: { lean: { tier: 'dev', overrides } } })));
  }
  return turnedOff.get(key)!;
}
beforeAll(() => {
  plain = build(loadEnvironment('dev', { processEnv: {}, account: ACCOUNT }));
});

describe('compliance', () => {
  test('no findings anywhere in the stage, Flink and the streaming job included', () => {
    expect(formatFindings(plain.findings)).toBe('');
  });
});

describe('EMR Serverless application', () => {
  test('release, ARM64, capacity, auto start/stop, private subnets with the Kafka client group', () => {
    const { template, config } = plain;
    template.resourceCountIs('AWS::EMRServerless::Application', 1);
    template.hasResourceProperties('AWS::EMRServerless::Application', {
      Name: `${config.qualifier}-spark`,
      ReleaseLabel: config.emr.releaseLabel,
      Type: 'SPARK',
      Architecture: 'ARM64',
      MaximumCapacity: { Cpu: `${config.emr.maxCpuVcpu} vCPU`, Memory: `${config.emr.maxMemoryGb} GB`, Disk: `${config.emr.maxDiskGb} GB` },
      AutoStartConfiguration: { Enabled: true },
      AutoStopConfiguration: { Enabled: true, IdleTimeoutMinutes: config.emr.idleTimeoutMinutes },
      NetworkConfiguration: { SecurityGroupIds: Match.arrayWith([Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('KafkaClient') })]) },
    });
  });

  test('no pre-initialized capacity in dev', () => {
    const app = Object.values(plain.template.findResources('AWS::EMRServerless::Application'))[0] as { Properties: Record<string, unknown> };
    expect(app.Properties.InitialCapacity).toBeUndefined();
  });

  test('logs go to logs/emr/ in the artifacts bucket without job-role KMS encryption fields', () => {
    const app = Object.values(plain.template.findResources('AWS::EMRServerless::Application'))[0] as {
      Properties: { MonitoringConfiguration: Record<string, Record<string, unknown>> };
    };
    const monitoring = app.Properties.MonitoringConfiguration;
    expect(JSON.stringify(monitoring.S3MonitoringConfiguration.LogUri)).toContain('ArtifactsBucket');
    expect(JSON.stringify(monitoring.S3MonitoringConfiguration.LogUri)).toContain('/logs/emr/');
    expect(JSON.stringify(monitoring)).not.toContain('EncryptionKeyArn');
    expect(monitoring.CloudWatchLoggingConfiguration.Enabled).toBe(true);
  });
});

describe('batch jobs', () => {
  test('two job state machines and one daily pipeline, scheduled once from config', () => {
    const { template, config } = plain;
    // Besides these three, the Provider frameworks of the Flink starter and the streaming supervisor wait with state machines of their own.
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines.filter((id) => /^(LandingToBronze|DailyReport|DailyPipeline)/.test(id))).toHaveLength(3);
    // Besides them: custom-resource waiters, and the erasure workflow with its Spark job (test/constructs/gdpr).
    expect(machines.filter((id) => !/^(LandingToBronze|DailyReport|DailyPipeline|Erasure)/.test(id)).every((id) => /Provider.*waiter/i.test(id))).toBe(true);
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: config.emr.dailyReportSchedule,
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^DailyPipelineStateMachine') } }),
    });
  });

  test('the pipeline runs landing-to-bronze before the daily report and waits for each', () => {
    const { template, processing } = plain;
    const stack = processing;
    const definition = JSON.stringify(
      stack.resolve(
        template.findResources('AWS::StepFunctions::StateMachine')[
          Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).find((id) => id.startsWith('DailyPipeline'))!
        ]!.Properties.DefinitionString,
      ),
    );
    expect(definition).toContain('states:startExecution.sync:2');
    const landing = definition.indexOf('LandingToBronzeStateMachine');
    const report = definition.indexOf('DailyReportStateMachine');
    expect(landing).toBeGreaterThan(-1);
    expect(report).toBeGreaterThan(landing);
  });

  test('job arguments carry the lake bucket URIs and the package via --py-files', () => {
    const machines = plain.template.findResources('AWS::StepFunctions::StateMachine');
    // Arguments sit in a JSONata expression, a JSON string inside the definition: drop the escapes.
    const definitionOf = (prefix: string) =>
      flatten(machines[Object.keys(machines).find((id) => id.startsWith(prefix))!]!.Properties.DefinitionString).replace(/\\/g, '');
    const landing = definitionOf('LandingToBronze');
    expect(landing).toContain('"Name":"landing-to-bronze"');
    expect(landing).toMatch(/"--landing-uri","s3:\/\/\{import:[^}]*LandingBucket[^}]*\}\/logins\/"/);
    expect(landing).toMatch(/"--bronze-uri","s3:\/\/\{import:[^}]*BronzeBucket[^}]*\}\/"/);
    expect(landing).toMatch(
      /"SparkSubmitParameters":"--py-files s3:\/\/cdk-[a-z0-9]+-assets-111111111111-eu-west-1\/[0-9a-f]{64}\.zip --conf spark\.driver\.cores=/,
    );
    expect(landing).toMatch(/"EntryPoint":"s3:\/\/cdk-[a-z0-9]+-assets-111111111111-eu-west-1\/[0-9a-f]{64}\.py"/);
    const report = definitionOf('DailyReport');
    expect(report).toContain('"Name":"daily-report"');
    expect(report).toMatch(/"--bronze-uri","s3:\/\/\{import:[^}]*BronzeBucket[^}]*\}\/"/);
    expect(report).toMatch(/"--gold-uri","s3:\/\/\{import:[^}]*GoldBucket[^}]*\}\/"/);
  });

  test('each Spark job runs as its own role, scoped to its prefixes, tables, keys and code objects', () => {
    const jobs: SparkJob[] = ['LandingToBronze', 'DailyReport', 'StreamingBronze', 'EraseSubjects'];
    const text = Object.fromEntries(jobs.map((job) => [job, flatten(jobRoleStatements(plain.template, job))])) as Record<SparkJob, string>;
    for (const job of jobs) {
      for (const statement of jobRoleStatements(plain.template, job)) {
        for (const action of asList(statement.Action)) expect(String(action)).not.toContain('*');
        for (const resource of asList(statement.Resource)) expect(resource).not.toBe('*');
      }
      // Its own code: the package and one entry script, nothing else of the assets bucket.
      const code = jobRoleStatements(plain.template, job).find((st) => st.Sid === 'ReadJobCode')!;
      const objects = asList(code.Resource).map(flatten);
      expect(objects.map((arn) => arn.replace(/^.*\/[0-9a-f]{64}\./, '')).sort()).toEqual(['py', 'zip']);
      // Kafka is read by the streaming job only, never written by any.
      expect(text[job]).not.toMatch(/kafka-cluster:WriteData[,\]}]/);
      if (job !== 'StreamingBronze') expect(text[job]).not.toContain('kafka-cluster:');
    }
    /** Object ARNs the job may delete under (its write prefixes). */
    const writes = (job: SparkJob) =>
      jobRoleStatements(plain.template, job)
        .filter((st) => asList(st.Action).includes('s3:DeleteObject'))
        .flatMap((st) => asList(st.Resource).map(flatten))
        .map((arn) => arn.replace(/^.*(Landing|Bronze|Silver|Gold)Bucket[^}]*\}/, '$1'))
        .sort();
    expect(writes('LandingToBronze')).toEqual(['Bronze/landing/*', 'Bronze/quarantine/*']);
    expect(writes('DailyReport')).toEqual(['Gold/reports/*']);
    expect(writes('StreamingBronze')).toEqual(['Bronze/_checkpoints/*', 'Bronze/kafka/*', 'Silver/kafka/*']);
    expect(writes('EraseSubjects')).toEqual([
      'Bronze/_erasure/*',
      'Bronze/kafka/*',
      'Bronze/landing/*',
      'Bronze/quarantine/*',
      'Gold/reports/*',
      'Silver/kafka/*',
    ]);
    // Only landing-to-bronze reads the landing bucket.
    expect(text.LandingToBronze).toMatch(/LandingBucket[^}]*\}\/logins\/\*/);
    for (const job of ['DailyReport', 'StreamingBronze', 'EraseSubjects'] as const) expect(text[job]).not.toContain('LandingBucket');
    // Tables by name, in the databases the job touches.
    expect(text.LandingToBronze).toContain('table/lakestream_dev_bronze/kafka_logins_raw');
    expect(text.LandingToBronze).not.toContain('lakestream_dev_gold');
    expect(text.DailyReport).toContain('table/lakestream_dev_gold/daily_active_users');
    // No grant matches a sibling prefix (`landing*` would also match `landing-x/`).
    for (const job of jobs) {
      const s3Patterns = jobRoleStatements(plain.template, job)
        .filter((st) => asList(st.Action).some((action) => String(action).startsWith('s3:')))
        .flatMap((st) => [...asList(st.Resource).map(flatten), ...flatten(st.Condition ?? '').split(/[[\],]/)])
        .filter((pattern) => pattern.includes('*'));
      expect(s3Patterns.length).toBeGreaterThan(2);
      for (const pattern of s3Patterns) expect(pattern).toMatch(/(^|\/)\*$/);
    }
  });

  test('each job state machine and the supervisor pass exactly their own job role', () => {
    const machines = plain.template.findResources('AWS::StepFunctions::StateMachine');
    for (const [prefix, job] of [
      ['LandingToBronze', 'LandingToBronze'],
      ['DailyReport', 'DailyReport'],
      ['ErasureEraseSubjects', 'EraseSubjects'],
    ] as const) {
      const id = Object.keys(machines).find((key) => key.startsWith(`${prefix}StateMachine`))!;
      expect(flatten(machines[id]!.Properties.DefinitionString)).toContain(`{Spark${job}Role`);
      const roleRef = (machines[id]!.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const passRole = policies(plain.template)
        .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleRef))
        .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement)
        .filter((st) => asList(st.Action).includes('iam:PassRole'));
      expect(passRole.map((st) => flatten(st.Resource))).toEqual([expect.stringMatching(new RegExp(`^\\{Spark${job}Role[0-9A-F]{8}\\.Arn\\}$`))]);
    }
    const job = flatten(Object.values(plain.template.findResources('Custom::StreamingJob'))[0]);
    expect(job).toContain('{SparkStreamingBronzeRole');
    expect(job).not.toMatch(/Spark(LandingToBronze|DailyReport|EraseSubjects)Role/);
  });
});

describe('job data access and sizing', () => {
  /** Statements of the execution role whose resources mention `text`. */
  const grantsOn = (scenario: Scenario, text: string) =>
    jobRoleStatements(scenario.template, 'DailyReport').filter((st) => flatten(st.Resource).includes(text) || flatten(st.Condition ?? '').includes(text));

  test.each([
    ['without the streaming job', () => off({ emr: { streamingJobEnabled: false } })],
    ['with the streaming job', () => plain],
  ])('the daily report may read the streamed and landed bronze logins %s', (_label, scenario) => {
    for (const prefix of ['kafka/logins_raw', 'landing/logins']) {
      const statements = grantsOn(scenario(), prefix);
      const get = statements.find((st) => asList(st.Action).includes('s3:GetObject') && flatten(st.Resource).includes(`/${prefix}/*`));
      expect(get && flatten(get.Resource)).toMatch(new RegExp(`BronzeBucket[^}]*\\}/${prefix}/\\*`));
      const list = statements.find((st) => asList(st.Action).includes('s3:ListBucket'));
      expect(flatten(list?.Condition)).toContain(`s3:prefix:[${prefix}/*,${prefix}]`);
    }
  });

  const definitionOf = (scenario: Scenario, prefix: string) => {
    const machines = scenario.template.findResources('AWS::StepFunctions::StateMachine');
    return flatten(machines[Object.keys(machines).find((id) => id.startsWith(prefix))!]!.Properties.DefinitionString).replace(/\\/g, '');
  };

  test('each batch job is sized from config with dynamic-allocation bounds', () => {
    const { jobs } = plain.config.emr;
    for (const [prefix, size] of [
      ['LandingToBronze', jobs.landingToBronze],
      ['DailyReport', jobs.dailyReport],
    ] as const) {
      const definition = definitionOf(plain, prefix);
      expect(definition).toContain(`--conf spark.driver.cores=${size.driver.cpu} --conf spark.driver.memory=`);
      expect(definition).toContain(`--conf spark.executor.cores=${size.executor.cpu}`);
      expect(definition).toContain(`--conf spark.dynamicAllocation.maxExecutors=${size.maxExecutors}`);
      expect(definition).toContain(`--conf spark.dynamicAllocation.initialExecutors=${size.initialExecutors}`);
    }
  });

  test('the daily report re-reports the configured late days', () => {
    expect(definitionOf(plain, 'DailyReport')).toContain(`"--late-days","${plain.config.emr.reportLateDays}"`);
  });

  test('the streaming job is sized from config and bounds its micro-batches', () => {
    const job = flatten(Object.values(plain.template.findResources('Custom::StreamingJob'))[0]).replace(/\\/g, '');
    const size = plain.config.emr.jobs.streaming;
    expect(job).toContain(`"--max-offsets-per-trigger","${plain.config.emr.streamingMaxOffsetsPerTrigger}"`);
    expect(job).toContain(`--conf spark.dynamicAllocation.maxExecutors=${size.maxExecutors}`);
    expect(job).toContain(`--conf spark.executor.memory=`);
  });
});

describe('Glue tables', () => {
  test('three bronze, one silver and four gold tables, no crawler (plus the three serving views)', () => {
    const { template } = plain;
    for (const [database, count] of [
      ['lakestream_dev_bronze', 3],
      ['lakestream_dev_silver', 1],
      ['lakestream_dev_gold', 4],
    ] as const) {
      expect(
        Object.keys(template.findResources('AWS::Glue::Table', { Properties: { DatabaseName: database, TableInput: { TableType: 'EXTERNAL_TABLE' } } })),
      ).toHaveLength(count);
    }
    expect(Object.keys(template.findResources('AWS::Glue::Table', { Properties: { TableInput: { TableType: 'EXTERNAL_TABLE' } } }))).toHaveLength(8);
    template.resourceCountIs('AWS::Glue::Table', 11);
    template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  test('bronze kafka/logins_raw is partitioned by dt/hr with projection bounded by the bronze retention', () => {
    const tables = Object.values(plain.template.findResources('AWS::Glue::Table')) as Array<{
      Properties: { DatabaseName: string; TableInput: Record<string, unknown> };
    }>;
    const raw = tables.find((t) => t.Properties.TableInput.Name === 'kafka_logins_raw')!;
    expect(raw.Properties.DatabaseName).toBe('lakestream_dev_bronze');
    const input = raw.Properties.TableInput as {
      TableType: string;
      PartitionKeys: Array<{ Name: string; Type: string }>;
      Parameters: Record<string, unknown>;
      StorageDescriptor: { Location: unknown; SerdeInfo: { SerializationLibrary: string }; Columns: Array<{ Name: string; Type: string }> };
    };
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    expect(input.PartitionKeys.map((k) => [k.Name, k.Type])).toEqual([
      ['dt', 'string'],
      ['hr', 'string'],
    ]);
    expect(input.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': 'NOW-30DAYS,NOW+1DAYS',
      'projection.hr.type': 'integer',
      'projection.hr.range': '0,23',
      'projection.hr.digits': '2',
    });
    expect(flatten(input.Parameters['storage.location.template'])).toMatch(
      /^s3:\/\/\{import:[^}]*BronzeBucket[^}]*\}\/kafka\/logins_raw\/dt=\$\{dt\}\/hr=\$\{hr\}\/$/,
    );
    expect(flatten(input.StorageDescriptor.Location)).toMatch(/BronzeBucket[^}]*\}\/kafka\/logins_raw\/$/);
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(input.StorageDescriptor.Columns).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'is_valid', Type: 'boolean' }),
        expect.objectContaining({ Name: 'event_time', Type: 'timestamp' }),
      ]),
    );
  });

  test.each([
    ['kafka_logins_counts', 'lakestream_dev_silver', ['dt', 'hr']],
    ['landing_logins', 'lakestream_dev_bronze', ['landed_on', 'dt', 'hr']],
    ['quarantine_landing_logins', 'lakestream_dev_bronze', ['landed_on']],
    ['logins_per_user_per_day', 'lakestream_dev_gold', ['report_date']],
    ['daily_active_users', 'lakestream_dev_gold', ['report_date']],
    ['top_users', 'lakestream_dev_gold', ['report_date']],
    ['login_trends', 'lakestream_dev_gold', ['report_date']],
  ])('%s in %s is partitioned by %j', (name, database, keys) => {
    plain.template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: database,
      TableInput: Match.objectLike({
        Name: name,
        PartitionKeys: keys.map((key) => Match.objectLike({ Name: key })),
        Parameters: Match.objectLike(Object.fromEntries(keys.map((key) => [`projection.${key}.type`, key === 'hr' ? 'integer' : 'date']))),
      }),
    });
  });

  test('gold report locations follow reports/<report>/', () => {
    const tables = Object.values(plain.template.findResources('AWS::Glue::Table')) as Array<{
      Properties: { TableInput: { Name: string; StorageDescriptor: { Location: unknown } } };
    }>;
    for (const report of ['logins_per_user_per_day', 'daily_active_users', 'top_users', 'login_trends']) {
      const table = tables.find((t) => t.Properties.TableInput.Name === report)!;
      expect(flatten(table.Properties.TableInput.StorageDescriptor.Location)).toMatch(new RegExp(`GoldBucket[^}]*\\}/reports/${report}/$`));
    }
    plain.template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'top_users',
        Parameters: Match.objectLike({ 'projection.report_date.range': 'NOW-90DAYS,NOW' }),
      }),
    });
  });
});

describe('turned off', () => {
  test('flink.enabled false leaves out Flink and its jars; emr.streamingJobEnabled false leaves out the streaming job and its jars', () => {
    const noFlink = off({ flink: { enabled: false } });
    noFlink.template.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 0);
    noFlink.template.resourceCountIs('Custom::StreamingJob', 1);
    expect(noFlink.processing.flink).toBeUndefined();
    // Nor does the streaming key admit Managed Flink for an application that does not exist.
    const security = Template.fromStack(noFlink.processing.node.scope!.node.findChild('Security') as Stack);
    expect(JSON.stringify(security.findResources('AWS::KMS::Key'))).not.toContain('kinesisanalytics.amazonaws.com');
    expect(JSON.stringify(Template.fromStack(plain.processing.node.scope!.node.findChild('Security') as Stack).findResources('AWS::KMS::Key'))).toContain(
      'infrastructure.kinesisanalytics.amazonaws.com',
    );
    const jarStatement = jobRoleStatements(noFlink.template, 'StreamingBronze').find((s) => s.Sid === 'ReadKafkaConnectorJars')!;
    expect(flatten(jarStatement.Resource)).not.toContain('flink-');
    expect(formatFindings(noFlink.findings)).toBe('');

    const noStreaming = off({ emr: { streamingJobEnabled: false } });
    noStreaming.template.resourceCountIs('Custom::StreamingJob', 0);
    noStreaming.template.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 1);
    expect(noStreaming.processing.supervisor).toBeUndefined();
    expect(noStreaming.processing.alarms).toHaveLength(3);
  });
});

describe('Flink and the Spark streaming job (built by default)', () => {
  test('the Flink application is configured from config, with the job property keys', () => {
    const { template, config } = plain;
    template.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 1);
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationName: `${config.qualifier}-login-counts`,
      ApplicationConfiguration: Match.objectLike({
        FlinkApplicationConfiguration: Match.objectLike({
          ParallelismConfiguration: {
            ConfigurationType: 'CUSTOM',
            Parallelism: config.flink.parallelism,
            ParallelismPerKPU: config.flink.parallelismPerKpu,
            AutoScalingEnabled: config.flink.autoScaling,
          },
          CheckpointConfiguration: Match.objectLike({ CheckpointingEnabled: true, CheckpointInterval: config.flink.checkpointIntervalSeconds * 1000 }),
        }),
        EnvironmentProperties: {
          PropertyGroups: Match.arrayWith([
            {
              PropertyGroupId: 'lakestream',
              PropertyMap: {
                'bootstrap.servers': Match.anyValue(),
                'topic.raw': 'logins.raw',
                'topic.counts': 'logins.counts',
                'topic.dlq': 'logins.raw.dlq',
                'consumer.group.id': FLINK_CONSUMER_GROUP,
                'window.minutes': String(config.flink.windowMinutes),
                'lateness.seconds': String(config.flink.allowedLatenessSeconds),
                'state.ttl.hours': String(config.gdpr.flinkStateTtlHours),
              },
            },
          ]),
        },
        VpcConfigurations: [Match.objectLike({ SecurityGroupIds: [Match.objectLike({ 'Fn::ImportValue': Match.stringLikeRegexp('KafkaClient') })] })],
      }),
    });
  });

  test('the Flink package merges the three mirrored jars in order', () => {
    const packages = Object.values(plain.template.findResources('Custom::FlinkApplicationPackage'));
    expect(packages).toHaveLength(1);
    const keys = flatten((packages[0] as { Properties: { JarKeys: unknown } }).Properties.JarKeys);
    // Literal keys (an export of the mirror's attribute could not change when a version does).
    const order = ['artifacts/flink-connector-kafka/', 'artifacts/flink-kafka-clients/', 'artifacts/aws-msk-iam-auth/'].map((prefix) => keys.indexOf(prefix));
    expect(keys).not.toContain('spark-kafka-clients');
    expect(keys).not.toContain('{import:');
    expect(order.every((i) => i > -1)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test('Kafka grants are exact: Flink reads logins.raw as its group and writes counts and DLQ; Spark reads both topics under its group prefix', () => {
    const text = flatten(statements(plain.template));
    expect(text).toMatch(new RegExp(`:group/lakestream-dev/[^/]+/${FLINK_CONSUMER_GROUP}[,\\]}]`));
    expect(text).toMatch(new RegExp(`:group/lakestream-dev/[^/]+/${SPARK_GROUP_ID_PREFIX}\\*[,\\]}]`));
    expect(text).not.toContain('/lakestream-login-counts');

    // A role whose inline policy outgrows IAM's size limit gets the rest as managed overflow policies.
    const policies = { ...plain.template.findResources('AWS::IAM::Policy'), ...plain.template.findResources('AWS::IAM::ManagedPolicy') };
    const policyOfRole = (rolePrefix: string) =>
      flatten(
        Object.values(policies)
          .filter((p) => JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(`"${rolePrefix}`))
          .map((p) => (p as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument),
      );
    const flink = policyOfRole('LoginCountsRole');
    expect(flink).toContain('kafka-cluster:ReadData');
    expect(flink).toMatch(/\/logins\.raw[,\]}]/);
    expect(flink).toMatch(/\/logins\.counts[,\]}]/);
    expect(flink).toMatch(/\/logins\.raw\.dlq[,\]}]/);
    expect(flink).toContain('kafka-cluster:WriteData');
    const spark = policyOfRole('SparkStreamingBronzeRole');
    expect(spark).toContain('kafka-cluster:ReadData');
    expect(spark).not.toMatch(/kafka-cluster:WriteData[,\]}]/);
    expect(spark).not.toContain('/logins.raw.dlq');
    for (const topic of ['logins.raw', 'logins.counts']) expect(spark).toMatch(new RegExp(`/${topic.replace('.', '\\.')}[,\\]}]`));
  });

  test('the streaming job runs under the supervisor with the mirrored jars, brokers and bronze URI', () => {
    const { template } = plain;
    template.resourceCountIs('Custom::StreamingJob', 1);
    const job = flatten(Object.values(template.findResources('Custom::StreamingJob'))[0]);
    const jars = ['spark-sql-kafka', 'spark-token-provider-kafka', 'spark-kafka-clients', 'commons-pool2', 'aws-msk-iam-auth'];
    expect(job).toMatch(
      new RegExp(`--jars ${jars.map((name) => `s3://\\{import:[^}]*ArtifactsBucket[^}]*\\}/artifacts/${name}/[^/,]+/[^/, ]+\\.jar`).join(',')} `),
    );
    expect(job).toContain('--py-files s3://');
    expect(job).toContain('--bootstrap-servers');
    expect(job).toMatch(/--bronze-uri\\",\\"s3:\/\/\{import:[^}]*BronzeBucket[^}]*\}\//);
    // The counts (aggregates) land in silver.
    expect(job).toMatch(/--silver-uri\\",\\"s3:\/\/\{import:[^}]*SilverBucket[^}]*\}\//);
    expect(job).toContain('streaming-bronze');
    expect(plain.processing.alarms).toHaveLength(4);
  });

  test('the streaming job role may write kafka/ and _checkpoints/ in bronze and read exactly the five jars', () => {
    const text = flatten(jobRoleStatements(plain.template, 'StreamingBronze'));
    expect(text).toContain('/kafka/*');
    expect(text).toContain('/_checkpoints/*');
    const jarStatement = jobRoleStatements(plain.template, 'StreamingBronze').find((s) => s.Sid === 'ReadKafkaConnectorJars')!;
    expect(asList(jarStatement.Resource)).toHaveLength(5);
    expect(flatten(jarStatement.Resource)).toContain('/artifacts/commons-pool2/2.11.1/commons-pool2-2.11.1.jar');
    expect(flatten(jarStatement.Resource)).toContain('/artifacts/spark-kafka-clients/3.4.1/kafka-clients-3.4.1.jar');
  });
});

describe('serving layer', () => {
  test('the three serving views sit in the gold database next to the gold tables', () => {
    const views = Object.values(plain.template.findResources('AWS::Glue::Table', { Properties: { TableInput: { TableType: 'VIRTUAL_VIEW' } } })) as Array<{
      Properties: { DatabaseName: string; TableInput: { Name: string } };
    }>;
    expect(views.map((v) => v.Properties.TableInput.Name).sort()).toEqual([
      'batch_logins_per_user_per_day',
      'serving_logins_per_user_per_day',
      'speed_login_counts',
    ]);
    expect(new Set(views.map((v) => v.Properties.DatabaseName))).toEqual(new Set([plain.processing.servingViews.databaseName]));
    expect(plain.processing.servingViews.databaseName).toBe('lakestream_dev_gold');
  });

  test('the streaming job gets the configured trigger interval', () => {
    const job = flatten(Object.values(plain.template.findResources('Custom::StreamingJob'))[0]);
    expect(job).toContain(`"--trigger-seconds\\",\\"${plain.config.emr.streamingTriggerSeconds}\\"`);
    expect(plain.config.emr.streamingTriggerSeconds).toBeLessThanOrEqual(60);
  });
});
