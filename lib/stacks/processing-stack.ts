import * as path from 'node:path';
import { Arn, ArnFormat, Aws, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WildcardAcknowledgements } from '../compliance/wildcard-acknowledgements';
import { routeOrExposeAlarms } from '../constructs/core/alarm-routing';
import { flinkApplicationNameOf, removalPolicyOf, retentionOf } from '../config/cdk-values';
import { encryptStateMachine, grantReadExecutions } from '../constructs/core/state-machine-encryption';
import { vendedLogGroupNameFor } from '../constructs/core/vended-logs';
import type { ResolvedEnvironment } from '../config/load-config';
import type { ArtifactMirror } from '../constructs/artifacts/artifact-mirror';
import { FLINK_JOBS_DIR, FlinkApplication } from '../constructs/flink/flink-application';
import { kafkaGroupArn } from '../constructs/kafka/kafka-access';
import type { KafkaCluster } from '../constructs/kafka/kafka-cluster';
import type { KafkaTopics } from '../constructs/kafka/kafka-topics';
import { TOPIC_NAMES } from '../contracts/topic-spec';
import type { LakeCatalog } from '../constructs/lake/lake-catalog';
import type { LakeStorage } from '../constructs/lake/lake-storage';
import { LakeTables } from '../constructs/lake/lake-tables';
import { ServingViews } from '../constructs/lake/serving-views';
import type { PlatformNetwork } from '../constructs/network/platform-network';
import type { PlatformKeys } from '../constructs/security/platform-keys';
import { SparkApplication } from '../constructs/spark/spark-application';
import { SparkBatchJob } from '../constructs/spark/spark-job';
import type { SparkJobRole } from '../constructs/spark/spark-job-role';
import { sparkSizeConf } from '../constructs/spark/spark-job-size';
import { StreamingJobSupervisor } from '../constructs/spark/streaming-job-supervisor';
import type { UserRefKey } from '../constructs/gdpr/user-ref-key';
import { USER_REF_KEY_PROPERTY } from '../constructs/gdpr/user-ref-key';
import type { ErasureReceipts } from '../constructs/gdpr/erasure-receipts';
import { ErasureWorkflow } from '../constructs/gdpr/erasure-workflow';
import { erasureWorkflowSettings } from '../config/personal-data';

/** jobs/spark: entry scripts at the root, the `lakestream_spark` package and `sql/` beside them. */
export const SPARK_JOBS_DIR = path.join(__dirname, '..', '..', 'jobs', 'spark');
/**
 * Flink's consumer group, as dashboards/rules/consumer-lag.yml watches it. The Flink job takes it
 * from the `consumer.group.id` property (its built-in default is lakestream-login-counts).
 */
export const FLINK_CONSUMER_GROUP = 'lakestream-flink-login-counts';
/**
 * Spark generates one consumer group per query, `<prefix>-<uuid>-...`, and keeps offsets in its
 * checkpoints (so no consumer-group lag exists for it: the supervisor watches the job instead).
 */
export const SPARK_GROUP_ID_PREFIX = 'lakestream-spark-bronze';
/** Where login files are dropped in the landing bucket (landing_to_bronze.py --landing-uri). */
export const LANDING_LOGINS_PREFIX = 'logins/';
/** Bronze dataset of the streamed logins topic (lakestream_spark.layout.kafka_dataset_uri), read by the daily report. */
export const STREAMED_LOGINS_PREFIX = 'kafka/logins_raw/';
/** Silver root of the streamed aggregate topics (logins.counts; lakestream_spark.layout). */
export const SILVER_STREAMED_PREFIX = 'kafka/';
/** Bronze dataset written by landing-to-bronze (lakestream_spark.layout.landing_dataset_uri), read by the daily report. */
export const LANDING_LOGINS_DATASET_PREFIX = 'landing/logins/';
/** Spark driver and executor logs, in the artifacts bucket. */
export const EMR_LOGS_PREFIX = 'logs/emr/';

