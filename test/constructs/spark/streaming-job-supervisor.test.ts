import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SparkApplication } from '../../../lib/constructs/spark/spark-application';
import { StreamingJobSupervisor, StreamingJobSupervisorProps, SUPERVISOR_METRICS } from '../../../lib/constructs/spark/streaming-job-supervisor';
import { METRIC_CONSECUTIVE_FAILURES, SERVICE_NAME } from '../../../lib/functions/streaming-job-supervisor';
import { formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const env = { account: '111111111111', region: 'eu-west-1' };

describe('StreamingJobSupervisor', () => {
  let template: Template;
  let stack: Stack;
  let supervisor: StreamingJobSupervisor;
  let findings: string;

  beforeAll(() => {
    const app = newCompliantTestApp();
    stack = new Stack(new Stage(app, 'Test'), 'S', { env });
    const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
    const bronze = new s3.Bucket(stack, 'Bronze', { enforceSSL: true });
    const spark = new SparkApplication(stack, 'Spark', {
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
      logsBucket: new s3.Bucket(stack, 'Logs', { enforceSSL: true }),
      logsKey,
      maximumCapacity: { cpuVcpu: 16, memoryGb: 64 },
    });
    supervisor = new StreamingJobSupervisor(stack, 'Supervisor', {
      application: spark,
      executionRole: spark.addJobRole('StreamingRole', 'streaming-bronze').role,
      jobName: 'streaming-bronze',
      entryPoint: 's3://lake-artifacts/jobs/spark/streaming_bronze.py',
      entryPointArguments: ['--bootstrap-servers', 'b-1:9098', '--bronze-uri', bronze.s3UrlForObject()],
      sparkSubmitParameters: '--py-files s3://lake-artifacts/jobs/spark.zip',
      maxFailedAttemptsPerHour: 4,
      checkInterval: Duration.minutes(5),
      encryptionKey: logsKey,
      alarmActions: [new cloudwatchActions.SnsAction(new sns.Topic(stack, 'Alarms', { masterKey: logsKey, enforceSSL: true }))],
    });
    findings = formatFindings(synthFindings(app).filter((f) => f.path.startsWith(`${supervisor.node.path}/`)));
    template = Template.fromStack(stack);
  });

  it('configures the handler from the job definition', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          APPLICATION_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkApplication'), 'ApplicationId'] },
          EXECUTION_ROLE_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkStreamingRole'), 'Arn'] },
          // Every run names the application's managed-logs key.
          MANAGED_LOGS_KEY_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SparkManagedLogsKey'), 'Arn'] },
          JOB_NAME: 'streaming-bronze',
          ENTRY_POINT: 's3://lake-artifacts/jobs/spark/streaming_bronze.py',
          ENTRY_POINT_ARGUMENTS: {
            'Fn::Join': ['', ['["--bootstrap-servers","b-1:9098","--bronze-uri","s3://', { Ref: Match.stringLikeRegexp('^Bronze') }, '"]']],
          },
          MAX_FAILED_ATTEMPTS_PER_HOUR: '4',
          BACKOFF_BASE_SECONDS: '60',
          BACKOFF_MAX_SECONDS: '3600',
          STABLE_RUN_MINUTES: '30',
          SHUTDOWN_GRACE_SECONDS: '120',
          METRICS_NAMESPACE: 'Lakestream',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isCompleteHandler' });
  });

  it('runs on a schedule and once per deploy', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SupervisorFunction'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 },
        }),
      ],
    });
    const custom = Object.values(template.findResources('Custom::StreamingJob'));
    expect(custom).toHaveLength(1);
    const definition = JSON.stringify(stack.resolve(custom[0].Properties.JobDefinition));
    for (const field of [
      'APPLICATION_ID',
      'EXECUTION_ROLE_ARN',
      'ENTRY_POINT',
      'ENTRY_POINT_ARGUMENTS',
      'SPARK_SUBMIT_PARAMETERS',
      'MANAGED_LOGS_KEY_ARN',
      'MAX_FAILED_ATTEMPTS_PER_HOUR',
    ]) {
      expect(definition).toContain(field);
    }
  });

  it('grants only the EMR Serverless calls it makes, on this application, and passes only the execution role', () => {
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^Supervisor(IsComplete)?FunctionRoleDefaultPolicy') } }),
    );
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      const statements = stack.resolve(policy.Properties.PolicyDocument.Statement) as Array<Record<string, any>>;
      const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
      expect(bySid.StartAndListRuns).toMatchObject({
        Action: ['emr-serverless:ListJobRuns', 'emr-serverless:StartJobRun'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] },
      });
      expect(bySid.InspectTagAndCancelRuns).toMatchObject({
        Action: ['emr-serverless:CancelJobRun', 'emr-serverless:GetJobRun', 'emr-serverless:TagResource'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^SparkApplication/), 'Arn'] }, '/jobruns/*']] },
      });
      expect(bySid.PassExecutionRole).toMatchObject({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkStreamingRole/), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
      });
      // EMR Serverless rejects a run naming a logs key its submitter cannot use.
      expect(bySid.UseManagedLogsKey).toMatchObject({
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SparkManagedLogsKey/), 'Arn'] },
      });
      // Metrics travel as Embedded Metric Format log lines: no cloudwatch:PutMetricData.
      expect(JSON.stringify(statements)).not.toContain('cloudwatch:');
    }
  });

  it('alarms when the job keeps failing or the supervisor goes quiet', () => {
    expect(SUPERVISOR_METRICS.service).toBe(SERVICE_NAME);
    expect(SUPERVISOR_METRICS.consecutiveFailures).toBe(METRIC_CONSECUTIVE_FAILURES);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Lakestream',
      MetricName: 'StreamingJobConsecutiveFailures',
      Dimensions: Match.arrayWith([
        { Name: 'JobName', Value: 'streaming-bronze' },
        { Name: 'service', Value: 'streaming-job-supervisor' },
      ]),
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    expect(supervisor.failureAlarm).toBeDefined();
  });

  it('has no unacknowledged cdk-nag or NIST findings', () => {
    expect(findings).toBe('');
  });

  it('rejects invalid props with the field names', () => {
    const s = new Stack(new App(), 'V', { env });
    const role = new iam.Role(s, 'R', { assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com') });
    const base: StreamingJobSupervisorProps = {
      application: { applicationId: 'app', applicationArn: 'arn', jobRunsArn: 'arn/jobruns/*' },
      executionRole: role,
      jobName: 'streaming-bronze',
      entryPoint: 's3://a/b.py',
      encryptionKey: new kms.Key(s, 'K'),
    };
    expect(() => new StreamingJobSupervisor(s, 'A', { ...base, maxFailedAttemptsPerHour: 11 })).toThrow(
      /maxFailedAttemptsPerHour must be an integer from 1 to 10, got 11/,
    );
    expect(() => new StreamingJobSupervisor(s, 'B', { ...base, backoffBase: Duration.minutes(10), backoffMax: Duration.minutes(5) })).toThrow(
      /backoffMax must be between backoffBase/,
    );
    expect(() => new StreamingJobSupervisor(s, 'C', { ...base, entryPoint: 'file.py', checkInterval: Duration.hours(2) })).toThrow(
      /entryPoint must be an s3:\/\/ URI.*checkInterval must be 1-60 minutes/,
    );
  });
});
