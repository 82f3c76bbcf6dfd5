import { z } from 'zod';
import { SUPPORTED_KAFKA_VERSIONS } from '../constructs/kafka/kafka-cluster';
import { describeBudget, speedLatencyBudget } from './speed-latency';
import { passAgeProblems } from '../functions/ga4-ingest/passes';
import { userIdDimensionProblems } from '../functions/ga4-ingest/user-id-dimension';
import {
  MAX_TAGS_PER_RESOURCE,
  addressesNeeded,
  availabilityZoneProblems,
  parseIpv4Cidr,
  scheduleExpressionProblems,
  tagKeyProblems,
  tagValueProblems,
  vpcCidrProblems,
  type SubnetGroup,
} from './aws-rules';
import { capacityProblem, jobSizeProblems } from '../constructs/spark/spark-job-size';
import { retentionProblems } from './personal-data';
import { USER_IDENTITIES } from '../constructs/lake/serving-views';

/**
 * The typed, validated shape of one Lakestream environment. Every field is checked at synth so a
 * bad value fails in seconds with the field, the value and what is allowed, not twenty minutes
 * into a CloudFormation deployment.
 */

const NAME = /^[a-z][a-z0-9-]{0,19}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const IAM_POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;

/** Attaches each problem a rule of aws-rules.ts finds to the field being checked. */
function problems<T>(check: (value: T) => string[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    for (const message of check(value)) ctx.addIssue({ code: 'custom', message });
  };
}

const vpcCidr = z.string().superRefine(problems(vpcCidrProblems));

/**
 * Subnet groups of a created VPC (lib/constructs/network/platform-network.ts), one subnet per AZ
 * each: the VPC CIDR block must hold them all.
 */
export function createdSubnetGroups(natGateways: number): SubnetGroup[] {
  const data = { name: 'data', cidrMask: 24 };
  return natGateways > 0 ? [{ name: 'public', cidrMask: 24 }, { name: 'compute', cidrMask: 20 }, data] : [data];
}

/** Tags the stage puts on every resource besides config.tags (lib/app/lakestream-stage.ts). */
export const PLATFORM_TAG_KEYS = ['project', 'environment', 'owner', 'cost-centre', 'data-classification'] as const;
/** Tags CDK itself adds to some resources (subnets: Name, aws-cdk:subnet-name, aws-cdk:subnet-type). */
const CDK_TAGS_PER_RESOURCE = 3;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const logRetentionDays = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
});

const positiveInt = z.number().int().positive();

/** Lifecycle of one lake tier. */
const tierLifecycleSchema = z
  .object({
    /** Days after which current objects move to S3 Intelligent-Tiering; absent = never. */
    transitionToIntelligentTieringDays: z.number().int().min(0).optional(),
    /** Days after which current objects move to Glacier Instant Retrieval; absent = never. */
    transitionToGlacierDays: z.number().int().min(90).optional(),
    /** Days after which current objects expire; absent = kept until erased. */
    expirationDays: positiveInt.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.expirationDays !== undefined) {
      for (const key of ['transitionToIntelligentTieringDays', 'transitionToGlacierDays'] as const) {
        const v = t[key];
        if (v !== undefined && v >= t.expirationDays) {
          ctx.addIssue({ code: 'custom', path: [key], message: `must be less than expirationDays (${t.expirationDays})` });
        }
      }
    }
  });

const networkSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      /** IPv4 CIDR of the new VPC (/16 to /28, large enough for its subnets: checked below). */
      cidr: vpcCidr,
      /** Availability zones to span. */
      azCount: z.number().int().min(2).max(3),
      /** NAT gateways (0 = no internet egress: isolated subnets only). */
      natGateways: z.number().int().min(0).max(3),
      /** Explicit AZ names; default `<region>a`, `<region>b`, ... so synth needs no lookup. */
      availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/)).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('import'),
      vpcId: z.string().regex(VPC_ID, 'must be a VPC id like vpc-0123456789abcdef0'),
      vpcCidrBlock: vpcCidr,
      availabilityZones: z
        .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/))
        .min(2)
        .max(3),
      /** Private subnets with egress, one per AZ, in the same order as availabilityZones. */
      privateSubnetIds: z.array(z.string().regex(SUBNET_ID, 'must be a subnet id like subnet-0123abcd')).min(2).max(3),
      privateSubnetRouteTableIds: z.array(z.string().regex(ROUTE_TABLE_ID, 'must be a route table id like rtb-0123abcd')).min(2).max(3),
      /** Create the interface and gateway endpoints in the imported VPC (off if it already has them). */
      createEndpoints: z.boolean(),
      /** Create VPC flow logs for the imported VPC (off if the network team already does). */
      createFlowLogs: z.boolean(),
    })
    .strict(),
]);

const kafkaSchema = z
  .object({
    /** Total broker nodes; a multiple of the AZ count. */
    brokerCount: z.number().int().min(2).max(30),
    /** MSK broker instance type. */
    instanceType: z
      .string()
      .regex(
        /^kafka\.(t3\.small|m5\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)|m7g\.(large|xlarge|[248]xlarge|12xlarge|16xlarge))$/,
        'must be an MSK broker type such as kafka.t3.small, kafka.m5.large or kafka.m7g.large',
      ),
    /** Kafka version as MSK names it. */
    kafkaVersion: z.enum(SUPPORTED_KAFKA_VERSIONS),
    /** EBS volume per broker at creation (GiB). */
    ebsVolumeGiB: z.number().int().min(1).max(16384),
    /** Ceiling for storage auto-scaling (GiB); must exceed ebsVolumeGiB. */
    storageAutoScalingMaxGiB: z.number().int().min(2).max(16384),
    enhancedMonitoring: z.enum(['DEFAULT', 'PER_BROKER', 'PER_TOPIC_PER_BROKER', 'PER_TOPIC_PER_PARTITION']),
    /** Default partitions of the platform topics. */
    defaultPartitions: z.number().int().min(1).max(1000),
    /** Default replication factor of the platform topics (capped by broker count). */
    defaultReplicationFactor: z.number().int().min(1).max(5),
    /** Whether removing a topic from config (or deleting the stack) deletes it in Kafka. */
    allowTopicDeletion: z.boolean(),
  })
  .strict()
  .superRefine((k, ctx) => {
    if (k.storageAutoScalingMaxGiB <= k.ebsVolumeGiB) {
      ctx.addIssue({ code: 'custom', path: ['storageAutoScalingMaxGiB'], message: `must be greater than ebsVolumeGiB (${k.ebsVolumeGiB})` });
    }
    if (k.defaultReplicationFactor > k.brokerCount) {
      ctx.addIssue({ code: 'custom', path: ['defaultReplicationFactor'], message: `must not exceed brokerCount (${k.brokerCount})` });
    }
  });

const flinkSchema = z
  .object({
    /**
     * Build the Managed Flink login-counts application (the speed layer), with its packager and
     * starter. On in every environment; false leaves the speed layer out, and its connector jars
     * are then not mirrored.
     * @default true
     */
    enabled: z.boolean().default(true),
    parallelism: z.number().int().min(1).max(256),
    parallelismPerKpu: z.number().int().min(1).max(8),
    autoScaling: z.boolean(),
    /**
     * Tumbling window of the per-user login counts, in minutes. Windows are aligned to the epoch, so
     * a length that divides a day keeps every window inside one UTC day (the serving views' day boundary).
     */
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .refine((m) => 1440 % m === 0, { message: 'must divide a day (1440 minutes) so that no window straddles UTC midnight, e.g. 1, 5, 15, 60' }),
    /** Bound on event lateness accepted by the windows, in seconds. */
    allowedLatenessSeconds: z.number().int().min(0).max(86400),
    checkpointIntervalSeconds: z.number().int().min(10).max(3600),
  })
  .strict();

