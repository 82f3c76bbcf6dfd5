import { CustomResource, Duration, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';
import { KafkaClusterActions, KafkaTopic, kafkaTopicArn, validateKafkaClusterRef, type KafkaClusterRef } from './kafka-access';
import { findTopicSpecErrors, topicNameSchema, topicSpecSchema, type TopicSpec } from '../../contracts/topic-spec';

export interface KafkaTopicsProps {
  /** VPC of the MSK cluster; the topic manager runs in it. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the topic manager. @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security group of the topic manager; the cluster must accept it on TCP 9098 (IAM listener). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** ARN of the MSK cluster (a token is fine). */
  readonly clusterArn: string;
  /** Name of the MSK cluster, as in its ARN. */
  readonly clusterName: string;
  /** Number of brokers: no topic may have a higher replication factor. */
  readonly brokerCount: number;
  /**
   * The IAM bootstrap broker string (`host:9098,...`), e.g. `KafkaBrokerDiscovery.bootstrapBrokers`
   * of this stack. It is a resource property, so a new broker list re-runs the resource against
   * the new cluster; never an SSM dynamic reference, which CloudFormation does not re-resolve.
   */
  readonly bootstrapBrokers: string;
  /** The topics the cluster must have. */
  readonly topics: TopicSpec[];
  /**
   * Whether the topic manager may delete topics: ones removed from `topics` (or named in
   * `retiredTopicNames`), and all of them when this resource is deleted. Data is lost; keep false
   * for production.
   */
  readonly allowDelete: boolean;
  /**
   * Names taken out of `topics` that should still be deleted (when `allowDelete`). The manager's
   * IAM grant covers exact topic names only, so a topic it may delete must be named here or in `topics`.
   * @default none
   */
  readonly retiredTopicNames?: string[];
  /** KMS key for the topic manager's logs and environment (the environment's logs key). */
  readonly encryptionKey: kms.IKey;
  /** Retention of the topic manager's logs. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * Kafka topics as code: a custom resource whose Lambda (in the VPC, MSK IAM auth) creates the
 * declared topics, raises partitions, aligns configs, refuses impossible changes and deletes
 * topics only where allowed. Grants go through `topic(name)`.
 */
export class KafkaTopics extends Construct {
  public readonly topicNames: string[];
  public readonly cluster: KafkaClusterRef;
  public readonly handler: LakestreamFunction;
  public readonly provider: LakestreamProvider;
  /** The custom resource: depend on it to start producers or consumers after the topics exist. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: KafkaTopicsProps) {
    super(scope, id);
    const topics = validateProps(this.node.path, props);
    const retired = props.retiredTopicNames ?? [];
    this.topicNames = topics.map((t) => t.name);
    this.cluster = { clusterArn: props.clusterArn, clusterName: props.clusterName };

    this.handler = new LakestreamFunction(this, 'Handler', {
      handlerDir: 'topic-manager',
      description: `Creates and updates the Kafka topics of MSK cluster ${Token.isUnresolved(props.clusterName) ? '' : props.clusterName}`.trim(),
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      timeout: Duration.minutes(5),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
    });
    this.grantTopicManagement(this.handler.function, props, retired);

    this.provider = new LakestreamProvider(this, 'Provider', {
      onEvent: this.handler,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::KafkaTopics',
      properties: {
        ClusterName: props.clusterName,
        // The broker list itself: the function needs no lookup, and a replaced cluster changes the properties, which re-runs the resource.
        BootstrapBrokers: props.bootstrapBrokers,
        Topics: JSON.stringify(topics),
        RetiredTopics: JSON.stringify(retired),
        AllowDelete: String(props.allowDelete),
      },
    });

    const role = this.handler.function.role;
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed policy only lets the topic manager write its own logs.',
      });
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS managed policy only manages the network interfaces the topic manager needs to reach the brokers inside the VPC.',
      });
    }
  }

  /** A grant handle on a declared topic. */
  public topic(name: string): KafkaTopic {
    if (!this.topicNames.includes(name)) {
      throw new Error(`${this.node.path}: topic "${name}" is not declared (declared: ${this.topicNames.join(', ')})`);
    }
    return new KafkaTopic(this.cluster, name);
  }

  private grantTopicManagement(fn: iam.IGrantable, props: KafkaTopicsProps, retired: string[]): void {
    const topicActions: string[] = [
      KafkaClusterActions.CREATE_TOPIC,
      KafkaClusterActions.DESCRIBE_TOPIC,
      KafkaClusterActions.ALTER_TOPIC,
      KafkaClusterActions.DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION,
      KafkaClusterActions.ALTER_TOPIC_DYNAMIC_CONFIGURATION,
    ];
    if (props.allowDelete) topicActions.push(KafkaClusterActions.DELETE_TOPIC);

    const statements = [
      new iam.PolicyStatement({ actions: [KafkaClusterActions.CONNECT, KafkaClusterActions.DESCRIBE_CLUSTER], resources: [props.clusterArn] }),
    ];
    if (this.topicNames.length > 0) {
      statements.push(new iam.PolicyStatement({ actions: topicActions, resources: this.topicNames.map((n) => kafkaTopicArn(this.cluster, n)) }));
    }
    // Retired topics are only found and deleted, never created or altered again.
    if (props.allowDelete && retired.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: [KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.DELETE_TOPIC],
          resources: retired.map((n) => kafkaTopicArn(this.cluster, n)),
        }),
      );
    }
    for (const statement of statements) fn.grantPrincipal.addToPrincipalPolicy(statement);
  }
}

/** Every synth-time check, reported together so one run shows all mistakes. */
function validateProps(path: string, props: KafkaTopicsProps): TopicSpec[] {
  const errors: string[] = [];
  try {
    validateKafkaClusterRef({ clusterArn: props.clusterArn, clusterName: props.clusterName });
  } catch (error) {
    errors.push((error as Error).message);
  }
  const brokerCountKnown = !Token.isUnresolved(props.brokerCount);
  if (brokerCountKnown && (!Number.isInteger(props.brokerCount) || props.brokerCount < 1)) {
    errors.push(`brokerCount = ${props.brokerCount} is not allowed (allowed: an integer >= 1)`);
  }
  errors.push(...findTopicSpecErrors(props.topics, brokerCountKnown && props.brokerCount >= 1 ? { brokerCount: props.brokerCount } : {}));

  const declared = new Set(props.topics.map((t) => t.name));
  const seen = new Set<string>();
  for (const name of props.retiredTopicNames ?? []) {
    if (!topicNameSchema.safeParse(name).success) {
      errors.push(`retiredTopicNames: ${JSON.stringify(name)} is not allowed (allowed: 1 to 249 characters from a-z A-Z 0-9 . _ -, not '.' or '..')`);
    } else if (declared.has(name)) {
      errors.push(`retiredTopicNames: "${name}" is not allowed (allowed: names that are not also declared in topics)`);
    } else if (seen.has(name)) {
      errors.push(`retiredTopicNames: "${name}" is listed twice (allowed: each name once)`);
    }
    seen.add(name);
  }
  if (errors.length > 0) throw new Error(`${path}: invalid topic declaration: ${errors.join('; ')}`);
  // Normalized through the schema, so the resource properties hold exactly the validated fields.
  return props.topics.map((t) => topicSpecSchema.parse(t));
}
