import { createHash } from 'node:crypto';
import { Aws, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
// cdk-nag names a wildcard finding after the flattened resource; computing the same string is the only way to acknowledge exactly it.
import { Construct } from 'constructs';
import { vendedLogGroupNameFor } from '../core/vended-logs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { KafkaClusterActions, KafkaClusterRef, kafkaClusterUuid, kafkaGroupArn, kafkaTopicArn } from './kafka-access';

/** Class of the AWS config provider (aws-samples/msk-config-providers) that reads Secrets Manager. */
export const SECRETS_MANAGER_CONFIG_PROVIDER_CLASS = 'com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider';
/** Name under which the worker configuration registers it; placeholders read `${secretsmanager:<secret>:<field>}`. */
export const SECRETS_MANAGER_CONFIG_PROVIDER = 'secretsmanager';

const IAM_LOGIN_MODULE = 'software.amazon.msk.auth.iam.IAMLoginModule required;';
const IAM_CALLBACK_HANDLER = 'software.amazon.msk.auth.iam.IAMClientCallbackHandler';
const TOPIC_PREFIX_PATTERN = /^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)*$/;
const CONNECTOR_NAME_PATTERN = /^[a-zA-Z0-9-]{1,100}$/;
const VALID_MCU_COUNTS = [1, 2, 4, 8];

/** The MSK cluster the connector writes to. */
export interface DebeziumKafkaCluster extends KafkaClusterRef {
  /** SASL/IAM bootstrap broker string (port 9098), e.g. the value of the SSM parameter the bootstrap publisher writes. */
  readonly bootstrapBrokersIam: string;
}

/** The SQL Server database to capture. */
export interface DebeziumSqlServerSource {
  /** Host name or IP address reachable from the connector's subnets. */
  readonly hostname: string;
  /** @default 1433 */
  readonly port?: number;
  /** Databases to capture (`database.names`); CDC must be enabled on each. */
  readonly databaseNames: string[];
  /** Tables to capture as `schema.table` (`table.include.list`); each becomes the topic `<topicPrefix>.<database>.<schema>.<table>`. */
  readonly tableIncludeList: string[];
  /**
   * JSON secret with the login. Read at run time by the connector through the Secrets Manager config
   * provider: neither the user nor the password ever appears in the template or the connector
   * configuration. Import existing secrets by name or complete ARN, so that their name is known.
   */
  readonly secret: secretsmanager.ISecret;
  /** Field of the secret holding the user. @default 'username' */
  readonly usernameField?: string;
  /** Field of the secret holding the password. @default 'password' */
  readonly passwordField?: string;
  /** Accept the server certificate without checking it against the JVM trust store. @default false */
  readonly trustServerCertificate?: boolean;
}

/** MSK Connect auto scaling. */
export interface DebeziumCapacity {
  /** @default 1 */
  readonly minWorkers?: number;
  /** @default 2 */
  readonly maxWorkers?: number;
  /** MSK Connect units per worker: 1, 2, 4 or 8. @default 1 */
  readonly mcuCount?: number;
  /** Scale in below this average CPU percentage. @default 20 */
  readonly scaleInCpuPercent?: number;
  /** Scale out above this average CPU percentage. @default 80 */
  readonly scaleOutCpuPercent?: number;
}

