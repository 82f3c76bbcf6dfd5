import { Stack, type CfnElement } from 'aws-cdk-lib';
import { parse } from 'yaml';
import type { LakestreamStage } from '../../lib/app/lakestream-stage';
import { ENVIRONMENTS, type EnvironmentEntry } from '../../lib/config/environments';
import { DATASOURCE_UIDS, GRAFANA_BUILTIN_VARIABLES, promqlMetricNames, referencedVariables } from '../../lib/constructs/monitoring/dashboard-files';
import { DEFAULT_RULE_THRESHOLDS, RULES_DIR, loadRuleFiles } from '../../lib/constructs/monitoring/rule-files';
import { AWS_SERVICE_METRICS, EMF_EMITTERS, FLINK_METRICS, MSK_EXPORTER_SERIES, emfDimensions, type EmfEmitter } from '../../lib/contracts/metrics';
import { applyDashboardVariables } from '../../lib/functions/grafana-provisioner/properties';
import { synthApp, type SynthResult } from '../helpers/synth';

/**
 * One source of truth, tested: every dashboard as the provisioner pushes it, every CloudWatch alarm
 * and every Prometheus rule of every environment must name a series that something in that
 * environment really publishes. Emitters: the EMF functions of the metric contract, configured as
 * the templates configure them; the documented AWS metrics of the resources the templates create;
 * the MSK exporter series and the recording rules. CloudFormation values are evaluated symbolically
 * (a Ref is `<stack>:<logicalId>` wherever it is read, imports resolved through the exporting stack),
 * so a panel and its emitter agree only if they name the same resource.
 */

/**
 * The real environments, one with every optional part deployed so that every panel is checked with
 * data, and one that turned Flink and the Spark streaming job off.
 */
const TABLE: Record<string, EnvironmentEntry> = {
  ...ENVIRONMENTS,
  lean: { tier: 'dev', overrides: { flink: { enabled: false }, emr: { streamingJobEnabled: false } } },
  full: {
    tier: 'dev',
    overrides: {
      ga4: {
        propertyId: '123456789',
        credentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf',
        scheduleMinutes: 15,
        loginEventName: 'login',
        userIdDimension: 'customEvent:login_user_id',
      },
    },
  },
};
const REAL = Object.keys(ENVIRONMENTS);

type Json = Record<string, unknown>;
interface StackTemplate {
  readonly name: string;
  readonly template: {
    Resources: Record<string, { Type: string; Properties?: Json }>;
    Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  };
}

/** Evaluates CloudFormation values of one stage to strings. */
class Evaluator {
  private readonly exports = new Map<string, { stack: StackTemplate; value: unknown }>();
  constructor(readonly stacks: StackTemplate[]) {
    for (const stack of stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export) this.exports.set(this.eval(output.Export.Name, stack), { stack, value: output.Value });
      }
    }
  }
  eval(value: unknown, stack: StackTemplate): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    const node = value as Json;
    if (node.Ref !== undefined) {
      const ref = String(node.Ref);
      const pseudo: Record<string, string> = {
        'AWS::Region': 'eu-west-1',
        'AWS::AccountId': '111111111111',
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[ref] ?? `${stack.name}:${ref}`;
    }
    if (node['Fn::GetAtt']) return `${stack.name}:${(node['Fn::GetAtt'] as string[]).join('.')}`;
    if (node['Fn::Join']) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map((item) => this.eval(item, stack)).join(delimiter);
    }
    if (node['Fn::ImportValue'] !== undefined) {
      const name = this.eval(node['Fn::ImportValue'], stack);
      const found = this.exports.get(name);
      if (!found) throw new Error(`no export ${name}`);
      return this.eval(found.value, found.stack);
    }
    if (node['Fn::Select'] !== undefined) {
      const [index, list] = node['Fn::Select'] as [number, unknown];
      const split = (list as Json)['Fn::Split'] as [string, unknown] | undefined;
      if (split) return this.eval(split[1], stack).split(split[0])[Number(index)] ?? '';
      return this.eval((list as unknown[])[Number(index)], stack);
    }
    throw new Error(`cannot evaluate ${JSON.stringify(value).slice(0, 200)}`);
  }
  resources(type: string): Array<{ stack: StackTemplate; id: string; props: Json }> {
    return this.stacks.flatMap((stack) =>
      Object.entries(stack.template.Resources)
        .filter(([, r]) => r.Type === type)
        .map(([id, r]) => ({ stack, id, props: r.Properties ?? {} })),
    );
  }
}

