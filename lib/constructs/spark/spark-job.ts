import { Aws, Duration, RemovalPolicy, Stack, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { encryptStateMachine } from '../core/state-machine-encryption';
import { vendedLogGroupNameFor } from '../core/vended-logs';
import { WildcardAcknowledgements } from '../../compliance/wildcard-acknowledgements';

/** What a job needs to know about the EMR Serverless application it runs on (a SparkApplication fits). */
export interface SparkApplicationRef {
  readonly applicationId: string;
  /** `arn:...:/applications/<id>`. */
  readonly applicationArn: string;
  /** `<applicationArn>/jobruns/*`. */
  readonly jobRunsArn: string;
  /** Key every run names for its managed-storage logs. @default none: the application's setting (an AWS-owned key) */
  readonly managedLogsKey?: kms.IKey;
}

/**
 * What a principal that starts runs of `application` needs beyond `emr-serverless:StartJobRun`:
 * every run names the application's managed-logs key, and EMR Serverless rejects a submission whose
 * caller cannot use it. Operators who open the Spark UI (GetDashboardForJobRun) need the same.
 */
export function grantRunSubmission(grantee: iam.IGrantable, application: SparkApplicationRef): void {
  if (!application.managedLogsKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'UseManagedLogsKey',
      actions: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [application.managedLogsKey.keyArn],
    }),
  );
}

/** How the state machine retries a failed job run. */
export interface SparkJobRetry {
  /** Retries after the first attempt (0 = no retry). @default 2 */
  readonly maxRetries?: number;
  /** Wait before the first retry. @default Duration.minutes(2) */
  readonly interval?: Duration;
  /** Multiplier of the wait between consecutive retries. @default 2 */
  readonly backoffRate?: number;
}

/** EventBridge's name for the rule Step Functions creates to follow `.sync` EMR Serverless job runs. */
export const SYNC_EVENTS_RULE_NAME = 'StepFunctionsGetEventsForEMRServerlessJobRule';
const SCHEDULE_EXPRESSION = /^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/;

