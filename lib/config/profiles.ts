import type { EnvironmentConfig } from './schema';

/** What an environment entry may leave to its profile. */
export type ProfileDefaults = Omit<EnvironmentConfig, 'name' | 'tier' | 'account' | 'owner' | 'region'> & { region?: string };

/**
 * dev: cheap and destroyable. Two AZs, one NAT gateway, the smallest brokers, short retention,
 * everything deleted with the stack.
 */
export const DEV_PROFILE: ProfileDefaults = {
  namePrefix: 'lakestream',
  costCentre: 'data-platform',
  dataClassification: 'internal',
  removalPolicy: 'destroy',
  autoDeleteObjects: true,
  terminationProtection: false,
  logRetentionDays: 14,
  network: { mode: 'create', cidr: '10.40.0.0/16', azCount: 2, natGateways: 1 },
  flowLogRetentionDays: 14,
  kafka: {
    brokerCount: 2,
    instanceType: 'kafka.t3.small',
    kafkaVersion: '3.8.x.kraft',
    ebsVolumeGiB: 20,
    storageAutoScalingMaxGiB: 100,
    enhancedMonitoring: 'DEFAULT',
    defaultPartitions: 3,
    defaultReplicationFactor: 2,
    allowTopicDeletion: true,
  },
  flink: {
    enabled: true,
    parallelism: 1,
    parallelismPerKpu: 1,
    autoScaling: false,
    windowMinutes: 1,
    allowedLatenessSeconds: 60,
    checkpointIntervalSeconds: 60,
  },
  emr: {
    releaseLabel: 'emr-7.9.0',
    maxCpuVcpu: 16,
    maxMemoryGb: 64,
    maxDiskGb: 200,
    idleTimeoutMinutes: 15,
    dailyReportSchedule: 'cron(0 3 * * ? *)',
    supervisorIntervalMinutes: 5,
    streamingTriggerSeconds: 30,
    // Peak: streaming 3 vCPU / 12 GB / 60 GB disk + a batch job 10 / 40 / 60 = 13 / 52 / 120 of 16 / 64 / 200.
    // The streaming job runs around the clock, so dev gives it the smallest workers (1 vCPU, 4 GB): about
    // $56 a month less than 2-vCPU executors (npx lakestream cost), at the price of slower catch-up
    // after a backlog; dev's login volume fits one 1-vCPU executor per micro-batch.
    jobs: {
      streaming: {
        driver: { cpu: 1, memoryGb: 4, diskGb: 20 },
        executor: { cpu: 1, memoryGb: 4, diskGb: 20 },
        minExecutors: 1,
        initialExecutors: 1,
        maxExecutors: 2,
      },
      landingToBronze: {
        driver: { cpu: 2, memoryGb: 8, diskGb: 20 },
        executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
        minExecutors: 0,
        initialExecutors: 1,
        maxExecutors: 2,
      },
      dailyReport: {
        driver: { cpu: 2, memoryGb: 8, diskGb: 20 },
        executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
        minExecutors: 0,
        initialExecutors: 1,
        maxExecutors: 2,
      },
    },
    streamingMaxOffsetsPerTrigger: 100_000,
    reportLateDays: 2,
    streamingJobEnabled: true,
  },
  lake: {
    landing: { expirationDays: 7 },
    bronze: { expirationDays: 30 },
    silver: { expirationDays: 30 },
    gold: { expirationDays: 90 },
    logs: { expirationDays: 30 },
    noncurrentVersionExpirationDays: 1,
    queryResultsExpirationDays: 7,
    abortIncompleteMultipartUploadDays: 1,
    catalogEncryption: false,
  },
  observability: {
    alertEmails: [],
    grafanaAuthentication: 'AWS_SSO',
    thresholds: {
      brokerDiskUsedRatio: 0.85,
      brokerCpuUtilisationRatio: 0.9,
      produceLatencyMs: 500,
      fetchConsumerLatencyMs: 3000,
      flinkConsumerLagMessages: 100000,
    },
  },
  serving: { maxLatencySeconds: 120, batchDays: 90 },
  // Governance-mode receipts: a sandbox can be torn down by a principal allowed to bypass governance retention.
  gdpr: {
    erasureDeadlineDays: 30,
    countsRetentionDays: 7,
    flinkStateTtlHours: 168,
    dashboardUserIdentity: 'pseudonymous',
    receipts: { retentionDays: 30, lockMode: 'GOVERNANCE' },
  },
  artifacts: { requirePins: false },
  tags: {},
};

/**
 * prod: highly available and retained. Three AZs with a NAT gateway each, three or more
 * Graviton brokers, long retention, stateful resources survive stack deletion.
 */
