import { DescribeAlertManagerDefinitionCommand, DescribeScraperCommand, DescribeWorkspaceCommand, ListRuleGroupsNamespacesCommand } from '@aws-sdk/client-amp';
import { ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetApplicationCommand, ListJobRunsCommand } from '@aws-sdk/client-emr-serverless';
import { DescribeWorkspaceCommand as DescribeGrafanaWorkspaceCommand } from '@aws-sdk/client-grafana';
import { DescribeClusterV2Command, GetBootstrapBrokersCommand } from '@aws-sdk/client-kafka';
import { DescribeApplicationCommand, ListApplicationSnapshotsCommand } from '@aws-sdk/client-kinesis-analytics-v2';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { runCli } from '../../lib/cli/main';
import { ACCOUNT, deployedStacks, mockedOpsClients, NOW, opsHarness, prometheusServer, type OpsMocks } from './ops-fixtures';

const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
let server: Awaited<ReturnType<typeof prometheusServer>>;
let firing: Array<{ state: string; labels: Record<string, string> }> = [];
let alertsStatus = 200;

beforeAll(async () => {
  server = await prometheusServer(() => ({
    status: alertsStatus,
    body: alertsStatus === 200 ? { status: 'success', data: { alerts: firing } } : { status: 'error', error: 'denied' },
  }));
});
afterAll(() => server.close());
beforeEach(() => {
  firing = [];
  alertsStatus = 200;
});

/** A deployed, healthy dev environment. */
function healthy(m: OpsMocks): void {
  deployedStacks(m);
  m.kafka
    .on(DescribeClusterV2Command)
    .resolves({ ClusterInfo: { State: 'ACTIVE', Provisioned: { NumberOfBrokerNodes: 2, CurrentBrokerSoftwareInfo: { KafkaVersion: '3.9.x' } } as never } });
  m.kafka.on(GetBootstrapBrokersCommand).resolves({ BootstrapBrokerStringSaslIam: 'b-1:9098,b-2:9098' });
  m.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'RUNNING', ApplicationVersionId: 3 } as never });
  m.flink.on(ListApplicationSnapshotsCommand).resolves({
    SnapshotSummaries: [
      { SnapshotName: 'old', SnapshotStatus: 'READY', ApplicationVersionId: 2, SnapshotCreationTimestamp: ago(600) },
      { SnapshotName: 'new', SnapshotStatus: 'READY', ApplicationVersionId: 3, SnapshotCreationTimestamp: ago(125) },
      { SnapshotName: 'failing', SnapshotStatus: 'FAILED', ApplicationVersionId: 3, SnapshotCreationTimestamp: ago(1) },
    ],
  });
  m.emrServerless.on(GetApplicationCommand).resolves({ application: { state: 'STARTED' } as never });
  m.emrServerless.on(ListJobRunsCommand).resolves({
    jobRuns: [
      { id: 'jr-2', name: 'streaming-bronze', state: 'RUNNING', createdAt: ago(90), attempt: 1 } as never,
      { id: 'jr-1', name: 'streaming-bronze', state: 'FAILED', createdAt: ago(300) } as never,
      { id: 'jr-b', name: 'daily-report', state: 'SUCCESS', createdAt: ago(200) } as never,
    ],
  });
  m.cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'invocations', Timestamps: [ago(3), ago(8)], Values: [1, 1] },
      { Id: 'errors', Timestamps: [ago(3)], Values: [0] },
    ],
  });
  m.sfn.on(ListExecutionsCommand).resolves({
    executions: [{ executionArn: 'arn:x', stateMachineArn: 'arn:sm', name: 'run-1', status: 'SUCCEEDED', startDate: ago(540), stopDate: ago(520) }],
  });
  m.amp
    .on(DescribeWorkspaceCommand)
    .resolves({ workspace: { workspaceId: 'ws-1', arn: 'arn', status: { statusCode: 'ACTIVE' }, createdAt: NOW, prometheusEndpoint: server.endpoint } });
  m.amp.on(ListRuleGroupsNamespacesCommand).resolves({
    ruleGroupsNamespaces: [
      { name: 'kafka', arn: 'a', status: { statusCode: 'ACTIVE' }, createdAt: NOW, modifiedAt: NOW },
      { name: 'platform', arn: 'b', status: { statusCode: 'ACTIVE' }, createdAt: NOW, modifiedAt: NOW },
    ],
  });
  m.amp
    .on(DescribeAlertManagerDefinitionCommand)
    .resolves({ alertManagerDefinition: { status: { statusCode: 'ACTIVE' }, data: new Uint8Array(), createdAt: NOW, modifiedAt: NOW } });
  m.amp.on(DescribeScraperCommand).resolves({ scraper: { scraperId: 's-1', status: { statusCode: 'ACTIVE' } } as never });
  m.grafana
    .on(DescribeGrafanaWorkspaceCommand)
    .resolves({ workspace: { id: 'g-1', status: 'ACTIVE', endpoint: 'g-1.grafana-workspace.eu-west-1.amazonaws.com', grafanaVersion: '10.4' } as never });
  m.cloudWatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: 'lakestream-dev-streaming-failed', StateValue: 'OK' },
      { AlarmName: 'lakestream-dev-flink-lag', StateValue: 'OK' },
    ],
  });
}

