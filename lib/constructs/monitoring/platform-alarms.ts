import { Annotations, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EMR_SERVERLESS_METRICS, FLINK_METRICS } from '../../contracts/metrics';

export interface PlatformAlarmsProps {
  /** Addresses subscribed to the alert topic by email; each must confirm its subscription. @default none */
  readonly emailAddresses?: string[];
  /**
   * Key encrypting the topic. CloudWatch is allowed to use it through the key policy, so it must be
   * a key whose policy this app manages.
   * @default a new key with rotation, used only by this topic
   */
  readonly encryptionKey?: kms.IKey;
  /** Removal policy of the key created when `encryptionKey` is not given. @default RemovalPolicy.DESTROY (the topic stores no messages) */
  readonly keyRemovalPolicy?: RemovalPolicy;
  /** Display name of the topic, shown as the sender of the emails. @default 'Lakestream alerts' */
  readonly topicDisplayName?: string;
  /** Also notify when an alarm returns to OK. @default true */
  readonly notifyOnRecovery?: boolean;
  /** Period over which each alarm's metric is evaluated. @default Duration.minutes(5) */
  readonly period?: Duration;
}

/** Options for alarms on a resource identified by a name or id string. */
export interface NamedResourceAlarmOptions {
  /**
   * Construct id of this resource's alarms, required when the name or id is a token (e.g. a
   * CloudFormation attribute), which cannot be part of a construct id.
   * @default derived from the name or id
   */
  readonly id?: string;
}

export interface FlinkAlarmOptions extends NamedResourceAlarmOptions {
  /**
   * Largest Kafka consumer lag (records_lag_max, records of the furthest-behind partition) that is
   * tolerated for 15 minutes.
   * @default 10000
   */
  readonly maxRecordsLag?: number;
}

export interface EmrServerlessAlarmOptions extends NamedResourceAlarmOptions {
  /**
   * Name of the application. EMR releases 7.10 and later publish job metrics with both
   * ApplicationId and ApplicationName dimensions (older releases: ApplicationId only); given
   * the name, the alarm watches both series, so it works on either release.
   * @default only the ApplicationId series is watched
   */
  readonly applicationName?: string;
}

export interface QueueDepthAlarmOptions {
  /** Messages visible above which the alarm fires. @default 0 (any message in a dead-letter queue) */
  readonly threshold?: number;
}

export interface FlinkAlarms {
  readonly downtime: cloudwatch.Alarm;
  readonly failedCheckpoints: cloudwatch.Alarm;
  readonly recordsLag: cloudwatch.Alarm;
}

export interface LambdaAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

export interface StateMachineAlarms {
  readonly failed: cloudwatch.Alarm;
  readonly timedOut: cloudwatch.Alarm;
}

const FLINK_NAMESPACE = FLINK_METRICS.namespace;
const EMR_SERVERLESS_NAMESPACE = EMR_SERVERLESS_METRICS.namespace;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The platform's alert topic (KMS-encrypted, TLS-only, email subscriptions) and CloudWatch alarms
 * for what Prometheus does not see: Managed Flink, EMR Serverless, Lambda, SQS and Step Functions.
 * Every alarm notifies the topic; the Prometheus alert manager publishes to the same topic.
 */
export class PlatformAlarms extends Construct {
  /** The alert topic: give it to `PrometheusMonitoring` as `alarmTopic`. */
  public readonly topic: sns.Topic;
  /** The key encrypting the topic. */
  public readonly encryptionKey: kms.IKey;
  /** Every alarm created or routed here. */
  public readonly alarms: cloudwatch.IAlarm[] = [];

