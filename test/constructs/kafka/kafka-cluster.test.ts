import { App, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { BROKER_DISCOVERY_RESOURCE_TYPE } from '../../../lib/constructs/kafka/kafka-broker-discovery';
import { KafkaCluster, type KafkaClusterProps } from '../../../lib/constructs/kafka/kafka-cluster';
import { formatFindings, newCompliantTestApp, synthFindings, type Finding } from '../../helpers/compliance';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const PARAMETER = '/lakestream/test/msk/bootstrap-brokers-iam';

interface Prerequisites {
  readonly vpc: ec2.Vpc;
  readonly streamingKey: kms.Key;
  readonly logsKey: kms.Key;
}

function prerequisites(stack: Stack, azs: number): Prerequisites {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: azs, natGateways: 1 });
  const streamingKey = new kms.Key(stack, 'StreamingKey', { enableKeyRotation: true });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  logsKey.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${ENV.region}.amazonaws.com`));
  return { vpc, streamingKey, logsKey };
}

function clusterProps(pre: Prerequisites, overrides: Partial<KafkaClusterProps> = {}): KafkaClusterProps {
  return {
    vpc: pre.vpc,
    clusterName: 'lakestream-test',
    brokerCount: 2,
    instanceType: 'kafka.t3.small',
    ebsVolumeGiB: 20,
    storageAutoScalingMaxGiB: 100,
    encryptionKey: pre.streamingKey,
    logsKey: pre.logsKey,
    logRetention: logs.RetentionDays.ONE_MONTH,
    bootstrapBrokersParameterName: PARAMETER,
    ...overrides,
  };
}

interface Scenario {
  readonly template: Template;
  readonly findings: Finding[];
  readonly cluster: KafkaCluster;
  readonly stack: Stack;
}

/**
 * Each scenario is built twice: one app for the template, one for the compliance synth, so that
 * neither synthesis sees the other's state (the compliance aspects are added when the app synthesizes).
 */
function buildScenario(
  azs: number,
  overrides: (pre: Prerequisites) => Partial<KafkaClusterProps>,
  extra?: (stack: Stack, cluster: KafkaCluster, stage: Stage) => void,
): Scenario {
  const build = () => {
    const app = newCompliantTestApp();
    const stage = new Stage(app, 'Test');
    const stack = new Stack(stage, 'S', { env: ENV });
    const pre = prerequisites(stack, azs);
    const cluster = new KafkaCluster(stack, 'Kafka', clusterProps(pre, overrides(pre)));
    extra?.(stack, cluster, stage);
    return { app, stack, cluster };
  };
  const forTemplate = build();
  const template = Template.fromStack(forTemplate.stack);
  const findings = synthFindings(build().app).filter((f) => f.path.includes('/S/Kafka/') || f.path.endsWith('/S/Kafka'));
  return { template, findings, cluster: forTemplate.cluster, stack: forTemplate.stack };
}

function serverPropertiesOf(template: Template): Map<string, string> {
  const configs = template.findResources('AWS::MSK::Configuration');
  const [config] = Object.values(configs) as Array<{ Properties: { ServerProperties: string } }>;
  return new Map(
    config.Properties.ServerProperties.split('\n')
      .filter(Boolean)
      .map((line) => line.split('=') as [string, string]),
  );
}

describe('KafkaCluster (dev: 2 AZs, 2 brokers, DESTROY)', () => {
  let dev: Scenario;
  beforeAll(() => {
    dev = buildScenario(2, () => ({
      removalPolicy: RemovalPolicy.DESTROY,
      enhancedMonitoring: 'PER_BROKER',
      serverProperties: { 'log.retention.hours': 24 },
    }));
  });

  it('uses IAM client authentication only', () => {
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true }, Scram: Match.absent() },
        Unauthenticated: { Enabled: false },
        Tls: Match.absent(),
      },
    });
  });

  it('encrypts client-broker and in-cluster traffic with TLS and storage with the streaming key', () => {
    const keys = dev.template.findResources('AWS::KMS::Key');
    const streamingKeyId = Object.keys(keys).find((id) => id.startsWith('StreamingKey'));
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [streamingKeyId, 'Arn'] } },
      },
    });
  });

  it('places brokers in the private subnets with the construct security group and no public access', () => {
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      ClusterName: 'lakestream-test',
      KafkaVersion: '3.8.x.kraft',
      NumberOfBrokerNodes: 2,
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.t3.small',
        ClientSubnets: [{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet2') }],
        SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaSecurityGroup'), 'GroupId'] }],
        StorageInfo: { EBSStorageInfo: { VolumeSize: 20 } },
        ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } },
      },
    });
  });

  it('enables open monitoring (JMX and node exporters) and the configured enhanced monitoring', () => {
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      OpenMonitoring: { Prometheus: { JmxExporter: { EnabledInBroker: true }, NodeExporter: { EnabledInBroker: true } } },
      EnhancedMonitoring: 'PER_BROKER',
    });
  });

  it('sends broker logs to a KMS-encrypted log group it creates', () => {
    dev.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/msk/lakestream-test/broker',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
      RetentionInDays: 30,
    });
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^KafkaBrokerLogs') } } } },
    });
  });

  it('attaches the validated configuration at its latest revision', () => {
    dev.template.hasResourceProperties('AWS::MSK::Cluster', {
      ConfigurationInfo: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaConfiguration'), 'Arn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaConfiguration'), 'LatestRevision.Revision'] },
      },
    });
    const props = serverPropertiesOf(dev.template);
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('unclean.leader.election.enable')).toBe('false');
    expect(props.get('default.replication.factor')).toBe('2');
    expect(props.get('min.insync.replicas')).toBe('1');
    expect(props.get('log.retention.hours')).toBe('24');
    expect(props.has('allow.everyone.if.no.acl.found')).toBe(false);
    expect(dev.cluster.serverProperties).toContain('default.replication.factor=2\n');
  });

  it('keeps the cluster logical ID stable under the construct', () => {
    expect(Object.keys(dev.template.findResources('AWS::MSK::Cluster'))).toEqual([dev.stack.getLogicalId(dev.cluster.cluster)]);
    expect(dev.cluster.cluster.node.id).toBe('Cluster');
    expect(dev.cluster.cluster.node.path).toBe('Test/S/Kafka/Cluster');
  });

  it('applies DESTROY to the cluster, configuration, security group and log group', () => {
    for (const type of ['AWS::MSK::Cluster', 'AWS::MSK::Configuration', 'AWS::EC2::SecurityGroup', 'AWS::Logs::LogGroup']) {
      const resources = dev.template.findResources(type, { Properties: Match.anyValue() });
      const ours = Object.entries(resources).filter(([id]) => id.startsWith('Kafka') && !id.includes('BootstrapBrokers'));
      expect(ours.length).toBeGreaterThan(0);
      for (const [, resource] of ours) expect(resource).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  it('scales broker storage on KafkaBrokerStorageUtilization up to the ceiling, never in', () => {
    dev.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka',
      ScalableDimension: 'kafka:broker-storage:VolumeSize',
      ResourceId: { 'Fn::GetAtt': [dev.stack.getLogicalId(dev.cluster.cluster), 'Arn'] },
      MinCapacity: 1,
      MaxCapacity: 100,
      RoleARN: {
        'Fn::Join': [
          '',
          Match.arrayWith([
            Match.stringLikeRegexp('role/aws-service-role/kafka.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_KafkaCluster$'),
          ]),
        ],
      },
    });
    dev.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' },
        TargetValue: 60,
        DisableScaleIn: true,
      },
    });
  });

  it('creates a security group with no ingress and no open egress', () => {
    dev.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^MSK brokers of lakestream-test'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    dev.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('publishes the bootstrap brokers through a custom resource with exactly scoped permissions', () => {
    const clusterId = dev.stack.getLogicalId(dev.cluster.cluster);
    dev.template.hasResourceProperties('Custom::MskBootstrapBrokers', {
      ClusterArn: { 'Fn::GetAtt': [clusterId, 'Arn'] },
      ParameterName: PARAMETER,
      BrokerCount: '2',
    });
    dev.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: { 'Fn::GetAtt': [clusterId, 'Arn'] } },
          {
            Action: ['ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:PutParameter'],
            Effect: 'Allow',
            Resource: `arn:aws:ssm:eu-west-1:111111111111:parameter${PARAMETER}`,
          },
        ]),
      },
    });
    // The handler runs outside the VPC (control-plane calls only), on the project's Lambda defaults.
    dev.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Publishes the SASL/IAM bootstrap brokers'),
      Runtime: lambda.Runtime.NODEJS_24_X.name,
      VpcConfig: Match.absent(),
    });
  });

  it('exposes the parameter name for operators, from the custom resource, and no dynamic reference', () => {
    const resolve = (value: string) => dev.stack.resolve(value) as unknown;
    const customResourceId = Object.keys(dev.template.findResources('Custom::MskBootstrapBrokers'))[0];
    expect(resolve(dev.cluster.bootstrapBrokersParameterName)).toEqual({ 'Fn::GetAtt': [customResourceId, 'ParameterName'] });
    expect(JSON.stringify(dev.template.toJSON())).not.toContain('{{resolve:');
    expect(dev.cluster.kraft).toBe(true);
    expect(dev.cluster.brokerCount).toBe(2);
    expect(dev.cluster.clusterName).toBe('lakestream-test');
    expect(resolve(dev.cluster.clusterArn)).toEqual({ 'Fn::GetAtt': [dev.stack.getLogicalId(dev.cluster.cluster), 'Arn'] });
  });

  it('has no unacknowledged compliance findings under the construct', () => {
    expect(formatFindings(dev.findings)).toBe('');
  });
});

describe('KafkaCluster (prod: 3 AZs, 6 brokers, default RETAIN, clients and scraper allowed)', () => {
  let prod: Scenario;
  let prodStreaming: Template;
  const streamingStacks: Stack[] = [];
  beforeAll(() => {
    prod = buildScenario(
      3,
      () => ({
        brokerCount: 6,
        instanceType: 'kafka.m7g.large',
        ebsVolumeGiB: 500,
        storageAutoScalingMaxGiB: 4000,
        enhancedMonitoring: 'PER_TOPIC_PER_BROKER',
      }),
      (stack, cluster, stage) => {
        const vpc = stack.node.findChild('Vpc') as ec2.Vpc;
        cluster.allowClientsFrom(new ec2.SecurityGroup(stack, 'Clients', { vpc }));
        cluster.allowMetricsScrapingFrom(new ec2.SecurityGroup(stack, 'Scraper', { vpc }));
        // A client in a stateless stack: the rule must live there so the data stack never depends on it.
        const streaming = new Stack(stage, 'Streaming', { env: ENV });
        const remoteClients = new ec2.SecurityGroup(streaming, 'RemoteClients', { vpc });
        cluster.allowClientsFrom(remoteClients);
        streamingStacks.push(streaming);
      },
    );
    // The first build is the one whose templates are asserted.
    prodStreaming = Template.fromStack(streamingStacks[0]);
  });

  it('sizes the cluster from props', () => {
    prod.template.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 6,
      EnhancedMonitoring: 'PER_TOPIC_PER_BROKER',
      BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.m7g.large', StorageInfo: { EBSStorageInfo: { VolumeSize: 500 } } }),
    });
    const cluster = prod.template.findResources('AWS::MSK::Cluster');
    const subnets = (Object.values(cluster)[0] as { Properties: { BrokerNodeGroupInfo: { ClientSubnets: unknown[] } } }).Properties.BrokerNodeGroupInfo
      .ClientSubnets;
    expect(subnets).toHaveLength(3);
    prod.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 4000 });
  });

  it('uses replication factor 3 and min.insync.replicas 2', () => {
    const props = serverPropertiesOf(prod.template);
    expect(props.get('default.replication.factor')).toBe('3');
    expect(props.get('min.insync.replicas')).toBe('2');
  });

  it('retains the cluster, configuration, security group and log group by default', () => {
    for (const type of ['AWS::MSK::Cluster', 'AWS::MSK::Configuration', 'AWS::Logs::LogGroup', 'AWS::EC2::SecurityGroup']) {
      const ours = Object.entries(prod.template.findResources(type)).filter(([id]) => id.startsWith('Kafka') && !id.includes('BootstrapBrokers'));
      expect(ours.length).toBeGreaterThan(0);
      for (const [, resource] of ours) expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('opens 9098 only to clients and 11001-11002 only to the scraper', () => {
    const sg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaSecurityGroup'), 'GroupId'] };
    prod.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: sg,
      IpProtocol: 'tcp',
      FromPort: 9098,
      ToPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Clients'), 'GroupId'] },
    });
    prod.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: sg,
      IpProtocol: 'tcp',
      FromPort: 11001,
      ToPort: 11002,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Scraper'), 'GroupId'] },
    });
    prod.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    const ingress = Object.values(prod.template.findResources('AWS::EC2::SecurityGroupIngress')) as Array<{ Properties: { CidrIp?: string } }>;
    expect(ingress.every((rule) => rule.Properties.CidrIp === undefined)).toBe(true);
  });

  it('puts the rule for a client in another stack into that stack', () => {
    prodStreaming.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 9098,
      ToPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RemoteClients'), 'GroupId'] },
    });
  });

  it('has no unacknowledged compliance findings under the construct', () => {
    expect(formatFindings(prod.findings)).toBe('');
  });
});

describe('KafkaCluster validation', () => {
  function attempt(azs: number, overrides: Partial<KafkaClusterProps>, vpc?: (stack: Stack) => ec2.Vpc): () => void {
    return () => {
      const stack = new Stack(new App(), 'S', { env: ENV });
      const pre = prerequisites(stack, azs);
      new KafkaCluster(stack, 'Kafka', clusterProps({ ...pre, vpc: vpc ? vpc(stack) : pre.vpc }, overrides));
    };
  }

  it('refuses a broker count that is not a multiple of the AZ count', () => {
    expect(attempt(3, { brokerCount: 4 })).toThrow(/brokerCount is 4 but the cluster spans 3 AZs; allowed: a positive multiple of 3 \(e\.g\. 3, 6\)/);
    expect(attempt(3, { brokerCount: 2 })).toThrow(/brokerCount is 2 but the cluster spans 3 AZs/);
  });

  it('refuses a replication factor above the broker count', () => {
    expect(attempt(2, { brokerCount: 2, serverProperties: { 'default.replication.factor': 3 } })).toThrow(
      /serverProperties\.default\.replication\.factor is 3 but the cluster has 2 brokers; allowed: 2 to 2/,
    );
  });

  it('refuses forbidden server properties', () => {
    expect(attempt(2, { serverProperties: { 'auto.create.topics.enable': true } })).toThrow(/auto\.create\.topics\.enable is 'true'; allowed: false/);
  });

  it('refuses a storage ceiling at or below the volume size', () => {
    expect(attempt(2, { ebsVolumeGiB: 100, storageAutoScalingMaxGiB: 100 })).toThrow(
      /storageAutoScalingMaxGiB is 100; allowed: an integer above ebsVolumeGiB \(100\) and at most 16384/,
    );
    expect(attempt(2, { ebsVolumeGiB: 100, storageAutoScalingMaxGiB: 50 })).toThrow(/storageAutoScalingMaxGiB is 50/);
    expect(attempt(2, { ebsVolumeGiB: 100, storageAutoScalingMaxGiB: 20000 })).toThrow(/storageAutoScalingMaxGiB is 20000/);
  });

  it('refuses an EBS volume outside 1-16384 GiB', () => {
    expect(attempt(2, { ebsVolumeGiB: 0 })).toThrow(/ebsVolumeGiB is 0; allowed: an integer from 1 to 16384/);
  });

  it('refuses an unsupported Kafka version, listing the supported ones', () => {
    expect(attempt(2, { kafkaVersion: '2.8.1' })).toThrow(/kafkaVersion is '2\.8\.1'; allowed: one of 3\.7\.x, .*3\.8\.x\.kraft/);
  });

  it('refuses an instance type that is not an MSK standard broker', () => {
    expect(attempt(2, { instanceType: 'm5.large' })).toThrow(/instanceType is 'm5\.large'; allowed: an MSK standard broker type/);
  });

  it('refuses an invalid cluster name and a relative parameter name', () => {
    expect(attempt(2, { clusterName: 'lakestream_dev' })).toThrow(/clusterName is 'lakestream_dev'; allowed: 1-64 letters, digits and hyphens/);
    expect(attempt(2, { bootstrapBrokersParameterName: 'brokers' })).toThrow(/bootstrapBrokersParameterName is 'brokers'; allowed: a fully qualified SSM name/);
  });

  it('refuses a subnet selection with one subnet, more than three, or several in one AZ', () => {
    expect(attempt(2, { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: ['dummy1a'] } })).toThrow(
      /vpcSubnets selects 1 subnets; allowed: 2 or 3 private subnets, one per AZ/,
    );
    const twoPrivateTiers = (stack: Stack) =>
      new ec2.Vpc(stack, 'TieredVpc', {
        maxAzs: 1,
        natGateways: 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
          { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          { name: 'data', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        ],
      });
    expect(attempt(2, { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }, twoPrivateTiers)).toThrow(
      /vpcSubnets selects several subnets in one AZ \(dummy1a, dummy1a\); allowed: one subnet per AZ/,
    );
  });
});

describe('discoverBrokers', () => {
  const app = new App();
  const stage = new Stage(app, 'Dev');
  const data = new Stack(stage, 'Data', { env: ENV });
  const cluster = new KafkaCluster(data, 'Kafka', clusterProps(prerequisites(data, 2), { kafkaVersion: '3.8.x' }));
  const consumer = new Stack(stage, 'Consumer', { env: ENV });
  const logsKey = new kms.Key(consumer, 'LogsKey', { enableKeyRotation: true });
  const brokers = cluster.discoverBrokers(consumer, 'Brokers', { encryptionKey: logsKey, logRetention: logs.RetentionDays.ONE_MONTH });
  const template = Template.fromStack(consumer);
  const resourceId = Object.keys(template.findResources(BROKER_DISCOVERY_RESOURCE_TYPE))[0];

  it('runs in the consumer stack, re-run by the cluster ARN and the broker count only', () => {
    const [resource] = Object.values(template.findResources(BROKER_DISCOVERY_RESOURCE_TYPE));
    const { ServiceToken: _token, ...properties } = resource.Properties as Record<string, unknown>;
    expect(properties).toEqual({ ClusterArn: { 'Fn::ImportValue': expect.stringContaining('KafkaCluster') }, BrokerCount: '2' });
    expect(cluster.kraft).toBe(false);
  });

  it('returns its values as attributes of the in-stack resource', () => {
    expect(consumer.resolve(brokers.bootstrapBrokers)).toEqual({ 'Fn::GetAtt': [resourceId, 'BootstrapBrokers'] });
    expect(consumer.resolve(brokers.brokerHostList)).toEqual(
      [0, 1].map((i) => ({ 'Fn::Select': [i, { 'Fn::Split': [',', { 'Fn::GetAtt': [resourceId, 'BrokerHosts'] }] }] })),
    );
  });

  it('may call GetBootstrapBrokers and ListNodes on this cluster only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['kafka:GetBootstrapBrokers', 'kafka:ListNodes'],
            Effect: 'Allow',
            Resource: { 'Fn::ImportValue': Match.stringLikeRegexp('KafkaCluster') },
          },
        ]),
      },
    });
  });
});
