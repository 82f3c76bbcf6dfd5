/**
 * The metric contract: one definition per metric (namespace, name, dimension names), shared by the
 * Lambda handlers that emit it, the CloudWatch alarms that watch it and the Grafana panels that plot
 * it (test/dashboards/metric-sources.test.ts checks every panel and alarm of every environment
 * against this file). Handlers import it, so it depends on nothing but TypeScript.
 */

/** CloudWatch namespace of the platform's own Embedded Metric Format metrics. */
export const LAKESTREAM_NAMESPACE = 'Lakestream';

/**
 * An EMF emitter: Powertools Metrics publishes every metric of one flush under ONE dimension set, the
 * `service` dimension followed by the default dimensions, in this order. A panel or alarm must name
 * exactly this set (CloudWatch matches dimension sets exactly).
 */
export interface EmfEmitter {
  readonly namespace: string;
  /**
   * The `service` dimension's value: fixed, or `undefined` when each construct instance sets its own
   * through POWERTOOLS_SERVICE_NAME (then read it from the construct, e.g. FileReplay.metricsServiceName).
   */
  readonly service: string | undefined;
  /** Every dimension name of the emitted set, `service` first. */
  readonly dimensions: readonly string[];
  /** Metric names by a stable key. */
  readonly metrics: Readonly<Record<string, string>>;
}

/** lib/functions/file-replay: worker (per invocation) and summary (per run) metrics; `service` is per FileReplay instance. */
export const FILE_REPLAY_METRICS = {
  namespace: LAKESTREAM_NAMESPACE,
  service: undefined,
  dimensions: ['service'],
  metrics: {
    /** Per worker invocation: records acknowledged by Kafka. */
    recordsSent: 'ReplayRecordsSent',
    /** Per worker invocation: lines quarantined. */
    recordsRejected: 'ReplayRecordsRejected',
    /** Per worker invocation: uncompressed content bytes consumed. */
    bytesRead: 'ReplayBytesRead',
    runRecords: 'ReplayRunRecords',
    runRejected: 'ReplayRunRejected',
    runBytes: 'ReplayRunBytes',
    runDuration: 'ReplayRunDuration',
    runs: 'ReplayRuns',
    runsSkipped: 'ReplayRunsSkipped',
  },
} as const satisfies EmfEmitter;

/** lib/functions/ga4-ingest: one flush per scheduled run; FunctionName is the invoked function's name. */
export const GA4_INGEST_METRICS = {
  namespace: LAKESTREAM_NAMESPACE,
  service: 'ga4-ingest',
  dimensions: ['service', 'FunctionName'],
  metrics: {
    eventsSent: 'Ga4EventsSent',
    rowsRejected: 'Ga4RowsRejected',
    apiRetries: 'Ga4ApiRetries',
    /** Logins a re-read pass found that earlier passes had not: GA4 reported them late. */
    lateEventsSent: 'Ga4LateEventsSent',
    /** Rows GA4 now reports with fewer logins than were sent. */
    countsRevisedDown: 'Ga4CountsRevisedDown',
    /** Passes not started because the hourly Data API tokens ran low. */
    passesDeferred: 'Ga4PassesDeferred',
    /** Minutes from the newest login read to the newest minute read (the empty-window alarm's metric). */
    emptyMinutes: 'Ga4EmptyMinutes',
    quotaTokensPerHourRemaining: 'Ga4QuotaTokensPerHourRemaining',
  },
} as const satisfies EmfEmitter;

/** lib/functions/streaming-job-supervisor: one flush per check; JobName is the supervised job's run name. */
export const STREAMING_JOB_SUPERVISOR_METRICS = {
  namespace: LAKESTREAM_NAMESPACE,
  service: 'streaming-job-supervisor',
  dimensions: ['service', 'JobName'],
  metrics: { restarts: 'StreamingJobRestarts', consecutiveFailures: 'StreamingJobConsecutiveFailures', active: 'StreamingJobActive' },
} as const satisfies EmfEmitter;

export const EMF_EMITTERS = {
  'file-replay': FILE_REPLAY_METRICS,
  'ga4-ingest': GA4_INGEST_METRICS,
  'streaming-job-supervisor': STREAMING_JOB_SUPERVISOR_METRICS,
} as const;
export type EmfEmitterName = keyof typeof EMF_EMITTERS;

/**
 * The dimension map of an emitter's metrics, in the emitted order. Fails when a value is missing or
 * extra, so an alarm or panel can never name a dimension set the emitter does not publish.
 */
export function emfDimensions(emitter: EmfEmitter, values: Readonly<Record<string, string>>): Record<string, string> {
  const all: Record<string, string | undefined> = { ...values, ...(emitter.service === undefined ? {} : { service: emitter.service }) };
  const missing = emitter.dimensions.filter((name) => all[name] === undefined || all[name] === '');
  const extra = Object.keys(all).filter((name) => !emitter.dimensions.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`EMF dimensions [${emitter.dimensions.join(', ')}]: missing ${JSON.stringify(missing)}, not emitted ${JSON.stringify(extra)}`);
  }
  return Object.fromEntries(emitter.dimensions.map((name) => [name, all[name] as string]));
}

/** The dimensions Powertools takes as default dimensions: the emitted set without `service`, which it adds from serviceName. */
export function emfDefaultDimensions(emitter: EmfEmitter, values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(emfDimensions(emitter, values)).filter(([name]) => name !== 'service'));
}

/** A namespace of metrics an AWS service publishes, with the one dimension set the platform reads. */
export interface AwsServiceMetrics {
  readonly namespace: string;
  /** Dimension names of the set used here. */
  readonly dimensions: readonly string[];
  readonly metrics: readonly string[];
  /** Where the service documents these metrics and dimensions. */
  readonly source: string;
}

