import { KAFKA_DEFAULT_SEGMENT_MS, PERSONAL_DATA_TOPICS, TOPIC_NAMES, defaultPlatformTopics, maxRecordAgeMs } from '../contracts/topic-spec';
import type { EnvironmentConfig } from './schema';

/**
 * Where personal data lives and how long it can stay there: the synth-time side of erasure.
 *
 * Stores fall in two groups. The lake tiers bronze, silver and gold are *erased*: the erasure
 * workflow rewrites their Parquet files without the person's rows and deletes the old versions of
 * the rewritten objects. Every other store is *bounded*: raw landing files, Athena query results,
 * noncurrent versions the workflow did not touch, Kafka topics and Flink state are gone because
 * their retention ends before the deadline. A configuration in which a bounded store can keep data
 * past `gdpr.erasureDeadlineDays` does not synthesize.
 */

/**
 * S3 lifecycle is asynchronous: a rule's day count is rounded up to the next midnight UTC and the
 * removal itself is queued, so each lifecycle step may take up to this many days beyond its age.
 */
export const S3_LIFECYCLE_LAG_DAYS = 2;
const DAY_MS = 86_400_000;
/** Time the sweep pass itself may take (Spark job, tombstones, version deletes, receipt). */
export const SWEEP_ALLOWANCE_DAYS = 1;

export interface RetentionProblem {
  /** Config path of the field to change, as zod paths. */
  readonly path: (string | number)[];
  readonly message: string;
}

type RetentionInput = Pick<EnvironmentConfig, 'gdpr' | 'lake' | 'flink' | 'kafka'> & Partial<Pick<EnvironmentConfig, 'debezium'>>;

/** Segment of the Debezium change topics: Kafka deletes a record up to one segment after its retention. */
export const CDC_TOPIC_SEGMENT_MS = DAY_MS;

/** Retention of the Debezium change topics (lib/constructs/kafka/debezium-connector.ts changeTopicRetention). */
export function cdcTopicRetention(debezium: NonNullable<EnvironmentConfig['debezium']>): { retentionMs: number; segmentMs: number } {
  return { retentionMs: debezium.topicRetentionDays * DAY_MS, segmentMs: CDC_TOPIC_SEGMENT_MS };
}

/** Days a raw landing file (or a query result) can exist: current until expiry, then noncurrent. */
function expiringObjectDays(expirationDays: number, noncurrentDays: number): number {
  return expirationDays + S3_LIFECYCLE_LAG_DAYS + noncurrentDays + S3_LIFECYCLE_LAG_DAYS;
}

/** Days a user's Flink state can outlive the user's last login: idle TTL, one checkpoint, the open window and its lateness. */
export function flinkStateDays(config: Pick<EnvironmentConfig, 'gdpr' | 'flink'>): number {
  const seconds =
    config.gdpr.flinkStateTtlHours * 3600 + config.flink.checkpointIntervalSeconds + config.flink.windowMinutes * 60 + config.flink.allowedLatenessSeconds;
  return seconds / 86_400;
}

/** The platform topics as this environment declares them (personal-data topics only). */
export function personalDataTopics(config: Pick<EnvironmentConfig, 'gdpr' | 'kafka'>) {
  return defaultPlatformTopics({
    replicationFactor: Math.min(config.kafka.defaultReplicationFactor, config.kafka.brokerCount),
    partitions: config.kafka.defaultPartitions,
    countsRetentionMs: config.gdpr.countsRetentionDays * DAY_MS,
  }).filter((topic) => PERSONAL_DATA_TOPICS.includes(topic.name));
}

/**
 * When the workflow's second pass runs, in hours after the request: once every store that could feed
 * the person's data back into the lake or the counts topic (landing files, raw topics, Flink state)
 * has aged out, the pass erases whatever was re-derived in the meantime.
 */
export function sweepDelayHours(config: RetentionInput): number {
  const landingDays = (config.lake.landing.expirationDays ?? Number.POSITIVE_INFINITY) + S3_LIFECYCLE_LAG_DAYS;
  const topicDays = Math.max(...personalDataTopics(config).map((t) => (maxRecordAgeMs(t) ?? Number.POSITIVE_INFINITY) / DAY_MS));
  return Math.ceil(Math.max(landingDays, topicDays, flinkStateDays(config)) * 24);
}

