import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { retentionOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import { cdcTopicRetention } from '../config/personal-data';
import { ArtifactMirror } from '../constructs/artifacts/artifact-mirror';
import { FileReplay } from '../constructs/ingestion/file-replay';
import { Ga4Ingest } from '../constructs/ingestion/ga4-ingest';
import { DebeziumConnector } from '../constructs/kafka/debezium-connector';
import type { KafkaBrokerDiscovery } from '../constructs/kafka/kafka-broker-discovery';
import type { KafkaCluster } from '../constructs/kafka/kafka-cluster';
import { KafkaTopics } from '../constructs/kafka/kafka-topics';
import { CDC_TOPIC_PREFIX, TOPIC_NAMES, defaultPlatformTopics } from '../contracts/topic-spec';
import type { LakeStorage } from '../constructs/lake/lake-storage';
import type { PlatformNetwork } from '../constructs/network/platform-network';
import type { PlatformKeys } from '../constructs/security/platform-keys';
import { platformArtifacts } from './platform-artifacts';

/** The bundle the Debezium connector runs from (see jobs/artifacts.json). */
export const DEBEZIUM_PLUGIN_BUNDLE = 'debezium-sqlserver-plugin';

export interface StreamingStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  readonly keys: PlatformKeys;
  readonly network: PlatformNetwork;
  readonly kafka: KafkaCluster;
  readonly lake: LakeStorage;
}

/**
 * Everything that puts events on Kafka or declares where they go: the topics (custom resource),
 * the artifact mirror (the third-party jars of the parts this environment builds), the Debezium
 * CDC connector (when a SQL Server source is configured) and the GA4 ingest (when a property is
 * configured).
 */
export class StreamingStack extends Stack {
  public readonly topics: KafkaTopics;
  /** Absent only when the environment builds none of Flink, the Spark streaming job and Debezium. */
  public readonly artifacts?: ArtifactMirror;
  public readonly debezium?: DebeziumConnector;
  public readonly ga4?: Ga4Ingest;
  public readonly fileReplay: FileReplay;
  /** The cluster's brokers, discovered in this stack; every Kafka client here reads them. */
  public readonly brokers: KafkaBrokerDiscovery;

