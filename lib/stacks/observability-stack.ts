import { userColumnOf } from '../constructs/lake/serving-views';
import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { removalPolicyOf, retentionOf } from '../config/cdk-values';
import type { ResolvedEnvironment } from '../config/load-config';
import type { KafkaBrokerDiscovery } from '../constructs/kafka/kafka-broker-discovery';
import type { KafkaCluster } from '../constructs/kafka/kafka-cluster';
import type { LakeCatalog } from '../constructs/lake/lake-catalog';
import type { LakeStorage } from '../constructs/lake/lake-storage';
import { silverTableSpecs } from '../constructs/lake/lake-tables';
import { GrafanaWorkspace } from '../constructs/monitoring/grafana-workspace';
import { PlatformAlarms } from '../constructs/monitoring/platform-alarms';
import { PrometheusMonitoring } from '../constructs/monitoring/prometheus-monitoring';
import type { PlatformNetwork } from '../constructs/network/platform-network';
import type { PlatformKeys } from '../constructs/security/platform-keys';
import { FLINK_CONSUMER_GROUP, type ProcessingStack } from './processing-stack';
import type { StreamingStack } from './streaming-stack';

export interface ObservabilityStackProps extends StackProps {
  readonly config: ResolvedEnvironment;
  readonly keys: PlatformKeys;
  readonly network: PlatformNetwork;
  readonly kafka: KafkaCluster;
  readonly lake: LakeStorage;
  readonly catalog: LakeCatalog;
  /** Its ingestion alarms are routed to the alarm topic. */
  readonly streaming: StreamingStack;
  /** Its jobs get CloudWatch alarms; its own alarms are routed to the alarm topic. */
  readonly processing: ProcessingStack;
}

/**
 * Managed Prometheus (workspace, MSK scraper, rules, alert manager), the alarm topic every
 * CloudWatch alarm of the platform notifies, and (with the Grafana construct) dashboards.
 */
export class ObservabilityStack extends Stack {
  public readonly alarms: PlatformAlarms;
  public readonly prometheus: PrometheusMonitoring;
  public readonly grafana: GrafanaWorkspace;
  /** The cluster's brokers, discovered in this stack for the scraper's targets. */
  public readonly brokers: KafkaBrokerDiscovery;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = retentionOf(config.logRetentionDays);
    this.alarms = new PlatformAlarms(this, 'Alarms', {
      emailAddresses: config.observability.alertEmails,
      encryptionKey: props.keys.streaming,
      topicDisplayName: `Lakestream ${config.stageName} alarms`,
    });
    // Discovered in this stack: a resized or replaced cluster updates the scrape targets (only the ARN crosses stacks).
    this.brokers = props.kafka.discoverBrokers(this, 'BrokerDiscovery', { encryptionKey: props.keys.logs, logRetention });
    this.prometheus = new PrometheusMonitoring(this, 'Prometheus', {
      vpc: props.network.vpc,
      vpcSubnets: props.network.computeSubnets,
      clusterName: props.kafka.clusterName,
      brokerHosts: this.brokers.brokerHostList,
      brokerSecurityGroup: props.kafka.securityGroup,
      metadataMode: props.kafka.kraft ? 'kraft' : 'zookeeper',
      encryptionKey: props.keys.streaming,
      logsKey: props.keys.logs,
      logRetention,
      logRemovalPolicy: removalPolicyOf(config),
      alarmTopic: this.alarms.topic,
      ruleThresholds: config.observability.thresholds,
      deployedComponents: { flink: props.processing.flink !== undefined },
      workspaceAlias: config.qualifier,
    });
    this.grafana = new GrafanaWorkspace(this, 'Grafana', {
      name: config.qualifier,
      authenticationProviders: [config.observability.grafanaAuthentication],
      samlConfiguration: config.observability.grafanaSaml
        ? {
            idpMetadata: { url: config.observability.grafanaSaml.idpMetadataUrl },
            assertionAttributes: { role: config.observability.grafanaSaml.roleAttribute },
            roleValues: { admin: config.observability.grafanaSaml.adminRoleValues, editor: config.observability.grafanaSaml.editorRoleValues },
          }
        : undefined,
      prometheus: { workspaceArn: this.prometheus.workspaceArn, queryEndpoint: this.prometheus.prometheusEndpoint },
      dashboardUserColumn: userColumnOf(config.gdpr.dashboardUserIdentity),
      athena: {
        workgroupName: props.catalog.workgroupName,
        // No bronze at all: raw events, landed rows and quarantined records stay out of dashboards.
        databaseNames: [props.catalog.databaseNames.gold, props.catalog.databaseNames.silver],
        resultsBucket: props.lake.queryResults,
        resultsPrefix: props.catalog.resultsPrefix,
        // Gold reports and serving views whole; of silver only the counts table the speed view reads.
        tableNames: { [props.catalog.databaseNames.silver]: [SPEED_VIEW_SOURCE.name] },
        dataLocations: [
          { bucket: props.lake.gold, prefixes: ['reports/'] },
          { bucket: props.lake.silver, prefixes: [SPEED_VIEW_SOURCE.prefix] },
        ],
        lakeKey: props.keys.lake,
      },
      logsKey: props.keys.logs,
      logRetention,
      folderTitle: `Lakestream ${config.stageName}`,
      ...dashboardVariablesOf(props),
      notificationTopic: this.alarms.topic,
      deleteDashboardsOnRemove: config.removalPolicy === 'destroy',
    });
    // Errors and throttles of the functions that run outside deployments (custom-resource handlers fail the deploy instead).
    const replay = props.streaming.fileReplay;
    for (const fn of [replay.planFunction, replay.workerFunction, replay.summaryFunction]) this.alarms.addLambdaAlarms(fn.function);
    if (props.streaming.ga4) this.alarms.addLambdaAlarms(props.streaming.ga4.function);
    if (props.processing.supervisor) this.alarms.addLambdaAlarms(props.processing.supervisor.function.function);
    this.alarms.addStateMachineAlarms(replay.stateMachine);
    this.alarms.addCompositeOf(
      'FileReplayAlarms',
      props.streaming.fileReplay.alarms,
      `Lakestream ${config.stageName}: file replay is failing, rejecting records or dead-lettering events.`,
    );
    if (props.streaming.ga4) {
      this.alarms.addCompositeOf(
        'Ga4IngestAlarms',
        props.streaming.ga4.alarms,
        `Lakestream ${config.stageName}: GA4 ingest is failing, rejecting rows or dead-lettering invocations.`,
      );
    }
    const processing = props.processing;
    this.alarms.addCompositeOf(
      'BatchJobAlarms',
      processing.alarms,
      `Lakestream ${config.stageName}: a Spark batch job or the streaming-job supervisor is failing.`,
    );
    this.alarms.addStateMachineAlarms(processing.dailyPipeline);
    this.alarms.addEmrServerlessAlarms(processing.spark.applicationId, { id: 'SparkApplication' });
    if (processing.flink) this.alarms.addFlinkAlarms(processing.flink.applicationName, { id: 'LoginCountsFlink' });
    // The rule is created here (the scraper's stack), so the stateful data stack never depends on this one.
    props.kafka.allowMetricsScrapingFrom(this.prometheus.scraperSecurityGroup);
  }
}

