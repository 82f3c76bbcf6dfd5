import { App, CfnParameter, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { PlatformAlarms } from '../../../lib/constructs/monitoring/platform-alarms';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function alarmsWith(template: Template, props: Record<string, unknown>): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: props }) as Resources).map((alarm) => alarm.Properties);
}

describe('PlatformAlarms', () => {
  let template: Template;
  let findings: Finding[];
  let alarmsPath: string;
  let alarmCount: number;

  beforeAll(() => {
    const app = newCompliantTestApp();
    const stack = new Stack(new Stage(app, 'Test'), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const alarms = new PlatformAlarms(stack, 'Alarms', { emailAddresses: ['oncall@example.com', 'data-team@example.com'] });

    alarms.addFlinkAlarms('lakestream-dev-login-counts', { maxRecordsLag: 5000 });
    alarms.addEmrServerlessAlarms('00fabc123def456', { applicationName: 'lakestream-dev-spark' });
    alarms.addLambdaAlarms(lambda.Function.fromFunctionName(stack, 'TopicManager', 'lakestream-dev-topic-manager'));
    alarms.addQueueDepthAlarm(sqs.Queue.fromQueueArn(stack, 'ReplayDlq', 'arn:aws:sqs:eu-west-1:111111111111:lakestream-dev-replay-dlq'));
    alarms.addStateMachineAlarms(sfn.StateMachine.fromStateMachineName(stack, 'Erasure', 'lakestream-dev-erasure'));
    alarms.addAlarm(
      new cloudwatch.Alarm(stack, 'ExistingAlarm', {
        metric: new cloudwatch.Metric({ namespace: 'Lakestream', metricName: 'ReplayDeadLetters', period: Duration.minutes(5) }),
        threshold: 0,
        evaluationPeriods: 1,
      }),
    );
    alarmsPath = alarms.node.path;
    alarmCount = alarms.alarms.length;

    template = Template.fromStack(stack);
    findings = synthFindings(app);
  });

  it('encrypts the topic with a rotating key, requires TLS and subscribes the email addresses', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'Encrypts the Lakestream alert topic' });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'data-team@example.com' });
  });

  it('lets CloudWatch publish alarm notifications with the topic key', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow' }),
        ]),
      },
    });
  });

  it('sends every alarm and its recovery to the topic', () => {
    const all = alarmsWith(template, {});
    expect(all).toHaveLength(10);
    expect(alarmCount).toBe(10);
    const topic = [{ Ref: expect.stringMatching(/^AlarmsTopic/) }];
    for (const alarm of all) {
      expect({ AlarmActions: alarm.AlarmActions, OKActions: alarm.OKActions }).toEqual({ AlarmActions: topic, OKActions: topic });
    }
  });

  it('watches Flink downtime, failed checkpoints and Kafka source lag', () => {
    const dimensions = [{ Name: 'Application', Value: 'lakestream-dev-login-counts' }];
    expect(alarmsWith(template, { Namespace: 'AWS/KinesisAnalytics', MetricName: 'downtime' })).toEqual([
      expect.objectContaining({ Dimensions: dimensions, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' }),
    ]);
    expect(alarmsWith(template, { Namespace: 'AWS/KinesisAnalytics', MetricName: 'records_lag_max' })).toEqual([
      expect.objectContaining({ Dimensions: dimensions, Threshold: 5000, Statistic: 'Maximum', EvaluationPeriods: 3, DatapointsToAlarm: 3 }),
    ]);
    const [checkpoints] = alarmsWith(template, { AlarmDescription: Match.stringLikeRegexp('failed a checkpoint') });
    expect(checkpoints.Metrics).toEqual([
      expect.objectContaining({ Expression: 'RATE(failed)', ReturnData: true }),
      expect.objectContaining({
        Id: 'failed',
        ReturnData: false,
        MetricStat: expect.objectContaining({ Metric: { Namespace: 'AWS/KinesisAnalytics', MetricName: 'numberOfFailedCheckpoints', Dimensions: dimensions } }),
      }),
    ]);
  });

  it('counts failed EMR Serverless job runs under both dimension sets', () => {
    const [failedJobs] = alarmsWith(template, { AlarmDescription: Match.stringLikeRegexp('EMR Serverless') });
    expect(failedJobs.Threshold).toBe(0);
    expect(failedJobs.Metrics).toEqual([
      expect.objectContaining({ Expression: 'FILL(byId, 0) + FILL(byName, 0)', ReturnData: true }),
      expect.objectContaining({
        Id: 'byId',
        MetricStat: expect.objectContaining({
          Metric: { Namespace: 'AWS/EMRServerless', MetricName: 'FailedJobs', Dimensions: [{ Name: 'ApplicationId', Value: '00fabc123def456' }] },
          Stat: 'Sum',
        }),
      }),
      expect.objectContaining({
        Id: 'byName',
        MetricStat: expect.objectContaining({
          Metric: {
            Namespace: 'AWS/EMRServerless',
            MetricName: 'FailedJobs',
            Dimensions: expect.arrayContaining([
              { Name: 'ApplicationId', Value: '00fabc123def456' },
              { Name: 'ApplicationName', Value: 'lakestream-dev-spark' },
            ]),
          },
        }),
      }),
    ]);
  });

  it('watches Lambda errors and throttles, queue depth and state machine failures and timeouts', () => {
    const fn = [{ Name: 'FunctionName', Value: 'lakestream-dev-topic-manager' }];
    expect(alarmsWith(template, { Namespace: 'AWS/Lambda', MetricName: 'Errors' })).toEqual([
      expect.objectContaining({ Dimensions: fn, Statistic: 'Sum', Threshold: 0 }),
    ]);
    expect(alarmsWith(template, { Namespace: 'AWS/Lambda', MetricName: 'Throttles' })).toEqual([
      expect.objectContaining({ Dimensions: fn, Statistic: 'Sum', Threshold: 0 }),
    ]);
    expect(alarmsWith(template, { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' })).toEqual([
      expect.objectContaining({ Dimensions: [{ Name: 'QueueName', Value: 'lakestream-dev-replay-dlq' }], Statistic: 'Maximum', Threshold: 0 }),
    ]);
    const stateMachine = [{ Name: 'StateMachineArn', Value: 'arn:aws:states:eu-west-1:111111111111:stateMachine:lakestream-dev-erasure' }];
    expect(alarmsWith(template, { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed' })).toEqual([
      expect.objectContaining({ Dimensions: stateMachine, Threshold: 0 }),
    ]);
    expect(alarmsWith(template, { Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut' })).toEqual([
      expect.objectContaining({ Dimensions: stateMachine, Threshold: 0 }),
    ]);
  });

  it('routes an alarm defined elsewhere', () => {
    expect(alarmsWith(template, { Namespace: 'Lakestream', MetricName: 'ReplayDeadLetters' })).toEqual([
      expect.objectContaining({ AlarmActions: [{ Ref: expect.stringMatching(/^AlarmsTopic/) }] }),
    ]);
  });

  it('has no compliance findings', () => {
    expect(formatFindings(findings.filter((f) => f.path === alarmsPath || f.path.startsWith(`${alarmsPath}/`)))).toBe('');
  });
});

describe('PlatformAlarms options and errors', () => {
  function newStack(): Stack {
    return new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  }

  it('uses a given key and can leave recovery notifications out', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    const alarms = new PlatformAlarms(stack, 'Alarms', { encryptionKey: key, notifyOnRecovery: false });
    alarms.addQueueDepthAlarm(sqs.Queue.fromQueueArn(stack, 'Q', 'arn:aws:sqs:eu-west-1:111111111111:q'), { threshold: 10 });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SharedKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 10, OKActions: Match.absent() });
  });

  it('warns when the key policy of an imported key cannot be extended', () => {
    const stack = newStack();
    new PlatformAlarms(stack, 'Alarms', {
      encryptionKey: kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    });
    Annotations.fromStack(stack).hasWarning('/S/Alarms', Match.stringLikeRegexp('allow cloudwatch.amazonaws.com kms:Decrypt'));
  });

  it('rejects a malformed email address', () => {
    expect(() => new PlatformAlarms(newStack(), 'Alarms', { emailAddresses: ['oncall.example.com'] })).toThrow(
      'PlatformAlarms: "oncall.example.com" in emailAddresses is not an email address',
    );
  });

  it('needs an explicit id when the application name or id is a token', () => {
    const stack = newStack();
    const alarms = new PlatformAlarms(stack, 'Alarms');
    const token = new CfnParameter(stack, 'ApplicationName').valueAsString;
    expect(() => alarms.addFlinkAlarms(token)).toThrow("PlatformAlarms.addFlinkAlarms: the name is a token; pass options.id to name the alarms' construct");
    expect(() => alarms.addEmrServerlessAlarms(token)).toThrow('PlatformAlarms.addEmrServerlessAlarms: the name is a token; pass options.id');
    alarms.addEmrServerlessAlarms(token, { id: 'Spark' });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(byId, 0)' })]),
    });
  });

  it('refuses to route an imported alarm', () => {
    const stack = newStack();
    const alarms = new PlatformAlarms(stack, 'Alarms');
    const imported = cloudwatch.Alarm.fromAlarmArn(stack, 'Imported', 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:elsewhere');
    expect(() => alarms.addAlarm(imported)).toThrow('PlatformAlarms.addAlarm: S/Imported is an imported alarm');
  });

  it('rejects a negative queue threshold', () => {
    const stack = newStack();
    const alarms = new PlatformAlarms(stack, 'Alarms');
    expect(() => alarms.addQueueDepthAlarm(sqs.Queue.fromQueueArn(stack, 'Q', 'arn:aws:sqs:eu-west-1:111111111111:q'), { threshold: -1 })).toThrow(
      'threshold must be 0 or more, got -1',
    );
  });
});
