import * as z from 'zod';

/**
 * Kafka topics as code. This file is shared by the `KafkaTopics` construct (synth-time validation)
 * and the topic-manager Lambda (run-time validation), so it must depend on zod only: no aws-cdk-lib.
 */

/** A topic's declared shape. The topic manager converges the cluster to it. */
export interface TopicSpec {
  /** Kafka topic name: 1-249 characters from [a-zA-Z0-9._-], not '.' or '..'. */
  readonly name: string;
  /** Partition count. Can be raised later, never lowered. */
  readonly partitions: number;
  /** Replicas per partition. Fixed once the topic exists. */
  readonly replicationFactor: number;
  /** retention.ms; -1 keeps records forever. */
  readonly retentionMs: number;
  /** cleanup.policy. */
  readonly cleanupPolicy: CleanupPolicy;
  /** Other topic-level configs, e.g. min.insync.replicas, compression.type, max.message.bytes. */
  readonly configs?: Record<string, string>;
}

export const CLEANUP_POLICIES = ['delete', 'compact', 'compact,delete'] as const;
export type CleanupPolicy = (typeof CLEANUP_POLICIES)[number];

export const MAX_PARTITIONS = 10_000;
/** The wire protocol carries the replication factor as an int16. */
export const MAX_REPLICATION_FACTOR = 32_767;
const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;
const CONFIG_KEY_PATTERN = /^[a-z0-9]+([.-][a-z0-9]+)*$/;
/** Keys that have their own TopicSpec field; accepting them in `configs` too would make two sources of truth. */
const DEDICATED_CONFIG_KEYS: Record<string, keyof TopicSpec> = { 'retention.ms': 'retentionMs', 'cleanup.policy': 'cleanupPolicy' };

const ALLOWED_TOPIC_NAME = "1 to 249 characters from a-z A-Z 0-9 . _ -, and not '.' or '..'";

export const topicNameSchema = z
  .string({ error: ALLOWED_TOPIC_NAME })
  .regex(TOPIC_NAME_PATTERN, { error: ALLOWED_TOPIC_NAME })
  .refine((name) => name !== '.' && name !== '..', { error: ALLOWED_TOPIC_NAME });

const integerIn = (min: number, max: number, allowed: string) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });

export const topicSpecSchema = z
  .object({
    name: topicNameSchema,
    partitions: integerIn(1, MAX_PARTITIONS, `an integer from 1 to ${MAX_PARTITIONS}`),
    replicationFactor: integerIn(1, MAX_REPLICATION_FACTOR, `an integer from 1 to ${MAX_REPLICATION_FACTOR}`),
    retentionMs: z
      .number({ error: 'an integer of milliseconds >= 1, or -1 for infinite retention' })
      .int({ error: 'an integer of milliseconds >= 1, or -1 for infinite retention' })
      .refine((ms) => ms === -1 || ms >= 1, { error: 'an integer of milliseconds >= 1, or -1 for infinite retention' }),
    cleanupPolicy: z.enum(CLEANUP_POLICIES, { error: CLEANUP_POLICIES.map((p) => `'${p}'`).join(', ') }),
    configs: z
      .record(
        z
          .string()
          .regex(CONFIG_KEY_PATTERN, { error: 'lower-case dotted Kafka config names, e.g. min.insync.replicas' })
          .refine((key) => !(key in DEDICATED_CONFIG_KEYS), {
            error: 'config names other than retention.ms and cleanup.policy (use the retentionMs and cleanupPolicy fields)',
          }),
        z.string({ error: 'a string value' }).min(1, { error: 'a non-empty string value' }),
        { error: 'an object of config name to string value' },
      )
      .optional(),
  })
  .strict();

/** Limits that depend on the target cluster rather than on Kafka itself. */
export interface TopicValidationContext {
  /** Broker count of the cluster: the replication factor cannot exceed it. @default not checked */
  readonly brokerCount?: number;
}

/**
 * Every problem in a topic list, each naming the topic, the field, the value and what is allowed.
 * Returns an empty list when the declaration is valid.
 */
export function findTopicSpecErrors(input: unknown, context: TopicValidationContext = {}): string[] {
  if (!Array.isArray(input)) return [`topics = ${describeValue(input)} is not allowed (allowed: a list of topic declarations)`];
  const errors: string[] = [];
  const valid: TopicSpec[] = [];
  input.forEach((item, index) => {
    const result = topicSpecSchema.safeParse(item);
    if (result.success) {
      valid.push(result.data);
      return;
    }
    const label = topicLabel(item, index);
    for (const issue of result.error.issues) errors.push(formatIssue(label, item, issue));
  });
  errors.push(...findDuplicateNames(valid), ...findCrossFieldErrors(valid, context));
  return errors;
}