const seriesKey = (namespace: string, metric: string, dimensions: Record<string, string>) =>
  `${namespace} ${metric} ${JSON.stringify(Object.fromEntries(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b))))}`;

interface Environment {
  readonly name: string;
  readonly stage: LakestreamStage;
  readonly evaluator: Evaluator;
  /** Every CloudWatch series something in this environment publishes. */
  readonly cloudWatch: Set<string>;
  /** Prometheus series: exporter series and recording rules of the rules this environment should load. */
  readonly prometheus: Set<string>;
  /** Consumer groups that commit offsets to Kafka (MSK publishes lag only for those). */
  readonly consumerGroups: Set<string>;
  /** Glue tables, `database.table`. */
  readonly tables: Set<string>;
}

function environmentOf(stage: LakestreamStage): Environment {
  const assembly = stage.synth();
  const stacks = stage.node.children.filter((c): c is Stack => Stack.isStack(c));
  const templates: StackTemplate[] = stacks.map((stack) => ({ name: stack.stackName, template: assembly.getStackArtifact(stack.artifactId).template }));
  const evaluator = new Evaluator(templates);
  const cloudWatch = new Set<string>();
  for (const service of AWS_SERVICE_METRICS) {
    const [type, dimensionValue] = {
      'AWS/KinesisAnalytics': [
        'AWS::KinesisAnalyticsV2::Application',
        (r: { stack: StackTemplate; id: string; props: Json }) => evaluator.eval(r.props.ApplicationName ?? { Ref: r.id }, r.stack),
      ],
      'AWS/EMRServerless': [
        'AWS::EMRServerless::Application',
        (r: { stack: StackTemplate; id: string }) => evaluator.eval({ 'Fn::GetAtt': [r.id, 'ApplicationId'] }, r.stack),
      ],
      'AWS/Lambda': ['AWS::Lambda::Function', (r: { stack: StackTemplate; id: string }) => evaluator.eval({ Ref: r.id }, r.stack)],
      'AWS/States': ['AWS::StepFunctions::StateMachine', (r: { stack: StackTemplate; id: string }) => evaluator.eval({ Ref: r.id }, r.stack)],
      'AWS/SQS': ['AWS::SQS::Queue', (r: { stack: StackTemplate; id: string }) => evaluator.eval({ 'Fn::GetAtt': [r.id, 'QueueName'] }, r.stack)],
    }[service.namespace] as [string, (r: { stack: StackTemplate; id: string; props: Json }) => string];
    for (const resource of evaluator.resources(type)) {
      if (service === FLINK_METRICS) {
        // The contract lists APPLICATION-level metrics: a lower level would publish them under other dimension sets.
        const level = (
          resource.props as { ApplicationConfiguration?: { FlinkApplicationConfiguration?: { MonitoringConfiguration?: { MetricsLevel?: string } } } }
        ).ApplicationConfiguration?.FlinkApplicationConfiguration?.MonitoringConfiguration?.MetricsLevel;
        expect({ application: resource.id, level }).toEqual({ application: resource.id, level: 'APPLICATION' });
      }
      for (const metric of service.metrics) cloudWatch.add(seriesKey(service.namespace, metric, { [service.dimensions[0]]: dimensionValue(resource) }));
    }
  }
  // EMF emitters, configured as the templates configure their functions.
  const logicalOf = (fn: { node: { defaultChild?: unknown } }) => {
    const element = fn.node.defaultChild as CfnElement;
    const stack = templates.find((t) => t.name === Stack.of(element).stackName)!;
    const id = Stack.of(element).getLogicalId(element);
    const props = stack.template.Resources[id].Properties as { Environment?: { Variables?: Record<string, unknown> } };
    const env = (name: string) => evaluator.eval(props.Environment?.Variables?.[name], stack);
    return { name: evaluator.eval({ Ref: id }, stack), env };
  };
  const emit = (emitter: EmfEmitter, namespace: string, values: Record<string, string>) => {
    for (const metric of Object.values(emitter.metrics)) cloudWatch.add(seriesKey(namespace, metric, emfDimensions(emitter, values)));
  };
  const replay = stage.streaming.fileReplay;
  for (const fn of [replay.workerFunction.function, replay.summaryFunction.function]) {
    emit(EMF_EMITTERS['file-replay'], EMF_EMITTERS['file-replay'].namespace, { service: logicalOf(fn).env('POWERTOOLS_SERVICE_NAME') });
  }
  if (stage.streaming.ga4)
    emit(EMF_EMITTERS['ga4-ingest'], EMF_EMITTERS['ga4-ingest'].namespace, { FunctionName: logicalOf(stage.streaming.ga4.function).name });
  if (stage.processing.supervisor) {
    const fn = logicalOf(stage.processing.supervisor.function.function);
    emit(EMF_EMITTERS['streaming-job-supervisor'], fn.env('METRICS_NAMESPACE'), { JobName: fn.env('JOB_NAME') });
  }

  const rules = loadRuleFiles(DEFAULT_RULE_THRESHOLDS, RULES_DIR, {
    metadataMode: stage.data.kafka.kraft ? 'kraft' : 'zookeeper',
    components: { flink: stage.processing.flink !== undefined },
  });
  const records = rules.flatMap((file) => (parse(file.content) as RuleDoc).groups.flatMap((g) => g.rules)).flatMap((r) => (r.record ? [r.record] : []));
  const consumerGroups = new Set<string>();
  for (const app of evaluator.resources('AWS::KinesisAnalyticsV2::Application')) {
    const groups =
      ((app.props.ApplicationConfiguration as Json)?.EnvironmentProperties as { PropertyGroups?: Array<{ PropertyMap: Record<string, unknown> }> })
        ?.PropertyGroups ?? [];
    for (const group of groups)
      if (group.PropertyMap['consumer.group.id']) consumerGroups.add(evaluator.eval(group.PropertyMap['consumer.group.id'], app.stack));
  }
  const tables = new Set(
    evaluator
      .resources('AWS::Glue::Table')
      .map((t) => `${evaluator.eval(t.props.DatabaseName, t.stack)}.${evaluator.eval((t.props.TableInput as Json).Name, t.stack)}`),
  );
  return {
    name: stage.stageName,
    stage,
    evaluator,
    cloudWatch,
    prometheus: new Set([
      ...Object.entries(MSK_EXPORTER_SERIES)
        .filter(([, series]) => stage.data.kafka.kraft !== true || series.zookeeperOnly !== true)
        .map(([name]) => name),
      ...records,
    ]),
    consumerGroups,
    tables,
  };
}

