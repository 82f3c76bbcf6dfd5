import { CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LakestreamFunction } from '../core/lakestream-function';
import { LakestreamProvider } from '../core/lakestream-provider';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';
import { SparkApplicationRef, grantRunSubmission } from './spark-job';
import { STREAMING_JOB_SUPERVISOR_METRICS, emfDimensions } from '../../contracts/metrics';

/** CloudWatch namespace, service dimension and metric names the supervisor publishes (Embedded Metric Format), from the metric contract. */
export const SUPERVISOR_METRICS = {
  namespace: STREAMING_JOB_SUPERVISOR_METRICS.namespace,
  service: STREAMING_JOB_SUPERVISOR_METRICS.service,
  ...STREAMING_JOB_SUPERVISOR_METRICS.metrics,
} as const;

export interface StreamingJobSupervisorProps {
  /** The EMR Serverless application the streaming job runs on. */
  readonly application: SparkApplicationRef;
  /** Role the job's runs assume: the streaming job's own (SparkApplication.addJobRole). */
  readonly executionRole: iam.IRole;
  /** Job run name; the supervisor recognises the job's runs by it. */
  readonly jobName: string;
  /** s3:// URI of the PySpark entry point. */
  readonly entryPoint: string;
  /** Arguments of the entry point. @default none */
  readonly entryPointArguments?: string[];
  /** spark-submit parameters (`--conf ...`, `--py-files ...`, `--jars ...`). @default none */
  readonly sparkSubmitParameters?: string;
  /**
   * Spark properties of each run (its `spark-defaults` configuration override); `EMR.secret@<name>`
   * values are resolved from Secrets Manager by EMR Serverless at run start, with the job role.
   * Part of the run definition: changing them replaces the running run on the next deploy.
   * @default none
   */
  readonly sparkDefaults?: Record<string, string>;
  /** EMR's in-run restart budget (1-10; 1 = no in-run restart) before the run fails. @default 5 */
  readonly maxFailedAttemptsPerHour?: number;
  /** How often the supervisor checks the job. @default Duration.minutes(5) */
  readonly checkInterval?: Duration;
  /** Wait before restarting after one failed run; doubles with each further failure. @default Duration.minutes(1) */
  readonly backoffBase?: Duration;
  /** Longest wait between restarts. @default Duration.hours(1) */
  readonly backoffMax?: Duration;
  /** Uptime after which a run counts as healthy and resets the failure streak. @default Duration.minutes(30) */
  readonly stableRunPeriod?: Duration;
  /** Time a cancelled run gets to finish its micro-batch (deploys and stack deletion). @default Duration.minutes(2) */
  readonly shutdownGracePeriod?: Duration;
  /** Consecutive failed runs that raise `failureAlarm`. @default 3 */
  readonly failureThreshold?: number;
  /** Key for the functions' log groups and environment. */
  readonly encryptionKey: kms.IKey;
  /** Retention of the functions' logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Actions of `failureAlarm`. More can be attached with `failureAlarm.addAlarmAction`. @default none here */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/**
 * Keeps a Spark Structured Streaming job running on EMR Serverless. A function runs every
 * `checkInterval` and once at deploy time (a custom resource): it starts the job in STREAMING mode
 * with a retry policy when no run of it is active, backs off exponentially while runs keep failing,
 * rolls the job on deploys that change its definition, and cancels it when the stack is deleted.
 * `failureAlarm` fires when runs keep failing, or when the supervisor stops reporting.
 */
export class StreamingJobSupervisor extends Construct {
  /** Run name of the supervised job: the JobName dimension of the supervisor's metrics. */
  public readonly jobName: string;
  public readonly function: LakestreamFunction;
  public readonly isCompleteFunction: LakestreamFunction;
  public readonly schedule: events.Rule;
  public readonly failureAlarm: cloudwatch.Alarm;
  /** Consecutive failed runs, as published by the supervisor. */
  public readonly consecutiveFailuresMetric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: StreamingJobSupervisorProps) {
    super(scope, id);
    this.jobName = props.jobName;
    validateProps(props);
    const stack = Stack.of(this);
    const checkInterval = props.checkInterval ?? Duration.minutes(5);
    const shutdownGrace = props.shutdownGracePeriod ?? Duration.minutes(2);
    const definition = {
      APPLICATION_ID: props.application.applicationId,
      EXECUTION_ROLE_ARN: props.executionRole.roleArn,
      JOB_NAME: props.jobName,
      ENTRY_POINT: props.entryPoint,
      ENTRY_POINT_ARGUMENTS: stack.toJsonString(props.entryPointArguments ?? []),
      SPARK_SUBMIT_PARAMETERS: props.sparkSubmitParameters ?? '',
      SPARK_DEFAULTS: stack.toJsonString(props.sparkDefaults ?? {}),
      ...(props.application.managedLogsKey ? { MANAGED_LOGS_KEY_ARN: props.application.managedLogsKey.keyArn } : {}),
      MAX_FAILED_ATTEMPTS_PER_HOUR: String(props.maxFailedAttemptsPerHour ?? 5),
    };
    const environment = {
      ...definition,
      BACKOFF_BASE_SECONDS: String((props.backoffBase ?? Duration.minutes(1)).toSeconds()),
      BACKOFF_MAX_SECONDS: String((props.backoffMax ?? Duration.hours(1)).toSeconds()),
      STABLE_RUN_MINUTES: String((props.stableRunPeriod ?? Duration.minutes(30)).toMinutes()),
      SHUTDOWN_GRACE_SECONDS: String(shutdownGrace.toSeconds()),
      METRICS_NAMESPACE: SUPERVISOR_METRICS.namespace,
    };
    const common = {
      handlerDir: 'streaming-job-supervisor',
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      environment,
      timeout: Duration.minutes(1),
    };
    this.function = new LakestreamFunction(this, 'Function', {
      ...common,
      description: `Starts and restarts the ${props.jobName} Spark streaming job on EMR Serverless`,
    });
    this.isCompleteFunction = new LakestreamFunction(this, 'IsCompleteFunction', {
      ...common,
      handlerName: 'isCompleteHandler',
      description: `Waits for the ${props.jobName} Spark streaming job to start or stop during deploys`,
    });
    Validations.of(this.function.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: 'A failed scheduled check is retried by the next one; when checks keep failing, the missing metric raises failureAlarm.',
    });

