import { App, Duration, Stack, Stage, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SparkApplication } from '../../../lib/constructs/spark/spark-application';
import { SparkBatchJob, SparkBatchJobProps, SYNC_EVENTS_RULE_NAME } from '../../../lib/constructs/spark/spark-job';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const env = { account: '111111111111', region: 'eu-west-1' };

interface Scenario {
  readonly template: Template;
  readonly stack: Stack;
  readonly job: SparkBatchJob;
  readonly findings: Finding[];
}

function build(overrides: Partial<SparkBatchJobProps> = {}): Scenario {
  const app = newCompliantTestApp();
  const stack = new Stack(new Stage(app, 'Test'), 'S', { env });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const spark = new SparkApplication(stack, 'Spark', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
    logsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }),
    logsKey,
    maximumCapacity: { cpuVcpu: 16, memoryGb: 64 },
  });
  const alarms = new sns.Topic(stack, 'Alarms', { masterKey: logsKey, enforceSSL: true });
  const job = new SparkBatchJob(stack, 'DailyReport', {
    application: spark,
    executionRole: spark.addJobRole('ReportRole', 'daily-report').role,
    jobName: 'daily-report',
    entryPoint: 's3://lake-artifacts/jobs/spark/daily_report.py',
    entryPointArguments: ['--bronze-uri', 's3://lake-bronze/', '--gold-uri', 's3://lake-gold/'],
    sparkSubmitParameters: '--py-files s3://lake-artifacts/jobs/spark.zip',
    logsKey,
    alarmActions: [new cloudwatchActions.SnsAction(alarms)],
    ...overrides,
  });
  const findings = synthFindings(app).filter((f) => f.path.startsWith(`${job.node.path}/`));
  return { template: Template.fromStack(stack), stack, job, findings };
}

