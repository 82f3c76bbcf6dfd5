import { Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import {
  DebeziumConnector,
  changeTopicRetentionConfig,
  DebeziumConnectorProps,
  SECRETS_MANAGER_CONFIG_PROVIDER_CLASS,
} from '../../../lib/constructs/kafka/debezium-connector';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakestream-dev/0a1b2c3d-1111-2222-3333-444455556666-2';
const BROKERS = 'b-1.lakestream.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.lakestream.abc.c2.kafka.eu-west-1.amazonaws.com:9098';
const PLUGIN_KEY = 'artifacts/debezium-sqlserver-bundle/2.7.3.Final/debezium-sqlserver-bundle-2.7.3.Final.zip';
const TOPIC_BASE = 'arn:aws:kafka:eu-west-1:111111111111:topic/lakestream-dev/0a1b2c3d-1111-2222-3333-444455556666-2';
const GROUP_BASE = 'arn:aws:kafka:eu-west-1:111111111111:group/lakestream-dev/0a1b2c3d-1111-2222-3333-444455556666-2';

interface Scenario {
  readonly template: Template;
  readonly findings: Finding[];
  readonly connector: DebeziumConnector;
  readonly stack: Stack;
}

type Overrides = Partial<Omit<DebeziumConnectorProps, 'sqlServer'>> & { sqlServer?: Partial<DebeziumConnectorProps['sqlServer']> };

function prerequisites(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const securityGroup = new ec2.SecurityGroup(stack, 'ConnectorSg', { vpc, allowAllOutbound: false });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: key, enforceSSL: true, versioned: true });
  const secret = new secretsmanager.Secret(stack, 'SqlServerLogin', {
    encryptionKey: key,
    generateSecretString: { secretStringTemplate: JSON.stringify({ username: 'cdc_reader' }), generateStringKey: 'password' },
  });
  return { vpc, securityGroup, key, bucket, secret };
}

function baseProps(stack: Stack, overrides: Overrides = {}): DebeziumConnectorProps {
  const { vpc, securityGroup, key, bucket, secret } = prerequisites(stack);
  return {
    connectorName: 'lakestream-dev-sqlserver-cdc',
    vpc,
    securityGroup,
    cluster: { clusterArn: CLUSTER_ARN, clusterName: 'lakestream-dev', bootstrapBrokersIam: BROKERS },
    pluginBucket: bucket,
    pluginBucketKey: key,
    pluginKey: PLUGIN_KEY,
    schemaHistoryTopic: 'cdc.sqlserver.schema-history',
    encryptionKey: key,
    logRetention: logs.RetentionDays.ONE_MONTH,
    ...overrides,
    sqlServer: {
      hostname: 'sql.corp.internal',
      databaseNames: ['Sales'],
      tableIncludeList: ['dbo.Orders', 'dbo.Customers'],
      secret,
      ...overrides.sqlServer,
    },
  };
}

function build(overrides: Overrides = {}): Scenario {
  const app = newCompliantTestApp();
  const stage = new Stage(app, 'Test');
  const stack = new Stack(stage, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const connector = new DebeziumConnector(stack, 'Cdc', baseProps(stack, overrides));
  const findings = synthFindings(app).filter((finding) => finding.path.startsWith(connector.node.path));
  return { template: Template.fromStack(stack), findings, connector, stack };
}

function connectorConfiguration(template: Template): Record<string, unknown> {
  const connectors = Object.values(template.findResources('AWS::KafkaConnect::Connector'));
  expect(connectors).toHaveLength(1);
  return (connectors[0] as { Properties: { ConnectorConfiguration: Record<string, unknown> } }).Properties.ConnectorConfiguration;
}

function roleStatements(template: Template): Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([logicalId]) => logicalId.startsWith('CdcServiceRoleDefaultPolicy'));
  expect(policies).toHaveLength(1);
  return (policies[0][1] as { Properties: { PolicyDocument: { Statement: Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> } } }).Properties
    .PolicyDocument.Statement;
}

const statement = (template: Template, sid: string) => {
  const found = roleStatements(template).find((s) => s.Sid === sid);
  expect(found).toBeDefined();
  return found as { Action: string | string[]; Resource: unknown };
};
const sorted = (value: string | string[]) => [...(Array.isArray(value) ? value : [value])].sort();