const sparkWorkerSchema = z
  .object({
    /** vCPUs of the worker: 1, 2, 4, 8 or 16. */
    cpu: z.number().int(),
    /** Worker memory in GB (Spark heap plus overhead); the range depends on cpu. */
    memoryGb: z.number().int(),
    /** Worker disk in GB (20-200). */
    diskGb: z.number().int(),
  })
  .strict();

/** Size of one Spark job: workers and dynamic-allocation bounds (lib/constructs/spark/spark-job-size.ts). */
const sparkJobSizeSchema = z
  .object({
    driver: sparkWorkerSchema,
    executor: sparkWorkerSchema,
    minExecutors: z.number().int().min(0).max(1000),
    initialExecutors: z.number().int().min(0).max(1000),
    maxExecutors: z.number().int().min(1).max(1000),
  })
  .strict()
  .superRefine((size, ctx) => {
    for (const problem of jobSizeProblems(size)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  });

const emrSchema = z
  .object({
    /** EMR Serverless release label. */
    releaseLabel: z.string().regex(/^emr-7\.\d+\.\d+$/, 'must be an EMR 7 release label such as emr-7.9.0'),
    maxCpuVcpu: z.number().int().min(1).max(4000),
    maxMemoryGb: z.number().int().min(1).max(16000),
    maxDiskGb: z.number().int().min(20).max(200000),
    idleTimeoutMinutes: z.number().int().min(1).max(10080),
    /** Pre-initialized workers (warm pool); absent = none, jobs start cold. */
    preInitialized: z
      .object({ driverCount: z.number().int().min(1).max(10), executorCount: z.number().int().min(1).max(100) })
      .strict()
      .optional(),
    /** When the daily report runs (EventBridge cron or rate expression, UTC). */
    dailyReportSchedule: z.string().superRefine(problems(scheduleExpressionProblems)),
    /** How often the streaming supervisor checks the streaming job, in minutes. */
    supervisorIntervalMinutes: z.number().int().min(1).max(60),
    /** Micro-batch interval of the Spark streaming job (Kafka -> bronze), in seconds: part of the speed view's latency. */
    streamingTriggerSeconds: z.number().int().min(5).max(60),
    /**
     * Size of each Spark job. The streaming job runs all the time: its peak plus the largest batch
     * job's peak must fit under maxCpuVcpu/maxMemoryGb/maxDiskGb, or nightly jobs wait for capacity.
     */
    jobs: z.object({ streaming: sparkJobSizeSchema, landingToBronze: sparkJobSizeSchema, dailyReport: sparkJobSizeSchema }).strict(),
    /** Records per micro-batch and topic of the streaming job (bounds the first batch of a new checkpoint). */
    streamingMaxOffsetsPerTrigger: z.number().int().min(1000).max(100_000_000),
    /** Days before the reported day that each daily report run reports again, to count late events (0-31). */
    reportLateDays: z.number().int().min(0).max(31),
    /**
     * Run the Spark streaming job (Kafka -> bronze) under its supervisor. On in every environment;
     * false leaves the streaming lake out, and its connector jars are then not mirrored.
     * @default true
     */
    streamingJobEnabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.maxMemoryGb < e.maxCpuVcpu * 2) {
      ctx.addIssue({ code: 'custom', path: ['maxMemoryGb'], message: `must be at least 2 GB per vCPU (${e.maxCpuVcpu * 2})` });
    }
    const { streaming, ...batchJobs } = e.jobs;
    const problem = capacityProblem('emr', { cpuVcpu: e.maxCpuVcpu, memoryGb: e.maxMemoryGb, diskGb: e.maxDiskGb }, streaming, batchJobs);
    if (problem) ctx.addIssue({ code: 'custom', path: ['jobs'], message: problem });
  });