export interface SparkBatchJobProps {
  /** The EMR Serverless application the job runs on. */
  readonly application: SparkApplicationRef;
  /** Role the job's runs assume: this job's own (SparkApplication.addJobRole), granted only its data. */
  readonly executionRole: iam.IRole;
  /** Job run name shown in EMR Studio, e.g. `daily-report`. */
  readonly jobName: string;
  /** s3:// URI of the PySpark entry point (or jar). */
  readonly entryPoint: string;
  /** Arguments passed to the entry point; an execution's input may append more (see the class doc). @default none */
  readonly entryPointArguments?: string[];
  /** spark-submit parameters (`--conf ...`, `--py-files ...`, `--jars ...`). @default none */
  readonly sparkSubmitParameters?: string;
  /**
   * Spark properties of each run, passed as the run's `spark-defaults` configuration override. A
   * value `EMR.secret@<name>` is resolved from Secrets Manager by EMR Serverless when the run starts,
   * with the job role, so the secret is in neither the template nor the run. (Per run, not on the
   * application: EMR Serverless refuses most application updates while the application is STARTED,
   * and the streaming job keeps it started.)
   * @default none
   */
  readonly sparkDefaults?: Record<string, string>;
  /**
   * EventBridge Scheduler expression: `cron(...)` or `rate(...)`, evaluated in `scheduleTimeZone`.
   * @default no schedule: the job runs only when an execution is started
   */
  readonly schedule?: string;
  /** Time zone of `schedule`. @default UTC */
  readonly scheduleTimeZone?: TimeZone;
  /** Upper bound on one job run; EMR cancels the run after it. @default Duration.hours(2) */
  readonly executionTimeout?: Duration;
  /** Retries of a failed run. @default 2 retries, 2 minutes apart, doubling */
  readonly retry?: SparkJobRetry;
  /** Key encrypting the state machine's log group. */
  readonly logsKey: kms.IKey;
  /** Retention of the state machine's logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Actions of `failureAlarm` (e.g. an SNS topic). More can be attached later with
   * `failureAlarm.addAlarmAction`; an alarm left without any fails the NIST CloudWatchAlarmAction check.
   * @default none here
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/**
 * A Spark batch job on EMR Serverless, orchestrated by a Step Functions state machine: start the job
 * run and wait for it (the optimized `emr-serverless:startJobRun.sync` integration), retry failed runs
 * with exponential backoff, and end in a Fail state when retries are exhausted, which the
 * `failureAlarm` (ExecutionsFailed) watches. An optional EventBridge Scheduler schedule starts it.
 *
 * On demand: start an execution of `stateMachine`. The input may carry `extraArguments`, appended
 * to the entry point arguments (argparse keeps the last value of a repeated option), e.g.
 * `aws stepfunctions start-execution --state-machine-arn <arn> --input '{"extraArguments":["--report-date","2024-01-07"]}'`.
 */
export class SparkBatchJob extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  /** ALARM when an execution fails (after its retries). Actions are attached by the observability stack. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The schedule, when `schedule` is set. */
  public readonly schedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: SparkBatchJobProps) {
    super(scope, id);
    validateProps(props);
    const stack = Stack.of(this);
    const executionTimeout = props.executionTimeout ?? Duration.hours(2);
    const retry = props.retry ?? {};

    const failed = sfn.Fail.jsonata(this, 'JobFailed', {
      error: 'SparkJobFailed',
      cause: `{% 'Spark job ${props.jobName} failed after its retries: ' & ($exists($states.input.Cause) ? $states.input.Cause : 'no cause reported') %}`,
    });
    const runJob = new sfn.CustomState(this, 'RunSparkJob', {
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Aws.PARTITION}:states:::emr-serverless:startJobRun.sync`,
        Arguments: {
          ApplicationId: props.application.applicationId,
          ExecutionRoleArn: props.executionRole.roleArn,
          Name: props.jobName,
          // A fresh token per attempt: a retry must start a new run, not return the failed one.
          ClientToken: '{% $uuid() %}',
          ExecutionTimeoutMinutes: executionTimeout.toMinutes(),
          ...configurationOverrides(props),
          JobDriver: {
            SparkSubmit: {
              EntryPoint: props.entryPoint,
              EntryPointArguments: `{% $append(${JSON.stringify(props.entryPointArguments ?? [])}, $exists($states.input.extraArguments) ? $states.input.extraArguments : []) %}`,
              ...(props.sparkSubmitParameters ? { SparkSubmitParameters: props.sparkSubmitParameters } : {}),
            },
          },
        },
        // The job's own timeout ends it first; this only bounds a lost completion event.
        TimeoutSeconds: executionTimeout.plus(Duration.minutes(30)).toSeconds(),
      },
    });
    runJob.addRetry({
      errors: [sfn.Errors.ALL],
      maxAttempts: retry.maxRetries ?? 2,
      interval: retry.interval ?? Duration.minutes(2),
      backoffRate: retry.backoffRate ?? 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    runJob.addCatch(failed, { errors: [sfn.Errors.ALL] });
    const definition = runJob.next(sfn.Succeed.jsonata(this, 'JobSucceeded'));

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      // Step Functions delivers logs as vended logs: see vendedLogGroupName for why the prefix.
      logGroupName: vendedLogGroupNameFor(this, 'states'),
      encryptionKey: props.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      queryLanguage: sfn.QueryLanguage.JSONATA,
      comment: `Runs the ${props.jobName} Spark job on EMR Serverless and waits for it`,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: false,
    });

    const role = this.stateMachine.role;
    // Definition and execution history (job arguments, run ids, failure causes) under the logs key.
    encryptStateMachine(this.stateMachine.node.defaultChild as sfn.CfnStateMachine, role, props.logsKey, { logging: true });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'StartJobRun', actions: ['emr-serverless:StartJobRun'], resources: [props.application.applicationArn] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FollowJobRun',
        actions: ['emr-serverless:GetJobRun', 'emr-serverless:CancelJobRun'],
        resources: [props.application.jobRunsArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SyncEventsRule',
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: SYNC_EVENTS_RULE_NAME })],
      }),
    );
    grantRunSubmission(role, props.application);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PassExecutionRole',
        actions: ['iam:PassRole'],
        resources: [props.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
      }),
    );
    const wildcards = new WildcardAcknowledgements(role);
    wildcards.add(props.application.jobRunsArn, 'Job run ids are generated at start; the state machine follows and cancels runs of this one application only.');
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) supports only Resource *.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: 'X-Ray write actions accept only Resource *, which the project forbids; each execution is traced by its ALL-level logs and the EMR job run id.',
    });

    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `Spark job ${props.jobName} failed after its retries (state machine execution failed).`,
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const action of props.alarmActions ?? []) this.failureAlarm.addAlarmAction(action);

    if (props.schedule) {
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        description: `Starts the ${props.jobName} Spark job`,
        schedule: scheduler.ScheduleExpression.expression(props.schedule, props.scheduleTimeZone),
        target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({ trigger: 'schedule' }),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    }
  }
}

function validateProps(props: SparkBatchJobProps): void {
  const problems: string[] = [];
  if (!Token.isUnresolved(props.jobName) && !/^[A-Za-z0-9._\-/#]{1,64}$/.test(props.jobName)) {
    problems.push(`jobName '${props.jobName}' must be 1-64 letters, digits or ._-/#`);
  }
  if (!Token.isUnresolved(props.entryPoint) && !props.entryPoint.startsWith('s3://')) {
    problems.push(`entryPoint must be an s3:// URI, got '${props.entryPoint}'`);
  }
  if (props.schedule !== undefined && !SCHEDULE_EXPRESSION.test(props.schedule)) {
    problems.push(`schedule '${props.schedule}' must be an EventBridge expression such as cron(0 3 * * ? *) or rate(1 day)`);
  }
  const minutes = props.executionTimeout?.toMinutes();
  if (minutes !== undefined && (minutes < 1 || minutes > 1440)) {
    problems.push(`executionTimeout must be between 1 minute and 24 hours, got ${minutes} minutes`);
  }
  const retries = props.retry?.maxRetries;
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 10)) {
    problems.push(`retry.maxRetries must be an integer from 0 to 10, got ${retries}`);
  }
  if (problems.length > 0) throw new Error(`SparkBatchJob: ${problems.join('; ')}`);
}

/**
 * The run's configuration overrides: its spark-defaults, and the key of its managed-storage logs.
 * Both go per run because a STARTED application refuses updates (see sparkDefaults).
 */
function configurationOverrides(props: SparkBatchJobProps): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (props.sparkDefaults && Object.keys(props.sparkDefaults).length > 0) {
    overrides.ApplicationConfiguration = [{ Classification: 'spark-defaults', Properties: props.sparkDefaults }];
  }
  if (props.application.managedLogsKey) {
    overrides.MonitoringConfiguration = {
      ManagedPersistenceMonitoringConfiguration: { Enabled: true, EncryptionKeyArn: props.application.managedLogsKey.keyArn },
    };
  }
  return Object.keys(overrides).length > 0 ? { ConfigurationOverrides: overrides } : {};
}
