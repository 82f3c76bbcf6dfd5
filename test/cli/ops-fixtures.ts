import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { DeploymentMap, ResourceRef } from '../../lib/cli/common/deployment';
import { buildOpsClients, type OpsClients } from '../../lib/cli/common/ops-clients';
import type { CliDependencies } from '../../lib/cli/dependencies';

export const ACCOUNT = '123456789012';
export const NOW = new Date('2025-06-02T12:00:00Z');
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

const r = (stack: string, logicalId: string, resourceType: string): ResourceRef => ({ stackName: `lakestream-dev-${stack}`, logicalId, resourceType });

/** A small deployment map with the dev stage's shape (the real one is checked in deployment.test.ts). */
export const MAP: DeploymentMap = {
  stackNames: ['security', 'network', 'data', 'streaming', 'processing', 'observability'].map((s) => `lakestream-dev-${s}`),
  kafkaCluster: r('data', 'KafkaCluster1', 'AWS::MSK::Cluster'),
  topics: r('streaming', 'TopicsResource1', 'Custom::KafkaTopics'),
  topicNames: ['logins.raw', 'logins.counts'],
  rawTopic: 'logins.raw',
  countsTopic: 'logins.counts',
  flinkApplication: r('processing', 'LoginCountsApp1', 'AWS::KinesisAnalyticsV2::Application'),
  sparkApplication: r('processing', 'SparkApp1', 'AWS::EMRServerless::Application'),
  streaming: { jobName: 'streaming-bronze', supervisorFunction: r('processing', 'SupervisorFn1', 'AWS::Lambda::Function'), checkIntervalMinutes: 5 },
  dailyPipeline: r('processing', 'DailyPipeline1', 'AWS::StepFunctions::StateMachine'),
  replayStateMachine: r('streaming', 'ReplaySM1', 'AWS::StepFunctions::StateMachine'),
  landingBucket: r('data', 'Landing1', 'AWS::S3::Bucket'),
  landingPrefix: 'incoming/',
  prometheusWorkspace: r('observability', 'Workspace1', 'AWS::APS::Workspace'),
  scraper: r('observability', 'Scraper1', 'AWS::APS::Scraper'),
  jmxJob: 'msk-jmx',
  ruleGroupsNamespaces: [r('observability', 'Rules1', 'AWS::APS::RuleGroupsNamespace'), r('observability', 'Rules2', 'AWS::APS::RuleGroupsNamespace')],
  grafanaWorkspace: r('observability', 'Grafana1', 'AWS::Grafana::Workspace'),
  alarms: [r('processing', 'Alarm1', 'AWS::CloudWatch::Alarm'), r('observability', 'Alarm2', 'AWS::CloudWatch::Alarm')],
  athena: {
    workgroup: 'lakestream-dev-analytics',
    bronzeDatabase: 'lakestream_dev_bronze',
    goldDatabase: 'lakestream_dev_gold',
    rawTable: 'kafka_logins_raw',
    silverDatabase: 'lakestream_dev_silver',
    countsTable: 'kafka_logins_counts',
    speedView: 'speed_login_counts',
    userColumn: 'user_ref',
  },
  windowMinutes: 1,
};

/** Physical ids, as CloudFormation reports them (Ref values). */
export const PHYSICAL: Record<string, string> = {
  KafkaCluster1: `arn:aws:kafka:eu-west-1:${ACCOUNT}:cluster/lakestream-dev/abc-1`,
  TopicsResource1: 'topics-1',
  LoginCountsApp1: 'lakestream-dev-login-counts',
  SparkApp1: '00fabc',
  SupervisorFn1: 'lakestream-dev-processing-Supervisor',
  DailyPipeline1: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:Daily`,
  ReplaySM1: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:Replay`,
  Landing1: 'lakestream-dev-landing',
  Workspace1: `arn:aws:aps:eu-west-1:${ACCOUNT}:workspace/ws-1`,
  Scraper1: `arn:aws:aps:eu-west-1:${ACCOUNT}:scraper/s-1`,
  Rules1: `arn:aws:aps:eu-west-1:${ACCOUNT}:rulegroupsnamespace/ws-1/kafka`,
  Rules2: `arn:aws:aps:eu-west-1:${ACCOUNT}:rulegroupsnamespace/ws-1/platform`,
  Grafana1: 'g-1',
  Alarm1: 'lakestream-dev-streaming-failed',
  Alarm2: 'lakestream-dev-flink-lag',
};