export interface DebeziumConnectorProps {
  /**
   * MSK Connect connector name; also names its consumer group (`connect-<name>`). Keep it stable:
   * Kafka Connect stores the connector's source offsets under it.
   * @default a name unique to this construct's path
   */
  readonly connectorName?: string;
  /** VPC of the MSK cluster. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the connector's workers. @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security group of the workers; it needs egress to the brokers (9098) and to SQL Server. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The MSK cluster (IAM authentication). */
  readonly cluster: DebeziumKafkaCluster;
  /** Bucket holding the custom plugin (the artifacts bucket). */
  readonly pluginBucket: s3.IBucket;
  /**
   * Key of the plugin object (e.g. `ArtifactMirror.objectKey(name)`). MSK Connect loads a single
   * plugin per connector, so the object must bundle the Debezium SQL Server connector and the
   * msk-config-providers jar (for `${secretsmanager:...}`).
   */
  readonly pluginKey: string;
  /** KMS key of `pluginBucket`, if it is customer-managed. @default none */
  readonly pluginBucketKey?: kms.IKey;
  /** @default 'ZIP' */
  readonly pluginContentType?: 'ZIP' | 'JAR';
  /**
   * A value that changes whenever the plugin object changes (its version or checksum). Custom
   * plugins cannot be updated in place; this goes into the plugin's name so that CloudFormation can
   * create the new plugin before it deletes the old one.
   * @default a hash of `pluginKey` (enough when the key carries the version)
   */
  readonly pluginFingerprint?: string;
  /** The database to capture. */
  readonly sqlServer: DebeziumSqlServerSource;
  /** `topic.prefix`: change topics are named `<prefix>.<database>.<schema>.<table>`. @default 'cdc.sqlserver' */
  readonly topicPrefix?: string;
  /** Topic where Debezium keeps the database schema history (single partition, infinite retention). */
  readonly schemaHistoryTopic: string;
  /** Partitions and replication of the change topics Kafka Connect creates. @default { partitions: 1, replicationFactor: 3 } */
  readonly topicCreation?: { readonly partitions?: number; readonly replicationFactor?: number };
  /**
   * Retention of the change topics Kafka Connect creates (`cleanup.policy=delete`): change events
   * carry the captured rows, personal data that erasure cannot remove from a topic record by record,
   * so they must age out within the erasure deadline. Kafka deletes a record up to one segment after
   * its retention, hence the segment bound. Applied when Connect creates a topic; an existing topic
   * keeps its configuration.
   * @default { retentionMs: 7 days, segmentMs: 1 day }
   */
  readonly changeTopicRetention?: { readonly retentionMs: number; readonly segmentMs?: number };
  /** `tasks.max`; the SQL Server connector runs at most one task per database. @default 1 */
  readonly tasksMax?: number;
  /** @default see DebeziumCapacity */
  readonly capacity?: DebeziumCapacity;
  /** Key for the workers' CloudWatch log group (the environment's logs key). */
  readonly encryptionKey: kms.IKey;
  /** Retention of the workers' logs. */
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** MSK Connect (Apache Kafka Connect) version. @default '3.7.x' */
  readonly kafkaConnectVersion?: string;
}

/**
 * Debezium SQL Server change data capture on MSK Connect: custom plugin from the artifacts
 * bucket, a worker configuration that registers the Secrets Manager config provider, and an
 * auto-scaling connector that authenticates to MSK with IAM (for its own clients and for the
 * schema history producer and consumer), logs to an encrypted CloudWatch log group and runs
 * under a service role limited to its own topics, groups, secret and plugin object.
 */
export class DebeziumConnector extends Construct {
  public readonly connector: kafkaconnect.CfnConnector;
  public readonly customPlugin: kafkaconnect.CfnCustomPlugin;
  public readonly workerConfiguration: kafkaconnect.CfnWorkerConfiguration;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly connectorName: string;
  public readonly topicPrefix: string;
  /** Consumer group of the schema history reader. */
  public readonly schemaHistoryGroup: string;

