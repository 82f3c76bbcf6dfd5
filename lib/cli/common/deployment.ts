import { userColumnOf } from '../../constructs/lake/serving-views';
import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { LakestreamStage } from '../../app/lakestream-stage';
import type { ResolvedEnvironment } from '../../config/load-config';
import { TOPIC_NAMES } from '../../contracts/topic-spec';
import { JMX_JOB } from '../../constructs/monitoring/prometheus-monitoring';

/** Where one deployed resource lives: its stack and logical id, as the CDK app synthesizes them. */
export interface ResourceRef {
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
}

/**
 * What the operator commands need to find in a deployed environment. Built from the same stage the
 * CDK app synthesizes (the same config loader, naming and construct tree), so names and logical ids
 * are never typed twice; physical names and ARNs then come from CloudFormation (ListStackResources).
 */
export interface DeploymentMap {
  /** Stack names of the stage, in deployment order. */
  readonly stackNames: string[];
  readonly kafkaCluster: ResourceRef;
  readonly topics: ResourceRef;
  readonly topicNames: string[];
  readonly rawTopic: string;
  readonly countsTopic: string;
  /** Absent when flink.enabled is false. */
  readonly flinkApplication?: ResourceRef;
  readonly sparkApplication: ResourceRef;
  /** Job run name of the streaming job and its supervisor function; absent when emr.streamingJobEnabled is false. */
  readonly streaming?: { readonly jobName: string; readonly supervisorFunction: ResourceRef; readonly checkIntervalMinutes: number };
  readonly dailyPipeline: ResourceRef;
  readonly replayStateMachine: ResourceRef;
  readonly landingBucket: ResourceRef;
  /** New objects under this prefix of the landing bucket start a replay. */
  readonly landingPrefix: string;
  /** Absent when no GA4 property is configured. */
  readonly ga4?: { readonly function: ResourceRef; readonly scheduleMinutes: number };
  readonly prometheusWorkspace: ResourceRef;
  readonly scraper: ResourceRef;
  /** Prometheus job label of the MSK JMX exporter scrape. */
  readonly jmxJob: string;
  readonly ruleGroupsNamespaces: ResourceRef[];
  readonly grafanaWorkspace: ResourceRef;
  /** Every CloudWatch alarm of the stage. */
  readonly alarms: ResourceRef[];
  readonly athena: {
    readonly workgroup: string;
    readonly bronzeDatabase: string;
    readonly goldDatabase: string;
    readonly rawTable: string;
    /** Silver: the streamed login counts are aggregates, kept apart from raw events. */
    readonly silverDatabase: string;
    readonly countsTable: string;
    readonly speedView: string;
    /** Per-user column of the views: user_id, or user_ref when dashboards are pseudonymous (gdpr.dashboardUserIdentity). */
    readonly userColumn: 'user_id' | 'user_ref';
  };
  /** Flink tumbling window length (minutes): how far ahead the smoke test's watermark event must be. */
  readonly windowMinutes: number;
}

/** The serving view of the speed layer (jobs/serving/speed_login_counts.sql). */
const SPEED_VIEW = 'speed_login_counts';

/** The bronze table the Spark streaming job lands a topic in (lakestream_spark.kafka_source: `kafka_` + topic, dots as underscores). */
function kafkaTableName(topic: string): string {
  return `kafka_${topic.replace(/[.-]/g, '_')}`;
}

/** `name`, after checking the stage defines it: a renamed table fails here, not in a query against a live account. */
function existing(defined: Record<string, unknown>, name: string): string {
  if (!(name in defined)) throw new Error(`the stage defines no ${name} (defined: ${Object.keys(defined).join(', ')})`);
  return name;
}

function ref(construct: IConstruct): ResourceRef {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  const stack = Stack.of(resource);
  return { stackName: stack.stackName, logicalId: stack.resolve(resource.logicalId) as string, resourceType: resource.cfnResourceType };
}

/** Reads the deployment map off a constructed stage (no synthesis needed: logical ids are fixed at construction). */
export function deploymentMapFromStage(stage: LakestreamStage): DeploymentMap {
  const { data, streaming, processing, observability, config } = stage;
  const alarms = stage.node
    .findAll()
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::CloudWatch::Alarm')
    .map(ref);
  const bronzeDatabase = data.catalog.databaseNames.bronze;
  return {
    stackNames: [stage.security, stage.network, data, streaming, processing, observability].map((s) => s.stackName),
    kafkaCluster: ref(data.kafka.cluster),
    topics: ref(streaming.topics.resource),
    topicNames: [...streaming.topics.topicNames],
    rawTopic: TOPIC_NAMES.loginsRaw,
    countsTopic: TOPIC_NAMES.loginsCounts,
    flinkApplication: processing.flink ? ref(processing.flink.application) : undefined,
    sparkApplication: ref(processing.spark.application),
    streaming: processing.supervisor
      ? {
          jobName: processing.supervisor.jobName,
          supervisorFunction: ref(processing.supervisor.function.function),
          checkIntervalMinutes: config.emr.supervisorIntervalMinutes,
        }
      : undefined,
    dailyPipeline: ref(processing.dailyPipeline),
    replayStateMachine: ref(streaming.fileReplay.stateMachine),
    landingBucket: ref(data.lake.landing),
    landingPrefix: streaming.fileReplay.keyPrefix,
    ga4: streaming.ga4 && config.ga4 ? { function: ref(streaming.ga4.function), scheduleMinutes: config.ga4.scheduleMinutes } : undefined,
    prometheusWorkspace: ref(observability.prometheus.workspace),
    scraper: ref(observability.prometheus.scraper),
    jmxJob: JMX_JOB,
    ruleGroupsNamespaces: observability.prometheus.ruleGroupsNamespaces.map(ref),
    grafanaWorkspace: ref(observability.grafana.workspace),
    alarms,
    athena: {
      workgroup: data.catalog.workgroupName,
      bronzeDatabase,
      goldDatabase: processing.servingViews.databaseName,
      rawTable: existing(processing.tables.bronzeTables, kafkaTableName(TOPIC_NAMES.loginsRaw)),
      silverDatabase: data.catalog.databaseNames.silver,
      countsTable: existing(processing.tables.silverTables, kafkaTableName(TOPIC_NAMES.loginsCounts)),
      speedView: existing(processing.servingViews.views, SPEED_VIEW),
      userColumn: userColumnOf(config.gdpr.dashboardUserIdentity),
    },
    windowMinutes: config.flink.windowMinutes,
  };
}

/**
 * Constructs the environment's stage in-process (no synthesis, no bundling, no credentials) and
 * reads the map. Loaded lazily by the commands: it pulls in the whole CDK app.
 */
export function describeDeployment(config: ResolvedEnvironment): DeploymentMap {
  const { createApp } = require('../../app/build-app') as typeof import('../../app/build-app');
  const { LakestreamStage: Stage } = require('../../app/lakestream-stage') as typeof import('../../app/lakestream-stage');
  const app = createApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  return deploymentMapFromStage(new Stage(app, config.stageName, { config }));
}
