import { DescribeAlertManagerDefinitionCommand, DescribeScraperCommand, DescribeWorkspaceCommand, ListRuleGroupsNamespacesCommand } from '@aws-sdk/client-amp';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetApplicationCommand, paginateListJobRuns, type JobRunSummary } from '@aws-sdk/client-emr-serverless';
import { DescribeWorkspaceCommand as DescribeGrafanaWorkspaceCommand } from '@aws-sdk/client-grafana';
import { DescribeClusterV2Command, GetBootstrapBrokersCommand } from '@aws-sdk/client-kafka';
import { DescribeApplicationCommand, ListApplicationSnapshotsCommand } from '@aws-sdk/client-kinesis-analytics-v2';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { ResourceRef } from '../common/deployment';
import { prometheusGet } from '../common/prometheus-query';
import { idFromArn, type StackResources } from '../common/stack-resources';
import { formatAge, probe, row, type OpsContext, type Row } from '../ops/rows';

/** A status probe: one row of the table. */
export interface StatusProbe {
  readonly id: string;
  readonly title: string;
  run(context: OpsContext, resources: StackResources): Promise<Row>;
}

const HOUR = 3_600_000;

function statusProbe(id: string, title: string, permissions: string, body: (context: OpsContext, resources: StackResources) => Promise<Row>): StatusProbe {
  return { id, title, run: (context, resources) => probe(id, title, permissions, () => body(context, resources)) };
}

const msk = statusProbe('msk', 'MSK cluster', 'kafka:DescribeClusterV2 and kafka:GetBootstrapBrokers', async ({ map, clients }, resources) => {
  const arn = resources.get(map.kafkaCluster).physicalId;
  const info = (await clients.kafka.send(new DescribeClusterV2Command({ ClusterArn: arn }))).ClusterInfo;
  const state = info?.State ?? 'UNKNOWN';
  const brokers = info?.Provisioned?.NumberOfBrokerNodes;
  const version = info?.Provisioned?.CurrentBrokerSoftwareInfo?.KafkaVersion ?? 'unknown';
  let bootstrap = false;
  if (state === 'ACTIVE' || state === 'UPDATING') {
    bootstrap = Boolean((await clients.kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: arn }))).BootstrapBrokerStringSaslIam);
  }
  const detail = `${state}, ${brokers ?? '?'} brokers, Kafka ${version}, IAM bootstrap string ${bootstrap ? 'present' : 'absent'}`;
  if (state === 'ACTIVE' && bootstrap) return row('msk', 'MSK cluster', 'pass', detail);
  if (state === 'UPDATING' || state === 'MAINTENANCE' || state === 'REBOOTING_BROKER') return row('msk', 'MSK cluster', 'warn', detail);
  return row('msk', 'MSK cluster', 'fail', detail, 'see the cluster in the MSK console; clients cannot connect');
});

const topics = statusProbe('topics', 'Kafka topics', 'cloudformation:ListStackResources', async ({ map }, resources) => {
  const r = resources.get(map.topics);
  // The topics live inside the VPC's cluster; from outside, the topic manager's last successful run is the evidence.
  const detail = `${map.topicNames.length} topics (${map.topicNames.join(', ')}), topic manager ${r.status}`;
  return /_COMPLETE$/.test(r.status) && !/ROLLBACK|DELETE/.test(r.status)
    ? row('topics', 'Kafka topics', 'pass', detail)
    : row('topics', 'Kafka topics', 'fail', detail, `see the ${map.topics.stackName} stack events for the topic manager's reason`);
});

const flink = statusProbe(
  'flink',
  'Managed Flink',
  'kinesisanalytics:DescribeApplication and kinesisanalytics:ListApplicationSnapshots',
  async ({ map, clients, now }, resources) => {
    if (!map.flinkApplication) return row('flink', 'Managed Flink', 'pass', 'not deployed here (flink.enabled is false)');
    const name = resources.get(map.flinkApplication).physicalId;
    const detail = (await clients.flink.send(new DescribeApplicationCommand({ ApplicationName: name }))).ApplicationDetail;
    const status = detail?.ApplicationStatus ?? 'UNKNOWN';
    const snapshots = (await clients.flink.send(new ListApplicationSnapshotsCommand({ ApplicationName: name, Limit: 50 }))).SnapshotSummaries ?? [];
    const ready = snapshots
      .filter((s) => s.SnapshotStatus === 'READY' && s.SnapshotCreationTimestamp)
      .sort((a, b) => (b.SnapshotCreationTimestamp?.getTime() ?? 0) - (a.SnapshotCreationTimestamp?.getTime() ?? 0))[0];
    const snapshot = ready?.SnapshotCreationTimestamp
      ? `last snapshot ${formatAge(now().getTime() - ready.SnapshotCreationTimestamp.getTime())} ago`
      : 'no snapshot yet';
    const text = `${name} ${status}, version ${detail?.ApplicationVersionId ?? '?'}, ${snapshot}`;
    if (status === 'RUNNING') return row('flink', 'Managed Flink', 'pass', text);
    if (status === 'STARTING' || status === 'UPDATING' || status === 'AUTOSCALING') return row('flink', 'Managed Flink', 'warn', text);
    return row(
      'flink',
      'Managed Flink',
      'fail',
      text,
      'the login counts stop: see the application log group, then start it (the flink-starter custom resource starts it on deploy)',
    );
  },
);