export function mockedOpsClients(region = 'eu-west-1') {
  const clients = buildOpsClients(region, async () => credentials, 1);
  const mocks = {
    sts: mockClient(clients.sts),
    cloudFormation: mockClient(clients.cloudFormation),
    kafka: mockClient(clients.kafka),
    flink: mockClient(clients.flink),
    emrServerless: mockClient(clients.emrServerless),
    sfn: mockClient(clients.sfn),
    cloudWatch: mockClient(clients.cloudWatch),
    amp: mockClient(clients.amp),
    grafana: mockClient(clients.grafana),
    s3: mockClient(clients.s3),
    athena: mockClient(clients.athena),
    ssm: mockClient(clients.ssm),
  };
  return { clients, mocks };
}

export type OpsMocks = ReturnType<typeof mockedOpsClients>['mocks'];

/** Every stack deployed, every resource CREATE_COMPLETE (or `status` for the ones named). */
export function deployedStacks(mocks: OpsMocks, statuses: Record<string, string> = {}): void {
  mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
  mocks.cloudFormation.on(ListStackResourcesCommand).callsFake((input: { StackName: string }) => {
    const refs = [...Object.values(MAP).flatMap((v) => (Array.isArray(v) ? v : [v])), MAP.streaming?.supervisorFunction].filter(
      (v): v is ResourceRef => typeof v === 'object' && v !== null && 'logicalId' in v && v.stackName === input.StackName,
    );
    const summaries: StackResourceSummary[] = refs.map((ref) => ({
      LogicalResourceId: ref.logicalId,
      PhysicalResourceId: PHYSICAL[ref.logicalId],
      ResourceType: ref.resourceType,
      ResourceStatus: (statuses[ref.logicalId] ?? 'CREATE_COMPLETE') as StackResourceSummary['ResourceStatus'],
      LastUpdatedTimestamp: NOW,
    }));
    return { StackResourceSummaries: summaries };
  });
}

export interface OpsHarness {
  readonly deps: CliDependencies;
  readonly output: () => string;
  readonly errors: () => string;
  readonly slept: number[];
}

export function opsHarness(clients: OpsClients, options: { now?: () => Date; map?: DeploymentMap } = {}): OpsHarness {
  let out = '';
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const slept: number[] = [];
  return {
    deps: {
      createAwsClients: () => {
        throw new Error('not used by the ops commands');
      },
      synthesizeRequirements: () => {
        throw new Error('not used by the ops commands');
      },
      createOpsClients: () => clients,
      describeDeployment: () => options.map ?? MAP,
      now: options.now ?? (() => NOW),
      sleep: async (ms) => {
        slept.push(ms);
      },
      stdout: (text) => {
        out += text;
      },
      stderr: stderr as unknown as NodeJS.WriteStream,
      processEnv: {},
      quiet: true,
    },
    output: () => out,
    errors: () => err,
    slept,
  };
}

/** A local stand-in for the workspace's Prometheus HTTP API that records what it was asked. */
export async function prometheusServer(
  answer: (url: URL) => { status: number; body: unknown },
): Promise<{ endpoint: string; requests: Array<{ url: URL; headers: http.IncomingHttpHeaders }>; close: () => Promise<void> }> {
  const requests: Array<{ url: URL; headers: http.IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ url, headers: req.headers });
    const { status, body } = answer(url);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/workspaces/ws-1/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