/**
 * Managed Service for Apache Flink at metricsLevel APPLICATION (FlinkApplication's default): only
 * metrics documented with level "Application" are published, with the single dimension Application.
 * records_lag_max is listed under "Amazon MSK connector metrics" with levels Application, Operator,
 * Task, Parallelism; millisBehindLatest is a Kinesis Data Streams connector metric and does not apply.
 * fullRestarts exists up to Flink 1.20 (removed in 2.2, replaced by numRestarts).
 */
export const FLINK_METRICS = {
  namespace: 'AWS/KinesisAnalytics',
  dimensions: ['Application'],
  metrics: [
    'downtime',
    'uptime',
    'fullRestarts',
    'numberOfFailedCheckpoints',
    'lastCheckpointDuration',
    'lastCheckpointSize',
    'KPUs',
    'cpuUtilization',
    'heapMemoryUtilization',
    'containerCPUUtilization',
    'containerMemoryUtilization',
    'containerDiskUtilization',
    'numRecordsIn',
    'numRecordsInPerSecond',
    'numRecordsOut',
    'numRecordsOutPerSecond',
    'numLateRecordsDropped',
    'currentInputWatermark',
    'currentOutputWatermark',
    'oldGenerationGCCount',
    'oldGenerationGCTime',
    'threadsCount',
    'commitsFailed',
    'commitsSucceeded',
    'records_lag_max',
    'bytes_consumed_rate',
  ],
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html',
} as const satisfies AwsServiceMetrics;

/** EMR Serverless application-level job and capacity metrics (dimension ApplicationId). */
export const EMR_SERVERLESS_METRICS = {
  namespace: 'AWS/EMRServerless',
  dimensions: ['ApplicationId'],
  metrics: [
    'SubmittedJobs',
    'PendingJobs',
    'ScheduledJobs',
    'RunningJobs',
    'SuccessJobs',
    'FailedJobs',
    'CancellingJobs',
    'CancelledJobs',
    'RunningWorkerCount',
    'IdleWorkerCount',
    'CPUAllocated',
    'MemoryAllocated',
    'StorageAllocated',
    'MaxCPUAllowed',
    'MaxMemoryAllowed',
    'MaxStorageAllowed',
  ],
  source: 'https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/app-job-metrics.html',
} as const satisfies AwsServiceMetrics;

/** Lambda function metrics by function name. */
export const LAMBDA_METRICS = {
  namespace: 'AWS/Lambda',
  dimensions: ['FunctionName'],
  metrics: ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'DeadLetterErrors'],
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html',
} as const satisfies AwsServiceMetrics;

/** Step Functions execution metrics by state machine ARN. */
export const STATES_METRICS = {
  namespace: 'AWS/States',
  dimensions: ['StateMachineArn'],
  metrics: ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted', 'ExecutionThrottled', 'ExecutionTime'],
  source: 'https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html',
} as const satisfies AwsServiceMetrics;

/** SQS queue metrics by queue name. */
export const SQS_METRICS = {
  namespace: 'AWS/SQS',
  dimensions: ['QueueName'],
  metrics: ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'NumberOfMessagesSent', 'NumberOfMessagesReceived'],
  source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html',
} as const satisfies AwsServiceMetrics;

export const AWS_SERVICE_METRICS = [FLINK_METRICS, EMR_SERVERLESS_METRICS, LAMBDA_METRICS, STATES_METRICS, SQS_METRICS] as const;

/**
 * Series the MSK open-monitoring exporters publish that the rules and dashboards read, by scrape job,
 * with the labels each carries (the scrape configuration adds `cluster` and `broker_host`).
 * Sources: https://docs.aws.amazon.com/msk/latest/developerguide/open-monitoring.html (JMX exporter
 * on port 11001, node exporter on 11002) and the MBean names of Apache Kafka's monitoring docs
 * (https://kafka.apache.org/documentation/#monitoring), as the JMX exporter renders them.
 */
export const MSK_EXPORTER_SERIES: Readonly<
  Record<string, { readonly job: 'msk-jmx' | 'msk-node' | 'any'; readonly labels: readonly string[]; readonly zookeeperOnly?: boolean }>
> = {
  up: { job: 'any', labels: ['job', 'instance', 'cluster', 'broker_host'] },
  kafka_server_ReplicaManager_Value: { job: 'msk-jmx', labels: ['name'] },
  // The active controller is a broker only in ZooKeeper mode; KRaft brokers do not export it (see dashboards/rules/kafka-controller-zookeeper.yml).
  kafka_controller_KafkaController_Value: { job: 'msk-jmx', labels: ['name'], zookeeperOnly: true },
  kafka_network_RequestMetrics_Mean: { job: 'msk-jmx', labels: ['name', 'request'] },
  kafka_server_BrokerTopicMetrics_OneMinuteRate: { job: 'msk-jmx', labels: ['name', 'topic'] },
  kafka_server_BrokerTopicMetrics_Count: { job: 'msk-jmx', labels: ['name', 'topic'] },
  kafka_consumer_group_ConsumerLagMetrics_Value: { job: 'msk-jmx', labels: ['name', 'groupId', 'topic', 'partition'] },
  node_filesystem_avail_bytes: { job: 'msk-node', labels: ['device', 'fstype', 'mountpoint'] },
  node_filesystem_size_bytes: { job: 'msk-node', labels: ['device', 'fstype', 'mountpoint'] },
  node_cpu_seconds_total: { job: 'msk-node', labels: ['cpu', 'mode'] },
  node_network_receive_bytes_total: { job: 'msk-node', labels: ['device'] },
  node_network_transmit_bytes_total: { job: 'msk-node', labels: ['device'] },
};