  private readonly action: cwActions.SnsAction;
  private readonly notifyOnRecovery: boolean;
  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps = {}) {
    super(scope, id);
    this.notifyOnRecovery = props.notifyOnRecovery ?? true;
    this.period = props.period ?? Duration.minutes(5);

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Encrypts the Lakestream alert topic',
        enableKeyRotation: true,
        removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
    this.allowCloudWatchToUseKey();

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.topicDisplayName ?? 'Lakestream alerts',
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    for (const address of props.emailAddresses ?? []) {
      if (!Token.isUnresolved(address) && !EMAIL.test(address)) {
        throw new Error(`PlatformAlarms: "${address}" in emailAddresses is not an email address`);
      }
      this.topic.addSubscription(new subscriptions.EmailSubscription(address));
    }
    this.action = new cwActions.SnsAction(this.topic);
  }

  /**
   * Alarms of a Managed Service for Apache Flink application: downtime (the job is not running),
   * any new failed checkpoint, and Kafka source lag (records_lag_max) above `maxRecordsLag` for
   * 15 minutes. The application reads Kafka, so the Kinesis-only millisBehindLatest does not apply.
   */
  public addFlinkAlarms(applicationName: string, options: FlinkAlarmOptions = {}): FlinkAlarms {
    const scope = new Construct(this, `Flink${this.idFor(applicationName, options.id, 'addFlinkAlarms')}`);
    const metric = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: FLINK_NAMESPACE, metricName, dimensionsMap: { Application: applicationName }, statistic, period: this.period });

    const downtime = this.alarm(scope, 'Downtime', {
      metric: metric('downtime', cloudwatch.Stats.MAXIMUM),
      threshold: 0,
      description: `Flink application ${applicationName} is down (downtime > 0): it processes no data. Check the application status and its CloudWatch logs for the restart cause.`,
    });
    // numberOfFailedCheckpoints counts since the job started; its rate is positive only when a checkpoint has just failed.
    const failedCheckpoints = this.alarm(scope, 'FailedCheckpoints', {
      metric: new cloudwatch.MathExpression({
        expression: 'RATE(failed)',
        usingMetrics: { failed: metric('numberOfFailedCheckpoints', cloudwatch.Stats.MAXIMUM) },
        label: 'Failed checkpoints per second',
        period: this.period,
      }),
      threshold: 0,
      description: `Flink application ${applicationName} failed a checkpoint. Repeated failures mean state is not saved and a restart replays from an old checkpoint; check checkpoint duration and size.`,
    });
    const maxRecordsLag = options.maxRecordsLag ?? 10000;
    const recordsLag = this.alarm(scope, 'RecordsLag', {
      metric: metric('records_lag_max', cloudwatch.Stats.MAXIMUM),
      threshold: maxRecordsLag,
      evaluationPeriods: 3,
      description: `Flink application ${applicationName} is more than ${maxRecordsLag} records behind on a Kafka partition for 15 minutes. Check backpressure and busy time; raise parallelism if it cannot keep up.`,
    });
    return { downtime, failedCheckpoints, recordsLag };
  }

  /** Alarm on failed job runs of an EMR Serverless application (FailedJobs > 0). */
  public addEmrServerlessAlarms(applicationId: string, options: EmrServerlessAlarmOptions = {}): cloudwatch.Alarm {
    const scope = new Construct(this, `EmrServerless${this.idFor(applicationId, options.id, 'addEmrServerlessAlarms')}`);
    const failedJobs = (dimensionsMap: Record<string, string>): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: EMR_SERVERLESS_NAMESPACE,
        metricName: 'FailedJobs',
        dimensionsMap,
        statistic: cloudwatch.Stats.SUM,
        period: this.period,
      });
    const usingMetrics: Record<string, cloudwatch.IMetric> = { byId: failedJobs({ ApplicationId: applicationId }) };
    if (options.applicationName !== undefined) {
      usingMetrics.byName = failedJobs({ ApplicationId: applicationId, ApplicationName: options.applicationName });
    }
    return this.alarm(scope, 'FailedJobs', {
      // FILL turns "no job failed in this period" (no data point) into 0 instead of INSUFFICIENT_DATA.
      metric: new cloudwatch.MathExpression({
        expression: Object.keys(usingMetrics)
          .map((name) => `FILL(${name}, 0)`)
          .join(' + '),
        usingMetrics,
        label: 'Failed job runs',
        period: this.period,
      }),
      threshold: 0,
      description: `A job run of EMR Serverless application ${applicationId} failed. Check the job run's state details and driver logs.`,
    });
  }

  /** Alarms on a Lambda function's errors and throttles. */
  public addLambdaAlarms(fn: lambda.IFunction): LambdaAlarms {
    const scope = new Construct(this, `Lambda${Names.nodeUniqueId(fn.node)}`);
    const errors = this.alarm(scope, 'Errors', {
      metric: fn.metricErrors({ period: this.period, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `Lambda function ${fn.node.path} returned errors. Check its CloudWatch logs.`,
    });
    const throttles = this.alarm(scope, 'Throttles', {
      metric: fn.metricThrottles({ period: this.period, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `Lambda function ${fn.node.path} was throttled. Check its reserved concurrency and the account's concurrency limit.`,
    });
    return { errors, throttles };
  }

  /** Alarm when a queue (typically a dead-letter queue) holds more than `threshold` visible messages. */
  public addQueueDepthAlarm(queue: sqs.IQueue, options: QueueDepthAlarmOptions = {}): cloudwatch.Alarm {
    const threshold = options.threshold ?? 0;
    if (threshold < 0) throw new Error(`PlatformAlarms.addQueueDepthAlarm: threshold must be 0 or more, got ${threshold}`);
    const scope = new Construct(this, `Queue${Names.nodeUniqueId(queue.node)}`);
    return this.alarm(scope, 'Depth', {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: this.period, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold,
      description: `Queue ${queue.node.path} holds more than ${threshold} messages. For a dead-letter queue: inspect the failed messages, fix the cause, then redrive them.`,
    });
  }

  /** Alarms on failed and timed-out executions of a Step Functions state machine. */
  public addStateMachineAlarms(stateMachine: sfn.IStateMachine): StateMachineAlarms {
    const scope = new Construct(this, `StateMachine${Names.nodeUniqueId(stateMachine.node)}`);
    const failed = this.alarm(scope, 'ExecutionsFailed', {
      metric: stateMachine.metricFailed({ period: this.period, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `An execution of state machine ${stateMachine.node.path} failed. Open the execution in the Step Functions console to see the failing state.`,
    });
    const timedOut = this.alarm(scope, 'ExecutionsTimedOut', {
      metric: stateMachine.metricTimedOut({ period: this.period, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      description: `An execution of state machine ${stateMachine.node.path} timed out. Check which state ran long.`,
    });
    return { failed, timedOut };
  }

  /**
   * Routes alarms that constructs in other stacks own. Adding an action to them directly would make
   * their stack depend on this one while this one already reads from theirs; a composite alarm here
   * references them one way only and notifies the topic when any of them is in ALARM.
   */
  public addCompositeOf(id: string, alarms: cloudwatch.IAlarm[], description: string): cloudwatch.CompositeAlarm {
    if (alarms.length === 0) throw new Error(`PlatformAlarms.addCompositeOf(${id}): no alarms given`);
    const composite = new cloudwatch.CompositeAlarm(this, id, {
      alarmRule: cloudwatch.AlarmRule.anyOf(...alarms.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM))),
      alarmDescription: description,
    });
    this.route(composite);
    return composite;
  }

  /** Routes an alarm made elsewhere to the alert topic. */
  public addAlarm(alarm: cloudwatch.IAlarm): void {
    // Imported alarms are AlarmBase too, but have no CloudFormation resource to carry actions.
    const defined = alarm.node.defaultChild instanceof cloudwatch.CfnAlarm || alarm.node.defaultChild instanceof cloudwatch.CfnCompositeAlarm;
    if (!(alarm instanceof cloudwatch.AlarmBase) || !defined) {
      throw new Error(`PlatformAlarms.addAlarm: ${alarm.node.path} is an imported alarm; actions can only be added to alarms defined in this app`);
    }
    this.route(alarm);
  }

  private alarm(
    scope: Construct,
    id: string,
    spec: { metric: cloudwatch.IMetric; threshold: number; description: string; evaluationPeriods?: number },
  ): cloudwatch.Alarm {
    const evaluationPeriods = spec.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(scope, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      // A stopped job or an idle function publishes nothing; that is not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    this.route(alarm);
    return alarm;
  }

  private route(alarm: cloudwatch.AlarmBase): void {
    alarm.addAlarmAction(this.action);
    if (this.notifyOnRecovery) alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }

  private idFor(name: string, explicitId: string | undefined, method: string): string {
    if (explicitId !== undefined) return explicitId;
    if (Token.isUnresolved(name)) {
      throw new Error(`PlatformAlarms.${method}: the name is a token; pass options.id to name the alarms' construct`);
    }
    return name.replace(/[^A-Za-z0-9]/g, '');
  }

  /**
   * CloudWatch publishes alarm notifications with the topic's key, so its service principal needs
   * the key (as documented for SNS topics encrypted with a customer managed key).
   */
  private allowCloudWatchToUseKey(): void {
    const result = this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheAlertTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        // Only for this account's alarms and workspaces (confused-deputy protection).
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      true,
    );
    if (!result.statementAdded) {
      Annotations.of(this).addWarningV2(
        'lakestream:alarmTopicKeyPolicy',
        'The alert topic key is imported: allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey* in its key policy, or alarm notifications fail.',
      );
    }
  }
}