/** Parses and validates a topic list; throws one Error listing every problem. */
export function parseTopicSpecs(input: unknown, context: TopicValidationContext = {}): TopicSpec[] {
  const errors = findTopicSpecErrors(input, context);
  if (errors.length > 0) throw new Error(`Invalid topic declaration: ${errors.join('; ')}`);
  return (input as unknown[]).map((item) => topicSpecSchema.parse(item));
}

function findDuplicateNames(topics: TopicSpec[]): string[] {
  const errors: string[] = [];
  const counts = new Map<string, number>();
  for (const { name } of topics) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const [name, count] of counts) {
    if (count > 1) errors.push(`topic "${name}": name is declared ${count} times (allowed: each name once)`);
  }
  // Kafka maps '.' to '_' in metric names and refuses to create a topic whose name collides that way.
  const byMetricName = new Map<string, string>();
  for (const name of counts.keys()) {
    const metricName = name.replace(/\./g, '_');
    const other = byMetricName.get(metricName);
    if (other !== undefined) {
      errors.push(
        `topic "${name}": name collides with "${other}" because Kafka treats '.' and '_' alike (allowed: names that differ in more than '.' versus '_')`,
      );
    } else {
      byMetricName.set(metricName, name);
    }
  }
  return errors;
}

function findCrossFieldErrors(topics: TopicSpec[], context: TopicValidationContext): string[] {
  const errors: string[] = [];
  for (const topic of topics) {
    if (context.brokerCount !== undefined && topic.replicationFactor > context.brokerCount) {
      errors.push(
        `topic "${topic.name}": replicationFactor = ${topic.replicationFactor} is not allowed (allowed: 1 to ${context.brokerCount}, the cluster's broker count)`,
      );
    }
    const minInsync = topic.configs?.['min.insync.replicas'];
    if (minInsync !== undefined && !(/^\d+$/.test(minInsync) && Number(minInsync) >= 1 && Number(minInsync) <= topic.replicationFactor)) {
      errors.push(
        `topic "${topic.name}": configs.min.insync.replicas = "${minInsync}" is not allowed (allowed: an integer from 1 to replicationFactor ${topic.replicationFactor}, or producers with acks=all always fail)`,
      );
    }
  }
  return errors;
}

function topicLabel(item: unknown, index: number): string {
  const name = typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? `topic "${name}"` : `topic #${index + 1}`;
}

function formatIssue(label: string, item: unknown, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `${label}: unknown field(s) ${issue.keys.join(', ')} (allowed: ${Object.keys(topicSpecSchema.shape).join(', ')})`;
  }
  if (issue.code === 'invalid_key') {
    // The record's own message is generic; the key schema's issues say what is wrong with the name.
    const allowed = issue.issues.map((inner) => inner.message).join('; ');
    return `${label}: ${issue.path.slice(0, -1).map(String).join('.')} key ${describeValue(issue.path.at(-1))} is not allowed (allowed: ${allowed})`;
  }
  const field = issue.path.map(String).join('.') || '(root)';
  return `${label}: ${field} = ${describeValue(valueAt(item, issue.path))} is not allowed (allowed: ${issue.message})`;
}

function valueAt(item: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = item;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  return value === undefined ? '(missing)' : JSON.stringify(value);
}

/** The topic names the rest of the platform uses; change them here only. */
export const TOPIC_NAMES = {
  /** Raw login events (GA4 ingest, file replay). */
  loginsRaw: 'logins.raw',
  /** Per-user running and windowed login counts from Flink; compacted, keyed by user. */
  loginsCounts: 'logins.counts',
  /** Events replayed from big files in the landing bucket. */
  filesReplay: 'files.replay',
  /** Debezium's schema history for the SQL Server connector. */
  cdcSchemaHistory: 'cdc.sqlserver.schema-history',
  loginsRawDlq: 'logins.raw.dlq',
  filesReplayDlq: 'files.replay.dlq',
  loginsCountsDlq: 'logins.counts.dlq',
} as const;

/** Debezium `topic.prefix` of the SQL Server connector: table topics are `<prefix>.<database>.<schema>.<table>`. */
export const CDC_TOPIC_PREFIX = 'cdc.sqlserver';

/** The topic Debezium's SQL Server connector writes one table's changes to. */
export function cdcTableTopicName(database: string, schema: string, table: string): string {
  return topicNameSchema.parse([CDC_TOPIC_PREFIX, database, schema, table].join('.'));
}