describe('DebeziumConnector', () => {
  let scenario: Scenario;
  beforeAll(() => {
    scenario = build();
  });

  it('creates the custom plugin from the artifacts bucket object', () => {
    scenario.template.hasResourceProperties('AWS::KafkaConnect::CustomPlugin', {
      ContentType: 'ZIP',
      Name: Match.stringLikeRegexp('^lakestream-dev-sqlserver-cdc-plugin-[0-9a-f]{8}$'),
      Location: { S3Location: { BucketArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Artifacts'), 'Arn'] }, FileKey: PLUGIN_KEY } },
    });
  });

  it('registers the Secrets Manager config provider in the worker configuration, failing on a missing secret', () => {
    const workers = Object.values(scenario.template.findResources('AWS::KafkaConnect::WorkerConfiguration'));
    expect(workers).toHaveLength(1);
    const content = (workers[0] as { Properties: { PropertiesFileContent: { 'Fn::Base64': string } } }).Properties.PropertiesFileContent['Fn::Base64'];
    expect(content.split('\n').filter(Boolean).sort()).toEqual(
      [
        'config.providers=secretsmanager',
        `config.providers.secretsmanager.class=${SECRETS_MANAGER_CONFIG_PROVIDER_CLASS}`,
        'config.providers.secretsmanager.param.NotFoundStrategy=fail',
        'config.providers.secretsmanager.param.region=eu-west-1',
        'key.converter=org.apache.kafka.connect.json.JsonConverter',
        'value.converter=org.apache.kafka.connect.json.JsonConverter',
      ].sort(),
    );
  });

  it('configures the SQL Server connector with encryption, the table list and the topic prefix', () => {
    expect(connectorConfiguration(scenario.template)).toMatchObject({
      'connector.class': 'io.debezium.connector.sqlserver.SqlServerConnector',
      'tasks.max': '1',
      'database.hostname': 'sql.corp.internal',
      'database.port': '1433',
      'database.names': 'Sales',
      'database.encrypt': 'true',
      'database.trustServerCertificate': 'false',
      'table.include.list': 'dbo.Orders,dbo.Customers',
      'topic.prefix': 'cdc.sqlserver',
      'topic.creation.default.partitions': '1',
      'topic.creation.default.replication.factor': '3',
      'schema.history.internal.kafka.topic': 'cdc.sqlserver.schema-history',
      'schema.history.internal.kafka.bootstrap.servers': BROKERS,
      'schema.history.internal.consumer.group.id': 'lakestream-dev-sqlserver-cdc-schemahistory',
    });
  });

  it('creates change topics that delete by age: 7 days retention, daily segments (not the broker default)', () => {
    expect(connectorConfiguration(scenario.template)).toMatchObject({
      'topic.creation.default.cleanup.policy': 'delete',
      'topic.creation.default.retention.ms': String(7 * 86_400_000),
      'topic.creation.default.segment.ms': String(86_400_000),
    });
  });

  it('takes the change-topic retention from its props and refuses an unbounded one', () => {
    expect(changeTopicRetentionConfig({ retentionMs: 3 * 86_400_000, segmentMs: 3_600_000 })).toEqual({
      'topic.creation.default.cleanup.policy': 'delete',
      'topic.creation.default.retention.ms': String(3 * 86_400_000),
      'topic.creation.default.segment.ms': '3600000',
    });
    expect(() => changeTopicRetentionConfig({ retentionMs: -1 })).toThrow(
      'changeTopicRetention.retentionMs must be a whole number of milliseconds of at least 60000, got -1',
    );
    expect(() => changeTopicRetentionConfig({ retentionMs: 86_400_000, segmentMs: 0.5 })).toThrow('changeTopicRetention.segmentMs');
  });

  it('uses IAM auth for the schema history producer and consumer', () => {
    const config = connectorConfiguration(scenario.template);
    for (const client of ['producer', 'consumer']) {
      expect(config).toMatchObject({
        [`schema.history.internal.${client}.security.protocol`]: 'SASL_SSL',
        [`schema.history.internal.${client}.sasl.mechanism`]: 'AWS_MSK_IAM',
        [`schema.history.internal.${client}.sasl.jaas.config`]: 'software.amazon.msk.auth.iam.IAMLoginModule required;',
        [`schema.history.internal.${client}.sasl.client.callback.handler.class`]: 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
      });
    }
  });

  it('reads the login through config-provider placeholders and never puts a secret value in the template', () => {
    const secret = scenario.stack.node.findChild('SqlServerLogin') as secretsmanager.Secret;
    const secretName = scenario.stack.resolve(secret.secretName);
    const config = connectorConfiguration(scenario.template);
    expect(config['database.user']).toEqual({ 'Fn::Join': ['', ['${secretsmanager:', secretName, ':username}']] });
    expect(config['database.password']).toEqual({ 'Fn::Join': ['', ['${secretsmanager:', secretName, ':password}']] });
    const template = JSON.stringify(scenario.template.toJSON());
    expect(template).not.toContain('{{resolve:secretsmanager');
    expect(template).not.toContain('"SecretString"');
    // The only place the login's user name template appears is the secret's own generator.
    expect(template.split('cdc_reader').length - 1).toBe(1);
  });

  it('scales workers automatically and delivers logs to an encrypted log group', () => {
    scenario.template.hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorName: 'lakestream-dev-sqlserver-cdc',
      KafkaConnectVersion: '3.7.x',
      Capacity: {
        AutoScaling: {
          MinWorkerCount: 1,
          MaxWorkerCount: 2,
          McuCount: 1,
          ScaleInPolicy: { CpuUtilizationPercentage: 20 },
          ScaleOutPolicy: { CpuUtilizationPercentage: 80 },
        },
      },
      KafkaClusterClientAuthentication: { AuthenticationType: 'IAM' },
      KafkaClusterEncryptionInTransit: { EncryptionType: 'TLS' },
      KafkaCluster: {
        ApacheKafkaCluster: {
          BootstrapServers: BROKERS,
          Vpc: {
            SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ConnectorSg'), 'GroupId'] }],
            Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('PrivateSubnet') }]),
          },
        },
      },
      LogDelivery: { WorkerLogDelivery: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^CdcWorkerLogs') } } } },
      Plugins: [
        {
          CustomPlugin: {
            CustomPluginArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcPlugin'), 'CustomPluginArn'] },
            Revision: { 'Fn::GetAtt': [Match.anyValue(), 'Revision'] },
          },
        },
      ],
      WorkerConfiguration: {
        WorkerConfigurationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcWorkerConfiguration'), 'WorkerConfigurationArn'] },
        Revision: Match.anyValue(),
      },
    });
    scenario.template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      RetentionInDays: 30,
    });
  });

  it("lets only this account's connector of this name assume the service role", () => {
    scenario.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'kafkaconnect.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '111111111111' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kafkaconnect:eu-west-1:111111111111:connector/lakestream-dev-sqlserver-cdc/*']],
                },
              },
            },
          },
        ],
      },
    });
  });

  it('scopes Kafka access to the cluster, its change topics, the schema history topic and its own groups', () => {
    const t = scenario.template;
    expect(sorted(statement(t, 'ConnectToCluster').Action)).toEqual([
      'kafka-cluster:Connect',
      'kafka-cluster:DescribeCluster',
      'kafka-cluster:WriteDataIdempotently',
    ]);
    expect(statement(t, 'ConnectToCluster').Resource).toBe(CLUSTER_ARN);

    expect(sorted(statement(t, 'WriteChangeTopics').Action)).toEqual(['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']);
    expect(scenario.stack.resolve(statement(t, 'WriteChangeTopics').Resource)).toEqual(
      expect.arrayContaining([`${TOPIC_BASE}/cdc.sqlserver`, `${TOPIC_BASE}/cdc.sqlserver.*`]),
    );

    expect(statement(t, 'UseSchemaHistoryTopic').Resource).toBe(`${TOPIC_BASE}/cdc.sqlserver.schema-history`);
    expect(sorted(statement(t, 'UseSchemaHistoryTopic').Action)).toContain('kafka-cluster:DescribeTopicDynamicConfiguration');

    expect(statement(t, 'UseConnectInternalTopics').Resource).toBe(`${TOPIC_BASE}/__amazon_msk_connect_*`);
    expect(sorted(statement(t, 'UseOwnGroups').Action)).toEqual(['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup']);
    expect(sorted(statement(t, 'UseOwnGroups').Resource as string[])).toEqual(
      [
        `${GROUP_BASE}/__amazon_msk_connect_*`,
        `${GROUP_BASE}/connect-lakestream-dev-sqlserver-cdc`,
        `${GROUP_BASE}/lakestream-dev-sqlserver-cdc-schemahistory`,
      ].sort(),
    );

    const everyResource = JSON.stringify(roleStatements(t).map((s) => s.Resource));
    expect(everyResource).not.toMatch(/"\*"/);
    expect(everyResource).not.toContain('topic/lakestream-dev/*');
  });

  it('may read the login secret, decrypt it, and read the plugin object only', () => {
    const statements = roleStatements(scenario.template);
    const secretRead = statements.find((s) => sorted(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(secretRead?.Resource).toEqual({ Ref: expect.stringMatching(/^SqlServerLogin/) });
    expect(statement(scenario.template, 'ReadPluginObject')).toMatchObject({
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Artifacts/), 'Arn'] }, `/${PLUGIN_KEY}`]] },
    });
    const kmsActions = statements.filter((s) => sorted(s.Action).some((a) => a.startsWith('kms:'))).flatMap((s) => sorted(s.Action));
    expect([...new Set(kmsActions)].sort()).toEqual(['kms:Decrypt']);
  });

  it('has no unacknowledged cdk-nag findings', () => {
    expect(formatFindings(scenario.findings)).toBe('');
  });
});