async function run(args: string[], setup: (m: OpsMocks) => void = healthy) {
  const { clients, mocks } = mockedOpsClients();
  setup(mocks);
  const h = opsHarness(clients);
  const code = await runCli(args, h.deps);
  return { code, out: h.output(), err: h.errors(), mocks };
}

type StatusJson = {
  command: string;
  ok: boolean;
  exitCode: number;
  result: { rows: Array<{ id: string; title: string; status: string; detail: string; remedy: string | null }>; summary: Record<string, number> };
};
async function runJson(setup?: (m: OpsMocks) => void) {
  const result = await run(['status', '--env', 'dev', '--json'], setup);
  const json = JSON.parse(result.out) as StatusJson;
  return { ...result, json, rowOf: (id: string) => json.result.rows.find((r) => r.id === id) };
}

describe('lakestream status on a healthy environment', () => {
  it('prints one row per component with the detail that matters, and exits 0', async () => {
    const { code, out } = await run(['status', '--env', 'dev']);
    expect(code).toBe(0);
    expect(out).toContain(`Status of dev (stacks lakestream-dev-*) in account ${ACCOUNT}, region eu-west-1, at 2025-06-02T12:00:00.000Z`);
    expect(out).toMatch(/^OK\s+MSK cluster\s+ACTIVE, 2 brokers, Kafka 3\.9\.x, IAM bootstrap string present$/m);
    expect(out).toMatch(/^OK\s+Kafka topics\s+2 topics \(logins\.raw, logins\.counts\), topic manager CREATE_COMPLETE$/m);
    expect(out).toMatch(/^OK\s+Managed Flink\s+lakestream-dev-login-counts RUNNING, version 3, last snapshot 2h 5m ago$/m);
    expect(out).toMatch(/^OK\s+EMR Serverless\s+application 00fabc STARTED; streaming-bronze RUNNING jr-2, age 1h 30m, 1 restarts in 24h$/m);
    expect(out).toMatch(/^OK\s+Streaming supervisor\s+lakestream-dev-processing-Supervisor: last run 3m ago \(every 5 min\), 0 errors in 15 min$/m);
    expect(out).toMatch(/^OK\s+Daily report\s+last run run-1 SUCCEEDED, started 9h 0m ago, took 20m$/m);
    expect(out).toMatch(/^OK\s+GA4 ingest\s+not configured/m);
    expect(out).toMatch(/^OK\s+Managed Prometheus\s+workspace ws-1 ACTIVE, 2\/2 rule group namespaces ACTIVE, alert manager ACTIVE, no alerts firing$/m);
    expect(out).toMatch(/^OK\s+Prometheus scraper\s+s-1 ACTIVE$/m);
    expect(out).toMatch(/^OK\s+Managed Grafana\s+https:\/\/g-1\.grafana-workspace\.eu-west-1\.amazonaws\.com ACTIVE, Grafana 10\.4$/m);
    expect(out).toMatch(/^OK\s+CloudWatch alarms\s+2 alarms, none in ALARM$/m);
    expect(out).toContain('12 ok, 0 warnings, 0 failed, 0 errors: healthy');
  });

  it('prints a stable JSON document, and looks resources up by the physical ids CloudFormation reports', async () => {
    const { json, mocks } = await runJson();
    expect(Object.keys(json)).toEqual(['command', 'environment', 'ok', 'exitCode', 'result']);
    expect(json).toMatchObject({ command: 'status', ok: true, exitCode: 0, result: { summary: { pass: 12, warn: 0, fail: 0, error: 0 } } });
    expect(json.result.rows.map((r) => r.id)).toEqual([
      'msk',
      'topics',
      'flink',
      'emr',
      'supervisor',
      'daily-report',
      'replay',
      'ga4',
      'prometheus',
      'scraper',
      'grafana',
      'alarms',
    ]);
    for (const r of json.result.rows) expect(Object.keys(r)).toEqual(['id', 'title', 'status', 'detail', 'remedy']);
    expect(
      mocks.cloudFormation
        .commandCalls(ListStackResourcesCommand)
        .map((c) => c.args[0].input.StackName)
        .sort(),
    ).toEqual(['data', 'network', 'observability', 'processing', 'security', 'streaming'].map((s) => `lakestream-dev-${s}`));
    expect(mocks.kafka.commandCalls(DescribeClusterV2Command)[0].args[0].input.ClusterArn).toBe(
      `arn:aws:kafka:eu-west-1:${ACCOUNT}:cluster/lakestream-dev/abc-1`,
    );
    expect(mocks.amp.commandCalls(DescribeWorkspaceCommand)[0].args[0].input.workspaceId).toBe('ws-1');
    expect(mocks.amp.commandCalls(DescribeScraperCommand)[0].args[0].input.scraperId).toBe('s-1');
    expect(mocks.cloudWatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames).toEqual([
      'lakestream-dev-streaming-failed',
      'lakestream-dev-flink-lag',
    ]);
    const supervisorQuery = mocks.cloudWatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries?.[0].MetricStat?.Metric;
    expect(supervisorQuery).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: 'lakestream-dev-processing-Supervisor' }],
    });
  });

  it('queries the alerts from the workspace with a SigV4 signature for aps in the region', async () => {
    const before = server.requests.length;
    await run(['status', '--env', 'dev', '--json']);
    const request = server.requests[before];
    expect(request.url.pathname).toBe('/workspaces/ws-1/api/v1/alerts');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });
});

