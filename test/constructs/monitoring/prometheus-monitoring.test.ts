import { App, CfnResource, Duration, Fn, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { parse } from 'yaml';
import { PlatformAlarms } from '../../../lib/constructs/monitoring/platform-alarms';
import { PrometheusMonitoring, renderScrapeConfiguration } from '../../../lib/constructs/monitoring/prometheus-monitoring';
import { DEFAULT_RULE_THRESHOLDS, RULES_DIR, RuleThresholds, loadRuleFiles } from '../../../lib/constructs/monitoring/rule-files';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Flattens an Fn::Join into text, writing each intrinsic as <<json>> so a test can find it. */
function joinToText(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return `<<${JSON.stringify(value)}>>`;
  return join[1].map((part) => (typeof part === 'string' ? part : `<<${JSON.stringify(part)}>>`)).join(join[0]);
}

/** Evaluates the intrinsic functions the construct uses, with Refs looked up in `refs`. */
function evaluate(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const fn = value as Record<string, unknown>;
  if ('Ref' in fn) return refs[fn.Ref as string] ?? `<<${String(fn.Ref)}>>`;
  if ('Fn::GetAtt' in fn) return refs[(fn['Fn::GetAtt'] as string[]).join('.')] ?? `<<${JSON.stringify(value)}>>`;
  if ('Fn::Join' in fn) {
    const [separator, parts] = fn['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => evaluate(part, refs)).join(separator);
  }
  if ('Fn::Select' in fn) {
    const [index, list] = fn['Fn::Select'] as [number, unknown];
    const split = (list as Record<string, unknown>)['Fn::Split'] as [string, unknown];
    return evaluate(split[1], refs).split(split[0])[index];
  }
  return `<<${JSON.stringify(value)}>>`;
}

function onlyResource(resources: Resources): { logicalId: string; properties: Record<string, unknown> } {
  const entries = Object.entries(resources);
  expect(entries).toHaveLength(1);
  return { logicalId: entries[0][0], properties: entries[0][1].Properties };
}

const thresholds: RuleThresholds = { ...DEFAULT_RULE_THRESHOLDS, produceLatencyMs: 250, flinkConsumerLagMessages: 75000 };

describe('PrometheusMonitoring', () => {
  let template: Template;
  let findings: Finding[];
  let monitoringPath: string;
  let alarmsPath: string;

  beforeAll(() => {
    const app = newCompliantTestApp();
    const stage = new Stage(app, 'Test');
    const stack = new Stack(stage, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const brokers = new ec2.SecurityGroup(stack, 'BrokerSecurityGroup', { vpc, allowAllOutbound: false });
    // Stands in for KafkaBrokerDiscovery: a custom resource whose BrokerHosts attribute lists the brokers.
    const discovery = new CfnResource(stack, 'Discovery', {
      type: 'Custom::MskBrokerDiscovery',
      properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:discovery' },
    });

    const alarms = new PlatformAlarms(stack, 'Alarms', { emailAddresses: ['oncall@example.com'] });
    const monitoring = new PrometheusMonitoring(stack, 'Monitoring', {
      vpc,
      clusterName: 'lakestream-test',
      brokerHosts: Fn.split(',', discovery.getAtt('BrokerHosts').toString(), 3),
      brokerSecurityGroup: brokers,
      encryptionKey: new kms.Key(stack, 'MetricsKey', { enableKeyRotation: true }),
      logsKey: new kms.Key(stack, 'LogsKey', { enableKeyRotation: true }),
      logRetention: logs.RetentionDays.ONE_MONTH,
      alarmTopic: alarms.topic,
      ruleThresholds: thresholds,
    });
    // What KafkaCluster.allowMetricsScrapingFrom does, from the collector's stack.
    brokers.addIngressRule(monitoring.scraperSecurityGroup, ec2.Port.tcpRange(11001, 11002), 'scrape', true);
    monitoringPath = monitoring.node.path;
    alarmsPath = alarms.node.path;

    template = Template.fromStack(stack);
    findings = synthFindings(app);
  });

  it('encrypts the workspace with the customer-managed key and logs rules and alerts to an encrypted log group', () => {
    template.hasResourceProperties('AWS::APS::Workspace', {
      Alias: 'lakestream-test-metrics',
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MetricsKey'), 'Arn'] },
      LoggingConfiguration: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringWorkspaceLogs'), 'Arn'] } },
    });
    template.resourcePropertiesCountIs(
      'AWS::Logs::LogGroup',
      { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] }, RetentionInDays: 30 },
      2,
    );
  });

  it('names both log groups under /aws/vendedlogs/ after the workspace alias', () => {
    const names = Object.values(template.findResources('AWS::Logs::LogGroup') as Resources).map((r) => r.Properties.LogGroupName);
    expect(names.sort()).toEqual([
      '/aws/vendedlogs/prometheus/lakestream-test-metrics/scraper',
      '/aws/vendedlogs/prometheus/lakestream-test-metrics/workspace',
    ]);
  });

  it('scrapes from the VPC with its own security group into the workspace, logging to an encrypted log group', () => {
    const scraper = onlyResource(template.findResources('AWS::APS::Scraper') as Resources).properties;
    const scraperGroup = onlyResource(
      template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Prometheus collector') } }) as Resources,
    );
    expect(scraper.Source).toEqual({
      VpcConfiguration: {
        SubnetIds: [{ Ref: expect.stringMatching(/^VpcprivateSubnet1/) }, { Ref: expect.stringMatching(/^VpcprivateSubnet2/) }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [scraperGroup.logicalId, 'GroupId'] }],
      },
    });
    expect(scraper.Destination).toEqual({ AmpConfiguration: { WorkspaceArn: { 'Fn::GetAtt': [expect.stringMatching(/^MonitoringWorkspace/), 'Arn'] } } });
    expect(scraper.ScraperLoggingConfiguration).toEqual({
      LoggingDestination: { CloudWatchLogs: { LogGroupArn: { 'Fn::GetAtt': [expect.stringMatching(/^MonitoringScraperLogs/), 'Arn'] } } },
      ScraperComponents: [{ Type: 'SERVICE_DISCOVERY' }, { Type: 'COLLECTOR' }, { Type: 'EXPORTER' }],
    });
  });

  it('targets each discovered broker by its own DNS name on both exporter ports', () => {
    const scraper = onlyResource(template.findResources('AWS::APS::Scraper') as Resources).properties;
    const blob = (scraper.ScrapeConfiguration as { ConfigurationBlob: unknown }).ConfigurationBlob;
    // Real values only: attributes of an in-stack resource, never a dynamic reference.
    expect(JSON.stringify(blob)).not.toContain('{{resolve:');
    const hosts = [1, 2, 3].map((n) => `b-${n}.lakestream-test.x1y2z3.c2.kafka.eu-west-1.amazonaws.com`);
    const text = evaluate(blob, { 'Discovery.BrokerHosts': hosts.join(',') });
    const config = parse(text) as {
      global: { external_labels: Record<string, string> };
      scrape_configs: Array<{ job_name: string; dns_sd_configs: Array<{ names: string[]; port: number; type: string }> }>;
    };
    expect(config.global.external_labels).toEqual({ cluster: 'lakestream-test' });
    expect(config.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs[0].port, job.dns_sd_configs[0].type, job.dns_sd_configs[0].names])).toEqual([
      ['msk-jmx', 11001, 'A', hosts],
      ['msk-node', 11002, 'A', hosts],
    ]);
  });

  it('creates one rule-groups namespace per rule file, rendered with the environment thresholds', () => {
    // The default metadata mode is KRaft: the ZooKeeper-only controller rules are left out.
    const files = loadRuleFiles(thresholds, RULES_DIR, { metadataMode: 'kraft' });
    expect(files.map((file) => file.name)).not.toContain('kafka-controller-zookeeper');
    template.resourceCountIs('AWS::APS::RuleGroupsNamespace', files.length);
    for (const file of files) {
      template.hasResourceProperties('AWS::APS::RuleGroupsNamespace', {
        Name: file.name,
        Data: file.content,
        Workspace: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringWorkspace'), 'Arn'] },
      });
    }
    expect(files.map((file) => file.content).join()).toContain('> 250');
    expect(files.map((file) => file.content).join()).toContain('> 75000');
  });

  it('routes alerts to the SNS topic with SigV4 in the stack region', () => {
    const workspace = onlyResource(template.findResources('AWS::APS::Workspace') as Resources).properties;
    const topic = onlyResource(template.findResources('AWS::SNS::Topic') as Resources);
    const definition = parse(joinToText(workspace.AlertManagerDefinition)) as { alertmanager_config: string };
    const receivers = (parse(definition.alertmanager_config) as { receivers: Array<{ sns_configs: Array<{ topic_arn: string; sigv4: { region: string } }> }> })
      .receivers;
    expect(receivers[0].sns_configs[0].topic_arn).toBe(`<<${JSON.stringify({ Ref: topic.logicalId })}>>`);
    expect(receivers[0].sns_configs[0].sigv4).toEqual({ region: 'eu-west-1' });
  });

  it('lets only this workspace publish to the topic, and lets the service use the topic key', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowPrometheusAlertManagerToPublish',
            Effect: 'Allow',
            Principal: { Service: 'aps.amazonaws.com' },
            Action: ['sns:GetTopicAttributes', 'sns:Publish'],
            Resource: { Ref: Match.stringLikeRegexp('^AlarmsTopic') },
            Condition: {
              ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringWorkspace'), 'Arn'] } },
              StringEquals: { 'aws:SourceAccount': '111111111111' },
            },
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'Encrypts the Lakestream alert topic',
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'aps.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow' }),
        ]),
      },
    });
  });

  it('opens only the exporter ports, only from the collector to the brokers', () => {
    const scraperGroup = onlyResource(
      template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('Prometheus collector') } }) as Resources,
    );
    expect(scraperGroup.properties.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress') as Resources).map((r) => r.Properties);
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress') as Resources).map((r) => r.Properties);
    const scraperGroupId = { 'Fn::GetAtt': [scraperGroup.logicalId, 'GroupId'] };
    const brokerGroupId = { 'Fn::GetAtt': [expect.stringMatching(/^BrokerSecurityGroup/), 'GroupId'] };
    expect(ingress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 11001, ToPort: 11002, GroupId: brokerGroupId, SourceSecurityGroupId: scraperGroupId }),
    ]);
    // Egress, inline on the collector's group (so in its stack): the brokers' JMX (11001) and node (11002) exporters, nothing else.
    expect(egress).toEqual([]);
    expect(scraperGroup.properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 11001, ToPort: 11001, DestinationSecurityGroupId: brokerGroupId }),
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 11002, ToPort: 11002, DestinationSecurityGroupId: brokerGroupId }),
    ]);
  });

  it('has no compliance findings', () => {
    const own = findings.filter((f) => [monitoringPath, alarmsPath].some((p) => f.path === p || f.path.startsWith(`${p}/`)));
    expect(formatFindings(own)).toBe('');
  });
});

