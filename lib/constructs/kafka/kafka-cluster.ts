import { Aws, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';
import { KafkaBrokerDiscovery } from './kafka-broker-discovery';
import { buildServerProperties, type ServerPropertyValue } from './kafka-cluster-configuration';

/** MSK enhanced monitoring levels (CloudWatch metric granularity; every level above DEFAULT is billed). */
export type EnhancedMonitoringLevel = 'DEFAULT' | 'PER_BROKER' | 'PER_TOPIC_PER_BROKER' | 'PER_TOPIC_PER_PARTITION';

/**
 * Kafka versions MSK supports for new provisioned clusters and that this construct accepts.
 * `.kraft` selects KRaft metadata mode, which can only be chosen at creation.
 */
export const SUPPORTED_KAFKA_VERSIONS = ['3.7.x', '3.7.x.kraft', '3.8.x', '3.8.x.kraft', '3.9.x', '3.9.x.kraft', '4.0.x.kraft', '4.1.x.kraft'] as const;

/**
 * MSK's recommended 3.x line, in KRaft mode: there is no ZooKeeper ensemble to secure (IAM access
 * control does not cover ZooKeeper), and no metadata-mode migration before Kafka 4, which dropped ZooKeeper.
 */
export const DEFAULT_KAFKA_VERSION = '3.8.x.kraft';

/** Port of the SASL/IAM listener over TLS: the only client listener this construct enables. */
export const IAM_TLS_PORT = 9098;
/** Open monitoring ports: Prometheus JMX exporter (11001) and node exporter (11002). */
export const JMX_EXPORTER_PORT = 11001;
export const NODE_EXPORTER_PORT = 11002;
/** MSK recommends a storage utilization target of 50-60%. */
const STORAGE_UTILIZATION_TARGET_PERCENT = 60;
const MAX_EBS_VOLUME_GIB = 16384;

export interface KafkaClusterProps {
  /** VPC whose private subnets hold the brokers' network interfaces. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the brokers: one per AZ, two or three AZs.
   * @default the VPC's private subnets with egress, one per AZ
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** MSK cluster name (letters, digits and hyphens, starting with a letter or digit, at most 64 characters). */
  readonly clusterName: string;
  /**
   * Kafka version, one of SUPPORTED_KAFKA_VERSIONS.
   * @default DEFAULT_KAFKA_VERSION ('3.8.x.kraft')
   */
  readonly kafkaVersion?: string;
  /** Total number of brokers: a multiple of the number of subnets (AZs). */
  readonly brokerCount: number;
  /** Broker instance type, e.g. 'kafka.t3.small' (dev) or 'kafka.m7g.large' (prod). */
  readonly instanceType: string;
  /**
   * EBS volume per broker at creation, in GiB (1-16384). Storage auto-scaling grows it later, and MSK
   * cannot shrink a volume: raise this value only above the size the cluster has already reached.
   */
  readonly ebsVolumeGiB: number;
  /** Ceiling of storage auto-scaling per broker, in GiB: above `ebsVolumeGiB`, at most 16384. */
  readonly storageAutoScalingMaxGiB: number;
  /**
   * CloudWatch metric granularity.
   * @default 'DEFAULT'
   */
  readonly enhancedMonitoring?: EnhancedMonitoringLevel;
  /** Customer-managed key encrypting broker storage at rest (the environment's streaming key). */
  readonly encryptionKey: kms.IKey;
  /** Customer-managed key of the broker log group and of the bootstrap-brokers function (the environment's logs key). */
  readonly logsKey: kms.IKey;
  /** How long broker logs and the bootstrap-brokers function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /**
   * What happens to the cluster, its configuration, security group and broker log group when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * server.properties settings replacing or extending the safe defaults (see buildServerProperties).
   * @default none
   */
  readonly serverProperties?: Readonly<Record<string, ServerPropertyValue>>;
  /** Fully qualified SSM parameter name the IAM bootstrap broker string is published to, e.g. '/lakestream/dev/msk/bootstrap-brokers-iam'. */
  readonly bootstrapBrokersParameterName: string;
}

/**
 * A provisioned Amazon MSK cluster with Lakestream's security defaults: IAM client authentication
 * only, TLS between clients and brokers and inside the cluster, storage encrypted with a
 * customer-managed key, broker logs in a KMS-encrypted log group, open monitoring for Prometheus,
 * storage auto-scaling, a validated server.properties, and the IAM bootstrap broker string published
 * to SSM Parameter Store for operators. Consumers discover the brokers in their own stack (`discoverBrokers`).
 */
export class KafkaCluster extends Construct {
  public readonly cluster: msk.CfnCluster;
  public readonly configuration: msk.CfnConfiguration;
  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly brokerCount: number;
  /** Attached to the brokers; no ingress until allowClientsFrom / allowMetricsScrapingFrom. */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  /** The server.properties text of the cluster configuration. */
  public readonly serverProperties: string;
  /**
   * Name of the SSM parameter holding the SASL/IAM bootstrap broker string, for operators and the
   * CLI (it references the publishing custom resource). Templates must not read the parameter:
   * CloudFormation does not re-resolve a changed value, and applies Fn::Split to the unresolved
   * reference. Consumers call `discoverBrokers` in their own stack instead.
   */
  public readonly bootstrapBrokersParameterName: string;
  /** Whether the cluster runs in KRaft metadata mode (controller metrics are then not on the brokers' exporter). */
  public readonly kraft: boolean;

  constructor(scope: Construct, id: string, props: KafkaClusterProps) {
    super(scope, id);

    validateClusterName(props.clusterName);
    const kafkaVersion = props.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
    validateKafkaVersion(kafkaVersion);
    this.kraft = kafkaVersion.endsWith('.kraft');
    validateInstanceType(props.instanceType);
    validateStorage(props.ebsVolumeGiB, props.storageAutoScalingMaxGiB);
    validateParameterName(props.bootstrapBrokersParameterName);

    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, onePerAz: true });
    validateSubnets(subnets);
    validateBrokerCount(props.brokerCount, subnets.subnetIds.length);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.clusterName = props.clusterName;
    this.brokerCount = props.brokerCount;
    this.serverProperties = buildServerProperties({ brokerCount: props.brokerCount, overrides: props.serverProperties });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `MSK brokers of ${props.clusterName}: IAM/TLS clients and Prometheus scrapers only`,
      // Brokers only answer connections (security groups are stateful); replication runs inside MSK's own network.
      allowAllOutbound: false,
    });
    this.securityGroup.applyRemovalPolicy(removalPolicy);

    // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' automatic log-delivery resource policy from growing per log group.
    this.logGroup = new logs.LogGroup(this, 'BrokerLogs', {
      logGroupName: `/aws/vendedlogs/msk/${props.clusterName}/broker`,
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy,
    });

    this.configuration = new msk.CfnConfiguration(this, 'Configuration', {
      name: `${props.clusterName}-config`,
      description: `Lakestream server.properties for ${props.clusterName} (${props.brokerCount} brokers)`,
      serverProperties: this.serverProperties,
      // No KafkaVersionsList: changing it replaces the configuration, which a version upgrade would then need.
    });
    this.configuration.applyRemovalPolicy(removalPolicy);

    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: props.clusterName,
      kafkaVersion,
      numberOfBrokerNodes: props.brokerCount,
      brokerNodeGroupInfo: {
        instanceType: props.instanceType,
        clientSubnets: subnets.subnetIds,
        securityGroups: [this.securityGroup.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: props.ebsVolumeGiB } },
        connectivityInfo: { publicAccess: { type: 'DISABLED' } },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true } },
        unauthenticated: { enabled: false },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: props.encryptionKey.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      configurationInfo: {
        arn: this.configuration.attrArn,
        revision: this.configuration.attrLatestRevisionRevision,
      },
      enhancedMonitoring: props.enhancedMonitoring ?? 'DEFAULT',
      openMonitoring: {
        prometheus: {
          jmxExporter: { enabledInBroker: true },
          nodeExporter: { enabledInBroker: true },
        },
      },
      loggingInfo: {
        brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: this.logGroup.logGroupName } },
      },
    });
    this.cluster.applyRemovalPolicy(removalPolicy);
    this.clusterArn = this.cluster.attrArn;

    this.addStorageAutoScaling(props.storageAutoScalingMaxGiB);
    this.bootstrapBrokersParameterName = this.publishBootstrapBrokers(props);
  }

  /**
   * The brokers, discovered by a custom resource in `scope`'s stack (the consumer's): only the
   * cluster ARN crosses stacks, and a replaced or resized cluster re-runs discovery.
   */
  public discoverBrokers(
    scope: Construct,
    id: string,
    options: { readonly encryptionKey: kms.IKey; readonly logRetention: logs.RetentionDays },
  ): KafkaBrokerDiscovery {
    return new KafkaBrokerDiscovery(scope, id, {
      clusterArn: this.clusterArn,
      clusterName: this.clusterName,
      brokerCount: this.brokerCount,
      ...options,
    });
  }

  /** Lets Kafka clients in `peer` reach the SASL/IAM TLS listener (9098) and nothing else. */
  public allowClientsFrom(peer: ec2.ISecurityGroup): void {
    // remoteRule: a peer in another (stateless) stack owns the rule, so the stateful stack never depends on it.
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(IAM_TLS_PORT), `Kafka clients (SASL/IAM over TLS) from ${peer.node.id}`, true);
  }

  /** Lets a Prometheus scraper in `peer` read the JMX (11001) and node (11002) exporters. */
  public allowMetricsScrapingFrom(peer: ec2.ISecurityGroup): void {
    this.securityGroup.addIngressRule(
      peer,
      ec2.Port.tcpRange(JMX_EXPORTER_PORT, NODE_EXPORTER_PORT),
      `Prometheus open monitoring scrape from ${peer.node.id}`,
      true,
    );
  }

  private addStorageAutoScaling(maxGiB: number): void {
    const target = new appscaling.ScalableTarget(this, 'StorageScaling', {
      serviceNamespace: appscaling.ServiceNamespace.KAFKA,
      scalableDimension: 'kafka:broker-storage:VolumeSize',
      resourceId: this.clusterArn,
      // MSK never shrinks storage; the minimum is only a required bound.
      minCapacity: 1,
      maxCapacity: maxGiB,
      // Application Auto Scaling acts through its MSK service-linked role; a role of our own would be unused.
      role: iam.Role.fromRoleArn(
        this,
        'StorageScalingServiceLinkedRole',
        `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/kafka.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_KafkaCluster`,
        { mutable: false },
      ),
    });
    target.scaleToTrackMetric('StorageUtilization', {
      predefinedMetric: appscaling.PredefinedMetric.KAFKA_BROKER_STORAGE_UTILIZATION,
      targetValue: STORAGE_UTILIZATION_TARGET_PERCENT,
      disableScaleIn: true,
    });
  }

  private publishBootstrapBrokers(props: KafkaClusterProps): string {
    const parameterName = props.bootstrapBrokersParameterName;
    const parameterArn = Stack.of(this).formatArn({ service: 'ssm', resource: `parameter${parameterName}` });

    const onEvent = new LakestreamFunction(this, 'BootstrapBrokersHandler', {
      handlerDir: 'bootstrap-brokers',
      description: `Publishes the SASL/IAM bootstrap brokers of MSK cluster ${props.clusterName} to SSM ${parameterName}`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      timeout: Duration.minutes(1),
    });
    onEvent.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.clusterArn] }));
    onEvent.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
        resources: [parameterArn],
      }),
    );

    const provider = new LakestreamProvider(this, 'BootstrapBrokersProvider', {
      onEvent,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
    });

    const publisher = new CustomResource(this, 'BootstrapBrokers', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MskBootstrapBrokers',
      properties: {
        ClusterArn: this.clusterArn,
        ParameterName: parameterName,
        BrokerCount: String(props.brokerCount),
      },
    });

    // The name comes back from the custom resource: whatever references it is created only after the parameter has been written.
    return publisher.getAttString('ParameterName');
  }
}