describe('lakestream status on a degraded or failing environment', () => {
  it('fails on firing alerts, alarms in ALARM and a stopped Flink application, and exits 1', async () => {
    firing = [
      { state: 'firing', labels: { alertname: 'KafkaUnderMinIsr' } },
      { state: 'pending', labels: { alertname: 'BrokerDiskHigh' } },
    ];
    const { code, rowOf, json } = await runJson((m) => {
      healthy(m);
      m.flink.on(DescribeApplicationCommand).resolves({ ApplicationDetail: { ApplicationStatus: 'READY', ApplicationVersionId: 3 } as never });
      m.cloudWatch.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [
          { AlarmName: 'lakestream-dev-flink-lag', StateValue: 'ALARM' },
          { AlarmName: 'lakestream-dev-streaming-failed', StateValue: 'OK' },
        ],
      });
    });
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    expect(rowOf('prometheus')).toMatchObject({ status: 'fail', detail: expect.stringContaining('1 alerts firing: KafkaUnderMinIsr') });
    expect(rowOf('flink')).toMatchObject({ status: 'fail', detail: expect.stringContaining('READY') });
    expect(rowOf('alarms')).toMatchObject({ status: 'fail', detail: '1 of 2 in ALARM: lakestream-dev-flink-lag' });
    expect(rowOf('msk')?.status).toBe('pass');
  });

  it('warns while components change state or a replay failed; a failed daily report fails', async () => {
    const { code, rowOf } = await runJson((m) => {
      healthy(m);
      m.kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { State: 'UPDATING', Provisioned: { NumberOfBrokerNodes: 2 } as never } });
      m.emrServerless.on(ListJobRunsCommand).resolves({ jobRuns: [{ id: 'jr-9', name: 'streaming-bronze', state: 'PENDING', createdAt: ago(1) } as never] });
      m.sfn
        .on(ListExecutionsCommand)
        .resolves({ executions: [{ executionArn: 'arn:exec', stateMachineArn: 'arn:sm', name: 'r', status: 'FAILED', startDate: ago(5) }] });
    });
    expect(code).toBe(1); // the daily report shares the ListExecutions mock: its last run failed
    expect(rowOf('msk')?.status).toBe('warn');
    expect(rowOf('emr')).toMatchObject({ status: 'warn', detail: expect.stringContaining('streaming-bronze PENDING jr-9, age 60s, 0 restarts') });
    expect(rowOf('replay')).toMatchObject({ status: 'warn', remedy: expect.stringContaining('arn:exec') });
    expect(rowOf('daily-report')?.status).toBe('fail');
  });

  it('fails when the streaming job has no run and the supervisor has not run', async () => {
    const { code, rowOf } = await runJson((m) => {
      healthy(m);
      m.emrServerless.on(ListJobRunsCommand).resolves({ jobRuns: [] });
      m.cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'invocations', Timestamps: [], Values: [] }] });
    });
    expect(code).toBe(1);
    expect(rowOf('emr')).toMatchObject({ status: 'fail', detail: 'application 00fabc STARTED; no streaming-bronze run in the last 24h' });
    expect(rowOf('supervisor')).toMatchObject({
      status: 'fail',
      detail: 'lakestream-dev-processing-Supervisor: no invocation in the last 15 minutes (every 5 min expected)',
    });
  });

  it('reports stacks that are not deployed and the components in them', async () => {
    const { code, rowOf, json } = await runJson((m) => {
      healthy(m);
      m.cloudFormation
        .on(ListStackResourcesCommand, { StackName: 'lakestream-dev-observability' })
        .rejects(Object.assign(new Error('Stack with id lakestream-dev-observability does not exist'), { name: 'ValidationError' }));
    });
    expect(code).toBe(1);
    expect(json.result.rows[0]).toMatchObject({
      id: 'stacks',
      status: 'fail',
      detail: 'not deployed: lakestream-dev-observability',
      remedy: 'npx cdk deploy --all -c env=dev',
    });
    expect(rowOf('grafana')).toMatchObject({
      status: 'fail',
      detail: 'AWS::Grafana::Workspace Grafana1 is not deployed in stack lakestream-dev-observability',
    });
    expect(rowOf('msk')?.status).toBe('pass');
  });

  it('marks a failed topic manager as a failure', async () => {
    const { rowOf } = await runJson((m) => {
      healthy(m);
      deployedStacks(m, { TopicsResource1: 'UPDATE_FAILED' });
    });
    expect(rowOf('topics')).toMatchObject({ status: 'fail', detail: expect.stringContaining('topic manager UPDATE_FAILED') });
  });
});