const emr = statusProbe('emr', 'EMR Serverless', 'emr-serverless:GetApplication and emr-serverless:ListJobRuns', async ({ map, clients, now }, resources) => {
  const applicationId = resources.get(map.sparkApplication).physicalId;
  const app = (await clients.emrServerless.send(new GetApplicationCommand({ applicationId }))).application;
  const state = app?.state ?? 'UNKNOWN';
  const appText = `application ${applicationId} ${state}`;
  // CREATED and STOPPED are healthy: the application starts on the next job run (auto-start).
  const appOk = state === 'CREATED' || state === 'STARTED' || state === 'STARTING' || state === 'STOPPED';
  if (!map.streaming) return row('emr', 'EMR Serverless', appOk ? 'pass' : 'fail', `${appText}; streaming job not deployed (emr.streamingJobEnabled is false)`);
  const since = new Date(now().getTime() - 24 * HOUR);
  const runs: JobRunSummary[] = [];
  for await (const page of paginateListJobRuns({ client: clients.emrServerless }, { applicationId, createdAtAfter: since })) {
    runs.push(...(page.jobRuns ?? []).filter((r) => r.name === map.streaming?.jobName));
  }
  runs.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const latest = runs[0];
  // Each supervisor restart is a new job run; EMR's own retries of a run count as attempts.
  const restarts = Math.max(0, runs.length - 1) + runs.reduce((n, r) => n + Math.max(0, (r.attempt ?? 1) - 1), 0);
  if (!latest) {
    return row(
      'emr',
      'EMR Serverless',
      'fail',
      `${appText}; no ${map.streaming.jobName} run in the last 24h`,
      'the supervisor starts it: check the supervisor row and its log group',
    );
  }
  const age = formatAge(now().getTime() - (latest.createdAt?.getTime() ?? now().getTime()));
  const text = `${appText}; ${map.streaming.jobName} ${latest.state} ${latest.id}, age ${age}, ${restarts} restarts in 24h`;
  if (!appOk) return row('emr', 'EMR Serverless', 'fail', text);
  if (latest.state === 'RUNNING') return row('emr', 'EMR Serverless', restarts > 3 ? 'warn' : 'pass', text);
  if (latest.state === 'SUBMITTED' || latest.state === 'PENDING' || latest.state === 'SCHEDULED' || latest.state === 'QUEUED')
    return row('emr', 'EMR Serverless', 'warn', text);
  return row('emr', 'EMR Serverless', 'fail', text, 'bronze stops filling: see the job run logs; the supervisor restarts it on its next check');
});

/** The newest datapoint of AWS/Lambda Invocations and Errors of one function over `windowMinutes`. */
async function lambdaActivity(context: OpsContext, functionName: string, windowMinutes: number): Promise<{ lastInvocation?: Date; errors: number }> {
  const end = context.now();
  const start = new Date(end.getTime() - windowMinutes * 60_000);
  const metric = (id: string, name: string) => ({
    Id: id,
    MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: [{ Name: 'FunctionName', Value: functionName }] }, Period: 60, Stat: 'Sum' },
  });
  const answer = await context.clients.cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      MetricDataQueries: [metric('invocations', 'Invocations'), metric('errors', 'Errors')],
      ScanBy: 'TimestampDescending',
    }),
  );
  const series = (id: string) => answer.MetricDataResults?.find((r) => r.Id === id);
  const invocations = series('invocations');
  let lastInvocation: Date | undefined;
  (invocations?.Timestamps ?? []).forEach((t, i) => {
    if ((invocations?.Values?.[i] ?? 0) > 0 && (!lastInvocation || t > lastInvocation)) lastInvocation = t;
  });
  const errors = (series('errors')?.Values ?? []).reduce((a, b) => a + b, 0);
  return { lastInvocation, errors };
}