/** The state machine definition with CDK's Fn::Join rendered back to a JSON string. */
function definition(scenario: Scenario): Record<string, any> {
  const machine = Object.values(scenario.template.findResources('AWS::StepFunctions::StateMachine'))[0];
  const body = scenario.stack.resolve(machine.Properties.DefinitionString) as unknown;
  const text =
    typeof body === 'string'
      ? body
      : ((body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] as unknown[])
          .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part)}>`))
          .join('');
  return JSON.parse(text.replace(/<(\{[^>]*\})>/g, (_, ref: string) => `REF${Buffer.from(ref).toString('hex')}`)) as Record<string, any>;
}

describe('SparkBatchJob', () => {
  let scheduled: Scenario;
  let onDemand: Scenario;

  beforeAll(() => {
    scheduled = build({ schedule: 'cron(0 3 * * ? *)', scheduleTimeZone: TimeZone.EUROPE_PARIS, retry: { maxRetries: 3, interval: Duration.minutes(5) } });
    onDemand = build({ executionTimeout: Duration.minutes(45) });
  });

  it('starts the job run with the optimized .sync integration and the execution role', () => {
    const states = definition(scheduled).States;
    expect(definition(scheduled).QueryLanguage).toBe('JSONata');
    expect(definition(scheduled).StartAt).toBe('RunSparkJob');
    const run = states.RunSparkJob;
    expect(run.Type).toBe('Task');
    expect(run.Resource).toMatch(/:states:::emr-serverless:startJobRun\.sync$/);
    expect(run.Arguments.Name).toBe('daily-report');
    expect(run.Arguments.ClientToken).toBe('{% $uuid() %}');
    expect(run.Arguments.ApplicationId).toMatch(/^REF/);
    expect(run.Arguments.ExecutionRoleArn).toMatch(/^REF/);
    expect(run.Arguments.ExecutionTimeoutMinutes).toBe(120);
    expect(run.TimeoutSeconds).toBe(150 * 60);
    expect(run.Arguments.JobDriver.SparkSubmit).toEqual({
      EntryPoint: 's3://lake-artifacts/jobs/spark/daily_report.py',
      EntryPointArguments:
        '{% $append(["--bronze-uri","s3://lake-bronze/","--gold-uri","s3://lake-gold/"], $exists($states.input.extraArguments) ? $states.input.extraArguments : []) %}',
      SparkSubmitParameters: '--py-files s3://lake-artifacts/jobs/spark.zip',
    });
    expect(definition(onDemand).States.RunSparkJob.Arguments.ExecutionTimeoutMinutes).toBe(45);
  });

  it("names the application's managed-logs key on every run, and may use that key to submit", () => {
    const overrides = definition(scheduled).States.RunSparkJob.Arguments.ConfigurationOverrides;
    const managed = overrides.MonitoringConfiguration.ManagedPersistenceMonitoringConfiguration;
    expect(managed.Enabled).toBe(true);
    // definition() writes each reference as REF<hex of its JSON>.
    expect(JSON.parse(Buffer.from(String(managed.EncryptionKeyArn).slice(3), 'hex').toString())).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^SparkManagedLogsKey/), 'Arn'],
    });
    const statements = Object.values(scheduled.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements.find((st) => st.Sid === 'UseManagedLogsKey')).toMatchObject({
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkManagedLogsKey/), 'Arn'] },
    });
  });

  it('retries with exponential backoff and ends failures in a Fail state', () => {
    const run = definition(scheduled).States.RunSparkJob;
    expect(run.Retry).toEqual([{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 300, BackoffRate: 2, JitterStrategy: 'FULL' }]);
    expect(run.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'JobFailed' }]);
    expect(run.Next).toBe('JobSucceeded');
    expect(definition(scheduled).States.JobFailed).toMatchObject({ Type: 'Fail', Error: 'SparkJobFailed' });
    expect(definition(scheduled).States.JobFailed.Cause).toContain('$states.input.Cause');
    expect(definition(onDemand).States.RunSparkJob.Retry[0]).toMatchObject({ MaxAttempts: 2, IntervalSeconds: 120 });
  });

  it('logs every event to a KMS-encrypted log group, without X-Ray', () => {
    scheduled.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DailyReportLogGroup'), 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: false },
    });
    scheduled.template.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
    });
  });

  it('state machine role: start on the application, follow its job runs, pass only the execution role', () => {
    const policy = Object.values(
      scheduled.template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^DailyReportStateMachineRole') } }),
    )[0];
    const statements = scheduled.stack.resolve(policy.Properties.PolicyDocument.Statement) as Array<Record<string, any>>;
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    expect(bySid.StartJobRun).toMatchObject({
      Action: 'emr-serverless:StartJobRun',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] },
    });
    expect(bySid.FollowJobRun).toMatchObject({
      Action: ['emr-serverless:CancelJobRun', 'emr-serverless:GetJobRun'],
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] }, '/jobruns/*']] },
    });
    expect(bySid.SyncEventsRule).toMatchObject({
      Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
      Resource: `arn:aws:events:eu-west-1:111111111111:rule/${SYNC_EVENTS_RULE_NAME}`,
    });
    expect(bySid.PassExecutionRole).toMatchObject({
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkReportRole/), 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
    });
    for (const statement of statements) expect([statement.Action].flat().every((a: string) => !a.includes('*'))).toBe(true);
  });

  it('alarms on failed executions', () => {
    scheduled.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    expect(scheduled.job.failureAlarm).toBeDefined();
  });

  it('schedules executions with EventBridge Scheduler only when a schedule is given', () => {
    scheduled.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: Match.stringLikeRegexp('^DailyReportStateMachine') },
        Input: '{"trigger":"schedule"}',
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    });
    onDemand.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    expect(onDemand.job.schedule).toBeUndefined();
  });

  it('has no unacknowledged cdk-nag or NIST findings', () => {
    expect(formatFindings(scheduled.findings)).toBe('');
    expect(formatFindings(onDemand.findings)).toBe('');
  });

  it('rejects invalid props with the field names', () => {
    const stack = new Stack(new App(), 'V', { env });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com') });
    const base: SparkBatchJobProps = {
      application: {
        applicationId: 'app',
        applicationArn: 'arn:aws:emr-serverless:eu-west-1:111111111111:/applications/app',
        jobRunsArn: 'x/jobruns/*',
      },
      executionRole: role,
      jobName: 'daily-report',
      entryPoint: 's3://a/b.py',
      logsKey: new kms.Key(stack, 'K'),
    };
    expect(() => new SparkBatchJob(stack, 'A', { ...base, schedule: '0 3 * * *' })).toThrow(/schedule '0 3 \* \* \*' must be an EventBridge expression/);
    expect(() => new SparkBatchJob(stack, 'B', { ...base, entryPoint: 'jobs/a.py', jobName: 'daily report' })).toThrow(
      /jobName 'daily report' must be 1-64 letters.*entryPoint must be an s3:\/\/ URI/,
    );
    expect(() => new SparkBatchJob(stack, 'C', { ...base, retry: { maxRetries: -1 } })).toThrow(/retry.maxRetries must be an integer from 0 to 10/);
    expect(() => new SparkBatchJob(stack, 'D', { ...base, executionTimeout: Duration.hours(25) })).toThrow(/executionTimeout must be between/);
  });
});