export interface ProcessingStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  readonly keys: PlatformKeys;
  readonly network: PlatformNetwork;
  readonly kafka: KafkaCluster;
  readonly lake: LakeStorage;
  readonly catalog: LakeCatalog;
  readonly topics: KafkaTopics;
  /** The mirror of third-party jars; required while Flink or the Spark streaming job is enabled. */
  readonly artifacts?: ArtifactMirror;
  /** Receipts bucket and digest key of the erasure workflow (data stack). */
  readonly erasureReceipts: ErasureReceipts;
  /** Key of the pseudonymous user references (data stack): the Spark jobs compute user_ref with it. */
  readonly userRefKey: UserRefKey;
}

/**
 * The speed and batch layers: the EMR Serverless Spark application with its batch jobs (landing →
 * bronze, then the daily report, one scheduled pipeline), the Spark streaming job (Kafka → bronze)
 * with its supervisor, the Managed Flink login-counts application, and the Glue tables over what
 * the Spark jobs write. Flink and the streaming job are built in every environment unless turned
 * off (`flink.enabled`, `emr.streamingJobEnabled`); their connector jars are the artifacts of
 * jobs/artifacts.json used by `flink` and `spark-streaming`, in manifest order, which the artifact
 * mirror puts in the artifacts bucket at deploy time.
 */