interface RuleDoc {
  groups: Array<{ rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}
interface Target {
  refId: string;
  datasource: { uid: string };
  expr?: string;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  rawSQL?: string;
}
interface PushedPanel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  options?: { content?: string };
}
interface PushedDashboard {
  uid: string;
  panels: PushedPanel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown; current?: { value?: string } }> };
}

/** The dashboards exactly as the provisioner pushes them: the template's properties, variables applied by the handler's own code. */
function pushedDashboards(env: Environment): PushedDashboard[] {
  const [provisioner] = env.evaluator.resources('Custom::GrafanaProvisioner');
  const dashboards = JSON.parse(env.evaluator.eval(provisioner.props.Dashboards, provisioner.stack)) as Array<{ json: string }>;
  const variables = JSON.parse(env.evaluator.eval(provisioner.props.DashboardVariables, provisioner.stack)) as Record<string, string>;
  return dashboards.map((d) => applyDashboardVariables(JSON.parse(d.json) as Record<string, unknown>, variables) as unknown as PushedDashboard);
}

/** Replaces `$name` / `${name}` by the value the pushed dashboard gives the variable; Grafana's built-ins and query variables stay. */
function interpolate(text: string, dashboard: PushedDashboard): string {
  const values = new Map(dashboard.templating.list.filter((v) => v.type !== 'query').map((v) => [v.name, v.current?.value ?? '']));
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => values.get((braced ?? bare)!) ?? whole);
}

