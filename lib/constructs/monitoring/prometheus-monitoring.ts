import { Annotations, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RULES_DIR, RuleThresholds, loadRuleFiles, renderAlertManagerDefinition } from './rule-files';

/** Port of the JMX exporter MSK open monitoring runs on every broker. */
export const MSK_JMX_EXPORTER_PORT = 11001;
/** Port of the node exporter MSK open monitoring runs on every broker. */
export const MSK_NODE_EXPORTER_PORT = 11002;
/** Scrape job names; the rule files select series by them. */
export const JMX_JOB = 'msk-jmx';
export const NODE_JOB = 'msk-node';

/** Labels of an MSK broker DNS name: b-1.<cluster>.<id>.c<n>.kafka.<region>.amazonaws.com. */
const BROKER_DNS_LABELS = 8;

export interface PrometheusMonitoringProps {
  /** VPC of the MSK cluster; the managed collector places its network interfaces there. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the collector's network interfaces: at least two, in different Availability
   * Zones, routable to the brokers.
   * @default the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Name of the MSK cluster; becomes the `cluster` label of every scraped series. */
  readonly clusterName: string;
  /**
   * The brokers' common DNS name: `<cluster>.<id>.c<n>.kafka.<region>.amazonaws.com`, i.e. a
   * broker endpoint without its `b-N.` prefix. The collector resolves it with DNS service
   * discovery (type A) and scrapes every broker it returns, so broker replacement and scaling
   * need no change. Broker endpoints exist only once the cluster does, so this is usually a token:
   * see `brokerDnsBaseFromBootstrapBrokers`.
   */
  readonly brokerDnsBase: string;
  /**
   * More JMX exporter hosts to discover, e.g. the KRaft controller endpoints, which report the
   * active-controller and offline-partition counts in KRaft mode.
   * @default none
   */
  readonly additionalJmxDnsNames?: string[];
  /** How often the exporters are scraped. @default Duration.seconds(30) */
  readonly scrapeInterval?: Duration;
  /** Customer-managed key encrypting the workspace's metrics. */
  readonly encryptionKey: kms.IKey;
  /** Key of the workspace and collector log groups; its policy must let CloudWatch Logs use it. */
  readonly logsKey: kms.IKey;
  /** How long rule, alert manager and collector logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the log groups. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Topic the alert manager publishes to (KMS-encrypted). Its policy is extended to let this
   * workspace publish, and, when the topic's key is defined in this app, the key policy to let
   * Amazon Managed Service for Prometheus use the key.
   */
  readonly alarmTopic: sns.ITopic;
  /** This environment's alert thresholds for the rule files in dashboards/rules. */
  readonly ruleThresholds: RuleThresholds;
  /** Folder of the rule files; one rule-groups namespace is made per file. @default dashboards/rules */
  readonly rulesDir?: string;
  /** Workspace alias. @default `<clusterName>-metrics` */
  readonly workspaceAlias?: string;
}

/**
 * Amazon Managed Service for Prometheus for the MSK cluster: a workspace encrypted with a
 * customer-managed key, an AWS managed collector in the VPC that scrapes the brokers' open
 * monitoring exporters, the rule files of dashboards/rules as rule-groups namespaces, and an alert
 * manager that routes to an SNS topic. Rule evaluation, alert manager and collector logs go to
 * KMS-encrypted log groups.
 *
 * The collector's security group admits nothing and sends nothing until the brokers let it in:
 * call `allowScrapingOf(cluster)` or the Kafka cluster's `allowMetricsScrapingFrom(scraperSecurityGroup)`.
 */
export class PrometheusMonitoring extends Construct {
  public readonly workspace: aps.CfnWorkspace;
  public readonly workspaceArn: string;
  public readonly workspaceId: string;
  /** Query endpoint (ends with '/'), for the Grafana data source. */
  public readonly prometheusEndpoint: string;
  public readonly scraper: aps.CfnScraper;
  /** Security group of the collector's network interfaces; needs egress to ports 11001-11002 of the brokers. */
  public readonly scraperSecurityGroup: ec2.SecurityGroup;
  /** One namespace per rule file. */
  public readonly ruleGroupsNamespaces: aps.CfnRuleGroupsNamespace[];
  /** Rule evaluation and alert manager logs of the workspace. */
  public readonly workspaceLogGroup: logs.LogGroup;
  /** Service discovery, collector and exporter logs of the scraper. */
  public readonly scraperLogGroup: logs.LogGroup;
  /** The rendered scrape configuration, as given to the collector. */
  public readonly scrapeConfiguration: string;

