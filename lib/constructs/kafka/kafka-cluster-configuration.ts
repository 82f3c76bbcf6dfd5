/**
 * Builds and validates the `server.properties` of Lakestream's MSK cluster configuration.
 *
 * Pure: no CDK, no AWS. The construct calls it at synth so that a configuration that cannot work
 * on the given broker count fails before anything is deployed, with the field, the value and what
 * is allowed.
 */

/** A server.properties value as a caller may write it in typed config. */
export type ServerPropertyValue = string | number | boolean;

export interface ServerPropertiesOptions {
  /** Total number of brokers in the cluster (all AZs). MSK needs at least two (one per AZ, two AZs minimum). */
  readonly brokerCount: number;
  /**
   * Broker-level properties that replace or extend the defaults. Only properties MSK lets a custom
   * configuration set are accepted; settings that weaken durability or access control are refused.
   * @default none
   */
  readonly overrides?: Readonly<Record<string, ServerPropertyValue>>;
}

/**
 * Properties a custom MSK configuration may set (Amazon MSK Developer Guide, "Custom Amazon MSK
 * configurations"). MSK rejects anything else at deploy time; refusing it here fails faster.
 * ZooKeeper session tuning is left out on purpose: Lakestream's clusters default to KRaft mode.
 */
export const MSK_CONFIGURABLE_PROPERTIES: ReadonlySet<string> = new Set([
  'auto.create.topics.enable',
  'compression.type',
  'connections.max.idle.ms',
  'default.replication.factor',
  'delete.topic.enable',
  'group.initial.rebalance.delay.ms',
  'group.max.session.timeout.ms',
  'group.min.session.timeout.ms',
  'leader.imbalance.per.broker.percentage',
  'log.cleaner.delete.retention.ms',
  'log.cleaner.min.cleanable.ratio',
  'log.cleanup.policy',
  'log.flush.interval.messages',
  'log.flush.interval.ms',
  'log.message.timestamp.difference.max.ms',
  'log.message.timestamp.type',
  'log.retention.bytes',
  'log.retention.hours',
  'log.retention.minutes',
  'log.retention.ms',
  'log.roll.ms',
  'log.segment.bytes',
  'max.incremental.fetch.session.cache.slots',
  'message.max.bytes',
  'min.insync.replicas',
  'num.io.threads',
  'num.network.threads',
  'num.partitions',
  'num.recovery.threads.per.data.dir',
  'num.replica.fetchers',
  'offsets.retention.minutes',
  'offsets.topic.replication.factor',
  'replica.fetch.max.bytes',
  'replica.fetch.response.max.bytes',
  'replica.lag.time.max.ms',
  'replica.selector.class',
  'replica.socket.receive.buffer.bytes',
  'socket.receive.buffer.bytes',
  'socket.request.max.bytes',
  'socket.send.buffer.bytes',
  'transaction.max.timeout.ms',
  'transaction.state.log.min.isr',
  'transaction.state.log.replication.factor',
  'transactional.id.expiration.ms',
  'unclean.leader.election.enable',
]);

/**
 * Settings Lakestream never lets an override change, with the reason shown to the user.
 * `allow.everyone.if.no.acl.found` is refused rather than set: with IAM access control MSK ignores
 * it (authorization is IAM policy only), so any value would only suggest a protection that is not there.
 */
const FORBIDDEN_OVERRIDES: Readonly<Record<string, { readonly allowed: string; readonly reason: string }>> = {
  'auto.create.topics.enable': {
    allowed: 'false',
    reason: 'topics are declared in config and created by the topic manager; auto-creation would let a typo create a topic with default settings',
  },
  'unclean.leader.election.enable': {
    allowed: 'false',
    reason: 'electing an out-of-sync replica as leader silently loses acknowledged writes',
  },
  'allow.everyone.if.no.acl.found': {
    allowed: '(not set)',
    reason: 'the cluster uses IAM access control, where MSK ignores this setting; access is granted by IAM policies only',
  },
};

const MIN_BROKERS = 2;
const PREFERRED_REPLICATION_FACTOR = 3;
const PREFERRED_MIN_INSYNC_REPLICAS = 2;

