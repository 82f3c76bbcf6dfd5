import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { routeOrExposeAlarms } from '../core/alarm-routing';
import { LakestreamFunction } from '../core/lakestream-function';
import { GA4_INGEST_METRICS, emfDimensions } from '../../contracts/metrics';
import { DEFAULT_PASS_AGES_MINUTES, passAgeProblems } from '../../functions/ga4-ingest/passes';
import { DEFAULT_USER_ID_DIMENSION, userIdDimensionProblems } from '../../functions/ga4-ingest/user-id-dimension';

/** A Kafka topic the function may produce to; grantWrite adds the MSK IAM data-plane permissions. */
export interface Ga4IngestTopic {
  readonly topicName: string;
  grantWrite(grantee: iam.IGrantable): void;
}

export interface Ga4IngestProps {
  /** Numeric GA4 property id (Admin → Property settings), e.g. `123456789`. */
  readonly propertyId: string;
  /**
   * Secret whose SecretString is the service-account JSON key downloaded from Google Cloud. The
   * account needs the Viewer role on the property. Only the secret's ARN reaches the template.
   */
  readonly credentialsSecret: secretsmanager.ISecret;
  /**
   * Customer-managed KMS key the secret is encrypted with. A secret imported by ARN does not know
   * its key, and without kms:Decrypt on it GetSecretValue fails. @default the secret's own key if it has one, else the AWS managed key (no grant needed)
   */
  readonly credentialsKey?: kms.IKey;
  /** How often to pull; a whole number of minutes. @default Duration.minutes(5) */
  readonly scheduleInterval?: Duration;
  /** GA4 event name of a login. @default 'login' */
  readonly loginEventName?: string;
  /**
   * Data API custom dimension holding the user id: `customEvent:<event parameter>` or
   * `customUser:<user property>` (never `customUser:user_id`: reserved). @default 'customEvent:login_user_id'
   */
  readonly userIdDimension?: string;
  /**
   * Longest user id the application sends. Must fit GA4's truncation length of the dimension's
   * scope (100 for event parameters, 36 for user properties), so distinct ids never collide. @default 100
   */
  readonly userIdMaxLength?: number;
  /**
   * When each minute is read, as its age: the first pass sends what GA4 has then, later passes
   * send only what GA4 added. @default 8 h, 36 h, 72 h (see lib/functions/ga4-ingest/config.ts)
   */
  readonly passAges?: Duration[];
  /** Read minutes without any login that raise the empty-window alarm. @default Duration.hours(6) */
  readonly maxQuietPeriod?: Duration;
  /** How far back the very first run starts. @default Duration.days(1) */
  readonly initialLookback?: Duration;
  /** Longest window one pass reads in one run (whole hours), so catching up after an outage fits the timeout. @default Duration.hours(6) */
  readonly maxWindow?: Duration;
  /** Rows per runReport page (the API allows up to 250,000). @default 10000 */
  readonly pageSize?: number;
  /** Function timeout; must be shorter than the schedule interval so runs never overlap. @default 4 minutes, or interval minus 30 s if shorter */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** VPC of the MSK cluster. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the function. They need egress to the internet (NAT gateway) because Google's
   * token and Data API endpoints are public; MSK, SSM and Secrets Manager are reached in the VPC.
   * @default private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group allowing egress to the brokers (9098) and to the AWS endpoints. */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * Security group allowing HTTPS to the internet (the GA4 Data API and Google's OAuth endpoint are
   * outside AWS). @default none: `securityGroup` must allow it
   */
  readonly internetSecurityGroup?: ec2.ISecurityGroup;
  /**
   * The IAM bootstrap broker string (`host:9098,...`), e.g. `KafkaBrokerDiscovery.bootstrapBrokers`
   * of this stack; it becomes the BOOTSTRAP_BROKERS variable. Never an SSM dynamic reference:
   * CloudFormation does not re-resolve it when the cluster is replaced.
   */
  readonly bootstrapBrokers: string;
  /** Raw login topic (`logins.raw`), keyed by user id. */
  readonly rawTopic: Ga4IngestTopic;
  /** Dead-letter topic (`logins.raw.dlq`) for rows that cannot become login events. */
  readonly dlqTopic: Ga4IngestTopic;
  /** Key for the function's log group and environment. */
  readonly logsKey: kms.IKey;
  /** Retention of the function's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Key encrypting the dead-letter queue of failed invocations. */
  readonly queueEncryptionKey: kms.IKey;
  /** Rejected rows per schedule interval that raise the alarm. @default 1 */
  readonly rejectedRowsAlarmThreshold?: number;
  /** Action (e.g. an SNS topic) for every alarm. @default none: the observability stack attaches actions */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * Scheduled pull of GA4 login events into Kafka. An EventBridge rule invokes a VPC Lambda that
 * reads login rows from the GA4 Data API since a high-water mark kept in an SSM parameter,
 * produces raw login events (rejected rows to the DLQ topic) and advances the mark after the flush.
 * Failed invocations land in an encrypted SQS dead-letter queue; alarms watch errors, rejected
 * rows and the queue.
 */
export class Ga4Ingest extends Construct {
  public readonly function: lambda.IFunction;
  public readonly highWaterMark: ssm.StringParameter;
  /** Logins sent per (minute, user) row, so that re-reads send only what is new. */
  public readonly sentCounts: dynamodb.Table;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly rule: events.Rule;
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: Ga4IngestProps) {
    super(scope, id);
    if (!/^\d{1,20}$/.test(props.propertyId)) throw new Error(`Ga4Ingest: propertyId must be the numeric GA4 property id, got '${props.propertyId}'`);
    const interval = props.scheduleInterval ?? Duration.minutes(5);
    const intervalMinutes = interval.toMinutes({ integral: false });
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1) {
      throw new Error(`Ga4Ingest: scheduleInterval must be a whole number of minutes (at least 1), got ${interval.toHumanString()}`);
    }
    const timeout = props.timeout ?? Duration.seconds(Math.min(240, intervalMinutes * 60 - 30));
    // Overlapping runs would read the same window from the same mark and send it twice.
    if (timeout.toSeconds() >= interval.toSeconds()) {
      throw new Error(
        `Ga4Ingest: timeout (${timeout.toHumanString()}) must be shorter than scheduleInterval (${interval.toHumanString()}) so runs never overlap`,
      );
    }
    const userIdDimension = props.userIdDimension ?? DEFAULT_USER_ID_DIMENSION;
    const userIdMaxLength = props.userIdMaxLength ?? 100;
    const passAges = (props.passAges ?? DEFAULT_PASS_AGES_MINUTES.map((m) => Duration.minutes(m))).map((age) => age.toMinutes({ integral: false }));
    const problems = [...userIdDimensionProblems(userIdDimension, userIdMaxLength), ...passAgeProblems(passAges).map((p) => `passAges: ${p}`)];
    if (problems.length > 0) throw new Error(`Ga4Ingest: ${problems.join('; ')}`);
    const maxWindow = props.maxWindow ?? Duration.hours(6);
    if (maxWindow.toMinutes({ integral: false }) % 60 !== 0 || maxWindow.toHours() < 1 || maxWindow.toHours() > 24) {
      throw new Error(`Ga4Ingest: maxWindow must be 1 to 24 whole hours, got ${maxWindow.toHumanString()}`);
    }
    const pageSize = props.pageSize ?? 10_000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 250_000) throw new Error(`Ga4Ingest: pageSize must be 1..250000, got ${pageSize}`);

    this.highWaterMark = new ssm.StringParameter(this, 'HighWaterMark', {
      description: `GA4 ingest high-water mark for property ${props.propertyId}. Written by the function; do not edit unless re-ingesting on purpose.`,
      // No mark yet: the first run starts initialLookback ago. CloudFormation never rewrites it after creation
      // because this template value does not change.
      stringValue: JSON.stringify({ version: 1 }),
      tier: ssm.ParameterTier.STANDARD,
    });

    this.sentCounts = new dynamodb.Table(this, 'SentCounts', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      // The queue's key: the function already holds kms:Decrypt and GenerateDataKey on it (EncryptDeadLetters).
      encryptionKey: props.queueEncryptionKey,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Losing it loses no login: the next reads re-send rows with the same event ids.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.sentCounts).acknowledge({
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'Sent counts expire within days and point-in-time recovery is on; without them re-reads repeat events with the same ids, which downstream de-duplicates.',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueEncryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the GA4 ingest function; it records failed runs, whose windows the next run re-reads.',
    });

    const fn = new LakestreamFunction(this, 'Function', {
      handlerDir: 'ga4-ingest',
      description: `Pulls GA4 login events of property ${props.propertyId} into Kafka`,
      encryptionKey: props.logsKey,
      logRetention: props.logRetention,
      timeout,
      memorySize: props.memorySize ?? 512,
      vpc: props.vpc,
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.securityGroup, ...(props.internetSecurityGroup ? [props.internetSecurityGroup] : [])],
      deadLetterQueue: this.deadLetterQueue,
      environment: {
        GA4_PROPERTY_ID: props.propertyId,
        GA4_CREDENTIALS_SECRET_ARN: props.credentialsSecret.secretArn,
        GA4_LOGIN_EVENT_NAME: props.loginEventName ?? 'login',
        GA4_USER_ID_DIMENSION: userIdDimension,
        GA4_USER_ID_MAX_LENGTH: String(userIdMaxLength),
        GA4_PASS_AGES_MINUTES: passAges.join(','),
        GA4_SENT_COUNTS_TABLE: this.sentCounts.tableName,
        GA4_INITIAL_LOOKBACK_MINUTES: String((props.initialLookback ?? Duration.days(1)).toMinutes()),
        GA4_MAX_WINDOW_MINUTES: String(maxWindow.toMinutes()),
        GA4_PAGE_SIZE: String(pageSize),
        HIGH_WATER_MARK_PARAMETER: this.highWaterMark.parameterName,
        // Resolved at deploy time: the function reads no broker parameter, so it needs no grant for it.
        BOOTSTRAP_BROKERS: props.bootstrapBrokers,
        RAW_TOPIC: props.rawTopic.topicName,
        DLQ_TOPIC: props.dlqTopic.topicName,
      },
    });
    this.function = fn.function;
    // A failed run needs no retry: the mark did not move, so the next scheduled run reads the same
    // window. A Lambda retry could instead overlap that run and send the window twice.
    // Lambda allows maxEventAge up to 6 hours and EventBridge up to 24: longer schedules (the schema allows 24 h) are capped.
    fn.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: capped(interval, Duration.hours(6)) });

    this.grantAccess(fn.function, props);

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the GA4 login ingest of property ${props.propertyId} every ${interval.toHumanString()}`,
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 2, maxEventAge: capped(interval, Duration.hours(24)) })],
    });

    this.alarms = this.createAlarms(fn.function, interval, props);
  }

  /** Least privilege: this secret, this parameter, these two topics (the broker list is in the environment). */
  private grantAccess(fn: lambda.IFunction, props: Ga4IngestProps): void {
    const role = fn.role!;
    const secret = props.credentialsSecret;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadGa4Credentials',
        actions: ['secretsmanager:GetSecretValue'],
        // A secret imported by name has a partial ARN; its full ARN ends in a 6-character suffix.
        resources: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
      }),
    );
    // Secrets Manager decrypts with the caller's permissions: a customer-managed key needs kms:Decrypt, through Secrets Manager only.
    const secretKey = props.credentialsKey ?? secret.encryptionKey;
    if (secretKey) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptGa4Credentials',
          actions: ['kms:Decrypt'],
          resources: [secretKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    this.sentCounts.grant(fn, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteHighWaterMark',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [this.highWaterMark.parameterArn],
      }),
    );
    // Lambda sends to the KMS-encrypted dead-letter queue with the function's own role.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptDeadLetters',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.queueEncryptionKey.keyArn],
      }),
    );
    props.rawTopic.grantWrite(fn);
    props.dlqTopic.grantWrite(fn);
  }

  private createAlarms(fn: lambda.IFunction, interval: Duration, props: Ga4IngestProps): cloudwatch.Alarm[] {
    const stack = Stack.of(this);
    const errors = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `GA4 ingest of property ${props.propertyId} failed a run (auth, quota, Kafka or mark write). Logs: ${stack.region} ${fn.functionName}.`,
      metric: fn.metricErrors({ period: interval, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The function's own metrics, named by the metric contract (the handler emits the same set).
    const emitted = (metric: keyof typeof GA4_INGEST_METRICS.metrics, statistic: string) =>
      new cloudwatch.Metric({
        namespace: GA4_INGEST_METRICS.namespace,
        metricName: GA4_INGEST_METRICS.metrics[metric],
        dimensionsMap: emfDimensions(GA4_INGEST_METRICS, { FunctionName: fn.functionName }),
        statistic,
        period: interval,
      });
    const rejected = new cloudwatch.Alarm(this, 'RejectedRowsAlarm', {
      alarmDescription: `GA4 rows of property ${props.propertyId} were rejected to topic ${props.dlqTopic.topicName} (user id not set, (other), oversized counts).`,
      metric: emitted('rowsRejected', cloudwatch.Stats.SUM),
      threshold: props.rejectedRowsAlarmThreshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const dlqDepth = new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
      alarmDescription: `Failed GA4 ingest invocations are waiting in ${this.deadLetterQueue.node.path}.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const quiet = props.maxQuietPeriod ?? Duration.hours(6);
    const empty = new cloudwatch.Alarm(this, 'EmptyWindowAlarm', {
      alarmDescription:
        `GA4 property ${props.propertyId} has reported no login for ${quiet.toHumanString()} of read time, although each minute is read only after GA4's ` +
        'documented intraday delay: collection, the login event name or the user id dimension may be broken.',
      metric: emitted('emptyMinutes', cloudwatch.Stats.MAXIMUM),
      threshold: quiet.toMinutes(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = [errors, rejected, dlqDepth, empty];
    routeOrExposeAlarms(alarms, props.alarmAction, 'Ga4Ingest');
    return alarms;
  }
}

/** The schedule interval as an event age, within what the service accepts. */
function capped(interval: Duration, max: Duration): Duration {
  return interval.toSeconds() > max.toSeconds() ? max : interval;
}