  constructor(scope: Construct, id: string, props: PrometheusMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.logRemovalPolicy ?? RemovalPolicy.DESTROY;

    this.workspaceLogGroup = new logs.LogGroup(this, 'WorkspaceLogs', {
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy,
    });
    this.scraperLogGroup = new logs.LogGroup(this, 'ScraperLogs', {
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy,
    });

    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias: props.workspaceAlias ?? `${props.clusterName}-metrics`,
      kmsKeyArn: props.encryptionKey.keyArn,
      alertManagerDefinition: renderAlertManagerDefinition({ alarmTopicArn: props.alarmTopic.topicArn, region: stack.region }),
      loggingConfiguration: { logGroupArn: this.workspaceLogGroup.logGroupArn },
    });
    this.workspaceArn = this.workspace.attrArn;
    this.workspaceId = this.workspace.attrWorkspaceId;
    this.prometheusEndpoint = this.workspace.attrPrometheusEndpoint;

    this.allowAlertManagerToPublish(props.alarmTopic);

    this.ruleGroupsNamespaces = loadRuleFiles(props.ruleThresholds, props.rulesDir ?? RULES_DIR).map(
      (file) =>
        new aps.CfnRuleGroupsNamespace(this, `Rules-${file.name}`, {
          workspace: this.workspace.attrArn,
          name: file.name,
          data: file.content,
        }),
    );

    this.scraperSecurityGroup = new ec2.SecurityGroup(this, 'ScraperSecurityGroup', {
      vpc: props.vpc,
      description: 'Amazon Managed Service for Prometheus collector scraping the MSK open monitoring exporters',
      allowAllOutbound: false,
    });

    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    const zones = new Set(subnets.subnets.map((subnet) => subnet.availabilityZone));
    if (zones.size < 2) {
      throw new Error(`PrometheusMonitoring: the collector needs subnets in at least two Availability Zones; the selection spans ${zones.size}`);
    }

    this.scrapeConfiguration = renderScrapeConfiguration({
      clusterName: props.clusterName,
      brokerDnsNames: [props.brokerDnsBase],
      additionalJmxDnsNames: props.additionalJmxDnsNames ?? [],
      scrapeInterval: props.scrapeInterval ?? Duration.seconds(30),
    });

    this.scraper = new aps.CfnScraper(this, 'Scraper', {
      alias: `${props.clusterName}-msk`,
      source: { vpcConfiguration: { subnetIds: subnets.subnetIds, securityGroupIds: [this.scraperSecurityGroup.securityGroupId] } },
      destination: { ampConfiguration: { workspaceArn: this.workspace.attrArn } },
      // CloudFormation takes the YAML itself and encodes it for the API.
      scrapeConfiguration: { configurationBlob: this.scrapeConfiguration },
      scraperLoggingConfiguration: {
        loggingDestination: { cloudWatchLogs: { logGroupArn: this.scraperLogGroup.logGroupArn } },
        scraperComponents: [{ type: 'SERVICE_DISCOVERY' }, { type: 'COLLECTOR' }, { type: 'EXPORTER' }],
      },
    });
  }

  /**
   * Lets the collector reach the open monitoring exporters (TCP 11001-11002) of `brokers` and
   * nothing else: an egress rule on the collector's group and an ingress rule on the brokers' group.
   */
  public allowScrapingOf(brokers: ec2.IConnectable): void {
    this.scraperSecurityGroup.connections.allowTo(
      brokers,
      ec2.Port.tcpRange(MSK_JMX_EXPORTER_PORT, MSK_NODE_EXPORTER_PORT),
      'MSK open monitoring exporters (JMX and node)',
    );
  }

  /** Topic policy (and key policy) statements that let this workspace's alert manager publish. */
  private allowAlertManagerToPublish(topic: sns.ITopic): void {
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowPrometheusAlertManagerToPublish',
        principals: [new iam.ServicePrincipal('aps.amazonaws.com')],
        actions: ['sns:Publish', 'sns:GetTopicAttributes'],
        resources: [topic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': this.workspace.attrArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (topic.masterKey === undefined) return;
    // The documented key statement has no source conditions; a condition on the workspace ARN
    // would also make the key depend on the workspace, which depends on the topic and its key.
    const keyResult = topic.masterKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowPrometheusAlertManagerToPublishToTheAlertTopic',
        principals: [new iam.ServicePrincipal('aps.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
      true,
    );
    if (!keyResult.statementAdded) {
      Annotations.of(this).addWarningV2(
        'lakestream:alertTopicKeyPolicy',
        'The alert topic key is imported: allow aps.amazonaws.com kms:Decrypt and kms:GenerateDataKey* in its key policy, or alert notifications fail.',
      );
    }
  }
}

export interface ScrapeConfigurationOptions {
  /** Value of the `cluster` external label. */
  readonly clusterName: string;
  /** Names resolved (type A) to the broker hosts. */
  readonly brokerDnsNames: string[];
  /** Names resolved to further JMX-only hosts (KRaft controllers). */
  readonly additionalJmxDnsNames: string[];
  readonly scrapeInterval: Duration;
}

/**
 * The collector's Prometheus scrape configuration: one job per exporter, brokers found by DNS
 * service discovery as documented for MSK, and a `broker_host` label (the broker's IP) shared by
 * the JMX and node series of a broker so rules can join them.
 */
export function renderScrapeConfiguration(options: ScrapeConfigurationOptions): string {
  const interval = `${options.scrapeInterval.toSeconds()}s`;
  const job = (name: string, port: number, dnsNames: string[]): string[] => [
    `  - job_name: ${name}`,
    '    scheme: http',
    '    metrics_path: /metrics',
    `    scrape_timeout: ${Math.min(options.scrapeInterval.toSeconds(), 10)}s`,
    '    dns_sd_configs:',
    '      - names:',
    ...dnsNames.map((dnsName) => `          - '${dnsName}'`),
    '        type: A',
    `        port: ${port}`,
    '    relabel_configs:',
    '      - source_labels: [__meta_dns_name]',
    '        target_label: broker_dns',
    '      - source_labels: [__address__]',
    "        regex: '([^:]+):\\d+'",
    '        target_label: broker_host',
    "        replacement: '$1'",
  ];
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    '  external_labels:',
    `    cluster: '${options.clusterName}'`,
    'scrape_configs:',
    ...job(JMX_JOB, MSK_JMX_EXPORTER_PORT, [...options.brokerDnsNames, ...options.additionalJmxDnsNames]),
    ...job(NODE_JOB, MSK_NODE_EXPORTER_PORT, options.brokerDnsNames),
    '',
  ].join('\n');
}

/**
 * The brokers' common DNS name from a bootstrap broker string
 * (`b-1.<cluster>.<id>.c2.kafka.<region>.amazonaws.com:9098,b-2...`): the first broker's host
 * without its `b-N.` label. Works on a token too (e.g. an SSM parameter holding the bootstrap
 * brokers), using CloudFormation functions that rely on MSK's fixed eight-label broker names.
 */
export function brokerDnsBaseFromBootstrapBrokers(bootstrapBrokers: string): string {
  if (!Token.isUnresolved(bootstrapBrokers)) {
    const host = bootstrapBrokers.split(',')[0].trim().split(':')[0];
    const labels = host.split('.');
    if (labels.length !== BROKER_DNS_LABELS || !/^b-\d+$/.test(labels[0])) {
      throw new Error(`"${host}" is not an MSK broker endpoint (b-N.<cluster>.<id>.c<n>.kafka.<region>.amazonaws.com)`);
    }
    return labels.slice(1).join('.');
  }
  const host = Fn.select(0, Fn.split(':', Fn.select(0, Fn.split(',', bootstrapBrokers))));
  // With an assumed length, each element is already an Fn::Select of the split.
  return Fn.join('.', Fn.split('.', host, BROKER_DNS_LABELS).slice(1));
}