describe('lakestream status when access is denied or credentials are missing', () => {
  it('makes a denied component an error naming the permission, keeps the others, and exits 2', async () => {
    const { code, rowOf } = await runJson((m) => {
      healthy(m);
      m.emrServerless.on(GetApplicationCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    });
    expect(code).toBe(2);
    expect(rowOf('emr')).toMatchObject({ status: 'error', remedy: 'allow emr-serverless:GetApplication and emr-serverless:ListJobRuns' });
    expect(rowOf('flink')?.status).toBe('pass');
  });

  it('treats a 403 from the workspace query API as denied', async () => {
    alertsStatus = 403;
    const { code, rowOf } = await runJson();
    expect(code).toBe(2);
    expect(rowOf('prometheus')).toMatchObject({ status: 'error', remedy: expect.stringContaining('aps:QueryMetrics') });
  });

  it('exits 2 without credentials, before any component is read', async () => {
    const { code, err, mocks } = await run(['status', '--env', 'dev'], (m) => {
      m.sts
        .on(GetCallerIdentityCommand)
        .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    });
    expect(code).toBe(2);
    expect(err).toContain('AWS credentials are missing or invalid');
    expect(mocks.cloudFormation.calls()).toHaveLength(0);
  });

  it('exits 2 for an unknown environment', async () => {
    const { code, err } = await run(['status', '--env', 'nope']);
    expect(code).toBe(2);
    expect(err).toContain('Unknown environment "nope"');
  });
});
