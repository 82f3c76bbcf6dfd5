import { Fn, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { topicNameSchema } from '../../contracts/topic-spec';

/**
 * Least-privilege MSK IAM access. MSK authorizes every Kafka request against `kafka-cluster:*`
 * actions on cluster, topic and group ARNs, so a producer or consumer gets exactly its topic and
 * group, by exact name, never a wildcard.
 */

/** What grants need to know about an MSK cluster (KafkaCluster satisfies it). */
export interface KafkaClusterRef {
  /** arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>; may be a token. */
  readonly clusterArn: string;
  /** The cluster name, as in its ARN. */
  readonly clusterName: string;
}

/** kafka-cluster IAM actions (Service Authorization Reference, "Apache Kafka APIs for Amazon MSK clusters"). */
export const KafkaClusterActions = {
  CONNECT: 'kafka-cluster:Connect',
  DESCRIBE_CLUSTER: 'kafka-cluster:DescribeCluster',
  WRITE_DATA_IDEMPOTENTLY: 'kafka-cluster:WriteDataIdempotently',
  CREATE_TOPIC: 'kafka-cluster:CreateTopic',
  DESCRIBE_TOPIC: 'kafka-cluster:DescribeTopic',
  ALTER_TOPIC: 'kafka-cluster:AlterTopic',
  DELETE_TOPIC: 'kafka-cluster:DeleteTopic',
  DESCRIBE_TOPIC_DYNAMIC_CONFIGURATION: 'kafka-cluster:DescribeTopicDynamicConfiguration',
  ALTER_TOPIC_DYNAMIC_CONFIGURATION: 'kafka-cluster:AlterTopicDynamicConfiguration',
  READ_DATA: 'kafka-cluster:ReadData',
  WRITE_DATA: 'kafka-cluster:WriteData',
  DESCRIBE_GROUP: 'kafka-cluster:DescribeGroup',
  ALTER_GROUP: 'kafka-cluster:AlterGroup',
} as const;

const CLUSTER_ARN_PATTERN = /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/;
/** Group names are free-form in Kafka; the subset allowed here cannot carry IAM wildcards ('*', '?'). */
const GROUP_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,255}$/;

/** The cluster UUID: the last segment of the cluster ARN. */
export function kafkaClusterUuid(clusterArn: string): string {
  if (Token.isUnresolved(clusterArn)) return Fn.select(2, Fn.split('/', clusterArn));
  return parseClusterArn(clusterArn).uuid;
}

/** arn:<partition>:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic>. */
export function kafkaTopicArn(cluster: KafkaClusterRef, topicName: string): string {
  return clusterScopedArn(
    cluster,
    'topic',
    requireExactName('topic', topicName, (n) => topicNameSchema.safeParse(n).success, "1 to 249 characters from a-z A-Z 0-9 . _ -, not '.' or '..'"),
  );
}

/** arn:<partition>:kafka:<region>:<account>:group/<cluster name>/<cluster uuid>/<group>. */
export function kafkaGroupArn(cluster: KafkaClusterRef, groupName: string): string {
  return clusterScopedArn(
    cluster,
    'group',
    requireExactName('consumer group', groupName, (n) => GROUP_NAME_PATTERN.test(n), '1 to 255 characters from a-z A-Z 0-9 . _ -'),
  );
}

export interface GrantWriteOptions {
  /**
   * Also allow idempotent writes (cluster-level WriteDataIdempotently). Java clients (Flink, Spark,
   * Kafka Connect) enable idempotence by default since Kafka 3.0.
   * @default true
   */
  readonly idempotent?: boolean;
}

/** A handle on one topic of one cluster, for grants. */
export class KafkaTopic {
  public readonly topicArn: string;

  constructor(
    public readonly cluster: KafkaClusterRef,
    public readonly topicName: string,
  ) {
    this.topicArn = kafkaTopicArn(cluster, topicName);
  }