const lakeSchema = z
  .object({
    landing: tierLifecycleSchema,
    bronze: tierLifecycleSchema,
    silver: tierLifecycleSchema,
    gold: tierLifecycleSchema,
    /** Server access logs and query results. */
    logs: tierLifecycleSchema,
    /** Days to keep noncurrent object versions (GDPR erasure also needs old versions gone). */
    noncurrentVersionExpirationDays: z.number().int().min(1).max(3650),
    /**
     * Days Athena query results are kept. Results can hold personal data that erasure cannot find,
     * so together with noncurrent versions they must be gone within gdpr.erasureDeadlineDays.
     */
    queryResultsExpirationDays: positiveInt,
    abortIncompleteMultipartUploadDays: z.number().int().min(1).max(30),
    /**
     * Encrypt the Glue Data Catalog (table definitions, partitions, connection passwords) with the
     * lake key. The setting belongs to the account and region, not to this environment: it changes
     * every catalog user in the account, and losing the key makes every table in the account
     * unreadable. Turn it on in exactly one environment per account and region, one whose keys are
     * retained (synth refuses removalPolicy destroy).
     * @default false: the catalog keeps the account's setting
     */
    catalogEncryption: z.boolean().default(false),
  })
  .strict();

const debeziumSchema = z
  .object({
    hostname: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    databaseNames: z.array(z.string().regex(/^[A-Za-z_][\w$#@]{0,127}$/)).min(1),
    /** Debezium table.include.list entries, schema.table. */
    tableIncludeList: z.array(z.string().regex(/^[\w$#@]+\.[\w$#@]+$/, 'must be schema.table')).min(1),
    /** Secrets Manager secret with `username` and `password` keys. */
    credentialsSecretArn: z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
    minWorkers: z.number().int().min(1).max(10),
    maxWorkers: z.number().int().min(1).max(10),
    mcuCount: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]),
    /**
     * retention.ms of the change topics (cdc.sqlserver.*), in days; they carry captured rows, which
     * only age out (checked against gdpr.erasureDeadlineDays with the 1-day segment).
     * @default 7
     */
    topicRetentionDays: z.number().int().min(1).max(365).default(7),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.maxWorkers < d.minWorkers) ctx.addIssue({ code: 'custom', path: ['maxWorkers'], message: `must be at least minWorkers (${d.minWorkers})` });
  });

const ga4Schema = z
  .object({
    propertyId: z.string().regex(/^\d{6,12}$/, 'must be the numeric GA4 property id'),
    /** Secrets Manager secret holding the Google service-account JSON key. */
    credentialsSecretArn: z.string().regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'),
    /** Customer-managed KMS key of that secret, if any: the function gets kms:Decrypt on it (via Secrets Manager only). */
    credentialsKeyArn: z
      .string()
      .regex(/^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)')
      .optional(),
    /** Every run reads each pass's new whole hours; 5 minutes to 24 hours. */
    scheduleMinutes: z.number().int().min(5).max(1440),
    loginEventName: z.string().min(1).max(40),
    /** GA4 custom dimension that carries the user id: customEvent:<event parameter> or customUser:<user property> (not user_id: reserved). */
    userIdDimension: z.string().min(1).max(100),
    /** Longest user id the application sends; must fit GA4's truncation length (100 event parameter, 36 user property). */
    userIdMaxLength: z.number().int().min(1).max(128).optional(),
    /** Ages in minutes at which each minute is read (ascending); default 480, 2160, 4320. */
    passAgesMinutes: z.array(z.number().int()).optional(),
    /** Read minutes without any login that raise the empty-window alarm; default 360. */
    maxQuietMinutes: z
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 60)
      .optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    for (const message of userIdDimensionProblems(g.userIdDimension, g.userIdMaxLength ?? 100)) {
      ctx.addIssue({ code: 'custom', path: [message.startsWith('userIdMaxLength') ? 'userIdMaxLength' : 'userIdDimension'], message });
    }
    if (g.passAgesMinutes) for (const message of passAgeProblems(g.passAgesMinutes)) ctx.addIssue({ code: 'custom', path: ['passAgesMinutes'], message });
  });

const observabilitySchema = z
  .object({
    /** Email addresses subscribed to the alarm topic (confirmation needed). */
    alertEmails: z.array(z.email()),
    grafanaAuthentication: z.enum(['AWS_SSO', 'SAML']),
    /** Required with SAML: where Grafana reads the IdP metadata and which assertion values map to roles. */
    grafanaSaml: z
      .object({
        idpMetadataUrl: z.url({ protocol: /^https$/ }),
        roleAttribute: z.string().min(1).max(256),
        adminRoleValues: z.array(z.string().min(1)).min(1),
        editorRoleValues: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    /** Prometheus alert thresholds that differ between environments. */
    thresholds: z
      .object({
        brokerDiskUsedRatio: z.number().gt(0).lt(1),
        brokerCpuUtilisationRatio: z.number().gt(0).lt(1),
        produceLatencyMs: z.number().positive(),
        fetchConsumerLatencyMs: z.number().positive(),
        flinkConsumerLagMessages: z.number().int().positive(),
      })
      .strict(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.grafanaAuthentication === 'SAML' && !o.grafanaSaml) {
      ctx.addIssue({ code: 'custom', path: ['grafanaSaml'], message: 'is required when grafanaAuthentication is SAML (IdP metadata URL and role mapping)' });
    }
  });

/** Erasure of one data subject, and the bounds that make it complete (lib/config/personal-data.ts). */
const gdprSchema = z
  .object({
    /**
     * Days from an erasure request until the person's data is physically gone from every store
     * (GDPR Art. 12(3): one month, so at most 30). Synth refuses any retention that outlives it.
     */
    erasureDeadlineDays: z.number().int().min(3).max(30),
    /** retention.ms of the compacted logins.counts topic (compact plus delete), in days. */
    countsRetentionDays: z.number().int().min(1).max(30),
    /**
     * Flink state TTL (table.exec.state.ttl) of the per-user running counts, in hours: a user's
     * count is dropped after this long without a new login, so it cannot outlive the deadline.
     */
    flinkStateTtlHours: z.number().int().min(1).max(720),
    /**
     * What per-user dashboard panels and the serving views identify users by. `pseudonymous`:
     * user_ref, an HMAC-SHA256 of user_id under a key only the Spark job role can read (the views
     * do not select user_id); `plain`: user_id itself, for data classified as shareable with every
     * dashboard reader.
     */
    dashboardUserIdentity: z.enum(USER_IDENTITIES),
    /** The erasure receipts: S3 Object Lock default retention of each receipt. */
    receipts: z
      .object({
        /** Days each receipt is locked (and then expires). */
        retentionDays: z.number().int().min(1).max(3650),
        /**
         * COMPLIANCE: nobody, root included, can delete or shorten a receipt before retentionDays;
         * GOVERNANCE: principals with s3:BypassGovernanceRetention can (sandboxes that are torn down).
         */
        lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']),
      })
      .strict(),
  })
  .strict();

const servingSchema = z
  .object({
    /**
     * Promise of the serving layer: a login is readable through the speed view this many seconds
     * after its event time at the latest. Checked at synth against flink.windowMinutes and
     * emr.streamingTriggerSeconds (lib/config/speed-latency.ts).
     */
    maxLatencySeconds: z.number().int().min(60).max(86400),
    /** Closed days the batch and serving views reach back (the gold report_date partitions they read). */
    batchDays: z.number().int().min(1).max(3650),
  })
  .strict();

export const environmentConfigSchema = z
  .object({
    /** Environment name: dev, staging, prod, ... */
    name: z.string().regex(NAME, 'must be lowercase letters, digits and dashes, starting with a letter, at most 20 characters'),
    /** Base profile the environment derives from. */
    tier: z.enum(['dev', 'prod']),
    /** AWS account id; absent = the CDK default account (CDK_DEFAULT_ACCOUNT) or environment-agnostic. */
    account: z.string().regex(ACCOUNT, 'must be a 12-digit AWS account id').optional(),
    /** AWS region. */
    region: z.string().regex(REGION, 'must be an AWS region such as eu-west-1'),
    /** Prefix of every resource and stack name. */
    namePrefix: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'must be 2-16 lowercase letters, digits and dashes, starting with a letter'),
    /** Sandbox owner: suffixes every name and stack so personal copies never collide. */
    owner: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1-12 lowercase letters and digits, starting with a letter')
      .optional(),
    /** Becomes the cost-centre tag: tag value characters only. */
    costCentre: z
      .string()
      .min(1)
      .max(64)
      .superRefine(problems((v: string) => tagValueProblems('cost-centre', v))),
    dataClassification: z.enum(['public', 'internal', 'confidential', 'restricted']),
    /** retain: stateful resources survive stack deletion; destroy: everything goes (dev). */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** Empty buckets on stack deletion (needs removalPolicy destroy). */
    autoDeleteObjects: z.boolean(),
    terminationProtection: z.boolean(),
    /** Managed policy ARN set as permissions boundary on every role in the app. */
    permissionsBoundaryArn: z.string().regex(IAM_POLICY_ARN, 'must be an IAM managed policy ARN').optional(),
    logRetentionDays,
    network: networkSchema,
    /** Days to keep VPC flow logs. */
    flowLogRetentionDays: logRetentionDays,
    kafka: kafkaSchema,
    flink: flinkSchema,
    emr: emrSchema,
    lake: lakeSchema,
    debezium: debeziumSchema.optional(),
    ga4: ga4Schema.optional(),
    /** How third-party artifacts (jobs/artifacts.json) are fetched and checked. */
    artifacts: z
      .object({
        /**
         * Refuse to synthesize while an artifact this environment uses has no SHA-256 pin in
         * jobs/artifacts.lock.json (`npm run artifacts:lock`), for regulated environments; otherwise
         * an unpinned artifact is verified against its published checksum alone.
         * @default false
         */
        requirePins: z.boolean().default(false),
        /** Maven repository to download from, e.g. a corporate proxy of Maven Central. @default https://repo1.maven.org/maven2 */
        mavenRepositoryUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).optional(),
      })
      .strict()
      .default({ requirePins: false }),
    /**
     * Where the artifact mirror copies artifacts from in accounts without internet access
     * (s3://bucket/prefix holding the same keys, each with its .sha512/.sha256/.sha1 checksum file
     * beside it). Absent = download from the repositories.
     */
    artifactSourceBucketUri: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[\w!\-.*'()/]*)?$/, 'must be an s3://bucket[/prefix] URI')
      .optional(),
    observability: observabilitySchema,
    serving: servingSchema,
    gdpr: gdprSchema,
    /** Extra tags on every resource. */
    tags: z.record(z.string(), z.string()).superRefine((tags, ctx) => {
      for (const [key, value] of Object.entries(tags)) {
        for (const message of [...tagKeyProblems(key), ...tagValueProblems(key, value)]) ctx.addIssue({ code: 'custom', path: [key], message });
      }
      const keys = new Set([...PLATFORM_TAG_KEYS, ...Object.keys(tags)]);
      const room = MAX_TAGS_PER_RESOURCE - CDK_TAGS_PER_RESOURCE;
      if (keys.size > room) {
        ctx.addIssue({
          code: 'custom',
          message: `adds up to ${keys.size} tags with the platform's own ${PLATFORM_TAG_KEYS.join(', ')}; AWS allows ${MAX_TAGS_PER_RESOURCE} per resource and CDK adds up to ${CDK_TAGS_PER_RESOURCE}, so at most ${room}`,
        });
      }
    }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.autoDeleteObjects && c.removalPolicy === 'retain') {
      ctx.addIssue({ code: 'custom', path: ['autoDeleteObjects'], message: 'must be false when removalPolicy is retain' });
    }
    if (c.lake.catalogEncryption && c.removalPolicy !== 'retain') {
      ctx.addIssue({
        code: 'custom',
        path: ['lake', 'catalogEncryption'],
        message:
          'must be false when removalPolicy is destroy: the catalog setting is account-wide, and destroying this environment would delete the lake key every Glue table of the account is then encrypted with',
      });
    }
    const azCount = c.network.mode === 'create' ? c.network.azCount : c.network.availabilityZones.length;
    if (c.kafka.brokerCount % azCount !== 0) {
      ctx.addIssue({ code: 'custom', path: ['kafka', 'brokerCount'], message: `must be a multiple of the AZ count (${azCount})` });
    }
    if (c.network.mode === 'create' && c.network.availabilityZones && c.network.availabilityZones.length !== c.network.azCount) {
      ctx.addIssue({ code: 'custom', path: ['network', 'availabilityZones'], message: `must list exactly azCount (${c.network.azCount}) zones` });
    }
    if (c.network.mode === 'create' && c.network.natGateways > c.network.azCount) {
      ctx.addIssue({ code: 'custom', path: ['network', 'natGateways'], message: `must not exceed azCount (${c.network.azCount})` });
    }
    const zones = c.network.availabilityZones ?? [];
    for (const message of availabilityZoneProblems(c.region, zones)) ctx.addIssue({ code: 'custom', path: ['network', 'availabilityZones'], message });
    if (c.network.mode === 'create') {
      const cidr = parseIpv4Cidr(c.network.cidr);
      const groups = createdSubnetGroups(c.network.natGateways);
      const needed = addressesNeeded(groups, c.network.azCount);
      if (typeof cidr !== 'string' && needed > 2 ** (32 - cidr.prefix)) {
        const prefix = 32 - Math.ceil(Math.log2(needed));
        ctx.addIssue({
          code: 'custom',
          path: ['network', 'cidr'],
          message:
            `holds ${2 ** (32 - cidr.prefix)} addresses, but ${c.network.azCount} zones of ${groups.map((g) => `${g.name} /${g.cidrMask}`).join(', ')} subnets ` +
            `need ${needed} (aligned as CDK allocates them): use a /${prefix} or larger`,
        });
      }
    }
    if (c.network.mode === 'import') {
      const n = c.network.availabilityZones.length;
      // Route tables may be shared between subnets; subnets may not repeat.
      const subnets = c.network.privateSubnetIds;
      const repeated = subnets.filter((id, i) => subnets.indexOf(id) !== i);
      if (repeated.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['network', 'privateSubnetIds'],
          message: `lists ${repeated.join(', ')} more than once: one subnet per availability zone`,
        });
      }
      for (const key of ['privateSubnetIds', 'privateSubnetRouteTableIds'] as const) {
        if (c.network[key].length !== n) {
          ctx.addIssue({ code: 'custom', path: ['network', key], message: `must list one entry per availability zone (${n})` });
        }
      }
    }
    if (c.tier === 'prod' && c.removalPolicy !== 'retain') {
      ctx.addIssue({ code: 'custom', path: ['removalPolicy'], message: 'must be retain for a prod-tier environment' });
    }
    const budget = speedLatencyBudget({ windowMinutes: c.flink.windowMinutes, streamingTriggerSeconds: c.emr.streamingTriggerSeconds });
    if (budget.totalSeconds > c.serving.maxLatencySeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['flink', 'windowMinutes'],
        message:
          `with emr.streamingTriggerSeconds = ${c.emr.streamingTriggerSeconds} the speed view's worst-case latency is ${describeBudget(budget)}, ` +
          `above serving.maxLatencySeconds (${c.serving.maxLatencySeconds}): shorten the window or the trigger, or raise the budget`,
      });
    }
    for (const problem of retentionProblems(c)) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    if (c.ga4 && c.network.mode === 'create' && c.network.natGateways === 0) {
      ctx.addIssue({ code: 'custom', path: ['ga4'], message: 'needs internet egress to reach Google: set network.natGateways to at least 1' });
    }
  });

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
export type NetworkConfig = EnvironmentConfig['network'];
export type TierLifecycle = z.infer<typeof tierLifecycleSchema>;
export type GdprConfig = z.infer<typeof gdprSchema>;
