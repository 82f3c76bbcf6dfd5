import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { KafkaTopic, kafkaClusterUuid, kafkaGroupArn, kafkaTopicArn, type KafkaClusterRef } from '../../../lib/constructs/kafka/kafka-access';
import { formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const CLUSTER: KafkaClusterRef = {
  clusterArn: 'arn:aws:kafka:eu-west-1:111111111111:cluster/lakestream-dev/7f9c2ba4-e0f1-4a8b-9c3d-5e6f7a8b9c0d-2',
  clusterName: 'lakestream-dev',
};
const UUID = '7f9c2ba4-e0f1-4a8b-9c3d-5e6f7a8b9c0d-2';

function roleStatements(build: (stack: Stack, role: iam.Role) => void): unknown[] {
  const stack = new Stack(new App(), 'S', { env: ENV });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  build(stack, role);
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  const statements = Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
  );
  return statements;
}

describe('MSK IAM ARNs', () => {
  it('builds topic and group ARNs from a literal cluster ARN', () => {
    expect(kafkaClusterUuid(CLUSTER.clusterArn)).toBe(UUID);
    expect(kafkaTopicArn(CLUSTER, 'logins.raw')).toBe(`arn:aws:kafka:eu-west-1:111111111111:topic/lakestream-dev/${UUID}/logins.raw`);
    expect(kafkaGroupArn(CLUSTER, 'flink-login-counter')).toBe(`arn:aws:kafka:eu-west-1:111111111111:group/lakestream-dev/${UUID}/flink-login-counter`);
  });

  it('keeps the partition of the cluster ARN', () => {
    const china = { clusterArn: `arn:aws-cn:kafka:cn-north-1:111111111111:cluster/c/${UUID}`, clusterName: 'c' };
    expect(kafkaTopicArn(china, 't')).toBe(`arn:aws-cn:kafka:cn-north-1:111111111111:topic/c/${UUID}/t`);
  });

  it('selects the UUID and ARN prefix from a cluster ARN token', () => {
    const stack = new Stack(undefined, 'S', { env: ENV });
    const cluster = { clusterArn: new CfnParameter(stack, 'ClusterArn').valueAsString, clusterName: 'lakestream-dev' };
    expect(stack.resolve(kafkaClusterUuid(cluster.clusterArn))).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'ClusterArn' }] }] });
    expect(stack.resolve(kafkaGroupArn(cluster, 'spark-bronze'))).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::Select': [0, { 'Fn::Split': [':cluster/', { Ref: 'ClusterArn' }] }] },
          ':group/lakestream-dev/',
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'ClusterArn' }] }] },
          '/spark-bronze',
        ],
      ],
    });
  });

  it('rejects wildcards, invalid names, token names, malformed ARNs and mismatched cluster names', () => {
    expect(() => kafkaTopicArn(CLUSTER, 'logins.*')).toThrow(
      `topic name = "logins.*" is not allowed (allowed: 1 to 249 characters from a-z A-Z 0-9 . _ -, not '.' or '..')`,
    );
    expect(() => kafkaTopicArn(CLUSTER, '..')).toThrow('topic name = ".." is not allowed');
    expect(() => kafkaGroupArn(CLUSTER, 'group?')).toThrow(
      'consumer group name = "group?" is not allowed (allowed: 1 to 255 characters from a-z A-Z 0-9 . _ -)',
    );
    expect(() => kafkaGroupArn(CLUSTER, '')).toThrow('consumer group name = "" is not allowed');
    const stack = new Stack(undefined, 'S');
    expect(() => kafkaTopicArn(CLUSTER, new CfnParameter(stack, 'Topic').valueAsString)).toThrow(/allowed: a literal name known at synth/);
    expect(() => kafkaTopicArn({ ...CLUSTER, clusterArn: 'arn:aws:kafka:eu-west-1:111111111111:topic/x/y/z' }, 't')).toThrow(
      'clusterArn = "arn:aws:kafka:eu-west-1:111111111111:topic/x/y/z" is not allowed (allowed: arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>)',
    );
    expect(() => kafkaTopicArn({ ...CLUSTER, clusterName: 'lakestream-prod' }, 't')).toThrow(
      'clusterName = "lakestream-prod" is not allowed (allowed: "lakestream-dev"',
    );
  });
});

describe('KafkaTopic grants', () => {
  const topic = new KafkaTopic(CLUSTER, 'logins.raw');
  const topicArn = `arn:aws:kafka:eu-west-1:111111111111:topic/lakestream-dev/${UUID}/logins.raw`;

  it('grantRead: connect and describe on the cluster, describe and read on the topic, describe and alter on the group', () => {
    expect(roleStatements((_, role) => topic.grantRead(role, 'flink-login-counter'))).toEqual([
      { Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Effect: 'Allow', Resource: CLUSTER.clusterArn },
      { Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], Effect: 'Allow', Resource: topicArn },
      {
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Effect: 'Allow',
        Resource: `arn:aws:kafka:eu-west-1:111111111111:group/lakestream-dev/${UUID}/flink-login-counter`,
      },
    ]);
  });

  it('grantReadWithGroupPrefix: the group ARN ends in exactly the prefix and one wildcard', () => {
    expect(roleStatements((_, role) => topic.grantReadWithGroupPrefix(role, 'lakestream-spark-bronze'))).toEqual([
      { Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Effect: 'Allow', Resource: CLUSTER.clusterArn },
      { Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], Effect: 'Allow', Resource: topicArn },
      {
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Effect: 'Allow',
        Resource: `arn:aws:kafka:eu-west-1:111111111111:group/lakestream-dev/${UUID}/lakestream-spark-bronze*`,
      },
    ]);
  });

  it('grantReadWithGroupPrefix refuses prefixes that are empty, too short or carry wildcards', () => {
    const role = new iam.Role(new Stack(new App(), 'P', { env: ENV }), 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    for (const prefix of ['', 'ab', 'spark*', 'a/b']) {
      expect(() => topic.grantReadWithGroupPrefix(role, prefix)).toThrow(`groupIdPrefix = "${prefix}" is not allowed`);
    }
  });

  it('grantWrite: connect, describe and idempotent writes on the cluster, describe and write on the topic', () => {
    expect(roleStatements((_, role) => topic.grantWrite(role))).toEqual([
      {
        Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'],
        Effect: 'Allow',
        Resource: CLUSTER.clusterArn,
      },
      { Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], Effect: 'Allow', Resource: topicArn },
    ]);
  });

  it('grantWrite without idempotence leaves WriteDataIdempotently out', () => {
    expect(roleStatements((_, role) => topic.grantWrite(role, { idempotent: false }))[0]).toEqual({
      Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      Effect: 'Allow',
      Resource: CLUSTER.clusterArn,
    });
  });

  it('returns a grant that reports success for a role in the same account', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(topic.grantRead(role, 'g').success).toBe(true);
    expect(topic.grantWrite(role).success).toBe(true);
  });

  it('passes the cdk-nag rule packs: no wildcard action or resource', () => {
    const app = newCompliantTestApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const role = new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    topic.grantRead(role, 'spark-bronze');
    new KafkaTopic(CLUSTER, 'logins.counts').grantWrite(role);
    expect(formatFindings(synthFindings(app).filter((f) => f.path.startsWith('S/Consumer')))).toBe('');
  });
});
