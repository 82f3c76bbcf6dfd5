import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  DATASOURCE_UIDS,
  DEFAULT_DASHBOARDS_DIR,
  grafanaDashboardSchema,
  loadDashboards,
  promqlMetricNames,
  structuralProblems,
  type GrafanaDashboard,
} from '../../lib/constructs/monitoring/dashboard-files';
import { GOLD_REPORT_COLUMNS } from '../../lib/constructs/lake/lake-tables';
import { SERVING_VIEWS } from '../../lib/constructs/lake/serving-views';
import { SUPERVISOR_METRICS } from '../../lib/constructs/spark/streaming-job-supervisor';
import { AWS_SERVICE_METRICS, EMF_EMITTERS, LAKESTREAM_NAMESPACE } from '../../lib/contracts/metrics';

const ROOT = path.join(__dirname, '..', '..');
/** The JobName dimension comes from the stack (the supervised job's run name), through this variable. */
const STREAMING_JOB_NAME = '$streaming_job_name';
const RULES_DIR = path.join(ROOT, 'dashboards', 'rules');

/** Series the MSK open-monitoring exporters publish that the rule files do not already use. */
const MSK_EXPORTER_METRICS = ['kafka_server_BrokerTopicMetrics_OneMinuteRate', 'node_network_receive_bytes_total', 'node_network_transmit_bytes_total'];

/** Metric names of the rule files: recorded series and every series their expressions select. */
function ruleFileMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of fs.readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(fs.readFileSync(path.join(RULES_DIR, file), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string; expr: string }> }> };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      if (rule.record) names.add(rule.record);
      for (const name of promqlMetricNames(rule.expr.replace(/\$\{[A-Z_]+\}/g, '0'))) names.add(name);
    }
  }
  return names;
}

/** Metric names per namespace from the metric contract (the emitters import the same definitions). */
const CLOUDWATCH_METRICS: Record<string, Set<string>> = {
  ...Object.fromEntries(AWS_SERVICE_METRICS.map((service) => [service.namespace, new Set<string>(service.metrics)])),
  [LAKESTREAM_NAMESPACE]: new Set(Object.values(EMF_EMITTERS).flatMap((emitter) => Object.values(emitter.metrics) as string[])),
};

const dashboards = loadDashboards();
const models = dashboards.map((d) => ({ file: d.file, model: grafanaDashboardSchema.parse(JSON.parse(d.json)) }));
const targetsOf = (model: GrafanaDashboard) => model.panels.flatMap((p) => p.targets.map((t) => ({ panel: p, target: t })));

