/**
 * Turns kafkajs errors into CloudFormation-readable reasons. kafkajs wraps broker error codes in
 * retry and aggregate errors, so the broker's error type is looked up along the cause chain.
 */

/** Why the broker may answer with a given error, and what to do about it. */
const HINTS: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: "the topic manager's role has no kafka-cluster permission on this topic: it is granted the declared and retired topic names only",
  CLUSTER_AUTHORIZATION_FAILED: "the topic manager's role lacks kafka-cluster:Connect or kafka-cluster:DescribeCluster on the cluster",
  INVALID_REPLICATION_FACTOR: 'the replication factor is above the number of brokers that are up',
  INVALID_PARTITIONS: 'the partition count is not accepted by the broker',
  INVALID_CONFIG: 'the broker rejected a config name or value; check the topic configs',
  POLICY_VIOLATION: 'a broker-side create-topic policy refused the request',
  TOPIC_DELETION_DISABLED: 'the cluster runs with delete.topic.enable=false',
  REQUEST_TIMED_OUT: 'the controller did not finish in time; the change may still complete, and a retry converges',
  NOT_CONTROLLER: 'the controller moved during the request; a retry converges',
};

interface KafkaLikeError {
  readonly name?: string;
  readonly message?: string;
  readonly type?: string;
  readonly topic?: string;
  readonly cause?: unknown;
  readonly errors?: unknown[];
}

function asKafkaError(error: unknown): KafkaLikeError | undefined {
  return typeof error === 'object' && error !== null ? (error as KafkaLikeError) : undefined;
}

/** The broker error type (e.g. TOPIC_AUTHORIZATION_FAILED) carried anywhere along the cause chain. */
export function kafkaErrorType(error: unknown): string | undefined {
  let current = asKafkaError(error);
  for (let depth = 0; current && depth < 8; depth += 1) {
    if (typeof current.type === 'string') return current.type;
    if (Array.isArray(current.errors) && current.errors.length > 0) {
      const inner = current.errors.map(kafkaErrorType).find((type) => type !== undefined);
      if (inner) return inner;
    }
    current = asKafkaError(current.cause);
  }
  return undefined;
}

/** True when Kafka says the topic does not exist (idempotent deletes treat that as success). */
export function isUnknownTopic(error: unknown): boolean {
  return kafkaErrorType(error) === 'UNKNOWN_TOPIC_OR_PARTITION';
}

function describeOne(error: unknown): string {
  const e = asKafkaError(error);
  if (!e) return String(error);
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.map(describeOne).join('; ');
  const type = kafkaErrorType(e);
  const topic = typeof e.topic === 'string' ? `topic "${e.topic}": ` : '';
  const hint = type ? HINTS[type] : undefined;
  return `${topic}${type ?? e.name ?? 'Error'}: ${e.message ?? ''}${hint ? ` (${hint})` : ''}`;
}

/** `<operation> failed on cluster <name>: <broker error type>: <message> (<hint>)`. */
export function explainKafkaError(operation: string, clusterName: string, error: unknown): string {
  return `${operation} failed on cluster ${clusterName}: ${describeOne(error)}`;
}

/** The reason given when the first contact with the brokers fails. */
export function explainConnectionError(clusterName: string, brokers: readonly string[], error: unknown): string {
  const e = asKafkaError(error);
  const authentication = [e?.name, asKafkaError(e?.cause)?.name].includes('KafkaJSSASLAuthenticationError');
  const advice = authentication
    ? "IAM authentication was refused: check the role's kafka-cluster:Connect permission on the cluster ARN and that the cluster has IAM authentication on"
    : 'check that the cluster is ACTIVE, that the topic manager runs in the cluster VPC, and that its security group may reach the brokers on TCP 9098';
  return `Cannot connect to Kafka cluster ${clusterName} through ${brokers.join(',')}: ${describeOne(error)}. ${advice}.`;
}

const CONNECTION_ERROR_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'TimeBudgetError',
]);
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Why the cluster could not be reached, when that is the whole story: a DNS name that no longer
 * resolves (MSK removes the broker records with the cluster), a refused or timed-out connection,
 * or a step that outlived its time budget. Undefined when any broker answered with an error of its
 * own (authorization, a refused deletion): a cluster that answers is not gone.
 */
export function unreachableReason(error: unknown): string | undefined {
  let reason: string | undefined;
  const visit = (value: unknown, depth: number): boolean => {
    const e = asKafkaError(value);
    if (!e || depth > 8) return true;
    if (typeof e.type === 'string' || e.name === 'KafkaJSSASLAuthenticationError') return false;
    const code = (value as { code?: unknown }).code;
    if (reason === undefined && ((e.name && CONNECTION_ERROR_NAMES.has(e.name)) || (typeof code === 'string' && NETWORK_CODES.has(code)))) {
      reason = `${typeof code === 'string' ? `${code}: ` : ''}${e.name ?? 'Error'}: ${e.message ?? ''}`;
    }
    if (Array.isArray(e.errors) && !e.errors.every((inner) => visit(inner, depth + 1))) return false;
    return visit(e.cause, depth + 1);
  };
  return visit(error, 0) ? reason : undefined;
}
