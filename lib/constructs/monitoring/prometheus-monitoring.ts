import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { vendedLogGroupName } from '../core/vended-logs';
import { RULES_DIR, RuleThresholds, loadRuleFiles, renderAlertManagerDefinition, type DeployedComponents, type KafkaMetadataMode } from './rule-files';

/** Port of the JMX exporter MSK open monitoring runs on every broker. */
export const MSK_JMX_EXPORTER_PORT = 11001;
/** Port of the node exporter MSK open monitoring runs on every broker. */
export const MSK_NODE_EXPORTER_PORT = 11002;
/** Scrape job names; the rule files select series by them. */
export const JMX_JOB = 'msk-jmx';
export const NODE_JOB = 'msk-node';

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
   * One DNS name per broker (`b-1.<cluster>.<id>.c<n>.kafka.<region>.amazonaws.com`, ...), as MSK
   * publishes them and the AMP guide for MSK lists them: there is no cluster-wide name. Usually
   * `KafkaBrokerDiscovery.brokerHostList` of this stack (tokens): discovery re-runs when the broker
   * count changes, which updates the scrape configuration.
   */
  readonly brokerHosts: string[];
  /**
   * Security group of the brokers: the collector gets egress to its exporter ports (11001, 11002)
   * and nothing else. The matching ingress is the cluster's `allowMetricsScrapingFrom`.
   */
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
  /**
   * Metadata mode of the cluster. KRaft brokers do not export controller metrics, so the
   * ZooKeeper-only rule files (`*-zookeeper.yml`) are loaded only for ZooKeeper clusters.
   * @default 'kraft'
   */
  readonly metadataMode?: KafkaMetadataMode;
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
  /**
   * Optional components the environment deploys: rule files watching an absent one are not loaded.
   * @default every component (ALL_COMPONENTS)
   */
  readonly deployedComponents?: DeployedComponents;
  /** Folder of the rule files; one rule-groups namespace is made per file. @default dashboards/rules */
  readonly rulesDir?: string;
  /** Workspace alias; also names the vended log groups. @default `<clusterName>-metrics` */
  readonly workspaceAlias?: string;
}

/**
 * Amazon Managed Service for Prometheus for the MSK cluster: a workspace encrypted with a
 * customer-managed key, an AWS managed collector in the VPC that scrapes the brokers' open
 * monitoring exporters, the rule files of dashboards/rules as rule-groups namespaces, and an alert
 * manager that routes to an SNS topic. Rule evaluation, alert manager and collector logs go to
 * KMS-encrypted log groups.
 *
 * The collector's security group admits nothing and sends only to the brokers' exporter ports;
 * the brokers must let it in: call the Kafka cluster's `allowMetricsScrapingFrom(scraperSecurityGroup)`
 * from this construct's stack.
 */
export class PrometheusMonitoring extends Construct {
  public readonly workspace: aps.CfnWorkspace;
  public readonly workspaceArn: string;
  public readonly workspaceId: string;
  /** Query endpoint (ends with '/'), for the Grafana data source. */
  public readonly prometheusEndpoint: string;
  public readonly scraper: aps.CfnScraper;
  /** Security group of the collector's network interfaces: egress to the brokers' ports 11001 and 11002 only. */
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
    const alias = props.workspaceAlias ?? `${props.clusterName}-metrics`;
    if (props.brokerHosts.length === 0) throw new Error('PrometheusMonitoring: brokerHosts is empty; allowed: one DNS name per MSK broker.');

    // Both deliver through CloudWatch Logs vended log delivery: /aws/vendedlogs/ names keep the
    // account's log resource policy from growing with every environment.
    this.workspaceLogGroup = new logs.LogGroup(this, 'WorkspaceLogs', {
      logGroupName: vendedLogGroupName('prometheus', alias, 'workspace'),
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy,
    });
    this.scraperLogGroup = new logs.LogGroup(this, 'ScraperLogs', {
      logGroupName: vendedLogGroupName('prometheus', alias, 'scraper'),
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy,
    });

    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias,
      kmsKeyArn: props.encryptionKey.keyArn,
      alertManagerDefinition: renderAlertManagerDefinition({ alarmTopicArn: props.alarmTopic.topicArn, region: stack.region }),
      loggingConfiguration: { logGroupArn: this.workspaceLogGroup.logGroupArn },
    });
    this.workspaceArn = this.workspace.attrArn;
    this.workspaceId = this.workspace.attrWorkspaceId;
    this.prometheusEndpoint = this.workspace.attrPrometheusEndpoint;

    this.allowAlertManagerToPublish(props.alarmTopic);

    this.ruleGroupsNamespaces = loadRuleFiles(props.ruleThresholds, props.rulesDir ?? RULES_DIR, {
      metadataMode: props.metadataMode ?? 'kraft',
      components: props.deployedComponents,
    }).map(
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
    // Scrapes only: DNS to the VPC resolver is not filtered by security groups, and the collector
    // writes to the workspace from the service side, not through these interfaces.
    this.scraperSecurityGroup.addEgressRule(
      ec2.Peer.securityGroupId(props.brokerSecurityGroup.securityGroupId),
      ec2.Port.tcp(MSK_JMX_EXPORTER_PORT),
      'MSK open monitoring JMX exporter',
    );
    this.scraperSecurityGroup.addEgressRule(
      ec2.Peer.securityGroupId(props.brokerSecurityGroup.securityGroupId),
      ec2.Port.tcp(MSK_NODE_EXPORTER_PORT),
      'MSK open monitoring node exporter',
    );

    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    const zones = new Set(subnets.subnets.map((subnet) => subnet.availabilityZone));
    if (zones.size < 2) {
      throw new Error(`PrometheusMonitoring: the collector needs subnets in at least two Availability Zones; the selection spans ${zones.size}`);
    }

    this.scrapeConfiguration = renderScrapeConfiguration({
      clusterName: props.clusterName,
      brokerHosts: props.brokerHosts,
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
        // Only for this account's alarms and workspaces (confused-deputy protection).
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
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
  /** One DNS name per broker, resolved (type A) to the broker's address on every refresh. */
  readonly brokerHosts: string[];
  readonly scrapeInterval: Duration;
}

/**
 * The collector's Prometheus scrape configuration, as the AMP guide for MSK documents it: one job
 * per exporter, each broker's own DNS name resolved by DNS service discovery (type A, so a
 * replaced broker's new address is followed), and a `broker_host` label (the broker's IP) shared
 * by the JMX and node series of a broker so rules can join them.
 */
export function renderScrapeConfiguration(options: ScrapeConfigurationOptions): string {
  const interval = `${options.scrapeInterval.toSeconds()}s`;
  const job = (name: string, port: number): string[] => [
    `  - job_name: ${name}`,
    '    scheme: http',
    '    metrics_path: /metrics',
    `    scrape_timeout: ${Math.min(options.scrapeInterval.toSeconds(), 10)}s`,
    '    dns_sd_configs:',
    '      - names:',
    ...options.brokerHosts.map((host) => `          - '${host}'`),
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
    ...job(JMX_JOB, MSK_JMX_EXPORTER_PORT),
    ...job(NODE_JOB, MSK_NODE_EXPORTER_PORT),
    '',
  ].join('\n');
}