describe('dashboards/grafana', () => {
  it('holds the seven platform dashboards with unique uids and titles', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual([
      'lakestream-business',
      'lakestream-flink',
      'lakestream-ingestion',
      'lakestream-kafka',
      'lakestream-live-logins',
      'lakestream-overview',
      'lakestream-spark',
    ]);
    expect(new Set(dashboards.map((d) => d.title)).size).toBe(dashboards.length);
  });

  it.each(models.map((m) => [m.file, m.model] as const))('%s has unique panel ids, a valid grid and only known data sources', (_file, model) => {
    expect(structuralProblems(model)).toEqual([]);
    expect(model.schemaVersion).toBeGreaterThanOrEqual(39);
  });

  it('Prometheus queries select only series from the rule files or the MSK exporters', () => {
    const allowed = new Set([...ruleFileMetricNames(), ...MSK_EXPORTER_METRICS]);
    expect(allowed).toContain('kafka_consumer_group_ConsumerLagMetrics_Value');
    const unknown: string[] = [];
    for (const { model } of models) {
      for (const { panel, target } of targetsOf(model).filter((t) => t.target.datasource.uid === DATASOURCE_UIDS.prometheus)) {
        expect(target.expr).toEqual(expect.any(String));
        const names = promqlMetricNames(target.expr ?? '');
        expect(names.length).toBeGreaterThan(0);
        unknown.push(...names.filter((n) => !allowed.has(n)).map((n) => `${model.uid} "${panel.title}": ${n}`));
      }
    }
    expect(unknown).toEqual([]);
  });

  it('CloudWatch queries use known namespaces and metrics (Lakestream metrics are the ones the functions emit)', () => {
    const unknown: string[] = [];
    for (const { model } of models) {
      for (const { panel, target } of targetsOf(model).filter((t) => t.target.datasource.uid === DATASOURCE_UIDS.cloudwatch)) {
        const known = CLOUDWATCH_METRICS[target.namespace ?? ''];
        if (!known?.has(target.metricName ?? '')) unknown.push(`${model.uid} "${panel.title}": ${target.namespace}/${target.metricName}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('show Spark streaming health from the supervisor metrics with the dimensions it publishes, not from a Kafka consumer group', () => {
    const supervisorMetricNames = new Set<string>([SUPERVISOR_METRICS.active, SUPERVISOR_METRICS.restarts, SUPERVISOR_METRICS.consecutiveFailures]);
    const supervisorTargets = models.flatMap(({ model }) =>
      targetsOf(model).filter((t) => t.target.namespace === SUPERVISOR_METRICS.namespace && supervisorMetricNames.has(t.target.metricName ?? '')),
    );
    expect(new Set(supervisorTargets.map((t) => t.target.metricName))).toEqual(supervisorMetricNames);
    for (const { target } of supervisorTargets) {
      expect(target.dimensions).toEqual({ service: SUPERVISOR_METRICS.service, JobName: STREAMING_JOB_NAME });
    }
    // Structured Streaming commits no offsets to Kafka: MSK publishes no lag for a Spark group.
    expect(dashboards.map((d) => d.json).join('\n')).not.toMatch(/groupId[^,}]*spark/i);
  });

  it('Athena queries read gold tables through the $database variable', () => {
    const business = models.find((m) => m.model.uid === 'lakestream-business')!.model;
    expect(business.templating.list.map((v) => v.name)).toContain('database');
    const sql = targetsOf(business).map((t) => t.target.rawSQL ?? '');
    expect(sql.length).toBeGreaterThan(0);
    for (const query of sql) expect(query).toMatch(/FROM "\$database"\.(daily_active_users|login_trends|top_users)\b/);
    expect(sql.some((q) => q.includes('$__dateFilter(report_day)'))).toBe(true);
  });

  it('Athena queries name only tables and views of the gold database ($database): gold reports and serving views', () => {
    const known = new Set([...Object.keys(GOLD_REPORT_COLUMNS), ...SERVING_VIEWS.map((v) => v.name)]);
    const problems: string[] = [];
    for (const { model } of models) {
      for (const { panel, target } of targetsOf(model).filter((t) => t.target.datasource.uid === DATASOURCE_UIDS.athena)) {
        const sql = target.rawSQL ?? '';
        const relations = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([^\s(),]+)/gi)].map((m) => m[1]!);
        if (relations.length === 0) problems.push(`${model.uid} "${panel.title}": no FROM`);
        for (const relation of relations) {
          const name = /^"\$database"\.(\w+)$/.exec(relation)?.[1];
          if (!name || !known.has(name)) problems.push(`${model.uid} "${panel.title}": ${relation}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the live logins dashboard refreshes every minute and shows logins today, top users and logins per minute from the serving views', () => {
    const live = models.find((m) => m.model.uid === 'lakestream-live-logins')!.model as GrafanaDashboard & { refresh: string };
    const refresh = /^(\d+)([sm])$/.exec(live.refresh);
    expect(refresh).not.toBeNull();
    expect(Number(refresh![1]) * (refresh![2] === 'm' ? 60 : 1)).toBeLessThanOrEqual(60);
    const sqlOf = (title: string) => targetsOf(live).find((t) => t.panel.title === title)!.target.rawSQL ?? '';
    const today = "login_date = CAST(CAST(current_timestamp AT TIME ZONE 'UTC' AS date) AS varchar)";
    expect(sqlOf('Logins today (UTC)')).toContain('"$database".serving_logins_per_user_per_day');
    expect(sqlOf('Logins today (UTC)')).toContain(today);
    expect(sqlOf('Top users today')).toMatch(/serving_logins_per_user_per_day[\s\S]*ORDER BY logins DESC[\s\S]*LIMIT \d+/);
    expect(sqlOf('Top users today')).toContain(today);
    expect(sqlOf('Logins per minute')).toMatch(/speed_login_counts[\s\S]*\$__timeFilter\(window_start\)/);
    expect(live.templating.list.map((v) => v.name)).toEqual(['database']);
  });

  it('every dashboard variable a query uses is defined', () => {
    for (const { model } of models) {
      const defined = new Set(['__rate_interval', '__interval', '__dateFilter', '__timeFilter', ...model.templating.list.map((v) => v.name)]);
      const used = JSON.stringify(model.panels).match(/\$(\w+)/g) ?? [];
      expect(used.map((u) => u.slice(1)).filter((u) => !defined.has(u))).toEqual([]);
    }
  });
});

describe('dashboard validation', () => {
  const valid = JSON.parse(dashboards[0].json) as Record<string, unknown> & { panels: Array<Record<string, unknown>> };

  it('extracts metric names, not functions, labels or keywords', () => {
    expect(promqlMetricNames('sum by (cluster) (rate(node_cpu_seconds_total{mode="idle", job=~"a|b"}[5m])) / on(cluster) up offset 5m')).toEqual([
      'node_cpu_seconds_total',
      'up',
    ]);
    expect(promqlMetricNames('1 - avg(x:y:z > bool 0)')).toEqual(['x:y:z']);
  });

  it('rejects an unknown data source, duplicate panel ids and overlapping panels', () => {
    const broken = grafanaDashboardSchema.parse({
      ...valid,
      panels: [
        { ...valid.panels[0], id: 1, datasource: { type: 'prometheus', uid: 'someone-elses' } },
        { ...valid.panels[1], id: 1, gridPos: (valid.panels[0] as { gridPos: unknown }).gridPos },
      ],
    });
    const problems = structuralProblems(broken).join('\n');
    expect(problems).toMatch(/unknown data source uid someone-elses/);
    expect(problems).toMatch(/panel ids are not unique/);
    expect(problems).toMatch(/overlaps another panel/);
  });

  it('rejects an old schemaVersion and a uid outside the lakestream- namespace', () => {
    expect(grafanaDashboardSchema.safeParse({ ...valid, schemaVersion: 16 }).success).toBe(false);
    expect(grafanaDashboardSchema.safeParse({ ...valid, uid: 'overview' }).success).toBe(false);
  });

  it('loads each dashboard with a content hash that tracks its JSON', () => {
    for (const d of dashboards) expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(dashboards.map((d) => d.sha256)).size).toBe(dashboards.length);
    expect(path.resolve(DEFAULT_DASHBOARDS_DIR)).toBe(path.join(ROOT, 'dashboards', 'grafana'));
  });
});

describe('per-user panels and gdpr.dashboardUserIdentity', () => {
  const env = { provided: [] as string[], unavailable: {} };
  const perUser = (files: ReturnType<typeof loadDashboards>) => files.filter((d) => d.json.includes('user_'));
  const allProvided = (dir?: string) => {
    const names = new Set<string>();
    for (const d of loadDashboards(dir)) {
      const model = JSON.parse(d.json) as { templating: { list: Array<{ name: string; type: string }> } };
      for (const v of model.templating.list) if (v.type === 'textbox' || v.type === 'constant') names.add(v.name);
    }
    return [...names];
  };

  test('the committed dashboards have per-user panels (top users, live logins)', () => {
    expect(perUser(loadDashboards()).map((d) => d.uid)).toEqual(expect.arrayContaining(['lakestream-business', 'lakestream-live-logins']));
  });

  test('pseudonymous: every user_id becomes user_ref, which the views and per-user gold tables define', () => {
    const provided = allProvided();
    const dashboards = loadDashboards(undefined, { ...env, provided, userColumn: 'user_ref' });
    for (const d of dashboards) expect(d.json).not.toMatch(/\buser_id\b/);
    expect(dashboards.filter((d) => d.json.includes('user_ref')).length).toBeGreaterThanOrEqual(2);
    expect(GOLD_REPORT_COLUMNS.top_users!.map((c) => c.name)).toContain('user_ref');
  });

  test('plain: the dashboards are pushed as committed', () => {
    const provided = allProvided();
    const plain = loadDashboards(undefined, { ...env, provided, userColumn: 'user_id' });
    const unchanged = loadDashboards(undefined, { ...env, provided });
    expect(plain.map((d) => d.sha256)).toEqual(unchanged.map((d) => d.sha256));
    expect(plain.some((d) => /\buser_id\b/.test(d.json))).toBe(true);
  });
});