/** Defaults for a durable cluster of `brokerCount` brokers: RF 3 / min ISR 2 where the broker count allows. */
export function defaultServerProperties(brokerCount: number): Map<string, string> {
  const replicationFactor = Math.min(PREFERRED_REPLICATION_FACTOR, brokerCount);
  const minInsyncReplicas = Math.max(1, Math.min(PREFERRED_MIN_INSYNC_REPLICAS, replicationFactor - 1));
  return new Map<string, string>([
    ['auto.create.topics.enable', 'false'],
    ['unclean.leader.election.enable', 'false'],
    ['default.replication.factor', String(replicationFactor)],
    ['min.insync.replicas', String(minInsyncReplicas)],
    // Internal topics follow the same durability; Kafka's default of 3 breaks consumer groups on a 2-broker cluster.
    ['offsets.topic.replication.factor', String(replicationFactor)],
    ['transaction.state.log.replication.factor', String(replicationFactor)],
    ['transaction.state.log.min.isr', String(minInsyncReplicas)],
    ['num.partitions', '3'],
    ['log.retention.hours', '168'],
    ['delete.topic.enable', 'true'],
  ]);
}

/**
 * The server.properties text for a cluster of `brokerCount` brokers: defaults, then `overrides`.
 * Throws an Error naming the field, its value and what is allowed when the result cannot work.
 */
export function buildServerProperties(options: ServerPropertiesOptions): string {
  const { brokerCount } = options;
  if (!Number.isInteger(brokerCount) || brokerCount < MIN_BROKERS) {
    throw new Error(`brokerCount is ${brokerCount}; allowed: an integer of at least ${MIN_BROKERS} (MSK spreads brokers over two or more AZs).`);
  }

  const properties = defaultServerProperties(brokerCount);
  const overrides = options.overrides ?? {};
  for (const key of Object.keys(overrides).sort()) {
    properties.set(key, validateOverride(key, overrides[key]));
  }

  validateReplication(properties, brokerCount, 'default.replication.factor', 'min.insync.replicas');
  validateReplication(properties, brokerCount, 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr');
  validateReplicationFactor(properties, brokerCount, 'offsets.topic.replication.factor');

  return `${[...properties].map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

function validateOverride(key: string, raw: ServerPropertyValue | undefined): string {
  const forbidden = FORBIDDEN_OVERRIDES[key];
  const value = String(raw);
  if (forbidden && value !== forbidden.allowed) {
    throw new Error(`serverProperties.${key} is '${value}'; allowed: ${forbidden.allowed}, because ${forbidden.reason}.`);
  }
  if (!MSK_CONFIGURABLE_PROPERTIES.has(key)) {
    throw new Error(
      `serverProperties.${key} is not a property an MSK custom configuration can set; allowed: one of ${[...MSK_CONFIGURABLE_PROPERTIES].join(', ')}.`,
    );
  }
  if (raw === undefined || value.trim() === '') {
    throw new Error(`serverProperties.${key} is empty; allowed: a non-empty value.`);
  }
  // A line break would smuggle further properties past the checks above.
  if (/[\r\n]/.test(value)) {
    throw new Error(`serverProperties.${key} contains a line break; allowed: a single-line value.`);
  }
  return value.trim();
}

function integerProperty(properties: Map<string, string>, key: string): number {
  const value = properties.get(key) ?? '';
  if (!/^\d+$/.test(value)) {
    throw new Error(`serverProperties.${key} is '${value}'; allowed: a positive integer.`);
  }
  return Number(value);
}

function validateReplicationFactor(properties: Map<string, string>, brokerCount: number, key: string): number {
  const replicationFactor = integerProperty(properties, key);
  if (replicationFactor > brokerCount) {
    throw new Error(
      `serverProperties.${key} is ${replicationFactor} but the cluster has ${brokerCount} brokers; allowed: 2 to ${brokerCount} (at most the broker count).`,
    );
  }
  if (replicationFactor < 2) {
    throw new Error(`serverProperties.${key} is ${replicationFactor}; allowed: 2 to ${brokerCount}, because a single copy is lost with its broker.`);
  }
  return replicationFactor;
}

function validateReplication(properties: Map<string, string>, brokerCount: number, rfKey: string, minIsrKey: string): void {
  const replicationFactor = validateReplicationFactor(properties, brokerCount, rfKey);
  const minInsyncReplicas = integerProperty(properties, minIsrKey);
  if (minInsyncReplicas < 1 || minInsyncReplicas >= replicationFactor) {
    throw new Error(
      `serverProperties.${minIsrKey} is ${minInsyncReplicas} with ${rfKey} ${replicationFactor}; allowed: 1 to ${replicationFactor - 1} ` +
        '(below the replication factor, so that writes with acks=all survive one broker being down for maintenance).',
    );
  }
}