  constructor(scope: Construct, id: string, props: StreamingStackProps) {
    super(scope, id, props);
    const { config, keys, network, kafka } = props;
    const logRetention = retentionOf(config.logRetentionDays);
    const replicationFactor = Math.min(config.kafka.defaultReplicationFactor, kafka.brokerCount);
    // In this stack, so a replaced or resized cluster reaches the topics, Lambdas and Debezium (only the ARN crosses stacks).
    this.brokers = kafka.discoverBrokers(this, 'BrokerDiscovery', { encryptionKey: keys.logs, logRetention });

    this.topics = new KafkaTopics(this, 'Topics', {
      vpc: network.vpc,
      vpcSubnets: network.computeSubnets,
      securityGroup: network.kafkaClientSecurityGroup,
      clusterArn: kafka.clusterArn,
      clusterName: kafka.clusterName,
      brokerCount: kafka.brokerCount,
      bootstrapBrokers: this.brokers.bootstrapBrokers,
      topics: defaultPlatformTopics({
        replicationFactor,
        partitions: config.kafka.defaultPartitions,
        countsRetentionMs: config.gdpr.countsRetentionDays * 86_400_000,
      }),
      allowDelete: config.kafka.allowTopicDeletion,
      encryptionKey: keys.logs,
      logRetention,
    });

    const mirrored = platformArtifacts(config);
    if (mirrored.artifacts.length > 0) {
      this.artifacts = new ArtifactMirror(this, 'Artifacts', {
        bucket: props.lake.artifacts,
        bucketKey: keys.lake,
        artifacts: mirrored.artifacts,
        bundles: mirrored.bundles,
        sourceBucketUri: config.artifactSourceBucketUri,
        encryptionKey: keys.logs,
        logRetention,
      });
    }

    this.fileReplay = new FileReplay(this, 'FileReplay', {
      landingBucket: props.lake.landing,
      landingKey: keys.lake,
      keyPrefix: 'incoming/',
      vpc: network.vpc,
      subnets: network.computeSubnets,
      securityGroup: network.kafkaClientSecurityGroup,
      bootstrapBrokers: this.brokers.bootstrapBrokers,
      topic: this.topics.topic(TOPIC_NAMES.filesReplay),
      logsKey: keys.logs,
      logRetention,
      queueEncryptionKey: keys.streaming,
    });
    this.fileReplay.node.addDependency(this.topics.resource);

    if (config.debezium && this.artifacts) {
      const source = config.debezium;
      const plugin = this.artifacts.artifact(DEBEZIUM_PLUGIN_BUNDLE);
      this.debezium = new DebeziumConnector(this, 'Debezium', {
        vpc: network.vpc,
        vpcSubnets: network.computeSubnets,
        securityGroup: network.kafkaClientSecurityGroup,
        cluster: { clusterArn: kafka.clusterArn, clusterName: kafka.clusterName, bootstrapBrokersIam: this.brokers.bootstrapBrokers },
        pluginBucket: props.lake.artifacts,
        pluginBucketKey: keys.lake,
        // The key waits for the mirror; the fingerprint (the parts' versions, known at synth) names a
        // new custom plugin whenever a version changes, because custom plugins cannot be updated in place.
        pluginKey: this.artifacts.objectKey(DEBEZIUM_PLUGIN_BUNDLE),
        pluginFingerprint: plugin.key,
        sqlServer: {
          hostname: source.hostname,
          port: source.port,
          databaseNames: source.databaseNames,
          tableIncludeList: source.tableIncludeList,
          secret: secretsmanager.Secret.fromSecretCompleteArn(this, 'SqlServerSecret', source.credentialsSecretArn),
        },
        topicPrefix: CDC_TOPIC_PREFIX,
        schemaHistoryTopic: TOPIC_NAMES.cdcSchemaHistory,
        changeTopicRetention: cdcTopicRetention(source),
        capacity: { minWorkers: source.minWorkers, maxWorkers: source.maxWorkers, mcuCount: source.mcuCount },
        encryptionKey: keys.logs,
        logRetention,
      });
      this.debezium.node.addDependency(this.topics.resource);
    }

    if (config.ga4) {
      this.ga4 = new Ga4Ingest(this, 'Ga4', {
        propertyId: config.ga4.propertyId,
        credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(this, 'Ga4Secret', config.ga4.credentialsSecretArn),
        scheduleInterval: Duration.minutes(config.ga4.scheduleMinutes),
        loginEventName: config.ga4.loginEventName,
        userIdDimension: config.ga4.userIdDimension,
        userIdMaxLength: config.ga4.userIdMaxLength,
        credentialsKey: config.ga4.credentialsKeyArn ? kms.Key.fromKeyArn(this, 'Ga4SecretKey', config.ga4.credentialsKeyArn) : undefined,
        passAges: config.ga4.passAgesMinutes?.map((minutes) => Duration.minutes(minutes)),
        maxQuietPeriod: config.ga4.maxQuietMinutes === undefined ? undefined : Duration.minutes(config.ga4.maxQuietMinutes),
        vpc: network.vpc,
        subnets: network.computeSubnets,
        securityGroup: network.kafkaClientSecurityGroup,
        internetSecurityGroup: network.internetEgressSecurityGroup,
        bootstrapBrokers: this.brokers.bootstrapBrokers,
        rawTopic: this.topics.topic(TOPIC_NAMES.loginsRaw),
        dlqTopic: this.topics.topic(TOPIC_NAMES.loginsRawDlq),
        logsKey: keys.logs,
        logRetention,
        queueEncryptionKey: keys.streaming,
      });
      this.ga4.node.addDependency(this.topics.resource);
    }
  }
}