/** Every way this configuration lets personal data outlive the erasure deadline, or live unbounded. */
export function retentionProblems(config: RetentionInput): RetentionProblem[] {
  const deadline = config.gdpr.erasureDeadlineDays;
  const problems: RetentionProblem[] = [];
  const noncurrent = config.lake.noncurrentVersionExpirationDays;
  const because = `so that personal data is gone within gdpr.erasureDeadlineDays (${deadline} days)`;

  for (const tier of ['landing', 'bronze', 'silver', 'gold'] as const) {
    if (config.lake[tier].expirationDays === undefined) {
      problems.push({
        path: ['lake', tier, 'expirationDays'],
        message: `must be set (allowed: a number of days): the ${tier} tier holds personal data, and every store of personal data needs a maximum age`,
      });
    }
  }
  if (noncurrent + S3_LIFECYCLE_LAG_DAYS > deadline) {
    problems.push({
      path: ['lake', 'noncurrentVersionExpirationDays'],
      message:
        `must be at most ${deadline - S3_LIFECYCLE_LAG_DAYS} ${because}: ` +
        `old versions the erasure workflow did not delete itself expire only by lifecycle, which may lag ${S3_LIFECYCLE_LAG_DAYS} days`,
    });
  }
  const expiring = [
    { path: ['lake', 'landing', 'expirationDays'], days: config.lake.landing.expirationDays, what: 'landing holds raw files that erasure does not rewrite' },
    {
      path: ['lake', 'queryResultsExpirationDays'],
      days: config.lake.queryResultsExpirationDays,
      what: 'Athena query results can hold any row a query returned',
    },
  ];
  for (const { path, days, what } of expiring) {
    if (days !== undefined && expiringObjectDays(days, noncurrent) > deadline) {
      const allowed = deadline - noncurrent - 2 * S3_LIFECYCLE_LAG_DAYS;
      problems.push({
        path,
        message:
          `must be at most ${allowed} ${because}: ${what}, and an expired object stays ` +
          `lake.noncurrentVersionExpirationDays (${noncurrent}) more as a noncurrent version, each step with ${S3_LIFECYCLE_LAG_DAYS} days of lifecycle lag`,
      });
    }
  }
  if (config.gdpr.countsRetentionDays + 1 > deadline) {
    problems.push({
      path: ['gdpr', 'countsRetentionDays'],
      message: `must be at most ${deadline - 1} ${because}: Kafka deletes a record up to one segment (1 day) after its retention`,
    });
  }
  for (const topic of personalDataTopics(config).filter((t) => t.name !== TOPIC_NAMES.loginsCounts)) {
    const ageMs = maxRecordAgeMs(topic);
    if (ageMs === undefined || ageMs > deadline * DAY_MS) {
      problems.push({
        path: ['gdpr', 'erasureDeadlineDays'],
        message:
          `must be at least ${Math.ceil((ageMs ?? Number.POSITIVE_INFINITY) / DAY_MS)} while topic ${topic.name} keeps records up to retention.ms (${topic.retentionMs}) ` +
          `plus segment.ms (${topic.configs?.['segment.ms'] ?? KAFKA_DEFAULT_SEGMENT_MS}) with cleanup.policy ${topic.cleanupPolicy} (lib/contracts/topic-spec.ts)`,
      });
    }
  }
  if (config.debezium && config.debezium.topicRetentionDays * DAY_MS + CDC_TOPIC_SEGMENT_MS > deadline * DAY_MS) {
    problems.push({
      path: ['debezium', 'topicRetentionDays'],
      message:
        `must be at most ${deadline - CDC_TOPIC_SEGMENT_MS / DAY_MS} ${because}: the change topics (cdc.sqlserver.*) carry captured rows, ` +
        `which Kafka deletes up to one segment (${CDC_TOPIC_SEGMENT_MS / DAY_MS} day) after their retention`,
    });
  }
  const flinkDays = flinkStateDays(config);
  if (flinkDays > deadline) {
    problems.push({
      path: ['gdpr', 'flinkStateTtlHours'],
      message:
        `must be at most ${Math.floor(deadline * 24 - (flinkDays * 24 - config.gdpr.flinkStateTtlHours))} ` +
        `${because}: a user's state lives the TTL plus one checkpoint interval, one window and the allowed lateness`,
    });
  }
  const sweepDays = sweepDelayHours(config) / 24;
  if (problems.length === 0 && sweepDays + SWEEP_ALLOWANCE_DAYS > deadline) {
    problems.push({
      path: ['gdpr', 'erasureDeadlineDays'],
      message:
        `must be at least ${Math.ceil(sweepDays + SWEEP_ALLOWANCE_DAYS)}: the erasure workflow's second pass runs ` +
        `${sweepDays.toFixed(1)} days after the request, once landing files, raw topics and Flink state have aged out, and may take ${SWEEP_ALLOWANCE_DAYS} day`,
    });
  }
  return problems;
}

/** What the erasure workflow needs from the configuration (lib/constructs/gdpr/erasure-workflow.ts). */
export function erasureWorkflowSettings(config: RetentionInput) {
  const counts = personalDataTopics(config).find((t) => t.name === TOPIC_NAMES.loginsCounts)!;
  // Window keys can exist as long as a counts record can: retention plus a segment, plus the window and its lateness.
  const keyHorizonHours = Math.ceil(
    ((maxRecordAgeMs(counts) ?? 0) / DAY_MS) * 24 + config.flink.windowMinutes / 60 + config.flink.allowedLatenessSeconds / 3600,
  );
  const noncurrent = config.lake.noncurrentVersionExpirationDays;
  const lag = S3_LIFECYCLE_LAG_DAYS;
  return {
    windowMinutes: config.flink.windowMinutes,
    keyHorizonHours,
    sweepDelayHours: sweepDelayHours(config),
    deadlineDays: config.gdpr.erasureDeadlineDays,
    boundedStores: [
      { store: 's3-landing (raw files)', maxAgeDays: expiringObjectDays(config.lake.landing.expirationDays ?? 0, noncurrent) },
      { store: 's3-query-results (Athena)', maxAgeDays: expiringObjectDays(config.lake.queryResultsExpirationDays, noncurrent) },
      { store: 's3-noncurrent-versions (lake tiers)', maxAgeDays: noncurrent + lag },
      ...personalDataTopics(config)
        .filter((t) => t.name !== TOPIC_NAMES.loginsCounts)
        .map((t) => ({ store: `kafka ${t.name}`, maxAgeDays: Math.ceil((maxRecordAgeMs(t) ?? 0) / DAY_MS) })),
      { store: 'flink keyed state (state TTL)', maxAgeDays: Math.ceil(flinkStateDays(config)) },
      ...(config.debezium
        ? [
            {
              store: 'kafka cdc.sqlserver.* (change topics)',
              maxAgeDays: Math.ceil((config.debezium.topicRetentionDays * DAY_MS + CDC_TOPIC_SEGMENT_MS) / DAY_MS),
            },
          ]
        : []),
    ],
  };
}
