import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { removalPolicyOf, retentionOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IAM_TLS_PORT, KafkaCluster } from '../constructs/kafka/kafka-cluster';
import { LakeCatalog } from '../constructs/lake/lake-catalog';
import { LakeStorage } from '../constructs/lake/lake-storage';
import { ErasureReceipts } from '../constructs/gdpr/erasure-receipts';
import { UserRefKey } from '../constructs/gdpr/user-ref-key';
import type { PlatformKeys } from '../constructs/security/platform-keys';
import type { PlatformNetwork } from '../constructs/network/platform-network';

export interface DataStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  readonly keys: PlatformKeys;
  readonly network: PlatformNetwork;
}

/**
 * Stateful data: lake buckets, Glue databases, the Athena workgroup (and, with the Kafka backbone,
 * the MSK cluster). Termination protection and RETAIN in prod; construct ids here are part of the
 * logical ids of stateful resources, so renaming one replaces data: don't.
 */
export class DataStack extends Stack {
  public readonly lake: LakeStorage;
  public readonly catalog: LakeCatalog;
  public readonly kafka: KafkaCluster;
  /** Write-once erasure receipts and the digest key (GDPR). */
  public readonly erasureReceipts: ErasureReceipts;
  /** Key of the pseudonymous user references the Spark jobs write (GDPR: dashboards without user ids). */
  public readonly userRefKey: UserRefKey;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    this.lake = new LakeStorage(this, 'Lake', {
      encryptionKey: props.keys.lake,
      lifecycle: config.lake,
      noncurrentVersionExpirationDays: config.lake.noncurrentVersionExpirationDays,
      queryResultsExpirationDays: config.lake.queryResultsExpirationDays,
      erasureWorkExpirationDays: config.gdpr.erasureDeadlineDays,
      abortIncompleteMultipartUploadDays: config.lake.abortIncompleteMultipartUploadDays,
      removalPolicy,
      autoDeleteObjects: config.autoDeleteObjects,
    });
    this.erasureReceipts = new ErasureReceipts(this, 'ErasureReceipts', {
      retentionDays: config.gdpr.receipts.retentionDays,
      lockMode: config.gdpr.receipts.lockMode,
      accessLogsBucket: this.lake.accessLogs,
    });
    this.userRefKey = new UserRefKey(this, 'UserRefKey', { secretName: `${config.qualifier}/user-ref-key`, removalPolicy });
    this.catalog = new LakeCatalog(this, 'Catalog', {
      qualifier: config.qualifier,
      tierBuckets: { landing: this.lake.landing, bronze: this.lake.bronze, silver: this.lake.silver, gold: this.lake.gold },
      queryResultsBucket: this.lake.queryResults,
      encryptionKey: props.keys.lake,
      removalPolicy,
      encryptCatalog: config.lake.catalogEncryption,
    });
    this.kafka = new KafkaCluster(this, 'Kafka', {
      vpc: props.network.vpc,
      vpcSubnets: props.network.dataSubnets,
      clusterName: config.qualifier,
      kafkaVersion: config.kafka.kafkaVersion,
      brokerCount: config.kafka.brokerCount,
      instanceType: config.kafka.instanceType,
      ebsVolumeGiB: config.kafka.ebsVolumeGiB,
      storageAutoScalingMaxGiB: config.kafka.storageAutoScalingMaxGiB,
      enhancedMonitoring: config.kafka.enhancedMonitoring,
      encryptionKey: props.keys.streaming,
      logsKey: props.keys.logs,
      logRetention: retentionOf(config.logRetentionDays),
      removalPolicy,
      bootstrapBrokersParameterName: `/${config.namePrefix}/${config.stageName}/msk/bootstrap-brokers-iam`,
    });
    // The client group lives in the network stack, which the data stack already depends on: keep the rule here.
    this.kafka.securityGroup.addIngressRule(props.network.kafkaClientSecurityGroup, ec2.Port.tcp(IAM_TLS_PORT), 'Kafka clients (SASL/IAM over TLS)');
    // The client group's egress to the brokers lives here, beside the brokers' group: in the network stack it would depend on this one.
    new ec2.CfnSecurityGroupEgress(this, 'KafkaClientsToBrokers', {
      groupId: props.network.kafkaClientSecurityGroup.securityGroupId,
      destinationSecurityGroupId: this.kafka.securityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: IAM_TLS_PORT,
      toPort: IAM_TLS_PORT,
      description: 'MSK brokers (SASL/IAM over TLS)',
    });
  }
}
