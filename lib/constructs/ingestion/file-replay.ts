import { CfnElement, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { vendedLogGroupNameFor } from '../core/vended-logs';
import { routeOrExposeAlarms } from '../core/alarm-routing';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { REPLAY_DEFAULTS } from '../../functions/file-replay/config';
import { replayBatchBytes } from '../../functions/file-replay/batch-limits';
import { FILE_REPLAY_METRICS, emfDimensions } from '../../contracts/metrics';
import { METRICS_NAMESPACE, RECORDS_REJECTED_METRIC } from '../../functions/file-replay/metric-names';
import { CHECKPOINT_PREFIX, QUARANTINE_PREFIX, STAGING_PREFIX } from '../../functions/file-replay/storage-keys';
import { LakestreamFunction } from '../core/lakestream-function';
import { encryptStateMachine } from '../core/state-machine-encryption';

/**
 * Write access to one Kafka topic. `KafkaTopic` (kafka/kafka-access.ts) satisfies it; so does
 * `{ topicName, grantWrite: (grantee) => ... }` for any other way of granting. The grant must
 * include kafka-cluster:WriteDataIdempotently: the replay producer is idempotent.
 */
export interface TopicWriteAccess {
  readonly topicName: string;
  grantWrite(grantee: iam.IGrantable): void;
}

export interface FileReplayProps {
  /**
   * Bucket whose new objects are replayed. EventBridge notifications must be on: enabled here when
   * this is an `s3.Bucket`; for an imported bucket, enable them where the bucket is defined
   * (`eventBridgeEnabled: true`), or no replay ever starts.
   */
  readonly landingBucket: s3.IBucket;
  /** KMS key of the landing bucket (its default encryption key). */
  readonly landingKey: kms.IKey;
  /**
   * Only objects under this prefix are replayed. Must not overlap the replay's own prefixes
   * (`_replay/`, `quarantine/`), whose objects would otherwise trigger replays of themselves.
   * @default 'incoming/'
   */
  readonly keyPrefix?: string;
  /** VPC of the MSK cluster: the workers run in it. */
  readonly vpc: ec2.IVpc;
  /** Subnets for the functions; they need S3, SSM and KMS endpoints (or NAT). @default private subnets with egress */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group that reaches the brokers' IAM listener (9098) and HTTPS endpoints. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * The IAM bootstrap broker string (`host:9098,...`), e.g. `KafkaBrokerDiscovery.bootstrapBrokers`
   * of this stack; it becomes the BOOTSTRAP_BROKERS variable. Never an SSM dynamic reference:
   * CloudFormation does not re-resolve it when the cluster is replaced.
   */
  readonly bootstrapBrokers: string;
  /** Topic the records go to (`files.replay`); only the worker gets write access, to this topic only. */
  readonly topic: TopicWriteAccess;
  /** Key for log groups and function environments. */
  readonly logsKey: kms.IKey;
  /** Retention of the functions' and state machine's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log groups. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Key of the dead-letter queue. EventBridge delivers to it, so the key policy must allow
   * events.amazonaws.com kms:GenerateDataKey and kms:Decrypt (the platform streaming key does).
   */
  readonly queueEncryptionKey: kms.IKey;
  /** Size of one plain file's share per worker. @default 256 MiB */
  readonly rangeSizeBytes?: number;
  /** Ranges of one file replayed at the same time (also the Kafka connections per file). @default 8 */
  readonly maxConcurrency?: number;
  /** Worker memory; Lambda gives CPU in proportion, and GZIP compression is CPU-bound. @default 2048 */
  readonly workerMemorySize?: number;
  /** Worker timeout; it stops taking new batches 2 minutes before (or a quarter of it, if shorter). @default 15 minutes */
  readonly workerTimeout?: Duration;
  /** Records per Kafka batch (and per checkpoint). @default 5000 */
  readonly maxBatchRecords?: number;
  /** Encoded bytes (keys, values, record framing) per Kafka batch, capped by what the topic accepts. @default 1 MiB */
  readonly maxBatchBytes?: number;
  /** Longest line accepted; longer lines are quarantined. Must fit a batch of its own. @default 512 KiB */
  readonly maxLineBytes?: number;
  /**
   * The topic's `max.message.bytes` (the broker's `message.max.bytes` unless the topic sets it):
   * no batch the worker sends encodes to more. @default 1048588 (MSK's default)
   */
  readonly topicMaxMessageBytes?: number;
  /** Upper bound on one file's replay. @default 24 hours */
  readonly executionTimeout?: Duration;
  /** Rejected records per 5 minutes that raise the alarm. @default 1 */
  readonly rejectedRecordsAlarmThreshold?: number;
  /** Action (e.g. an SNS topic) for every alarm. @default none: the observability stack attaches actions to `alarms` */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /** `service` dimension of the replay's metrics. @default derived from the construct path */
  readonly metricsServiceName?: string;
}

const MiB = 1024 * 1024;

/**
 * Replays files landing in S3 as Kafka records, without giving the files' producers a Kafka
 * connection. Why Step Functions with byte ranges: one Lambda invocation has 15 minutes and a few
 * GB of memory, a file may be tens of GB; byte ranges let many workers share a plain file with
 * no state but the ranges themselves, and the state machine gives retries, a continuation loop for
 * workers that run out of time, and one place to see a file's run. (An inline Map suffices: a 50 GB
 * file is 200 ranges; a Distributed Map becomes worth it past thousands of ranges.)
 *
 *   S3 "Object Created" (EventBridge) ─► starter (execution name = hash of bucket, key, ETag, version) ─► state machine:
 *     Plan (HEAD, format, CSV header, ranges) ─► [gzip: Stage (decompress once to a plain copy, plain ranges)]
 *     ─► Map over ranges (MaxConcurrency):
 *         Worker ─► done? ─no─► Worker (resumes from its S3 checkpoint) ...
 *     ─► Summarize (log + EMF metrics)
 *   Failed deliveries and failed, timed-out or aborted executions ─► SQS dead-letter queue.
 */
export class FileReplay extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly planFunction: LakestreamFunction;
  public readonly workerFunction: LakestreamFunction;
  public readonly summaryFunction: LakestreamFunction;
  /** Decompresses a gzip object once into a plain staging object (linear replay of gzip). */
  public readonly stageFunction: LakestreamFunction;
  /** Starts one execution per object version; the trigger's target. */
  public readonly starterFunction: LakestreamFunction;
  /** Receives S3 events that could not start an execution, and status events of failed executions. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The EventBridge rule that starts a replay for each new object under the prefix. */
  public readonly trigger: events.Rule;
  public readonly alarms: cloudwatch.Alarm[];
  /** `service` dimension of the replay's EMF metrics (namespace `Lakestream`). */
  public readonly metricsServiceName: string;
  /** Key prefix under which new landing objects start a replay (the operator CLI's smoke test writes there). */
  public readonly keyPrefix: string;

  constructor(scope: Construct, id: string, props: FileReplayProps) {
    super(scope, id);
    const keyPrefix = props.keyPrefix ?? 'incoming/';
    validatePrefix(keyPrefix, this);
    this.keyPrefix = keyPrefix;
    const rangeSizeBytes = props.rangeSizeBytes ?? REPLAY_DEFAULTS.rangeSizeBytes;
    if (!Number.isInteger(rangeSizeBytes) || rangeSizeBytes < MiB) {
      throw new Error(`${this.node.path}: rangeSizeBytes = ${rangeSizeBytes} is not allowed (allowed: an integer of at least ${MiB} bytes)`);
    }
    const maxConcurrency = props.maxConcurrency ?? 8;
    const batchLimits = {
      MAX_BATCH_BYTES: props.maxBatchBytes ?? REPLAY_DEFAULTS.maxBatchBytes,
      MAX_LINE_BYTES: props.maxLineBytes ?? REPLAY_DEFAULTS.maxLineBytes,
      TOPIC_MAX_MESSAGE_BYTES: props.topicMaxMessageBytes ?? REPLAY_DEFAULTS.topicMaxMessageBytes,
    };
    try {
      replayBatchBytes(batchLimits);
    } catch (error) {
      throw new Error(`${this.node.path}: ${(error as Error).message.replace('MAX_LINE_BYTES', 'maxLineBytes')}`);
    }
    const workerTimeout = props.workerTimeout ?? Duration.minutes(15);
    this.metricsServiceName = props.metricsServiceName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).toLowerCase();

    if (props.landingBucket instanceof s3.Bucket) props.landingBucket.enableEventBridgeNotification();

    const common = {
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      handlerDir: 'file-replay',
    };
    this.planFunction = new LakestreamFunction(this, 'Plan', {
      ...common,
      handlerName: 'planHandler',
      description: `File replay: plans the byte ranges of new objects under s3://<landing>/${keyPrefix}`,
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment: {
        LANDING_BUCKET: props.landingBucket.bucketName,
        RANGE_SIZE_BYTES: String(rangeSizeBytes),
        MAX_RANGES: String(REPLAY_DEFAULTS.maxRanges),
        POWERTOOLS_SERVICE_NAME: this.metricsServiceName,
      },
    });
    this.workerFunction = new LakestreamFunction(this, 'Worker', {
      ...common,
      handlerName: 'handler',
      description: `File replay: streams one byte range of a landing object to Kafka topic ${props.topic.topicName}`,
      memorySize: props.workerMemorySize ?? 2048,
      timeout: workerTimeout,
      environment: {
        LANDING_BUCKET: props.landingBucket.bucketName,
        TOPIC_NAME: props.topic.topicName,
        // The value itself: the worker needs no SSM client (smaller bundle, faster cold start) nor SSM grant.
        BOOTSTRAP_BROKERS: props.bootstrapBrokers,
        MAX_BATCH_RECORDS: String(props.maxBatchRecords ?? REPLAY_DEFAULTS.maxBatchRecords),
        MAX_BATCH_BYTES: String(batchLimits.MAX_BATCH_BYTES),
        MAX_LINE_BYTES: String(batchLimits.MAX_LINE_BYTES),
        TOPIC_MAX_MESSAGE_BYTES: String(batchLimits.TOPIC_MAX_MESSAGE_BYTES),
        STOP_BEFORE_TIMEOUT_MS: String(Math.min(120_000, Math.floor(workerTimeout.toMilliseconds() / 4))),
        POWERTOOLS_SERVICE_NAME: this.metricsServiceName,
      },
    });
    this.stageFunction = new LakestreamFunction(this, 'Stage', {
      ...common,
      handlerName: 'stageHandler',
      description: `File replay: decompresses a gzip object once into ${STAGING_PREFIX} so its ranges replay in parallel`,
      // gunzip is CPU-bound and Lambda gives CPU in proportion to memory; two 64 MiB parts are in memory at once.
      memorySize: 2048,
      timeout: Duration.minutes(15),
      environment: {
        LANDING_BUCKET: props.landingBucket.bucketName,
        RANGE_SIZE_BYTES: String(rangeSizeBytes),
        MAX_RANGES: String(REPLAY_DEFAULTS.maxRanges),
        POWERTOOLS_SERVICE_NAME: this.metricsServiceName,
      },
    });
    // The summary step only adds numbers and writes logs and metrics: no network access needed.
    this.summaryFunction = new LakestreamFunction(this, 'Summary', {
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      handlerDir: 'file-replay',
      handlerName: 'summaryHandler',
      description: 'File replay: logs and emits the summary of one replay run',
      timeout: Duration.seconds(30),
      environment: { POWERTOOLS_SERVICE_NAME: this.metricsServiceName },
    });

    this.grantAccess(props, keyPrefix);
    this.stateMachine = this.createStateMachine(props, maxConcurrency);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueEncryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the replay trigger and of failed executions.',
    });

    this.trigger = new events.Rule(this, 'ObjectCreated', {
      description: `Starts a file replay for each object created under ${keyPrefix} in the landing bucket`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [props.landingBucket.bucketName] }, object: { key: events.Match.prefix(keyPrefix) } },
      },
    });
    // The rule invokes a starter, not the state machine: EventBridge cannot name executions, and a
    // name derived from the object version is what makes a repeated event start nothing.
    this.starterFunction = new LakestreamFunction(this, 'Starter', {
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      handlerDir: 'file-replay-starter',
      description: 'File replay: starts one execution per landing object version (duplicate events start nothing)',
      timeout: Duration.seconds(30),
      deadLetterQueue: this.deadLetterQueue,
      environment: { STATE_MACHINE_ARN: this.stateMachine.stateMachineArn },
    });
    this.stateMachine.grantStartExecution(this.starterFunction.function);
    // Lambda writes failed asynchronous events to the KMS-encrypted queue with the function's role.
    this.starterFunction.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.queueEncryptionKey.keyArn] }),
    );
    this.starterFunction.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6) });
    this.trigger.addTarget(
      new targets.LambdaFunction(this.starterFunction.function, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );
    new events.Rule(this, 'ExecutionFailed', {
      description: 'Sends failed, timed-out and aborted file replays to the dead-letter queue',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [new targets.SqsQueue(this.deadLetterQueue)],
    });

    this.alarms = this.createAlarms(props);
  }

  private grantAccess(props: FileReplayProps, keyPrefix: string): void {
    const bucket = props.landingBucket;
    const wildcards = new WildcardAcknowledgements(this);
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });

    // s3:ListBucket turns a missing object into 404 instead of 403: the planner skips deleted
    // objects and the worker starts ranges without a checkpoint on that answer.
    for (const fn of [this.planFunction, this.workerFunction]) {
      fn.function.addToRolePolicy(statement(['s3:ListBucket'], [bucket.bucketArn]));
      fn.function.addToRolePolicy(statement(['s3:GetObject'], [objects(keyPrefix)]));
      fn.function.addToRolePolicy(statement(['kms:Decrypt'], [props.landingKey.keyArn]));
    }
    this.workerFunction.function.addToRolePolicy(statement(['s3:GetObject', 's3:PutObject'], [objects(CHECKPOINT_PREFIX)]));
    this.workerFunction.function.addToRolePolicy(statement(['s3:PutObject'], [objects(QUARANTINE_PREFIX)]));
    this.workerFunction.function.addToRolePolicy(statement(['kms:GenerateDataKey'], [props.landingKey.keyArn]));
    // The stage step reads the gzip object and writes its decompressed copy (multipart upload); workers read the copy.
    this.stageFunction.function.addToRolePolicy(statement(['s3:GetObject'], [objects(keyPrefix)]));
    this.stageFunction.function.addToRolePolicy(statement(['s3:PutObject', 's3:AbortMultipartUpload'], [objects(STAGING_PREFIX)]));
    this.stageFunction.function.addToRolePolicy(statement(['kms:Decrypt', 'kms:GenerateDataKey'], [props.landingKey.keyArn]));
    this.workerFunction.function.addToRolePolicy(statement(['s3:GetObject'], [objects(STAGING_PREFIX)]));
    if (bucket instanceof s3.Bucket) {
      // Staging copies are only needed while their replay runs (at most the execution timeout).
      bucket.addLifecycleRule({
        id: 'ExpireReplayStaging',
        prefix: STAGING_PREFIX,
        expiration: Duration.days(2),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      });
    }
    props.topic.grantWrite(this.workerFunction.function);

    wildcards.add(objects(keyPrefix), `Replay reads the objects that land under ${keyPrefix}; their names are not known in advance.`);
    wildcards.add(objects(CHECKPOINT_PREFIX), 'Replay checkpoints are one object per file version and range, named at run time.');
    wildcards.add(objects(QUARANTINE_PREFIX), 'Quarantined lines are written per file version, range and batch, named at run time.');
    wildcards.add(objects(STAGING_PREFIX), 'Decompressed staging copies are one object per gzip file version, named at run time.');
    for (const fn of [this.planFunction, this.workerFunction, this.summaryFunction, this.stageFunction]) {
      const role = fn.function.role;
      if (!role) continue;
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed policy only lets the replay functions write their own logs.',
      });
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS managed policy only manages the network interfaces the replay functions need inside the VPC.',
      });
    }
  }

  private createStateMachine(props: FileReplayProps, maxConcurrency: number): sfn.StateMachine {
    const noRetry = { errors: ['PermanentError'], maxAttempts: 0 };
    const transientRetry = { errors: [sfn.Errors.ALL], interval: Duration.seconds(10), backoffRate: 2, maxAttempts: 4, jitterStrategy: sfn.JitterType.FULL };

    const plan = new tasks.LambdaInvoke(this, 'PlanRanges', {
      lambdaFunction: this.planFunction.function,
      // No payload: the function gets the execution input, {bucket, key, etag} from the trigger (a manual start may leave etag out).
      payloadResponseOnly: true,
      resultPath: '$.plan',
      retryOnServiceExceptions: false,
    });
    plan.addRetry(noRetry).addRetry(transientRetry);

    // One range: invoke the worker until it reports done. A worker stopped by its time budget
    // (or retried after a failure) resumes from the checkpoint it wrote in S3.
    const work = new tasks.LambdaInvoke(this, 'ReplayRange', {
      lambdaFunction: this.workerFunction.function,
      payload: sfn.TaskInput.fromObject({ 'object.$': '$.object', 'range.$': '$.range' }),
      payloadResponseOnly: true,
      resultPath: '$.progress',
      retryOnServiceExceptions: false,
    });
    work.addRetry(noRetry).addRetry(transientRetry);
    const rangeDone = new sfn.Choice(this, 'RangeDone')
      // Only the totals leave the iteration: the Map's output must stay under the 256 KiB state limit.
      .when(
        sfn.Condition.booleanEquals('$.progress.done', true),
        new sfn.Pass(this, 'RangeReplayed', { parameters: { 'rangeIndex.$': '$.progress.rangeIndex', 'totals.$': '$.progress.totals' } }),
      )
      .otherwise(work);
    const ranges = new sfn.Map(this, 'ReplayRanges', {
      itemsPath: '$.plan.ranges',
      itemSelector: { 'object.$': '$.plan.object', 'range.$': '$$.Map.Item.Value' },
      maxConcurrency,
      resultPath: '$.results',
    });
    ranges.itemProcessor(work.next(rangeDone));

    // Gzip: decompress once into a staging object, whose plan (plain ranges over the copy) replaces the planner's.
    const stage = new tasks.LambdaInvoke(this, 'StageGzip', {
      lambdaFunction: this.stageFunction.function,
      // The plan alone is the function's input (with payloadResponseOnly and no payload, the state input is).
      inputPath: '$.plan',
      payloadResponseOnly: true,
      resultPath: '$.plan',
      retryOnServiceExceptions: false,
    });
    stage.addRetry(noRetry).addRetry({ ...transientRetry, maxAttempts: 2 });
    const staged = new sfn.Choice(this, 'NeedsStaging').when(sfn.Condition.booleanEquals('$.plan.needsStaging', true), stage.next(ranges)).otherwise(ranges);

    const summarize = new tasks.LambdaInvoke(this, 'Summarize', {
      lambdaFunction: this.summaryFunction.function,
      payload: sfn.TaskInput.fromObject({
        'object.$': '$.plan.object',
        'skippedReason.$': '$.plan.skippedReason',
        'results.$': '$.results',
        'startedAt.$': '$$.Execution.StartTime',
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    summarize.addRetry(transientRetry);
    ranges.next(summarize);

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from outgrowing its size limit.
      logGroupName: vendedLogGroupNameFor(this, 'states'),
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(staged)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.executionTimeout ?? Duration.hours(24),
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: false,
      comment: 'Replays one landing-bucket object into Kafka, range by range.',
    });

    // Object keys, ranges and counts of each replay under the logs key.
    encryptStateMachine(stateMachine.node.defaultChild as sfn.CfnStateMachine, stateMachine.role, props.logsKey, { logging: true });
    const stack = Stack.of(this);
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: 'X-Ray would need write actions on Resource *, which the project forbids; every step logs to the encrypted execution log.',
    });
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs vended log delivery (logs:CreateLogDelivery, PutResourcePolicy, ...) accepts only Resource *; Step Functions needs it to write the execution log.',
    });
    for (const fn of [this.planFunction, this.workerFunction, this.summaryFunction, this.stageFunction]) {
      Validations.of(stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.function.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason: `The state machine invokes versions of ${fn.function.node.path} only (":*" is the version qualifier).`,
      });
    }
    return stateMachine;
  }

  private createAlarms(props: FileReplayProps): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const alarms = [
      new cloudwatch.Alarm(this, 'ExecutionsFailedAlarm', {
        ...atLeastOnce,
        alarmDescription: `A file replay failed, timed out or was aborted; the execution is in ${this.deadLetterQueue.node.path} and the state machine's log.`,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
            timedOut: this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
            aborted: this.stateMachine.metricAborted({ period, statistic: 'Sum' }),
          },
          period,
        }),
      }),
      new cloudwatch.Alarm(this, 'WorkerErrorsAlarm', {
        ...atLeastOnce,
        alarmDescription: 'A replay worker invocation failed (Kafka, S3 or a corrupt file); Step Functions retries, resuming from the checkpoint.',
        metric: this.workerFunction.function.metricErrors({ period, statistic: 'Sum' }),
      }),
      new cloudwatch.Alarm(this, 'PlanErrorsAlarm', {
        ...atLeastOnce,
        alarmDescription: 'Planning a replay failed (unreadable object or a CSV header the contract does not know).',
        metric: this.planFunction.function.metricErrors({ period, statistic: 'Sum' }),
      }),
      new cloudwatch.Alarm(this, 'RejectedRecordsAlarm', {
        ...atLeastOnce,
        threshold: props.rejectedRecordsAlarmThreshold ?? 1,
        alarmDescription: `Replayed lines were quarantined (invalid JSON/CSV or contract violations): see ${QUARANTINE_PREFIX}<source key>/ in the landing bucket.`,
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: RECORDS_REJECTED_METRIC,
          dimensionsMap: emfDimensions(FILE_REPLAY_METRICS, { service: this.metricsServiceName }),
          statistic: 'Sum',
          period,
        }),
      }),
      new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
        ...atLeastOnce,
        alarmDescription: `Replays that could not start or that failed are waiting in ${this.deadLetterQueue.node.path}.`,
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      }),
    ];
    routeOrExposeAlarms(alarms, props.alarmAction, 'FileReplay');
    return alarms;
  }
}

function validatePrefix(prefix: string, scope: Construct): void {
  const reserved = [CHECKPOINT_PREFIX, QUARANTINE_PREFIX];
  const overlap = reserved.find((own) => own.startsWith(prefix) || prefix.startsWith(own));
  if (prefix === '' || !prefix.endsWith('/') || overlap) {
    throw new Error(
      `${scope.node.path}: keyPrefix = "${prefix}" is not allowed (allowed: a non-empty folder prefix ending in "/" that does not overlap ${reserved.join(' or ')}, where replay writes its own objects)`,
    );
  }
}