    for (const fn of [this.function, this.isCompleteFunction]) this.grantSupervision(fn.role, props);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Checks the ${props.jobName} Spark streaming job every ${checkInterval.toHumanString()}`,
      schedule: events.Schedule.rate(checkInterval),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          event: events.RuleTargetInput.fromObject({ source: 'lakestream.streaming-job-supervisor', jobName: props.jobName }),
          // The next check is the retry.
          retryAttempts: 0,
          maxEventAge: checkInterval,
        }),
      ],
    });

    const provider = new LakestreamProvider(this, 'Provider', {
      onEvent: this.function,
      isComplete: this.isCompleteFunction,
      totalTimeout: Duration.minutes(20).plus(shutdownGrace),
      queryInterval: Duration.seconds(20),
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    // Any change to the job definition is an Update, which rolls the job onto the new definition.
    new CustomResource(this, 'DeployTimeStart', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::StreamingJob',
      properties: { JobDefinition: stack.toJsonString(definition) },
    });

    this.consecutiveFailuresMetric = new cloudwatch.Metric({
      namespace: SUPERVISOR_METRICS.namespace,
      metricName: SUPERVISOR_METRICS.consecutiveFailures,
      dimensionsMap: emfDimensions(STREAMING_JOB_SUPERVISOR_METRICS, { JobName: props.jobName }),
      statistic: cloudwatch.Stats.MAXIMUM,
      period: checkInterval,
    });
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription:
        `Spark streaming job ${props.jobName} keeps failing (${props.failureThreshold ?? 3}+ failed runs in a row), ` + 'or its supervisor stopped reporting.',
      metric: this.consecutiveFailuresMetric,
      threshold: props.failureThreshold ?? 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Two of three checks: one check landing in the neighbouring period is not an outage.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const action of props.alarmActions ?? []) this.failureAlarm.addAlarmAction(action);
  }

  /** The EMR Serverless calls of the supervisor, on this application and its job runs only. */
  private grantSupervision(role: iam.IRole, props: StreamingJobSupervisorProps): void {
    const statements = [
      new iam.PolicyStatement({
        sid: 'StartAndListRuns',
        actions: ['emr-serverless:StartJobRun', 'emr-serverless:ListJobRuns'],
        resources: [props.application.applicationArn],
      }),
      new iam.PolicyStatement({
        sid: 'InspectTagAndCancelRuns',
        actions: ['emr-serverless:GetJobRun', 'emr-serverless:CancelJobRun', 'emr-serverless:TagResource'],
        resources: [props.application.jobRunsArn],
      }),
      new iam.PolicyStatement({
        sid: 'PassExecutionRole',
        actions: ['iam:PassRole'],
        resources: [props.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
      }),
    ];
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    grantRunSubmission(role, props.application);
    new WildcardAcknowledgements(role).add(
      props.application.jobRunsArn,
      'Job run ids are generated at start; the supervisor reads, tags and cancels runs of this one application only.',
    );
  }
}

function validateProps(props: StreamingJobSupervisorProps): void {
  const problems: string[] = [];
  if (!Token.isUnresolved(props.jobName) && !/^[A-Za-z0-9._\-/#]{1,64}$/.test(props.jobName)) {
    problems.push(`jobName '${props.jobName}' must be 1-64 letters, digits or ._-/#`);
  }
  if (!Token.isUnresolved(props.entryPoint) && !props.entryPoint.startsWith('s3://')) {
    problems.push(`entryPoint must be an s3:// URI, got '${props.entryPoint}'`);
  }
  const attempts = props.maxFailedAttemptsPerHour;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 10)) {
    problems.push(`maxFailedAttemptsPerHour must be an integer from 1 to 10, got ${attempts}`);
  }
  const interval = props.checkInterval?.toMinutes();
  if (interval !== undefined && (interval < 1 || interval > 60)) problems.push(`checkInterval must be 1-60 minutes, got ${interval}`);
  const base = (props.backoffBase ?? Duration.minutes(1)).toSeconds();
  const max = (props.backoffMax ?? Duration.hours(1)).toSeconds();
  if (base < 1 || base > 3600) problems.push(`backoffBase must be 1 second to 1 hour, got ${base} seconds`);
  if (max < base || max > 86400) problems.push(`backoffMax must be between backoffBase and 24 hours, got ${max} seconds`);
  const threshold = props.failureThreshold;
  if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1))
    problems.push(`failureThreshold must be a positive integer, got ${threshold}`);
  const grace = props.shutdownGracePeriod?.toSeconds();
  if (grace !== undefined && (grace < 15 || grace > 1800)) problems.push(`shutdownGracePeriod must be 15 seconds to 30 minutes, got ${grace} seconds`);
  if (problems.length > 0) throw new Error(`StreamingJobSupervisor: ${problems.join('; ')}`);
}