export interface DefaultPlatformTopicsOptions {
  /** Replication factor of every topic (at most the broker count). */
  readonly replicationFactor: number;
  /** Partitions of the high-volume topics (raw logins, counts, file replay). */
  readonly partitions: number;
  /**
   * retention.ms of the compacted counts topic (compact plus delete), so a user's counts do not
   * outlive it even without a tombstone. @default 7 days
   */
  readonly countsRetentionMs?: number;
}

/**
 * Kafka's default segment.ms (log.roll.hours = 168). Retention deletes whole segments, and only
 * once the newest record of a segment is older than retention.ms, so a record can outlive its
 * retention by up to one segment's span.
 */
export const KAFKA_DEFAULT_SEGMENT_MS = 7 * 24 * 3_600_000;

/** Topics whose records carry a user id (raw events, counts, replayed records and their dead letters). */
export const PERSONAL_DATA_TOPICS: readonly string[] = [
  TOPIC_NAMES.loginsRaw,
  TOPIC_NAMES.loginsCounts,
  TOPIC_NAMES.filesReplay,
  TOPIC_NAMES.loginsRawDlq,
  TOPIC_NAMES.filesReplayDlq,
  TOPIC_NAMES.loginsCountsDlq,
];

/** The longest a record can stay on a topic: retention plus one segment, or unbounded (undefined). */
export function maxRecordAgeMs(topic: TopicSpec): number | undefined {
  if (topic.retentionMs === -1 || !topic.cleanupPolicy.includes('delete')) return undefined;
  const segmentMs = Number(topic.configs?.['segment.ms'] ?? KAFKA_DEFAULT_SEGMENT_MS);
  return topic.retentionMs + segmentMs;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The topics every Lakestream environment needs. */
export function defaultPlatformTopics(opts: DefaultPlatformTopicsOptions): TopicSpec[] {
  const replicationFactor = requireInteger('defaultPlatformTopics replicationFactor', opts.replicationFactor, 1, MAX_REPLICATION_FACTOR);
  const partitions = requireInteger('defaultPlatformTopics partitions', opts.partitions, 1, MAX_PARTITIONS);
  // acks=all must keep working with one broker down, so one replica fewer than the factor (at most 2).
  const durability = { 'min.insync.replicas': String(Math.min(2, Math.max(1, replicationFactor - 1))) };
  // Personal data: roll segments daily so retention (which deletes whole segments) bounds a record's age to retention + 1 day.
  const personal = { ...durability, 'segment.ms': String(DAY_MS) };
  const countsRetentionMs = requireInteger('defaultPlatformTopics countsRetentionMs', opts.countsRetentionMs ?? 7 * DAY_MS, HOUR_MS, 365 * DAY_MS);
  const deadLetter = (name: string): TopicSpec => ({
    name,
    // Dead letters are rare; one partition keeps them in arrival order for whoever triages them.
    partitions: 1,
    replicationFactor,
    // Two weeks so a failure on a Friday is still there after a long weekend.
    retentionMs: 14 * DAY_MS,
    cleanupPolicy: 'delete',
    configs: personal,
  });
  return [
    { name: TOPIC_NAMES.loginsRaw, partitions, replicationFactor, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete', configs: personal },
    {
      name: TOPIC_NAMES.loginsCounts,
      partitions,
      replicationFactor,
      // Compaction keeps the latest count per key; delete bounds how long any count (and a user's
      // window keys, which are never overwritten) lives. Erasure tombstones the keys before that.
      retentionMs: countsRetentionMs,
      cleanupPolicy: 'compact,delete',
      configs: {
        ...personal,
        // The cleaner may leave a dirty segment alone while the log's dirty ratio is low; this makes
        // a tombstoned value eligible for compaction within a day whatever the ratio.
        'max.compaction.lag.ms': String(DAY_MS),
        // Tombstones stay readable for a day, so consumers that lag (Spark, Flink) see the delete.
        'delete.retention.ms': String(DAY_MS),
      },
    },
    { name: TOPIC_NAMES.filesReplay, partitions, replicationFactor, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete', configs: personal },
    {
      name: TOPIC_NAMES.cdcSchemaHistory,
      // Debezium requires a single partition and infinite retention for its schema history.
      partitions: 1,
      replicationFactor,
      retentionMs: -1,
      cleanupPolicy: 'delete',
      // Infinite by size too, whatever the broker-wide log.retention.bytes says.
      configs: { ...durability, 'retention.bytes': '-1' },
    },
    deadLetter(TOPIC_NAMES.loginsRawDlq),
    deadLetter(TOPIC_NAMES.filesReplayDlq),
    deadLetter(TOPIC_NAMES.loginsCountsDlq),
  ];
}

function requireInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${field} = ${describeValue(value)} is not allowed (allowed: an integer from ${min} to ${max})`);
  }
  return value;
}