  /** Consume the topic as member of `consumerGroup` (commit offsets, join the group). */
  public grantRead(grantee: iam.IGrantable, consumerGroup: string): iam.Grant {
    return this.grantConnect(grantee)
      .combine(
        iam.Grant.addToPrincipal({ grantee, actions: [KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.READ_DATA], resourceArns: [this.topicArn] }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: [KafkaClusterActions.ALTER_GROUP, KafkaClusterActions.DESCRIBE_GROUP],
          resourceArns: [kafkaGroupArn(this.cluster, consumerGroup)],
        }),
      );
  }

  /**
   * Consume the topic as member of any group whose id starts with `groupIdPrefix`, for clients that
   * generate their group ids (Spark Structured Streaming names one per query: `<prefix>-<uuid>-...`).
   * The group ARN ends in `<prefix>*`; the caller acknowledges that wildcard with its reason.
   */
  public grantReadWithGroupPrefix(grantee: iam.IGrantable, groupIdPrefix: string): iam.Grant {
    if (!/^[A-Za-z0-9._-]{3,200}$/.test(groupIdPrefix)) {
      throw new Error(`groupIdPrefix = "${groupIdPrefix}" is not allowed (allowed: 3-200 characters of A-Z a-z 0-9 . _ -, no wildcards)`);
    }
    return this.grantConnect(grantee)
      .combine(
        iam.Grant.addToPrincipal({ grantee, actions: [KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.READ_DATA], resourceArns: [this.topicArn] }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: [KafkaClusterActions.ALTER_GROUP, KafkaClusterActions.DESCRIBE_GROUP],
          resourceArns: [`${kafkaGroupArn(this.cluster, groupIdPrefix)}*`],
        }),
      );
  }

  /** Produce to the topic. */
  public grantWrite(grantee: iam.IGrantable, options: GrantWriteOptions = {}): iam.Grant {
    return this.grantConnect(grantee, options.idempotent ?? true).combine(
      iam.Grant.addToPrincipal({ grantee, actions: [KafkaClusterActions.DESCRIBE_TOPIC, KafkaClusterActions.WRITE_DATA], resourceArns: [this.topicArn] }),
    );
  }

  private grantConnect(grantee: iam.IGrantable, idempotentWrites = false): iam.Grant {
    const actions: string[] = [KafkaClusterActions.CONNECT, KafkaClusterActions.DESCRIBE_CLUSTER];
    if (idempotentWrites) actions.push(KafkaClusterActions.WRITE_DATA_IDEMPOTENTLY);
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.cluster.clusterArn] });
  }
}

interface ParsedClusterArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly uuid: string;
}

function parseClusterArn(clusterArn: string): ParsedClusterArn {
  const match = CLUSTER_ARN_PATTERN.exec(clusterArn);
  if (!match) {
    throw new Error(`clusterArn = "${clusterArn}" is not allowed (allowed: arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>)`);
  }
  const [, partition, region, account, name, uuid] = match as unknown as [string, string, string, string, string, string];
  return { partition, region, account, name, uuid };
}

/** Throws when a literal cluster ARN is malformed or names another cluster than `clusterName`. */
export function validateKafkaClusterRef(cluster: KafkaClusterRef): void {
  if (Token.isUnresolved(cluster.clusterArn)) return;
  const arn = parseClusterArn(cluster.clusterArn);
  if (!Token.isUnresolved(cluster.clusterName) && arn.name !== cluster.clusterName) {
    throw new Error(`clusterName = "${cluster.clusterName}" is not allowed (allowed: "${arn.name}", the name in clusterArn ${cluster.clusterArn})`);
  }
}

function clusterScopedArn(cluster: KafkaClusterRef, resourceType: 'topic' | 'group', name: string): string {
  if (Token.isUnresolved(cluster.clusterArn)) {
    // Partition, region and account come from the cluster ARN itself, so a grant can never point elsewhere.
    const arnPrefix = Fn.select(0, Fn.split(':cluster/', cluster.clusterArn));
    return Fn.join('', [arnPrefix, `:${resourceType}/`, cluster.clusterName, '/', kafkaClusterUuid(cluster.clusterArn), `/${name}`]);
  }
  validateKafkaClusterRef(cluster);
  const arn = parseClusterArn(cluster.clusterArn);
  return `arn:${arn.partition}:kafka:${arn.region}:${arn.account}:${resourceType}/${cluster.clusterName}/${arn.uuid}/${name}`;
}

function requireExactName(what: string, name: string, valid: (name: string) => boolean, allowed: string): string {
  if (Token.isUnresolved(name)) {
    throw new Error(`${what} name ${name} is not allowed (allowed: a literal name known at synth, so the grant names it exactly)`);
  }
  if (!valid(name)) throw new Error(`${what} name = ${JSON.stringify(name)} is not allowed (allowed: ${allowed})`);
  return name;
}