describe('PrometheusMonitoring validation', () => {
  function build(props: { subnets?: (vpc: ec2.Vpc) => ec2.SubnetSelection; thresholds?: RuleThresholds; hosts?: string[] }): void {
    const stack = new Stack(new App(), 'V', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const alarms = new PlatformAlarms(stack, 'Alarms');
    new PrometheusMonitoring(stack, 'Monitoring', {
      vpc,
      vpcSubnets: props.subnets?.(vpc),
      clusterName: 'c',
      brokerHosts: props.hosts ?? ['b-1.c.abc123.c2.kafka.eu-west-1.amazonaws.com'],
      brokerSecurityGroup: new ec2.SecurityGroup(stack, 'Brokers', { vpc }),
      encryptionKey: new kms.Key(stack, 'K'),
      logsKey: new kms.Key(stack, 'L'),
      logRetention: logs.RetentionDays.ONE_WEEK,
      alarmTopic: alarms.topic,
      ruleThresholds: props.thresholds ?? DEFAULT_RULE_THRESHOLDS,
    });
  }

  it('needs subnets in two Availability Zones', () => {
    expect(() => build({ subnets: (vpc) => ({ subnets: [vpc.isolatedSubnets[0]] }) })).toThrow(
      'the collector needs subnets in at least two Availability Zones; the selection spans 1',
    );
  });

  it('needs at least one broker host', () => {
    expect(() => build({ hosts: [] })).toThrow('brokerHosts is empty; allowed: one DNS name per MSK broker');
  });

  it('rejects invalid thresholds at synth', () => {
    expect(() => build({ thresholds: { ...DEFAULT_RULE_THRESHOLDS, brokerCpuUtilisationRatio: 60 } })).toThrow('brokerCpuUtilisationRatio=60');
  });
});

describe('scrape configuration', () => {
  const config = parse(
    renderScrapeConfiguration({
      clusterName: 'lakestream-dev',
      brokerHosts: ['b-1.lakestream-dev.abc123.c2.kafka.eu-west-1.amazonaws.com', 'b-2.lakestream-dev.abc123.c2.kafka.eu-west-1.amazonaws.com'],
      scrapeInterval: Duration.seconds(60),
    }),
  ) as {
    global: { scrape_interval: string };
    scrape_configs: Array<{
      job_name: string;
      scrape_timeout: string;
      dns_sd_configs: Array<{ names: string[] }>;
      relabel_configs: Array<{ source_labels: string[]; regex?: string; target_label: string; replacement?: string }>;
    }>;
  };

  it('scrapes every broker on both exporters and keeps the timeout within the interval', () => {
    expect(config.global.scrape_interval).toBe('60s');
    expect(config.scrape_configs.map((job) => [job.job_name, job.scrape_timeout, job.dns_sd_configs[0].names.length])).toEqual([
      ['msk-jmx', '10s', 2],
      ['msk-node', '10s', 2],
    ]);
  });

  it('labels both exporters of a broker with the same broker_host', () => {
    const relabel = config.scrape_configs[0].relabel_configs.find((rule) => rule.target_label === 'broker_host')!;
    // Prometheus anchors relabel regexes at both ends.
    const pattern = new RegExp(`^(?:${relabel.regex})$`);
    expect('10.0.1.10:11001'.replace(pattern, relabel.replacement!)).toBe('10.0.1.10');
    expect('10.0.1.10:11002'.replace(pattern, relabel.replacement!)).toBe('10.0.1.10');
  });
});