  constructor(scope: Construct, id: string, props: DebeziumConnectorProps) {
    super(scope, id);
    this.connectorName = props.connectorName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).replace(/[^a-zA-Z0-9-]/g, '-');
    this.topicPrefix = props.topicPrefix ?? 'cdc.sqlserver';
    this.schemaHistoryGroup = `${this.connectorName}-schemahistory`;
    validateProps(props, this.connectorName, this.topicPrefix);
    const capacity = resolveCapacity(props.capacity);
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'WorkerLogs', {
      // MSK Connect delivers worker logs as vended logs: see vendedLogGroupName for why the prefix.
      logGroupName: vendedLogGroupNameFor(this, 'kafkaconnect'),
      encryptionKey: props.encryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'ServiceRole', {
      description: `MSK Connect service execution role of ${this.connectorName}`,
      assumedBy: new iam.ServicePrincipal('kafkaconnect.amazonaws.com', {
        // Confused-deputy guard: only this account's connector of this name may use the role.
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:kafkaconnect:${stack.region}:${stack.account}:connector/${this.connectorName}/*` },
        },
      }),
    });
    this.grantKafkaAccess(props);
    props.sqlServer.secret.grantRead(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ReadPluginObject', actions: ['s3:GetObject'], resources: [props.pluginBucket.arnForObjects(props.pluginKey)] }),
    );
    props.pluginBucketKey?.grantDecrypt(this.role);

    this.customPlugin = new kafkaconnect.CfnCustomPlugin(this, 'Plugin', {
      name: `${this.connectorName}-plugin-${shortHash(props.pluginFingerprint ?? stack.resolve(props.pluginKey))}`,
      description: `Debezium SQL Server connector with the Secrets Manager config provider, for ${this.connectorName}`,
      contentType: props.pluginContentType ?? 'ZIP',
      location: { s3Location: { bucketArn: props.pluginBucket.bucketArn, fileKey: props.pluginKey } },
    });

    const workerProperties = renderProperties(workerConfiguration(stack.region));
    this.workerConfiguration = new kafkaconnect.CfnWorkerConfiguration(this, 'WorkerConfiguration', {
      // Worker configurations are immutable and their names unique: a content hash lets a change create a new one first.
      name: `${this.connectorName}-worker-${shortHash(stack.resolve(workerProperties))}`,
      description: `Registers the Secrets Manager config provider for ${this.connectorName}`,
      propertiesFileContent: Fn.base64(workerProperties),
    });

    this.connector = new kafkaconnect.CfnConnector(this, 'Connector', {
      connectorName: this.connectorName,
      connectorDescription: `Debezium CDC from SQL Server ${props.sqlServer.hostname} into MSK cluster ${props.cluster.clusterName}`,
      kafkaConnectVersion: props.kafkaConnectVersion ?? '3.7.x',
      serviceExecutionRoleArn: this.role.roleArn,
      plugins: [{ customPlugin: { customPluginArn: this.customPlugin.attrCustomPluginArn, revision: this.customPlugin.attrRevision } }],
      workerConfiguration: {
        workerConfigurationArn: this.workerConfiguration.attrWorkerConfigurationArn,
        revision: this.workerConfiguration.attrRevision,
      },
      capacity: {
        autoScaling: {
          minWorkerCount: capacity.minWorkers,
          maxWorkerCount: capacity.maxWorkers,
          mcuCount: capacity.mcuCount,
          scaleInPolicy: { cpuUtilizationPercentage: capacity.scaleInCpuPercent },
          scaleOutPolicy: { cpuUtilizationPercentage: capacity.scaleOutCpuPercent },
        },
      },
      kafkaCluster: {
        apacheKafkaCluster: {
          bootstrapServers: props.cluster.bootstrapBrokersIam,
          vpc: {
            securityGroups: [props.securityGroup.securityGroupId],
            subnets: props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
          },
        },
      },
      kafkaClusterClientAuthentication: { authenticationType: 'IAM' },
      kafkaClusterEncryptionInTransit: { encryptionType: 'TLS' },
      logDelivery: { workerLogDelivery: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } } },
      connectorConfiguration: this.connectorConfiguration(props),
    });
    // The role's policy must exist before MSK Connect starts workers with it.
    this.connector.node.addDependency(this.role);
  }

  private connectorConfiguration(props: DebeziumConnectorProps): Record<string, string> {
    const source = props.sqlServer;
    const secretRef = (field: string) => `\${${SECRETS_MANAGER_CONFIG_PROVIDER}:${source.secret.secretName}:${field}}`;
    const iamClient = (prefix: string): Record<string, string> => ({
      [`${prefix}.security.protocol`]: 'SASL_SSL',
      [`${prefix}.sasl.mechanism`]: 'AWS_MSK_IAM',
      [`${prefix}.sasl.jaas.config`]: IAM_LOGIN_MODULE,
      [`${prefix}.sasl.client.callback.handler.class`]: IAM_CALLBACK_HANDLER,
    });
    return {
      'connector.class': 'io.debezium.connector.sqlserver.SqlServerConnector',
      'tasks.max': String(props.tasksMax ?? 1),
      'database.hostname': source.hostname,
      'database.port': String(source.port ?? 1433),
      'database.user': secretRef(source.usernameField ?? 'username'),
      'database.password': secretRef(source.passwordField ?? 'password'),
      'database.names': source.databaseNames.join(','),
      'database.encrypt': 'true',
      'database.trustServerCertificate': String(source.trustServerCertificate ?? false),
      'table.include.list': source.tableIncludeList.join(','),
      'topic.prefix': this.topicPrefix,
      // MSK clusters here refuse auto topic creation; Kafka Connect creates change topics with these settings.
      'topic.creation.default.partitions': String(props.topicCreation?.partitions ?? 1),
      'topic.creation.default.replication.factor': String(props.topicCreation?.replicationFactor ?? 3),
      // Any topic-level config can be set for the default creation group; without these the broker
      // defaults apply (retention.ms 7 days, but segment.ms 7 days too: records could live 14 days).
      ...changeTopicRetentionConfig(props.changeTopicRetention),
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'false',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'false',
      'schema.history.internal.kafka.bootstrap.servers': props.cluster.bootstrapBrokersIam,
      'schema.history.internal.kafka.topic': props.schemaHistoryTopic,
      ...iamClient('schema.history.internal.producer'),
      ...iamClient('schema.history.internal.consumer'),
      // A fixed group, so that the service role can name it instead of allowing every group.
      'schema.history.internal.consumer.group.id': this.schemaHistoryGroup,
      // MSK Connect otherwise restarts connectors that use config providers periodically; restart after rotating the secret.
      'config.action.reload': 'none',
    };
  }

  private grantKafkaAccess(props: DebeziumConnectorProps): void {
    const cluster = props.cluster;
    const add = (sid: string, actions: string[], resources: string[]) => this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources }));

    add(
      'ConnectToCluster',
      [KafkaClusterActions.CONNECT, KafkaClusterActions.DESCRIBE_CLUSTER, KafkaClusterActions.WRITE_DATA_IDEMPOTENTLY],
      [cluster.clusterArn],
    );

    const changeTopics = [kafkaTopicArn(cluster, this.topicPrefix), clusterScopedWildcardArn(cluster, 'topic', `${this.topicPrefix}.*`)];
    add('WriteChangeTopics', [KafkaClusterActions.CREATE_TOPIC, KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.WRITE_DATA], changeTopics);
    add(
      'UseSchemaHistoryTopic',
      [
        KafkaClusterActions.CREATE_TOPIC,
        KafkaClusterActions.DESCRIBE_TOPIC,
        KafkaClusterActions.DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION,
        KafkaClusterActions.READ_DATA,
        KafkaClusterActions.WRITE_DATA,
      ],
      [kafkaTopicArn(cluster, props.schemaHistoryTopic)],
    );
    const internalTopics = clusterScopedWildcardArn(cluster, 'topic', '__amazon_msk_connect_*');
    add(
      'UseConnectInternalTopics',
      [KafkaClusterActions.CREATE_TOPIC, KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.READ_DATA, KafkaClusterActions.WRITE_DATA],
      [internalTopics],
    );
    const internalGroups = clusterScopedWildcardArn(cluster, 'group', '__amazon_msk_connect_*');
    add(
      'UseOwnGroups',
      [KafkaClusterActions.DESCRIBE_GROUP, KafkaClusterActions.ALTER_GROUP],
      [kafkaGroupArn(cluster, `connect-${this.connectorName}`), kafkaGroupArn(cluster, this.schemaHistoryGroup), internalGroups],
    );

    acknowledgeWildcardResources(this, [
      [
        changeTopics[1],
        `Debezium creates one topic per captured table, named ${this.topicPrefix}.<database>.<schema>.<table>; tables are added without redeploying, so the grant covers that prefix only.`,
      ],
      [
        internalTopics,
        'MSK Connect names its config, offset and status topics __amazon_msk_connect_*_<connector>_<generated id>; the id is only known after creation.',
      ],
      [internalGroups, 'MSK Connect workers join a group named __amazon_msk_connect_*_<generated id>, only known after creation.'],
    ]);
  }
}

/** arn:...:<topic|group>/<cluster name>/<cluster uuid>/<pattern> for a trailing-wildcard pattern. */
function clusterScopedWildcardArn(cluster: KafkaClusterRef, resourceType: 'topic' | 'group', pattern: string): string {
  const prefix = Token.isUnresolved(cluster.clusterArn)
    ? Fn.select(0, Fn.split(':cluster/', cluster.clusterArn))
    : cluster.clusterArn.slice(0, cluster.clusterArn.indexOf(':cluster/'));
  return Fn.join('', [prefix, `:${resourceType}/`, cluster.clusterName, '/', kafkaClusterUuid(cluster.clusterArn), `/${pattern}`]);
}

/** Acknowledges AwsSolutions-IAM5 for exactly these wildcard resources, once references are rendered. */
function acknowledgeWildcardResources(scope: Construct, resources: Array<[string, string]>): void {
  const acknowledgements = new WildcardAcknowledgements(scope);
  for (const [resource, reason] of resources) acknowledgements.add(resource, reason);
}

function workerConfiguration(region: string): Record<string, string> {
  return {
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'config.providers': SECRETS_MANAGER_CONFIG_PROVIDER,
    [`config.providers.${SECRETS_MANAGER_CONFIG_PROVIDER}.class`]: SECRETS_MANAGER_CONFIG_PROVIDER_CLASS,
    [`config.providers.${SECRETS_MANAGER_CONFIG_PROVIDER}.param.region`]: region,
    // The provider's default ('ignore') would hand the connector an empty password when the secret is missing.
    [`config.providers.${SECRETS_MANAGER_CONFIG_PROVIDER}.param.NotFoundStrategy`]: 'fail',
  };
}

function renderProperties(properties: Record<string, string>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

function shortHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

interface ResolvedCapacity {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly mcuCount: number;
  readonly scaleInCpuPercent: number;
  readonly scaleOutCpuPercent: number;
}

function resolveCapacity(capacity: DebeziumCapacity = {}): ResolvedCapacity {
  const resolved = {
    minWorkers: capacity.minWorkers ?? 1,
    maxWorkers: capacity.maxWorkers ?? 2,
    mcuCount: capacity.mcuCount ?? 1,
    scaleInCpuPercent: capacity.scaleInCpuPercent ?? 20,
    scaleOutCpuPercent: capacity.scaleOutCpuPercent ?? 80,
  };
  const fail = (field: string, allowed: string) => {
    throw new Error(
      `DebeziumConnector capacity.${field} = ${JSON.stringify((resolved as Record<string, number>)[field])} is not allowed (allowed: ${allowed})`,
    );
  };
  if (!Number.isInteger(resolved.minWorkers) || resolved.minWorkers < 1 || resolved.minWorkers > 10) fail('minWorkers', 'an integer from 1 to 10');
  if (!Number.isInteger(resolved.maxWorkers) || resolved.maxWorkers < resolved.minWorkers || resolved.maxWorkers > 10) {
    fail('maxWorkers', `an integer from minWorkers (${resolved.minWorkers}) to 10`);
  }
  if (!VALID_MCU_COUNTS.includes(resolved.mcuCount)) fail('mcuCount', VALID_MCU_COUNTS.join(', '));
  if (!Number.isInteger(resolved.scaleInCpuPercent) || resolved.scaleInCpuPercent < 1 || resolved.scaleInCpuPercent > 100)
    fail('scaleInCpuPercent', 'an integer from 1 to 100');
  if (!Number.isInteger(resolved.scaleOutCpuPercent) || resolved.scaleOutCpuPercent <= resolved.scaleInCpuPercent || resolved.scaleOutCpuPercent > 100) {
    fail('scaleOutCpuPercent', `an integer above scaleInCpuPercent (${resolved.scaleInCpuPercent}) up to 100`);
  }
  return resolved;
}

function validateProps(props: DebeziumConnectorProps, connectorName: string, topicPrefix: string): void {
  const fail = (field: string, value: unknown, allowed: string): never => {
    throw new Error(`DebeziumConnector ${field} = ${JSON.stringify(value)} is not allowed (allowed: ${allowed})`);
  };
  if (!CONNECTOR_NAME_PATTERN.test(connectorName)) fail('connectorName', connectorName, '1 to 100 characters from a-z A-Z 0-9 -');
  if (!TOPIC_PREFIX_PATTERN.test(topicPrefix)) fail('topicPrefix', topicPrefix, 'dot-separated words of a-z A-Z 0-9 _ -, no wildcards');
  const { sqlServer } = props;
  if (sqlServer.databaseNames.length === 0 || sqlServer.databaseNames.some((name) => !/^[^,\s]+$/.test(name))) {
    fail('sqlServer.databaseNames', sqlServer.databaseNames, 'at least one database name without commas or spaces');
  }
  if (sqlServer.tableIncludeList.length === 0 || sqlServer.tableIncludeList.some((table) => !/^[^,\s]+\.[^,\s]+$/.test(table))) {
    fail('sqlServer.tableIncludeList', sqlServer.tableIncludeList, 'at least one schema.table entry without commas or spaces');
  }
  const port = sqlServer.port ?? 1433;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('sqlServer.port', port, 'an integer from 1 to 65535');
  const tasksMax = props.tasksMax ?? 1;
  if (!Number.isInteger(tasksMax) || tasksMax < 1 || tasksMax > sqlServer.databaseNames.length) {
    fail('tasksMax', tasksMax, `an integer from 1 to the number of databases (${sqlServer.databaseNames.length})`);
  }
  const partitions = props.topicCreation?.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) fail('topicCreation.partitions', partitions, 'an integer of at least 1');
  const replicationFactor = props.topicCreation?.replicationFactor ?? 3;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) fail('topicCreation.replicationFactor', replicationFactor, 'an integer of at least 1');
}

const DAY_MS = 86_400_000;

/** The `topic.creation.default.*` settings that bound how long a change event lives (retention plus one segment). */
export function changeTopicRetentionConfig(retention: DebeziumConnectorProps['changeTopicRetention']): Record<string, string> {
  const retentionMs = retention?.retentionMs ?? 7 * DAY_MS;
  const segmentMs = retention?.segmentMs ?? DAY_MS;
  for (const [field, value] of [
    ['retentionMs', retentionMs],
    ['segmentMs', segmentMs],
  ] as const) {
    // -1 (infinite retention) or a fraction would leave personal data unbounded or be refused by the broker.
    if (!Number.isSafeInteger(value) || value < 60_000)
      throw new Error(`DebeziumConnector: changeTopicRetention.${field} must be a whole number of milliseconds of at least 60000, got ${value}`);
  }
  return {
    'topic.creation.default.cleanup.policy': 'delete',
    'topic.creation.default.retention.ms': String(retentionMs),
    'topic.creation.default.segment.ms': String(segmentMs),
  };
}