describe('DebeziumConnector with a cluster from another stack', () => {
  let template: Template;
  let findings: Finding[];
  let connector: DebeziumConnector;
  beforeAll(() => {
    const app = newCompliantTestApp();
    const stage = new Stage(app, 'Test');
    const env = { account: '111111111111', region: 'eu-west-1' };
    const data = new Stack(stage, 'Data', { env });
    const clusterArn = new ssm.StringParameter(data, 'ClusterArn', { stringValue: CLUSTER_ARN }).stringValue;
    const brokers = ssm.StringParameter.valueForStringParameter(data, '/lakestream/dev/kafka/bootstrap-brokers-iam');
    const streaming = new Stack(stage, 'Streaming', { env });
    const brokersInStreaming = ssm.StringParameter.valueForStringParameter(streaming, '/lakestream/dev/kafka/bootstrap-brokers-iam');
    expect(brokers).toBeDefined();
    connector = new DebeziumConnector(
      streaming,
      'Cdc',
      baseProps(streaming, {
        connectorName: undefined,
        topicPrefix: 'cdc.erp',
        cluster: { clusterArn, clusterName: 'lakestream-dev', bootstrapBrokersIam: brokersInStreaming },
        capacity: { minWorkers: 2, maxWorkers: 4, mcuCount: 2 },
        tasksMax: 1,
      }),
    );
    findings = synthFindings(app).filter((finding) => finding.path.startsWith(connector.node.path));
    template = Template.fromStack(streaming);
  });

  it('acknowledges exactly the wildcard resources as they render after cross-stack references are resolved', () => {
    expect(formatFindings(findings)).toBe('');
    const changeTopics = JSON.stringify(statement(template, 'WriteChangeTopics').Resource);
    expect(changeTopics).toContain('Fn::ImportValue');
    expect(changeTopics).toContain('/cdc.erp.*');
  });

  it('derives a valid connector name from the construct path and scopes its group to it', () => {
    expect(connector.connectorName).toMatch(/^[a-zA-Z0-9-]{1,64}$/);
    expect(JSON.stringify(statement(template, 'UseOwnGroups').Resource)).toContain(`/connect-${connector.connectorName}`);
    template.hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorName: connector.connectorName,
      KafkaCluster: { ApacheKafkaCluster: { BootstrapServers: { Ref: Match.stringLikeRegexp('^SsmParameterValue') } } },
      Capacity: { AutoScaling: { MinWorkerCount: 2, MaxWorkerCount: 4, McuCount: 2 } },
    });
  });
});

