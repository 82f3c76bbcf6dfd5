import { ENVIRONMENTS } from '../../lib/config/environments';
import { ConfigError, loadEnvironment, validateEnvironment } from '../../lib/config/load-config';
import {
  S3_LIFECYCLE_LAG_DAYS,
  cdcTopicRetention,
  erasureWorkflowSettings,
  personalDataTopics,
  retentionProblems,
  sweepDelayHours,
} from '../../lib/config/personal-data';
import { TOPIC_NAMES, maxRecordAgeMs } from '../../lib/contracts/topic-spec';

const noEnv = { processEnv: {} };
const DAY_MS = 86_400_000;

function validDev(): Record<string, any> {
  const { stageName: _s, qualifier: _q, ...config } = loadEnvironment('dev', noEnv);
  return JSON.parse(JSON.stringify(config)) as Record<string, any>;
}

function refusal(mutate: (c: Record<string, any>) => void): string {
  const broken = validDev();
  mutate(broken);
  try {
    validateEnvironment(broken, 'dev');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('retention bounds of personal data', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s keeps every store of personal data within its erasure deadline', (name) => {
    const config = loadEnvironment(name, noEnv);
    expect(retentionProblems(config)).toEqual([]);
    for (const tier of ['landing', 'bronze', 'silver', 'gold'] as const) expect(config.lake[tier].expirationDays).toBeGreaterThan(0);
    // Every personal-data topic, the compacted counts topic included, deletes by age.
    for (const topic of personalDataTopics(config)) {
      expect(topic.cleanupPolicy).toContain('delete');
      expect(maxRecordAgeMs(topic)).toBeLessThanOrEqual(config.gdpr.erasureDeadlineDays * DAY_MS);
    }
    expect(sweepDelayHours(config) / 24 + 1).toBeLessThanOrEqual(config.gdpr.erasureDeadlineDays);
  });

  test('Debezium change topics: retention from config, bounded by the deadline, passed to the connector', () => {
    const debezium = {
      hostname: 'db',
      port: 1433,
      databaseNames: ['app'],
      tableIncludeList: ['dbo.logins'],
      credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:sql-AbCdEf',
      minWorkers: 1,
      maxWorkers: 2,
      mcuCount: 1,
    };
    const config = validateEnvironment({ ...validDev(), debezium }, 'dev');
    expect(config.debezium!.topicRetentionDays).toBe(7);
    expect(cdcTopicRetention(config.debezium!)).toEqual({ retentionMs: 7 * DAY_MS, segmentMs: DAY_MS });
    expect(erasureWorkflowSettings(config).boundedStores).toContainEqual({ store: 'kafka cdc.sqlserver.* (change topics)', maxAgeDays: 8 });
    // 29 days + 1-day segment = 30 is the edge; 30 breaks it.
    expect(() => validateEnvironment({ ...validDev(), debezium: { ...debezium, topicRetentionDays: 29 } }, 'dev')).not.toThrow();
    expect(refusal((c) => (c.debezium = { ...debezium, topicRetentionDays: 30 }))).toContain(
      'debezium.topicRetentionDays = 30: must be at most 29 so that personal data is gone within gdpr.erasureDeadlineDays (30 days)',
    );
  });

  test('noncurrent versions kept past the deadline are refused with field, value and allowed maximum', () => {
    expect(refusal((c) => (c.lake.noncurrentVersionExpirationDays = 29))).toContain(
      `lake.noncurrentVersionExpirationDays = 29: must be at most ${30 - S3_LIFECYCLE_LAG_DAYS} so that personal data is gone within gdpr.erasureDeadlineDays (30 days)`,
    );
  });

  test('raw landing files that outlive the deadline as current plus noncurrent versions are refused', () => {
    // 25 + 2 lag + 1 noncurrent + 2 lag = 30 is the edge; 26 breaks it.
    expect(() => validateEnvironment({ ...validDev(), lake: { ...validDev().lake, landing: { expirationDays: 25 } } }, 'dev')).not.toThrow();
    expect(refusal((c) => (c.lake.landing.expirationDays = 26))).toContain('lake.landing.expirationDays = 26: must be at most 25');
  });

  test('a tier without expiration is refused: gold per-user reports need a maximum age', () => {
    expect(refusal((c) => delete c.lake.gold.expirationDays)).toContain('lake.gold.expirationDays = (missing): must be set');
  });

  test('query results kept too long are refused', () => {
    expect(refusal((c) => (c.lake.queryResultsExpirationDays = 60))).toContain('lake.queryResultsExpirationDays = 60: must be at most 25');
  });

  test('the counts topic retention and Flink state TTL are bounded by the deadline', () => {
    expect(refusal((c) => (c.gdpr.countsRetentionDays = 30))).toContain('gdpr.countsRetentionDays = 30: must be at most 29');
    expect(refusal((c) => (c.gdpr.flinkStateTtlHours = 720))).toMatch(/gdpr\.flinkStateTtlHours = 720: must be at most 71\d/);
  });

  test('a deadline shorter than the raw topics and the second pass is refused', () => {
    const message = refusal((c) => (c.gdpr.erasureDeadlineDays = 7));
    expect(message).toContain(`gdpr.erasureDeadlineDays = 7: must be at least 8 while topic ${TOPIC_NAMES.loginsRaw} keeps records up to retention.ms`);
    // The dead-letter topics keep records 14 days plus a daily segment: the second pass runs after them.
    const sweep = refusal((c) => (c.gdpr.erasureDeadlineDays = 15));
    expect(sweep).toContain("gdpr.erasureDeadlineDays = 15: must be at least 16: the erasure workflow's second pass runs 15.0 days after the request");
    expect(sweep.split('\n')).toHaveLength(2);
  });

  test('the counts topic is compact plus delete with bounded compaction lag', () => {
    const counts = personalDataTopics(loadEnvironment('prod', noEnv)).find((t) => t.name === TOPIC_NAMES.loginsCounts)!;
    expect(counts).toMatchObject({ cleanupPolicy: 'compact,delete', retentionMs: 7 * DAY_MS });
    expect(counts.configs).toMatchObject({ 'segment.ms': String(DAY_MS), 'max.compaction.lag.ms': String(DAY_MS), 'delete.retention.ms': String(DAY_MS) });
  });
});

describe('gdpr.dashboardUserIdentity', () => {
  test('dev and prod show pseudonymous user references by default', () => {
    for (const env of ['dev', 'staging', 'prod']) expect(loadEnvironment(env, noEnv).gdpr.dashboardUserIdentity).toBe('pseudonymous');
  });

  test('plain is accepted for data classified as shareable with every dashboard reader', () => {
    expect(() => validateEnvironment({ ...validDev(), gdpr: { ...validDev().gdpr, dashboardUserIdentity: 'plain' } }, 'dev')).not.toThrow();
  });

  test('anything else is refused naming the field, the value and what is allowed', () => {
    const message = refusal((c) => {
      c.gdpr.dashboardUserIdentity = 'hashed';
    });
    expect(message).toMatch(/gdpr\.dashboardUserIdentity/);
    expect(message).toMatch(/hashed/);
    expect(message).toMatch(/pseudonymous/);
    expect(message).toMatch(/plain/);
  });
});
