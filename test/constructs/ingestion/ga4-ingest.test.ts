import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Ga4Ingest, type Ga4IngestProps, type Ga4IngestTopic } from '../../../lib/constructs/ingestion/ga4-ingest';
import { formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';
import { GA4_INGEST_METRICS } from '../../../lib/contracts/metrics';

/** Like KafkaBrokerDiscovery.bootstrapBrokers once resolved. */
const BROKERS = 'b-1.lakestream-test.abc123.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.lakestream-test.abc123.c2.kafka.eu-west-1.amazonaws.com:9098';

const TOPIC_ARN_PREFIX = 'arn:aws:kafka:eu-west-1:111111111111:topic/lakestream-dev/abcd-1234';

/** A topic handle like the Kafka topics construct's: grantWrite adds topic-scoped MSK IAM actions. */
function fakeTopic(topicName: string): Ga4IngestTopic {
  return {
    topicName,
    grantWrite: (grantee) =>
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kafka-cluster:WriteData', 'kafka-cluster:DescribeTopic'],
        resourceArns: [`${TOPIC_ARN_PREFIX}/${topicName}`],
      }),
  };
}

interface Scenario {
  app: App;
  stack: Stack;
  construct: Ga4Ingest;
  secret: secretsmanager.Secret;
}

function build(overrides: Partial<Ga4IngestProps> | ((stack: Stack) => Partial<Ga4IngestProps>) = {}, app: App = newCompliantTestApp()): Scenario {
  const stage = new Stage(app, 'Test');
  const stack = new Stack(stage, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  const secret = new secretsmanager.Secret(stack, 'Ga4Key', { encryptionKey: key });
  const construct = new Ga4Ingest(stack, 'Ga4', {
    propertyId: '123456789',
    credentialsSecret: secret,
    scheduleInterval: Duration.minutes(5),
    vpc,
    securityGroup,
    bootstrapBrokers: BROKERS,
    rawTopic: fakeTopic('logins.raw'),
    dlqTopic: fakeTopic('logins.raw.dlq'),
    logsKey: key,
    logRetention: logs.RetentionDays.ONE_MONTH,
    queueEncryptionKey: key,
    ...(typeof overrides === 'function' ? overrides(stack) : overrides),
  });
  return { app, stack, construct, secret };
}

describe('Ga4Ingest', () => {
  let scenario: Scenario;
  let template: Template;

  beforeAll(() => {
    scenario = build();
    template = Template.fromStack(scenario.stack);
  });

  const logicalId = (type: string, pathPart: string) => {
    const ids = Object.keys(template.findResources(type));
    const match = ids.filter((id) => id.includes(pathPart));
    if (match.length !== 1) throw new Error(`expected one ${type} matching ${pathPart}, got ${ids.join(', ')}`);
    return match[0]!;
  };

  it('runs the function on a 5-minute EventBridge schedule', () => {
    const fnId = logicalId('AWS::Lambda::Function', 'Ga4Function');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } })],
    });
  });

  it('places the function in the private subnets with the given security group, timeout below the interval', () => {
    const sgId = logicalId('AWS::EC2::SecurityGroup', 'Sg');
    const fn = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('GA4 login') } });
    const props = Object.values(fn)[0]!.Properties;
    expect(props.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sgId, 'GroupId'] }]);
    const privateSubnets = Object.keys(template.findResources('AWS::EC2::Subnet')).filter((id) => id.includes('PrivateSubnet'));
    expect(props.VpcConfig.SubnetIds.map((s: { Ref: string }) => s.Ref).sort()).toEqual(privateSubnets.sort());
    expect(props.Timeout).toBe(240);
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Environment.Variables).toMatchObject({
      GA4_PROPERTY_ID: '123456789',
      GA4_LOGIN_EVENT_NAME: 'login',
      GA4_USER_ID_DIMENSION: 'customEvent:login_user_id',
      GA4_USER_ID_MAX_LENGTH: '100',
      GA4_PASS_AGES_MINUTES: '480,2160,4320',
      GA4_MAX_WINDOW_MINUTES: '360',
      GA4_SENT_COUNTS_TABLE: { Ref: logicalId('AWS::DynamoDB::Table', 'Ga4SentCounts') },
      RAW_TOPIC: 'logins.raw',
      DLQ_TOPIC: 'logins.raw.dlq',
      BOOTSTRAP_BROKERS: BROKERS,
      GA4_CREDENTIALS_SECRET_ARN: { Ref: logicalId('AWS::SecretsManager::Secret', 'Ga4Key') },
    });
  });

  it('keeps the credentials out of the template: only the secret ARN is referenced', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('GA4 login') } }))[0]!;
    const secretId = logicalId('AWS::SecretsManager::Secret', 'Ga4Key');
    expect(fn.Properties.Environment.Variables.GA4_CREDENTIALS_SECRET_ARN).toEqual({ Ref: secretId });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PRIVATE KEY|private_key|client_email|access_token/);
  });

  it('sends failed async invocations to a KMS-encrypted, TLS-only SQS queue without Lambda retries', () => {
    const queueId = logicalId('AWS::SQS::Queue', 'Ga4DeadLetterQueue');
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'Key'), 'Arn'] } });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
  });

  it('creates the high-water-mark parameter empty of any mark', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: '{"version":1}', Tier: 'Standard' });
  });

  it('grants exactly: this secret, Get/Put on its own mark parameter and the two topics', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.entries(policies)
      .filter(([id]) => id.includes('Ga4Function'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Action: string | string[]; Resource: unknown }>);
    const markId = logicalId('AWS::SSM::Parameter', 'Ga4HighWaterMark');
    const secretId = logicalId('AWS::SecretsManager::Secret', 'Ga4Key');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'ReadGa4Credentials', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }),
        expect.objectContaining({
          Sid: 'ReadWriteHighWaterMark',
          Action: ['ssm:GetParameter', 'ssm:PutParameter'],
          Resource: { 'Fn::Join': ['', ['arn:aws:ssm:eu-west-1:111111111111:parameter/', { Ref: markId }]] },
        }),
        expect.objectContaining({
          Sid: 'EncryptDeadLetters',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'Key'), 'Arn'] },
        }),
        expect.objectContaining({
          Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          Resource: [`${TOPIC_ARN_PREFIX}/logins.raw`, `${TOPIC_ARN_PREFIX}/logins.raw.dlq`],
        }),
      ]),
    );
    // The four above plus: own logs, the DLQ send, decrypting the secret's key through Secrets
    // Manager, the sent-counts table, and the three network-interface statements of a function in the
    // VPC. No SSM read of the brokers: they reach the environment as a value.
    expect(
      statements.filter((s: { Sid?: string }) => ['CreateFunctionInterfaces', 'ManageFunctionInterfaces', 'DescribeNetwork'].includes(s.Sid ?? '')),
    ).toHaveLength(3);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'Ga4DeadLetterQueue'), 'Arn'] } }),
        expect.objectContaining({
          Sid: 'DecryptGa4Credentials',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'Key'), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        }),
        expect.objectContaining({
          Action: ['dynamodb:BatchWriteItem', 'dynamodb:Query'],
          Resource: { 'Fn::GetAtt': [logicalId('AWS::DynamoDB::Table', 'Ga4SentCounts'), 'Arn'] },
        }),
      ]),
    );
    expect(statements).toHaveLength(11);
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement.Action);
      expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
      // Only the ENI describe actions, which support no resource-level permissions, may use Resource '*'.
      if (statement.Sid !== 'DescribeNetwork') expect(statement.Resource).not.toEqual('*');
      if (actions.some((a) => a.startsWith('secretsmanager:'))) expect(statement.Resource).toEqual({ Ref: secretId });
      if (actions.includes('ssm:PutParameter')) expect(statement.Resource).toEqual(expect.objectContaining({ 'Fn::Join': expect.anything() }));
    }
    expect(statements.filter((s) => ([] as string[]).concat(s.Action).includes('ssm:PutParameter'))).toHaveLength(1);
    expect(statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('ssm:')))).toHaveLength(1);
  });

  it('keeps sent counts in a CMK-encrypted, point-in-time-recoverable table whose items expire', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [logicalId('AWS::KMS::Key', 'Key'), 'Arn'] } },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('alarms when read minutes stay without a login longer than the quiet period, on the emitted metric', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: GA4_INGEST_METRICS.namespace,
      MetricName: GA4_INGEST_METRICS.metrics.emptyMinutes,
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: logicalId('AWS::Lambda::Function', 'Ga4Function') } },
        { Name: 'service', Value: 'ga4-ingest' },
      ],
      Statistic: 'Maximum',
      Threshold: 360,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('exposes alarms on errors, rejected rows, dead-letter depth and empty windows', () => {
    expect(scenario.construct.alarms).toHaveLength(4);
    const fnId = logicalId('AWS::Lambda::Function', 'Ga4Function');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Threshold: 1,
      Period: 300,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Lakestream',
      MetricName: 'Ga4RowsRejected',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: fnId } },
        { Name: 'service', Value: 'ga4-ingest' },
      ],
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'Ga4DeadLetterQueue'), 'QueueName'] } }],
    });
  });

  it('has no unacknowledged cdk-nag findings under the construct', () => {
    const findings = synthFindings(scenario.app)
      .filter((f) => f.path.includes('/Ga4/'))
      // applyCompliance acknowledges single-role inline policies with an App-level aspect, and CDK does
      // not carry App aspects into Stages; this one finding is that gap (reported), not this construct.
      .filter((f) => !(f.rule === 'NIST.800.53.R5-IAMNoInlinePolicy' && f.path === 'Test/S/Ga4/Function/Role/DefaultPolicy/Resource'));
    expect(formatFindings(findings)).toBe('');
  });
});