describe('DebeziumConnector validation', () => {
  const attempt = (overrides: Overrides) => () => {
    const stack = new Stack(undefined, 'V', { env: { account: '111111111111', region: 'eu-west-1' } });
    new DebeziumConnector(stack, 'Cdc', baseProps(stack, overrides));
  };

  it.each<[string, Overrides, string]>([
    ['mcu count', { capacity: { mcuCount: 3 } }, 'DebeziumConnector capacity.mcuCount = 3 is not allowed (allowed: 1, 2, 4, 8)'],
    ['worker range', { capacity: { minWorkers: 3, maxWorkers: 2 } }, 'capacity.maxWorkers = 2 is not allowed (allowed: an integer from minWorkers (3) to 10)'],
    ['scale thresholds', { capacity: { scaleInCpuPercent: 80, scaleOutCpuPercent: 50 } }, 'capacity.scaleOutCpuPercent = 50 is not allowed'],
    ['wildcard prefix', { topicPrefix: 'cdc.*' }, 'DebeziumConnector topicPrefix = "cdc.*" is not allowed'],
    ['no tables', { sqlServer: { tableIncludeList: [] } }, 'DebeziumConnector sqlServer.tableIncludeList = [] is not allowed'],
    [
      'unqualified table',
      { sqlServer: { tableIncludeList: ['Orders'] } },
      'sqlServer.tableIncludeList = ["Orders"] is not allowed (allowed: at least one schema.table entry',
    ],
    ['no databases', { sqlServer: { databaseNames: [] } }, 'sqlServer.databaseNames = [] is not allowed'],
    ['port', { sqlServer: { port: 70000 } }, 'sqlServer.port = 70000 is not allowed'],
    ['tasks', { tasksMax: 2 }, 'tasksMax = 2 is not allowed (allowed: an integer from 1 to the number of databases (1))'],
    ['connector name', { connectorName: 'bad name' }, 'connectorName = "bad name" is not allowed'],
  ])('rejects a bad %s', (_what, overrides, message) => {
    expect(attempt(overrides)).toThrow(message);
  });
});