/** The one silver table Grafana reads: the per-user counts behind the speed view. */
const SPEED_VIEW_SOURCE = silverTableSpecs('NOW').find((t) => t.name === 'kafka_logins_counts')!;

/**
 * The values the dashboards' variables take in this environment: names and ids of what the other
 * stacks deploy. A component this environment does not deploy makes its variables unavailable, so
 * its panels say so instead of querying an empty dimension.
 */
function dashboardVariablesOf(props: ObservabilityStackProps): {
  dashboardVariables: Record<string, string>;
  unavailableDashboardVariables: Record<string, string>;
} {
  const { streaming, processing } = props;
  const replay = streaming.fileReplay;
  const dashboardVariables: Record<string, string> = {
    emr_application_id: processing.spark.applicationId,
    file_replay_service: replay.metricsServiceName,
    file_replay_function: replay.workerFunction.function.functionName,
    replay_state_machine_arn: replay.stateMachine.stateMachineArn,
  };
  const unavailableDashboardVariables: Record<string, string> = {};
  const offer = (values: Record<string, string | undefined>, absent: string) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) unavailableDashboardVariables[name] = absent;
      else dashboardVariables[name] = value;
    }
  };
  const flink = processing.flink;
  offer(
    { flink_application: flink?.applicationName, flink_consumer_group: flink ? FLINK_CONSUMER_GROUP : undefined },
    'The Managed Flink login-counts application is not deployed in this environment (its connector jars are not pinned, or Flink is switched off).',
  );
  offer(
    { ga4_ingest_function: streaming.ga4?.function.functionName },
    'GA4 ingest is not deployed in this environment (no `ga4` section in its configuration).',
  );
  offer(
    { streaming_job_name: processing.supervisor?.jobName },
    'The Spark streaming job (Kafka to bronze) is not deployed in this environment (its connector jars are not pinned).',
  );
  return { dashboardVariables, unavailableDashboardVariables };
}