/** A scheduled Lambda function: healthy when it ran within two intervals without errors. */
function scheduledFunction(id: string, title: string, pick: (context: OpsContext) => { fn: ResourceRef; intervalMinutes: number } | string): StatusProbe {
  return statusProbe(id, title, 'cloudwatch:GetMetricData', async (context, resources) => {
    const target = pick(context);
    if (typeof target === 'string') return row(id, title, 'pass', target);
    const name = resources.get(target.fn).physicalId;
    const window = Math.max(3 * target.intervalMinutes, 15);
    const { lastInvocation, errors } = await lambdaActivity(context, name, window);
    if (!lastInvocation)
      return row(
        id,
        title,
        'fail',
        `${name}: no invocation in the last ${window} minutes (every ${target.intervalMinutes} min expected)`,
        `check the EventBridge rule that invokes ${name}`,
      );
    const detail = `${name}: last run ${formatAge(context.now().getTime() - lastInvocation.getTime())} ago (every ${target.intervalMinutes} min), ${errors} errors in ${window} min`;
    const late = context.now().getTime() - lastInvocation.getTime() > 2 * target.intervalMinutes * 60_000 + 60_000;
    if (errors > 0) return row(id, title, 'fail', detail, `read the log group /aws/lambda/${name}`);
    return row(id, title, late ? 'warn' : 'pass', detail);
  });
}

const supervisor = scheduledFunction('supervisor', 'Streaming supervisor', ({ map }) =>
  map.streaming
    ? { fn: map.streaming.supervisorFunction, intervalMinutes: map.streaming.checkIntervalMinutes }
    : 'not deployed here (emr.streamingJobEnabled is false)',
);

const ga4 = scheduledFunction('ga4', 'GA4 ingest', ({ map }) =>
  map.ga4 ? { fn: map.ga4.function, intervalMinutes: map.ga4.scheduleMinutes } : 'not configured (no ga4 in the environment)',
);

/** The newest execution of a state machine. */
function lastExecution(id: string, title: string, pick: (context: OpsContext) => ResourceRef, failedStatus: 'fail' | 'warn', neverRan: string): StatusProbe {
  return statusProbe(id, title, 'states:ListExecutions', async (context, resources) => {
    const arn = resources.get(pick(context)).physicalId;
    const executions = (await context.clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 1 }))).executions ?? [];
    const last = executions[0];
    if (!last) return row(id, title, 'pass', neverRan);
    const age = formatAge(context.now().getTime() - (last.startDate?.getTime() ?? context.now().getTime()));
    const detail = `last run ${last.name} ${last.status}, started ${age} ago${last.stopDate && last.startDate ? `, took ${formatAge(last.stopDate.getTime() - last.startDate.getTime())}` : ''}`;
    if (last.status === 'SUCCEEDED' || last.status === 'RUNNING') return row(id, title, 'pass', detail);
    return row(id, title, failedStatus, detail, `open the execution in the Step Functions console: ${last.executionArn}`);
  });
}

const dailyReport = lastExecution('daily-report', 'Daily report', ({ map }) => map.dailyPipeline, 'fail', 'never ran yet (runs on emr.dailyReportSchedule)');
// A failed replay is one bad file, not a broken platform: a warning with the execution to read.
const replay = lastExecution('replay', 'File replay', ({ map }) => map.replayStateMachine, 'warn', 'no replay yet');