export class ProcessingStack extends Stack {
  public readonly spark: SparkApplication;
  /** The role of each Spark job (one per job, each granted only that job's prefixes, tables, keys and code). */
  public readonly jobRoles: {
    readonly landingToBronze: SparkJobRole;
    readonly dailyReport: SparkJobRole;
    readonly streaming?: SparkJobRole;
    readonly erasure: SparkJobRole;
  };
  public readonly batchJobs: { readonly landingToBronze: SparkBatchJob; readonly dailyReport: SparkBatchJob };
  /** Runs landing-to-bronze, then the daily report, on `emr.dailyReportSchedule`. */
  public readonly dailyPipeline: sfn.StateMachine;
  public readonly supervisor?: StreamingJobSupervisor;
  public readonly flink?: FlinkApplication;
  public readonly tables: LakeTables;
  /** Athena views of the serving layer (speed, batch, merged) over the tables above. */
  public readonly servingViews: ServingViews;
  /** GDPR erasure of data subjects from every store (lib/constructs/gdpr). */
  public readonly erasure: ErasureWorkflow;
  /** Failure alarms of the batch jobs and the streaming job, without actions: route them to the alarm topic. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, keys, network, kafka, lake, catalog, topics, artifacts } = props;
    const logRetention = retentionOf(config.logRetentionDays);
    const logRemovalPolicy = removalPolicyOf(config);
    // Discovered in this stack: a replaced or resized cluster reaches Flink and Spark (only the ARN crosses stacks).
    const brokers = kafka.discoverBrokers(this, 'BrokerDiscovery', { encryptionKey: keys.logs, logRetention });
    const mirror = (): ArtifactMirror => {
      if (!artifacts) throw new Error('ProcessingStack needs the artifact mirror (props.artifacts) while flink.enabled or emr.streamingJobEnabled is true');
      return artifacts;
    };

    this.tables = new LakeTables(this, 'Tables', {
      bronzeBucket: lake.bronze,
      silverBucket: lake.silver,
      goldBucket: lake.gold,
      bronzeDatabaseName: catalog.databaseNames.bronze,
      silverDatabaseName: catalog.databaseNames.silver,
      goldDatabaseName: catalog.databaseNames.gold,
      bronzeRangeStart: rangeStart(config.lake.bronze.expirationDays),
      silverRangeStart: rangeStart(config.lake.silver.expirationDays),
      goldRangeStart: rangeStart(config.lake.gold.expirationDays),
    });
    this.servingViews = new ServingViews(this, 'ServingViews', {
      silverDatabaseName: catalog.databaseNames.silver,
      goldDatabaseName: catalog.databaseNames.gold,
      batchDays: config.serving.batchDays,
      userIdentity: config.gdpr.dashboardUserIdentity,
      sourceTables: [
        this.tables.silverTables.kafka_logins_counts!,
        this.tables.goldTables.logins_per_user_per_day!,
        this.tables.goldTables.daily_active_users!,
      ],
    });

    this.spark = new SparkApplication(this, 'Spark', {
      applicationName: `${config.qualifier}-spark`,
      releaseLabel: config.emr.releaseLabel,
      vpc: network.vpc,
      vpcSubnets: network.computeSubnets,
      securityGroups: [network.kafkaClientSecurityGroup],
      maximumCapacity: { cpuVcpu: config.emr.maxCpuVcpu, memoryGb: config.emr.maxMemoryGb, diskGb: config.emr.maxDiskGb },
      preInitializedCapacity: config.emr.preInitialized,
      idleTimeout: Duration.minutes(config.emr.idleTimeoutMinutes),
      logsBucket: lake.artifacts,
      logsPrefix: EMR_LOGS_PREFIX,
      logsKey: keys.logs,
      logRetention,
      logRemovalPolicy,
    });
    // ---- job code ---------------------------------------------------------------------------
    // The package zip holds lakestream_spark/ and sql/ side by side at its root: report_sql.py reads
    // ../sql/<file> through the zip importer, so --py-files alone makes the SQL reachable.
    const packageAsset = new s3assets.Asset(this, 'SparkPackage', { path: SPARK_JOBS_DIR, exclude: ['tests', '__pycache__', '*.pyc'] });
    const entryPoint = (id: string, file: string) => new s3assets.Asset(this, id, { path: path.join(SPARK_JOBS_DIR, file) });
    const landingScript = entryPoint('LandingToBronzeScript', 'landing_to_bronze.py');
    const reportScript = entryPoint('DailyReportScript', 'daily_report.py');
    const pyFiles = `--py-files ${packageAsset.s3ObjectUrl}`;

    // ---- one role per job, granted only that job's data ---------------------------------------
    // A prefix a job reads without a grant answers 403, which no job treats as "no data yet"; so each
    // job's grants are made here for that job, whichever other jobs the environment builds.
    const jobRoleFor = (id: string, jobName: string, script: s3assets.Asset): SparkJobRole => {
      const jobRole = this.spark.addJobRole(id, jobName);
      jobRole.grantKeyUsage(keys.lake);
      // Exactly its own code objects, not the whole CDK assets bucket.
      jobRole.grantReadObjects(
        'ReadJobCode',
        [packageAsset, script].map((asset) => asset.bucket.arnForObjects(asset.s3ObjectKey)),
      );
      return jobRole;
    };
    // The pseudonym key of user_ref, resolved by EMR Serverless when a run of a job that writes
    // user_ref starts (lib/constructs/gdpr/user-ref-key.ts), with that job's role.
    const userRefKeyConf = { [USER_REF_KEY_PROPERTY]: props.userRefKey.sparkPropertyValue };
    const bronzeTables = [catalog.databaseNames.bronze, this.tables.bronzeTableNames] as const;
    const silverTables = [catalog.databaseNames.silver, this.tables.silverTableNames] as const;
    const goldTables = [catalog.databaseNames.gold, this.tables.goldTableNames] as const;

    // landing-to-bronze: reads landed files, replaces its day folders in bronze and quarantines rejects.
    const landingRole = jobRoleFor('LandingToBronzeRole', 'landing-to-bronze', landingScript);
    landingRole.grantRead(lake.landing, LANDING_LOGINS_PREFIX);
    landingRole.grantReadWrite(lake.bronze, 'landing/');
    landingRole.grantReadWrite(lake.bronze, 'quarantine/');
    landingRole.grantGlueTables(...bronzeTables);
    // daily report: reads both bronze login datasets (the streamed one even where the streaming job is
    // not built, e.g. data replayed into it), replaces its day folders in gold; it cannot change bronze.
    const reportRole = jobRoleFor('DailyReportRole', 'daily-report', reportScript);
    reportRole.grantRead(lake.bronze, STREAMED_LOGINS_PREFIX);
    reportRole.grantRead(lake.bronze, LANDING_LOGINS_DATASET_PREFIX);
    reportRole.grantReadWrite(lake.gold, 'reports/');
    reportRole.grantGlueTables(...bronzeTables, { readOnly: true });
    reportRole.grantGlueTables(...goldTables);
    props.userRefKey.grantRead(reportRole.role);

    // ---- batch jobs -------------------------------------------------------------------------
    const bronzeUri = lake.bronze.s3UrlForObject('/');
    const { jobs } = config.emr;
    const batchCommon = { application: this.spark, logsKey: keys.logs, logRetention, logRemovalPolicy };
    const landingToBronze = new SparkBatchJob(this, 'LandingToBronze', {
      ...batchCommon,
      executionRole: landingRole.role,
      jobName: 'landing-to-bronze',
      entryPoint: landingScript.s3ObjectUrl,
      entryPointArguments: ['--landing-uri', lake.landing.s3UrlForObject(LANDING_LOGINS_PREFIX), '--bronze-uri', bronzeUri],
      sparkSubmitParameters: `${pyFiles} ${sparkSizeConf(jobs.landingToBronze)}`,
    });
    const dailyReport = new SparkBatchJob(this, 'DailyReport', {
      ...batchCommon,
      executionRole: reportRole.role,
      jobName: 'daily-report',
      entryPoint: reportScript.s3ObjectUrl,
      entryPointArguments: ['--bronze-uri', bronzeUri, '--gold-uri', lake.gold.s3UrlForObject('/'), '--late-days', String(config.emr.reportLateDays)],
      sparkSubmitParameters: `${pyFiles} ${sparkSizeConf(jobs.dailyReport)}`,
      sparkDefaults: userRefKeyConf,
    });
    this.batchJobs = { landingToBronze, dailyReport };
    this.dailyPipeline = this.dailyPipelineOf([landingToBronze, dailyReport], config, keys.logs, logRetention, logRemovalPolicy);

    // ---- Spark streaming: Kafka -> bronze -----------------------------------------------------
    let streamingRole: SparkJobRole | undefined;
    if (config.emr.streamingJobEnabled) {
      const sparkJars = mirror().artifactsUsedBy('spark-streaming');
      const streamingScript = entryPoint('StreamingBronzeScript', 'streaming_bronze.py');
      // Reads the two topics, writes the streamed datasets and its checkpoints; nothing in landing or gold.
      streamingRole = jobRoleFor('StreamingBronzeRole', 'streaming-bronze', streamingScript);
      streamingRole.grantReadWrite(lake.bronze, 'kafka/');
      // Flink's counts are aggregates: they land in silver, which dashboards read instead of bronze.
      streamingRole.grantReadWrite(lake.silver, SILVER_STREAMED_PREFIX);
      streamingRole.grantReadWrite(lake.bronze, '_checkpoints/');
      streamingRole.grantGlueTables(...bronzeTables);
      streamingRole.grantGlueTables(...silverTables);
      streamingRole.grantReadObjects(
        'ReadKafkaConnectorJars',
        sparkJars.map((name) => mirror().objectArn(name)),
      );
      props.userRefKey.grantRead(streamingRole.role);
      for (const topic of [TOPIC_NAMES.loginsRaw, TOPIC_NAMES.loginsCounts]) {
        topics.topic(topic).grantReadWithGroupPrefix(streamingRole.role, SPARK_GROUP_ID_PREFIX);
      }
      new WildcardAcknowledgements(streamingRole.role).add(
        `${kafkaGroupArn(topics.cluster, SPARK_GROUP_ID_PREFIX)}*`,
        `Spark names a consumer group per streaming query (${SPARK_GROUP_ID_PREFIX}-<uuid>-...); the grant covers exactly the groups with the job's prefix.`,
      );
      this.supervisor = new StreamingJobSupervisor(this, 'StreamingBronze', {
        application: this.spark,
        executionRole: streamingRole.role,
        jobName: 'streaming-bronze',
        entryPoint: streamingScript.s3ObjectUrl,
        entryPointArguments: [
          '--bootstrap-servers',
          brokers.bootstrapBrokers,
          '--bronze-uri',
          bronzeUri,
          '--silver-uri',
          lake.silver.s3UrlForObject('/'),
          '--logins-topic',
          TOPIC_NAMES.loginsRaw,
          '--record-topic',
          TOPIC_NAMES.loginsCounts,
          '--group-id-prefix',
          SPARK_GROUP_ID_PREFIX,
          '--trigger-seconds',
          String(config.emr.streamingTriggerSeconds),
          '--max-offsets-per-trigger',
          String(config.emr.streamingMaxOffsetsPerTrigger),
        ],
        sparkSubmitParameters: `${pyFiles} --jars ${sparkJars.map((name) => mirror().s3UriFor(this, name)).join(',')} ${sparkSizeConf(config.emr.jobs.streaming)}`,
        sparkDefaults: userRefKeyConf,
        checkInterval: Duration.minutes(config.emr.supervisorIntervalMinutes),
        encryptionKey: keys.logs,
        logRetention,
      });
      this.supervisor.node.addDependency(topics.resource);
    }

    // ---- Flink: login counts ------------------------------------------------------------------
    if (config.flink.enabled) {
      // Manifest order is priority order: the connector before the clients it is built against (FlinkConnectorJars.keys).
      const flinkJars = mirror().artifactsUsedBy('flink');
      this.flink = new FlinkApplication(this, 'LoginCounts', {
        applicationName: flinkApplicationNameOf(config),
        codeAsset: FlinkApplication.codeAsset(this, 'LoginCountsCode', path.join(FLINK_JOBS_DIR, 'login_counts')),
        connectorJars: { bucket: lake.artifacts, keys: flinkJars.map((name) => mirror().objectKeyFor(this, name)), encryptionKey: keys.lake },
        vpc: network.vpc,
        subnets: network.computeSubnets,
        securityGroup: network.kafkaClientSecurityGroup,
        parallelism: config.flink.parallelism,
        parallelismPerKpu: config.flink.parallelismPerKpu,
        autoScaling: config.flink.autoScaling,
        checkpointInterval: Duration.seconds(config.flink.checkpointIntervalSeconds),
        applicationProperties: {
          lakestream: {
            'bootstrap.servers': brokers.bootstrapBrokers,
            'topic.raw': TOPIC_NAMES.loginsRaw,
            'topic.counts': TOPIC_NAMES.loginsCounts,
            'topic.dlq': TOPIC_NAMES.loginsRawDlq,
            'consumer.group.id': FLINK_CONSUMER_GROUP,
            'window.minutes': String(config.flink.windowMinutes),
            'lateness.seconds': String(config.flink.allowedLatenessSeconds),
            'state.ttl.hours': String(config.gdpr.flinkStateTtlHours),
          },
        },
        // The streaming key's policy admits Managed Flink for exactly this application (security stack).
        stateEncryptionKey: keys.streaming,
        logsKey: keys.logs,
        logRetention,
        removalPolicy: logRemovalPolicy,
      });
      topics.topic(TOPIC_NAMES.loginsRaw).grantRead(this.flink.role, FLINK_CONSUMER_GROUP);
      topics.topic(TOPIC_NAMES.loginsCounts).grantWrite(this.flink.role);
      topics.topic(TOPIC_NAMES.loginsRawDlq).grantWrite(this.flink.role);
      this.flink.node.addDependency(topics.resource);
    }

    // ---- GDPR erasure -------------------------------------------------------------------------
    const eraseScript = entryPoint('EraseSubjectsScript', 'erase_subjects.py');
    const eraseRole = jobRoleFor('EraseSubjectsRole', 'erase-subjects', eraseScript);
    eraseRole.grantGlueTables(...bronzeTables);
    eraseRole.grantGlueTables(...silverTables);
    eraseRole.grantGlueTables(...goldTables);
    this.erasure = new ErasureWorkflow(this, 'Erasure', {
      ...erasureWorkflowSettings(config),
      stateMachineName: `${config.qualifier}-erasure`,
      environmentName: config.stageName,
      parameterName: `/${config.namePrefix}/${config.stageName}/erasure`,
      spark: this.spark,
      jobRole: eraseRole,
      entryPoint: eraseScript.s3ObjectUrl,
      sparkSubmitParameters: `${pyFiles} ${sparkSizeConf(jobs.landingToBronze)}`,
      bronze: lake.bronze,
      silver: lake.silver,
      gold: lake.gold,
      lakeKey: keys.lake,
      receipts: props.erasureReceipts,
      countsTopic: topics.topic(TOPIC_NAMES.loginsCounts),
      bootstrapBrokers: brokers.bootstrapBrokers,
      vpc: network.vpc,
      vpcSubnets: network.computeSubnets,
      kafkaClientSecurityGroup: network.kafkaClientSecurityGroup,
      flinkApplication: this.flink ? { name: this.flink.applicationName, arn: this.flink.applicationArn } : undefined,
      logsKey: keys.logs,
      logRetention,
      logRemovalPolicy,
    });
    this.jobRoles = { landingToBronze: landingRole, dailyReport: reportRole, streaming: streamingRole, erasure: eraseRole };

    this.alarms = [
      landingToBronze.failureAlarm,
      this.erasure.eraseJob.failureAlarm,
      dailyReport.failureAlarm,
      ...(this.supervisor ? [this.supervisor.failureAlarm] : []),
    ];
    routeOrExposeAlarms(this.alarms, undefined, 'ProcessingStack');
  }

  /**
   * One state machine per job keeps each runnable on its own (retries, alarm, on-demand runs);
   * this pipeline runs them in order on the schedule, so the report always sees the day's landed
   * files. A failed job fails the pipeline, and the job's own failure alarm has already fired.
   */
  private dailyPipelineOf(
    jobs: SparkBatchJob[],
    config: ResolvedEnvironment,
    logsKey: PlatformKeys['logs'],
    logRetention: logs.RetentionDays,
    logRemovalPolicy: ReturnType<typeof removalPolicyOf>,
  ): sfn.StateMachine {
    const scope = new Construct(this, 'DailyPipeline');
    const steps = jobs.map(
      (job, index) =>
        new sfn.CustomState(scope, `Run${index + 1}`, {
          stateJson: {
            Type: 'Task',
            Resource: `arn:${Aws.PARTITION}:states:::states:startExecution.sync:2`,
            Arguments: {
              StateMachineArn: job.stateMachine.stateMachineArn,
              Input: { trigger: 'daily-pipeline', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: '{% $states.context.Execution.Id %}' },
            },
          },
        }),
    );
    const definition = steps.slice(1).reduce((chain, step) => chain.next(step), sfn.Chain.start(steps[0]!));
    const logGroup = new logs.LogGroup(scope, 'LogGroup', {
      logGroupName: vendedLogGroupNameFor(scope, 'states'),
      encryptionKey: logsKey,
      retention: logRetention,
      removalPolicy: logRemovalPolicy,
    });
    const pipeline = new sfn.StateMachine(scope, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      queryLanguage: sfn.QueryLanguage.JSONATA,
      comment: 'Daily batch layer: landing-to-bronze, then the daily report',
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: false,
    });
    const role = pipeline.role;
    encryptStateMachine(pipeline.node.defaultChild as sfn.CfnStateMachine, role, logsKey, { logging: true });
    // .sync reads each job execution's result (DescribeExecution): Step Functions decrypts it for the pipeline's role.
    grantReadExecutions(
      role,
      logsKey,
      jobs.map((job) => job.stateMachine.node.defaultChild as sfn.CfnStateMachine),
    );
    const executionsArns = jobs.map((job) =>
      this.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${Arn.split(job.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'StartJobs', actions: ['states:StartExecution'], resources: jobs.map((job) => job.stateMachine.stateMachineArn) }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'FollowJobs', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: executionsArns }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SyncEventsRule',
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [this.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' })],
      }),
    );
    const wildcards = new WildcardAcknowledgements(role);
    for (const arn of executionsArns) {
      wildcards.add(arn, 'Execution names are generated at start; the pipeline follows and stops executions of its own two job state machines only.');
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) supports only Resource *.',
    });
    Validations.of(pipeline).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'X-Ray write actions accept only Resource *, which the project forbids; each execution is traced by its ALL-level logs and the job executions it starts.',
    });
    new scheduler.Schedule(scope, 'Schedule', {
      description: 'Starts the daily batch layer: landing-to-bronze, then the daily report',
      schedule: scheduler.ScheduleExpression.expression(config.emr.dailyReportSchedule),
      target: new schedulerTargets.StepFunctionsStartExecution(pipeline, {
        input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
    return pipeline;
  }
}

/** `NOW-<days>DAYS` when the tier expires data, else three years back. */
function rangeStart(expirationDays: number | undefined): string {
  return expirationDays === undefined ? 'NOW-3YEARS' : `NOW-${expirationDays}DAYS`;
}