function validateClusterName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!/^[0-9A-Za-z][0-9A-Za-z-]{0,63}$/.test(name)) {
    throw new Error(`clusterName is '${name}'; allowed: 1-64 letters, digits and hyphens, starting with a letter or digit.`);
  }
}

function validateKafkaVersion(version: string): void {
  if (!(SUPPORTED_KAFKA_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(`kafkaVersion is '${version}'; allowed: one of ${SUPPORTED_KAFKA_VERSIONS.join(', ')}.`);
  }
}

function validateInstanceType(instanceType: string): void {
  if (!/^kafka\.[a-z0-9]+\.[a-z0-9]+$/.test(instanceType)) {
    throw new Error(`instanceType is '${instanceType}'; allowed: an MSK standard broker type such as 'kafka.t3.small' or 'kafka.m7g.large'.`);
  }
}

function validateStorage(ebsVolumeGiB: number, maxGiB: number): void {
  if (!Number.isInteger(ebsVolumeGiB) || ebsVolumeGiB < 1 || ebsVolumeGiB > MAX_EBS_VOLUME_GIB) {
    throw new Error(`ebsVolumeGiB is ${ebsVolumeGiB}; allowed: an integer from 1 to ${MAX_EBS_VOLUME_GIB}.`);
  }
  if (!Number.isInteger(maxGiB) || maxGiB <= ebsVolumeGiB || maxGiB > MAX_EBS_VOLUME_GIB) {
    throw new Error(
      `storageAutoScalingMaxGiB is ${maxGiB}; allowed: an integer above ebsVolumeGiB (${ebsVolumeGiB}) and at most ${MAX_EBS_VOLUME_GIB}, ` +
        'otherwise storage auto-scaling could never grow the volume.',
    );
  }
}

function validateParameterName(name: string): void {
  if (Token.isUnresolved(name)) {
    throw new Error('bootstrapBrokersParameterName must be a literal string: it is part of the IAM policy and of the parameter ARN.');
  }
  if (!/^\/[a-zA-Z0-9_.\-/]{1,1010}$/.test(name)) {
    throw new Error(`bootstrapBrokersParameterName is '${name}'; allowed: a fully qualified SSM name such as '/lakestream/dev/msk/bootstrap-brokers-iam'.`);
  }
}

function validateSubnets(subnets: ec2.SelectedSubnets): void {
  const count = subnets.subnetIds.length;
  if (count < 2 || count > 3) {
    throw new Error(`vpcSubnets selects ${count} subnets; allowed: 2 or 3 private subnets, one per AZ (MSK spreads brokers evenly over them).`);
  }
  const zones = subnets.availabilityZones.filter((zone) => !Token.isUnresolved(zone));
  if (new Set(zones).size !== zones.length) {
    throw new Error(`vpcSubnets selects several subnets in one AZ (${zones.join(', ')}); allowed: one subnet per AZ.`);
  }
}

function validateBrokerCount(brokerCount: number, azCount: number): void {
  if (!Number.isInteger(brokerCount) || brokerCount < azCount || brokerCount % azCount !== 0) {
    throw new Error(
      `brokerCount is ${brokerCount} but the cluster spans ${azCount} AZs; allowed: a positive multiple of ${azCount} (e.g. ${azCount}, ${azCount * 2}).`,
    );
  }
}