const prometheus = statusProbe(
  'prometheus',
  'Managed Prometheus',
  'aps:DescribeWorkspace, aps:ListRuleGroupsNamespaces, aps:DescribeAlertManagerDefinition and aps:QueryMetrics',
  async ({ map, clients }, resources) => {
    const workspaceId = idFromArn(resources.get(map.prometheusWorkspace).physicalId);
    const workspace = (await clients.amp.send(new DescribeWorkspaceCommand({ workspaceId }))).workspace;
    const state = workspace?.status?.statusCode ?? 'UNKNOWN';
    const namespaces = (await clients.amp.send(new ListRuleGroupsNamespacesCommand({ workspaceId }))).ruleGroupsNamespaces ?? [];
    const activeNamespaces = namespaces.filter((n) => n.status?.statusCode === 'ACTIVE').length;
    const alertManager =
      (await clients.amp.send(new DescribeAlertManagerDefinitionCommand({ workspaceId }))).alertManagerDefinition?.status?.statusCode ?? 'NONE';
    let firing: string[] = [];
    let alertsText = 'alerts not queried (workspace not active)';
    if (state === 'ACTIVE' && workspace?.prometheusEndpoint) {
      const answer = await prometheusGet({
        endpoint: workspace.prometheusEndpoint,
        path: 'api/v1/alerts',
        region: clients.region,
        credentials: clients.credentials,
      });
      if (answer.status === 403)
        throw Object.assign(new Error(`the workspace refused the alerts query (HTTP 403): ${answer.body?.error ?? ''}`), { name: 'AccessDeniedException' });
      if (answer.status !== 200) throw new Error(`alerts query answered HTTP ${answer.status}: ${answer.body?.error ?? ''}`);
      const alerts = ((answer.body?.data as { alerts?: Array<{ state?: string; labels?: Record<string, string> }> })?.alerts ?? []).filter(
        (a) => a.state === 'firing',
      );
      firing = [...new Set(alerts.map((a) => a.labels?.alertname ?? '?'))].sort();
      alertsText = firing.length ? `${alerts.length} alerts firing: ${firing.join(', ')}` : 'no alerts firing';
    }
    const detail = `workspace ${workspaceId} ${state}, ${activeNamespaces}/${map.ruleGroupsNamespaces.length} rule group namespaces ACTIVE, alert manager ${alertManager}, ${alertsText}`;
    if (state !== 'ACTIVE' || alertManager !== 'ACTIVE' || activeNamespaces < map.ruleGroupsNamespaces.length) {
      return row('prometheus', 'Managed Prometheus', 'fail', detail, 'see the workspace in the Amazon Managed Service for Prometheus console');
    }
    return row(
      'prometheus',
      'Managed Prometheus',
      firing.length ? 'fail' : 'pass',
      detail,
      firing.length ? 'open the Grafana dashboards for the firing alerts' : null,
    );
  },
);

const scraper = statusProbe('scraper', 'Prometheus scraper', 'aps:DescribeScraper', async ({ map, clients }, resources) => {
  const scraperId = idFromArn(resources.get(map.scraper).physicalId);
  const s = (await clients.amp.send(new DescribeScraperCommand({ scraperId }))).scraper;
  const state = s?.status?.statusCode ?? 'UNKNOWN';
  const detail = `${scraperId} ${state}${s?.statusReason ? `: ${s.statusReason}` : ''}`;
  return row('scraper', 'Prometheus scraper', state === 'ACTIVE' ? 'pass' : state === 'CREATING' || state === 'UPDATING' ? 'warn' : 'fail', detail);
});

const grafana = statusProbe('grafana', 'Managed Grafana', 'grafana:DescribeWorkspace', async ({ map, clients }, resources) => {
  const workspaceId = idFromArn(resources.get(map.grafanaWorkspace).physicalId);
  const w = (await clients.grafana.send(new DescribeGrafanaWorkspaceCommand({ workspaceId }))).workspace;
  const state = w?.status ?? 'UNKNOWN';
  const detail = `https://${w?.endpoint ?? '?'} ${state}, Grafana ${w?.grafanaVersion ?? '?'}`;
  return row('grafana', 'Managed Grafana', state === 'ACTIVE' ? 'pass' : state === 'UPDATING' || state === 'UPGRADING' ? 'warn' : 'fail', detail);
});

const alarms = statusProbe('alarms', 'CloudWatch alarms', 'cloudwatch:DescribeAlarms', async ({ map, clients }, resources) => {
  const names = map.alarms.map((a) => resources.find(a)?.physicalId).filter((n): n is string => n !== undefined);
  const inAlarm: string[] = [];
  let seen = 0;
  for (let i = 0; i < names.length; i += 100) {
    const answer = await clients.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
    );
    for (const a of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) {
      seen += 1;
      if (a.StateValue === 'ALARM' && a.AlarmName) inAlarm.push(a.AlarmName);
    }
  }
  const detail = inAlarm.length ? `${inAlarm.length} of ${seen} in ALARM: ${inAlarm.sort().join(', ')}` : `${seen} alarms, none in ALARM`;
  return row(
    'alarms',
    'CloudWatch alarms',
    inAlarm.length ? 'fail' : 'pass',
    detail,
    inAlarm.length ? 'each alarm names its metric; the dashboards show the context' : null,
  );
});

/** The rows of `status`, in table order. */
export const STATUS_PROBES: readonly StatusProbe[] = [msk, topics, flink, emr, supervisor, dailyReport, replay, ga4, prometheus, scraper, grafana, alarms];