export const PROD_PROFILE: ProfileDefaults = {
  namePrefix: 'lakestream',
  costCentre: 'data-platform',
  dataClassification: 'confidential',
  removalPolicy: 'retain',
  autoDeleteObjects: false,
  terminationProtection: true,
  logRetentionDays: 365,
  network: { mode: 'create', cidr: '10.42.0.0/16', azCount: 3, natGateways: 3 },
  flowLogRetentionDays: 365,
  kafka: {
    brokerCount: 3,
    instanceType: 'kafka.m7g.large',
    kafkaVersion: '3.8.x.kraft',
    ebsVolumeGiB: 500,
    storageAutoScalingMaxGiB: 4000,
    enhancedMonitoring: 'PER_TOPIC_PER_BROKER',
    defaultPartitions: 12,
    defaultReplicationFactor: 3,
    allowTopicDeletion: false,
  },
  flink: {
    enabled: true,
    parallelism: 4,
    parallelismPerKpu: 1,
    autoScaling: true,
    windowMinutes: 1,
    allowedLatenessSeconds: 300,
    checkpointIntervalSeconds: 60,
  },
  emr: {
    releaseLabel: 'emr-7.9.0',
    maxCpuVcpu: 200,
    maxMemoryGb: 800,
    maxDiskGb: 4000,
    idleTimeoutMinutes: 30,
    preInitialized: { driverCount: 1, executorCount: 2 },
    dailyReportSchedule: 'cron(0 3 * * ? *)',
    supervisorIntervalMinutes: 5,
    streamingTriggerSeconds: 30,
    // Peak: streaming 34 vCPU / 136 GB / 180 GB disk + a batch job 84 / 336 / 420 = 118 / 472 / 600 of 200 / 800 / 4000.
    jobs: {
      streaming: {
        driver: { cpu: 2, memoryGb: 8, diskGb: 20 },
        executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
        minExecutors: 2,
        initialExecutors: 2,
        maxExecutors: 8,
      },
      landingToBronze: {
        driver: { cpu: 4, memoryGb: 16, diskGb: 20 },
        executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
        minExecutors: 0,
        initialExecutors: 2,
        maxExecutors: 20,
      },
      dailyReport: {
        driver: { cpu: 4, memoryGb: 16, diskGb: 20 },
        executor: { cpu: 4, memoryGb: 16, diskGb: 20 },
        minExecutors: 0,
        initialExecutors: 2,
        maxExecutors: 20,
      },
    },
    streamingMaxOffsetsPerTrigger: 1_000_000,
    reportLateDays: 2,
    streamingJobEnabled: true,
  },
  lake: {
    // Landing holds raw files that erasure does not rewrite: gone (with their noncurrent version) within the deadline.
    landing: { transitionToIntelligentTieringDays: 0, expirationDays: 12 },
    bronze: { transitionToIntelligentTieringDays: 0, expirationDays: 730 },
    silver: { transitionToIntelligentTieringDays: 0, expirationDays: 730 },
    // Gold holds per-user reports: bounded like the tiers it is derived from.
    gold: { transitionToIntelligentTieringDays: 0, expirationDays: 730 },
    logs: { transitionToGlacierDays: 90, expirationDays: 400 },
    // Recovery window for overwritten or deleted objects; also the longest an erased row survives in
    // an old version the erasure workflow did not delete itself (checked against gdpr.erasureDeadlineDays).
    noncurrentVersionExpirationDays: 14,
    queryResultsExpirationDays: 7,
    abortIncompleteMultipartUploadDays: 7,
    catalogEncryption: false,
  },
  observability: {
    alertEmails: [],
    grafanaAuthentication: 'AWS_SSO',
    thresholds: {
      brokerDiskUsedRatio: 0.75,
      brokerCpuUtilisationRatio: 0.6,
      produceLatencyMs: 200,
      fetchConsumerLatencyMs: 1500,
      flinkConsumerLagMessages: 10000,
    },
  },
  serving: { maxLatencySeconds: 120, batchDays: 90 },
  // Compliance-mode receipts for six years: the proof of erasure survives any principal, root included.
  gdpr: {
    erasureDeadlineDays: 30,
    countsRetentionDays: 7,
    flinkStateTtlHours: 168,
    dashboardUserIdentity: 'pseudonymous',
    receipts: { retentionDays: 2190, lockMode: 'COMPLIANCE' },
  },
  artifacts: { requirePins: false },
  tags: {},
};

export const PROFILES = { dev: DEV_PROFILE, prod: PROD_PROFILE } as const;