let result: SynthResult;
let environments: Environment[];
beforeAll(() => {
  result = synthApp({ env: 'all', environments: TABLE });
  environments = result.stages.map((stage) => environmentOf(stage));
});

const counts = { panels: 0, textPanels: 0, targets: 0, alarms: 0, rules: 0 };
afterAll(() => {
  console.log(
    `metric sources checked: ${counts.panels} panels (${counts.textPanels} shown as "not deployed"), ${counts.targets} queries, ${counts.alarms} alarms, ${counts.rules} rules`,
  );
});

describe('metric sources', () => {
  it('synthesizes the real environments, the lean and the full variants', () => {
    expect(environments.map((e) => e.name)).toEqual([...REAL, 'lean', 'full']);
    const full = environments.find((e) => e.name === 'full')!;
    expect(full.stage.processing.flink).toBeDefined();
    expect(full.stage.processing.supervisor).toBeDefined();
    expect(full.stage.streaming.ga4).toBeDefined();
  });

  it('every query of every pushed dashboard resolves all variables and names a series that is published', () => {
    const problems: string[] = [];
    for (const env of environments) {
      for (const dashboard of pushedDashboards(env)) {
        const queryVariables = new Map(dashboard.templating.list.filter((v) => v.type === 'query').map((v) => [v.name, JSON.stringify(v.query)]));
        for (const [name, query] of queryVariables) {
          // label_values(<selector>, <label>): only the selector names a series.
          const selector = String(JSON.parse(query).query ?? '').replace(/^label_values\((.*),\s*\w+\)$/, '$1');
          for (const metric of promqlMetricNames(selector)) {
            if (!env.prometheus.has(metric)) problems.push(`${env.name} ${dashboard.uid} variable ${name}: ${metric} is not published`);
          }
        }
        for (const panel of dashboard.panels) {
          counts.panels += 1;
          const where = `${env.name} ${dashboard.uid} panel ${panel.id} "${panel.title}"`;
          if (panel.type === 'text') {
            counts.textPanels += 1;
            if (!/not deployed/.test(panel.options?.content ?? '')) problems.push(`${where}: text panel without an explanation`);
            continue;
          }
          for (const target of panel.targets ?? []) {
            counts.targets += 1;
            const resolved = JSON.parse(interpolate(JSON.stringify(target), dashboard)) as Target;
            const left = referencedVariables(resolved).filter((name) => !GRAFANA_BUILTIN_VARIABLES.has(name) && !queryVariables.has(name));
            if (left.length > 0) problems.push(`${where}: unresolved ${left.map((n) => `$${n}`).join(', ')}`);
            const values = [
              ...Object.values(resolved.dimensions ?? {}),
              ...(resolved.expr === undefined ? [] : [resolved.expr]),
              ...(resolved.rawSQL === undefined ? [] : [resolved.rawSQL]),
            ];
            if (values.some((value) => value.trim() === '' || /(?<![!~])=""/.test(value))) problems.push(`${where}: an empty value`);
            if (resolved.datasource.uid === DATASOURCE_UIDS.cloudwatch) {
              const key = seriesKey(resolved.namespace ?? '', resolved.metricName ?? '', resolved.dimensions ?? {});
              if (!env.cloudWatch.has(key)) problems.push(`${where}: nothing publishes ${key}`);
            } else if (resolved.datasource.uid === DATASOURCE_UIDS.prometheus) {
              for (const metric of promqlMetricNames(resolved.expr ?? ''))
                if (!env.prometheus.has(metric)) problems.push(`${where}: nothing publishes ${metric}`);
              for (const m of (resolved.expr ?? '').matchAll(/groupId="([^"]+)"/g)) {
                if (!env.consumerGroups.has(m[1])) problems.push(`${where}: no deployed consumer commits offsets as group ${m[1]}`);
              }
            } else if (resolved.datasource.uid === DATASOURCE_UIDS.athena) {
              for (const m of (resolved.rawSQL ?? '').matchAll(/FROM\s+"?([A-Za-z0-9_]+)"?\."?([A-Za-z0-9_]+)"?/gi)) {
                if (!env.tables.has(`${m[1]}.${m[2]}`)) problems.push(`${where}: no Glue table ${m[1]}.${m[2]}`);
              }
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('where an optional part is absent its panels say so, and where it is present they query it', () => {
    const texts = (env: Environment) => pushedDashboards(env).flatMap((d) => d.panels.filter((p) => p.type === 'text').map((p) => `${d.uid}/${p.id}`));
    const full = environments.find((e) => e.name === 'full')!;
    expect(texts(full)).toEqual([]);
    const speedLayerPanels = ['lakestream-flink/1', 'lakestream-flink/9', 'lakestream-overview/5', 'lakestream-overview/6', 'lakestream-spark/5'];
    for (const env of environments.filter((e) => REAL.includes(e.name))) {
      // Every real environment runs Flink and the Spark streaming job by default; none configures GA4.
      expect({ env: env.name, flink: env.stage.processing.flink !== undefined, streaming: env.stage.processing.supervisor !== undefined }).toEqual({
        env: env.name,
        flink: true,
        streaming: true,
      });
      expect(texts(env).filter((id) => speedLayerPanels.includes(id))).toEqual([]);
      const ingestion = pushedDashboards(env).find((d) => d.uid === 'lakestream-ingestion')!;
      // The Lambda panel keeps its file-replay queries and drops the GA4 ones.
      const lambdaPanel = ingestion.panels.find((p) => p.id === 6)!;
      expect(lambdaPanel.targets!.map((t) => interpolate(t.dimensions?.FunctionName ?? '', ingestion))).toEqual([
        expect.stringMatching(/-streaming:FileReplayWorker/),
        expect.stringMatching(/-streaming:FileReplayWorker/),
      ]);
    }
    const lean = environments.find((e) => e.name === 'lean')!;
    expect(lean.stage.processing.flink).toBeUndefined();
    expect(texts(lean)).toEqual(expect.arrayContaining(speedLayerPanels));
  });

  it('every CloudWatch alarm of every environment watches a series that is published', () => {
    const problems: string[] = [];
    for (const env of environments) {
      for (const alarm of env.evaluator.resources('AWS::CloudWatch::Alarm')) {
        counts.alarms += 1;
        const p = alarm.props as {
          Namespace?: string;
          MetricName?: string;
          Dimensions?: Array<{ Name: string; Value: unknown }>;
          Metrics?: Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> } } }>;
        };
        const metrics = p.MetricName
          ? [{ Namespace: p.Namespace!, MetricName: p.MetricName, Dimensions: p.Dimensions }]
          : (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
        expect(metrics.length).toBeGreaterThan(0);
        for (const metric of metrics) {
          const dims = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, env.evaluator.eval(d.Value, alarm.stack)]));
          const key = seriesKey(metric.Namespace, metric.MetricName, dims);
          if (!env.cloudWatch.has(key)) problems.push(`${env.name} ${alarm.stack.name}/${alarm.id}: nothing publishes ${key}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every rule the workspace loads reads published series and only consumer groups that are deployed', () => {
    const problems: string[] = [];
    for (const env of environments) {
      const namespaces = env.evaluator.resources('AWS::APS::RuleGroupsNamespace');
      expect(namespaces.length).toBeGreaterThan(0);
      for (const namespace of namespaces) {
        const doc = parse(env.evaluator.eval(namespace.props.Data, namespace.stack)) as RuleDoc;
        for (const rule of doc.groups.flatMap((g) => g.rules)) {
          counts.rules += 1;
          const where = `${env.name} ${String(namespace.props.Name)} ${rule.alert ?? rule.record}`;
          for (const metric of promqlMetricNames(rule.expr)) if (!env.prometheus.has(metric)) problems.push(`${where}: nothing publishes ${metric}`);
          for (const m of rule.expr.matchAll(/groupId="([^"]+)"/g)) {
            if (!env.consumerGroups.has(m[1])) problems.push(`${where}: no deployed consumer commits offsets as group ${m[1]}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