describe('Ga4Ingest with an imported secret under a customer-managed key and a daily schedule', () => {
  it('grants kms:Decrypt on the given key through Secrets Manager, and caps event ages at what Lambda and EventBridge accept', () => {
    const { stack } = build(
      (scope) => ({
        credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(scope, 'Imported', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf'),
        credentialsKey: kms.Key.fromKeyArn(scope, 'SecretKey', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
        scheduleInterval: Duration.hours(24),
      }),
      new App(),
    );
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DecryptGa4Credentials',
            Action: 'kms:Decrypt',
            Resource: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
          }),
        ]),
      },
    });
    // Lambda's maximum event age is 6 hours, EventBridge's 24; the schema allows a 24-hour schedule.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 6 * 3600 });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86400 } })],
    });
  });
});

describe('Ga4Ingest validation', () => {
  it('refuses the reserved customUser:user_id and an id length GA4 would truncate', () => {
    expect(() => build({ userIdDimension: 'customUser:user_id', userIdMaxLength: 36 }, new App())).toThrow(/'user_id' is a reserved user-property name/);
    expect(() => build({ userIdDimension: 'customUser:app_user_id' }, new App())).toThrow(
      /userIdMaxLength 100 is not allowed with customUser:app_user_id: GA4 truncates user property values to 36 characters/,
    );
    expect(() => build({ passAges: [Duration.hours(36), Duration.hours(8)] }, new App())).toThrow(/passAges: pass ages must increase: 480 follows 2160/);
    expect(() => build({ maxWindow: Duration.minutes(90) }, new App())).toThrow(/maxWindow must be 1 to 24 whole hours, got 1 hour 30 minutes/);
  });
  it('rejects a timeout that would let runs overlap', () => {
    expect(() => build({ timeout: Duration.minutes(5) }, new App())).toThrow(/timeout \(5 minutes\) must be shorter than scheduleInterval \(5 minutes\)/);
  });
  it('rejects a non-numeric property id and a sub-minute interval', () => {
    expect(() => build({ propertyId: 'G-ABC123' }, new App())).toThrow(/propertyId must be the numeric GA4 property id, got 'G-ABC123'/);
    expect(() => build({ scheduleInterval: Duration.seconds(90) }, new App())).toThrow(/whole number of minutes/);
  });
});
