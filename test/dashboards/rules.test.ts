import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { parse } from 'yaml';
import { renderScrapeConfiguration } from '../../lib/constructs/monitoring/prometheus-monitoring';
import {
  ALL_COMPONENTS,
  DEFAULT_RULE_THRESHOLDS,
  DeployedComponents,
  RULES_DIR,
  RuleThresholds,
  loadRuleFiles,
  placeholderName,
  renderAlertManagerDefinition,
  renderPlaceholders,
  thresholdPlaceholders,
} from '../../lib/constructs/monitoring/rule-files';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFileDoc {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertRuleTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}
interface TestFileDoc {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: AlertRuleTest[] }>;
}

const TESTS_DIR = path.join(RULES_DIR, 'tests');
const SEVERITIES = ['critical', 'warning'];

/**
 * The rule files rendered with `thresholds` for `components` next to a copy of the unit tests whose
 * rule files are all rendered, as promtool expects them.
 */
function renderToTempDir(
  thresholds: RuleThresholds,
  components: DeployedComponents = ALL_COMPONENTS,
): { dir: string; ruleFiles: string[]; testFiles: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-rules-'));
  fs.mkdirSync(path.join(dir, 'tests'));
  const rendered = loadRuleFiles(thresholds, RULES_DIR, { components });
  const ruleFiles = rendered.map((file) => {
    const target = path.join(dir, `${file.name}.yml`);
    fs.writeFileSync(target, file.content);
    return target;
  });
  const names = new Set(rendered.map((file) => file.name));
  const runnable = (name: string) =>
    (parse(fs.readFileSync(path.join(TESTS_DIR, name), 'utf8')) as TestFileDoc).rule_files.every((file) => names.has(path.basename(file, '.yml')));
  const testFiles = testFileNames()
    .filter(runnable)
    .map((name) => {
      const target = path.join(dir, 'tests', name);
      fs.copyFileSync(path.join(TESTS_DIR, name), target);
      return target;
    });
  return { dir, ruleFiles, testFiles };
}

function testFileNames(): string[] {
  return fs
    .readdirSync(TESTS_DIR)
    .filter((name) => name.endsWith('.yml'))
    .sort();
}

function findOnPath(command: string): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(folder, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function runPromtool(promtool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtool, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const renderedRules = loadRuleFiles(DEFAULT_RULE_THRESHOLDS).map((file) => ({ ...file, doc: parse(file.content) as RuleFileDoc }));
const allRules = renderedRules.flatMap((file) => file.doc.groups.flatMap((group) => group.rules));
const alerts = allRules.filter((rule) => rule.alert !== undefined);
const testDocs = testFileNames().map((name) => ({ name, doc: parse(fs.readFileSync(path.join(TESTS_DIR, name), 'utf8')) as TestFileDoc }));

describe('rule file rendering', () => {
  it('names placeholders after the threshold fields', () => {
    expect(placeholderName('brokerDiskUsedRatio')).toBe('BROKER_DISK_USED_RATIO');
    expect(Object.keys(thresholdPlaceholders(DEFAULT_RULE_THRESHOLDS)).sort()).toEqual([
      'BROKER_CPU_UTILISATION_RATIO',
      'BROKER_DISK_USED_RATIO',
      'FETCH_CONSUMER_LATENCY_MS',
      'FLINK_CONSUMER_LAG_MESSAGES',
      'PRODUCE_LATENCY_MS',
    ]);
  });

  it('fills every placeholder and uses each threshold in some rule', () => {
    const thresholds: RuleThresholds = {
      brokerDiskUsedRatio: 0.91,
      brokerCpuUtilisationRatio: 0.72,
      produceLatencyMs: 333,
      fetchConsumerLatencyMs: 2222,
      flinkConsumerLagMessages: 12345,
    };
    const exprs = loadRuleFiles(thresholds)
      .flatMap((file) => (parse(file.content) as RuleFileDoc).groups.flatMap((group) => group.rules))
      .map((rule) => rule.expr)
      .join('\n');
    for (const value of Object.values(thresholds)) expect(exprs).toContain(`> ${value}`);
    for (const file of loadRuleFiles(thresholds)) expect(file.content).not.toMatch(/\$\{[A-Z]/);
  });

  it('rejects thresholds outside their range, naming the field and the value', () => {
    expect(() => thresholdPlaceholders({ ...DEFAULT_RULE_THRESHOLDS, brokerDiskUsedRatio: 85 })).toThrow(
      'brokerDiskUsedRatio=85: must be at most 1 (a share, not a percentage)',
    );
    expect(() => thresholdPlaceholders({ ...DEFAULT_RULE_THRESHOLDS, produceLatencyMs: 0 })).toThrow('produceLatencyMs=0: must be greater than 0');
    expect(() => thresholdPlaceholders({ ...DEFAULT_RULE_THRESHOLDS, flinkConsumerLagMessages: Number.NaN })).toThrow('flinkConsumerLagMessages=null');
    expect(() => thresholdPlaceholders({ ...DEFAULT_RULE_THRESHOLDS, extra: 1 } as RuleThresholds)).toThrow('Invalid Prometheus rule thresholds');
    // The Spark lag threshold was removed with its alert; a leftover one fails instead of being ignored.
    expect(() => thresholdPlaceholders({ ...DEFAULT_RULE_THRESHOLDS, sparkConsumerLagMessages: 50000 } as RuleThresholds)).toThrow(
      /Invalid Prometheus rule thresholds: .*sparkConsumerLagMessages/,
    );
  });

  it('fails on a placeholder without a value, naming the file', () => {
    expect(() => renderPlaceholders('expr: x > ${TYPO_THRESHOLD}', { KNOWN: '1' }, 'rules/x.yml')).toThrow(
      'rules/x.yml uses unknown placeholder(s) ${TYPO_THRESHOLD}; known: KNOWN',
    );
  });

  it('inserts values literally, including CDK token strings and replacement patterns', () => {
    expect(renderPlaceholders('a: ${A}\nb: ${A}', { A: "${Token[TOKEN.12]}$&$'" }, 'x')).toBe("a: ${Token[TOKEN.12]}$&$'\nb: ${Token[TOKEN.12]}$&$'");
  });
});

describe('rule files', () => {
  it('are five namespaces with recording rules and alerts, one for Flink and one for ZooKeeper clusters only', () => {
    expect(renderedRules.map((file) => file.name)).toEqual([
      'consumer-lag',
      'flink-consumer-lag',
      'kafka-broker-hosts',
      'kafka-cluster',
      'kafka-controller-zookeeper',
    ]);
    expect(allRules.filter((rule) => rule.record !== undefined)).toHaveLength(8);
    expect(alerts).toHaveLength(12);
    expect(loadRuleFiles(DEFAULT_RULE_THRESHOLDS, RULES_DIR, { metadataMode: 'kraft' }).map((file) => file.name)).toEqual([
      'consumer-lag',
      'flink-consumer-lag',
      'kafka-broker-hosts',
      'kafka-cluster',
    ]);
    expect(loadRuleFiles(DEFAULT_RULE_THRESHOLDS, RULES_DIR, { metadataMode: 'zookeeper' }).map((file) => file.name)).toEqual(
      renderedRules.map((file) => file.name),
    );
  });

  it('give every alert a severity, a component and summary, description and runbook annotations', () => {
    for (const alert of alerts) {
      expect({ alert: alert.alert, severity: SEVERITIES.includes(alert.labels?.severity ?? '') }).toEqual({ alert: alert.alert, severity: true });
      expect(alert.labels?.component).toBeTruthy();
      for (const key of ['summary', 'description', 'runbook'])
        expect({ alert: alert.alert, key, present: (alert.annotations?.[key] ?? '').length > 10 }).toEqual({ alert: alert.alert, key, present: true });
    }
  });

  it('alert on the Flink consumer group by its exact name, and on no Spark group (Spark commits no offsets to Kafka)', () => {
    const exprs = alerts.map((alert) => alert.expr).join('\n');
    expect(exprs).toContain('groupId="lakestream-flink-login-counts"');
    expect(exprs).not.toMatch(/spark/i);
    expect(alerts.map((alert) => alert.labels?.component)).not.toContain('spark');
  });

  it('have a unit test file each', () => {
    const tested = testDocs.flatMap((test) => test.doc.rule_files.map((file) => path.basename(file, '.yml')));
    expect([...new Set(tested)].sort()).toEqual(renderedRules.map((file) => file.name).sort());
  });

  it('have a firing and a not-firing promtool test for every alert', () => {
    const cases = testDocs.flatMap((test) => test.doc.tests.flatMap((unit) => unit.alert_rule_test ?? []));
    const coverage = alerts.map((alert) => ({
      alert: alert.alert,
      firing: cases.some((c) => c.alertname === alert.alert && (c.exp_alerts ?? []).length > 0),
      notFiring: cases.some((c) => c.alertname === alert.alert && (c.exp_alerts ?? []).length === 0),
    }));
    expect(coverage).toEqual(alerts.map((alert) => ({ alert: alert.alert, firing: true, notFiring: true })));
  });
});

describe('rule set without Flink', () => {
  const withoutFlink = loadRuleFiles(DEFAULT_RULE_THRESHOLDS, RULES_DIR, { components: { flink: false } });
  const rules = withoutFlink.flatMap((file) => (parse(file.content) as RuleFileDoc).groups.flatMap((group) => group.rules));
  const exprs = rules.map((rule) => `${rule.alert ?? rule.record}: ${rule.expr}`).join('\n');

  it('leaves out the Flink consumer-group alerts and keeps the lag recording for every group', () => {
    expect(withoutFlink.map((file) => file.name)).toEqual(['consumer-lag', 'kafka-broker-hosts', 'kafka-cluster', 'kafka-controller-zookeeper']);
    expect(exprs).not.toContain('lakestream-flink-login-counts');
    expect(rules.map((rule) => rule.alert)).not.toEqual(expect.arrayContaining(['FlinkConsumerLagHigh']));
    expect(rules.map((rule) => rule.alert)).not.toEqual(expect.arrayContaining(['KafkaConsumerLagMetricsMissing']));
    expect(rules.map((rule) => rule.record)).toContain('group:kafka_consumer_lag_messages:sum');
  });

  it('renders without the Flink threshold being used, but still validates it', () => {
    expect(exprs).not.toContain(String(DEFAULT_RULE_THRESHOLDS.flinkConsumerLagMessages));
    expect(() => loadRuleFiles({ ...DEFAULT_RULE_THRESHOLDS, flinkConsumerLagMessages: 0 }, RULES_DIR, { components: { flink: false } })).toThrow(
      'flinkConsumerLagMessages=0',
    );
  });
});

/**
 * Series a KRaft-mode MSK cluster really exports to the collector, by exporter:
 * - JMX exporter, port 11001, on the brokers only (MSK developer guide, "Open monitoring with
 *   Prometheus", https://docs.aws.amazon.com/msk/latest/developerguide/open-monitoring.html; the
 *   AMP guide for MSK, https://docs.aws.amazon.com/prometheus/latest/userguide/prom-msk-integration.html).
 *   Broker MBeans (Apache Kafka documentation, "Monitoring", https://kafka.apache.org/documentation/#monitoring):
 *   kafka.server:type=ReplicaManager (UnderReplicatedPartitions, UnderMinIsrPartitionCount) and
 *   kafka.network:type=RequestMetrics (TotalTimeMs); MSK's consumer-lag MBeans
 *   (https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html). MSK's exporter names them
 *   kafka_<domain>_<type>_<attribute>.
 * - Node exporter, port 11002 (same MSK page): node_filesystem_*, node_cpu_seconds_total.
 * - `up`, which Prometheus records for every target.
 * Not in the list: kafka.controller:type=KafkaController metrics. KRaft nodes with only the broker role do
 * not expose them (Apache Kafka KIP, https://cwiki.apache.org/confluence/pages/viewpage.action?pageId=188743985),
 * and MSK's KRaft controllers are not open-monitoring targets (ListNodes gives the scraper brokers only).
 */
const KRAFT_EXPORTED_METRICS = [
  'kafka_server_ReplicaManager_Value',
  'kafka_network_RequestMetrics_Mean',
  'kafka_consumer_group_ConsumerLagMetrics_Value',
  'node_filesystem_avail_bytes',
  'node_filesystem_size_bytes',
  'node_cpu_seconds_total',
  'up',
];
/** What ZooKeeper-mode brokers export on top: the active controller is a broker there. */
const ZOOKEEPER_ONLY_METRICS = ['kafka_controller_KafkaController_Value'];

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

/** Metric names an expression selects: identifiers that are not functions, keywords, label names or values. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names = [...stripped.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:])(?!\s*\()/g)].map((match) => match[1]);
  return [...new Set(names.filter((name) => !PROMQL_KEYWORDS.has(name)))];
}

describe('every rule reads only series the cluster exports', () => {
  const namesOf = (mode: 'kraft' | 'zookeeper') => {
    const rules = loadRuleFiles(DEFAULT_RULE_THRESHOLDS, RULES_DIR, { metadataMode: mode }).flatMap((file) =>
      (parse(file.content) as RuleFileDoc).groups.flatMap((group) => group.rules),
    );
    const recorded = rules.flatMap((rule) => (rule.record ? [rule.record] : []));
    return { rules, recorded };
  };

  it('extracts metric names from PromQL', () => {
    expect(metricNamesIn('sum by (cluster, groupId) (max by (cluster, topic) (kafka_x_Value{job="msk-jmx", name="Sum"})) > 3')).toEqual(['kafka_x_Value']);
    expect(metricNamesIn('1 - avg by (c) (rate(node_cpu_seconds_total{mode="idle"}[5m])) and on(c) up == 0')).toEqual(['node_cpu_seconds_total', 'up']);
    expect(metricNamesIn('absent(up{job="msk-jmx"}) or broker:x:ratio > 0.5')).toEqual(['up', 'broker:x:ratio']);
  });

  it.each(['kraft', 'zookeeper'] as const)('%s: every alert and recording rule uses exported metrics or recorded series', (mode) => {
    const { rules, recorded } = namesOf(mode);
    const allowed = new Set([...KRAFT_EXPORTED_METRICS, ...(mode === 'zookeeper' ? ZOOKEEPER_ONLY_METRICS : []), ...recorded]);
    const unknown = rules.flatMap((rule) =>
      metricNamesIn(rule.expr)
        .filter((name) => !allowed.has(name))
        .map((name) => `${rule.alert ?? rule.record}: ${name}`),
    );
    expect(unknown).toEqual([]);
    expect(rules.some((rule) => rule.alert)).toBe(true);
  });

  it('kraft: no rule reads a controller metric, so no alert waits for a series that never comes', () => {
    const { rules } = namesOf('kraft');
    expect(rules.map((rule) => rule.expr).join('\n')).not.toContain('kafka_controller_');
  });
});

describe('alert manager definition', () => {
  const topicArn = 'arn:aws:sns:eu-west-1:111111111111:lakestream-alerts';
  const definition = parse(renderAlertManagerDefinition({ alarmTopicArn: topicArn, region: 'eu-west-1' })) as {
    template_files: Record<string, string>;
    alertmanager_config: string;
  };
  const config = parse(definition.alertmanager_config) as {
    templates: string[];
    route: { receiver: string; group_by: string[] };
    receivers: Array<{ name: string; sns_configs: Array<{ topic_arn: string; sigv4: { region: string }; attributes: Record<string, string> }> }>;
  };

  it('routes every alert to the SNS topic with SigV4 in its region', () => {
    expect(config.receivers).toHaveLength(1);
    expect(config.route.receiver).toBe(config.receivers[0].name);
    expect(config.receivers[0].sns_configs).toEqual([
      expect.objectContaining({ topic_arn: topicArn, sigv4: { region: 'eu-west-1' }, attributes: { severity: '{{ .CommonLabels.severity }}' } }),
    ]);
  });

  it('groups by severity so the severity attribute is always set, and ships the templates it uses', () => {
    expect(config.route.group_by).toContain('severity');
    expect(config.templates.every((name) => name in definition.template_files)).toBe(true);
  });
});

const promtool = findOnPath('promtool');
const inCi = process.env.CI === 'true';
if (!promtool && !inCi) {
  console.warn('Skipping promtool checks of dashboards/rules: promtool is not on PATH (install it with .ci/install-promtool.sh).');
}

// A skipped block's title carries the reason: `npm run test:all` lists skipped tests with their titles at the end.
const runPromtoolChecks = Boolean(promtool) || inCi;
(runPromtoolChecks ? describe : describe.skip)(
  runPromtoolChecks ? 'promtool' : 'promtool [skipped: promtool is not on PATH; bash .ci/install-promtool.sh installs it]',
  () => {
    let rendered: ReturnType<typeof renderToTempDir>;

    beforeAll(() => {
      if (!promtool) throw new Error('promtool is not on PATH but CI=true: run .ci/install-promtool.sh before the tests');
      rendered = renderToTempDir(DEFAULT_RULE_THRESHOLDS);
    });

    afterAll(() => {
      if (rendered) fs.rmSync(rendered.dir, { recursive: true, force: true });
    });

    it('accepts the rendered rule files', () => {
      const result = runPromtool(promtool!, ['check', 'rules', ...rendered.ruleFiles]);
      expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
      expect(result.output).not.toContain('FAILED');
    });

    it('passes every rule unit test', () => {
      const result = runPromtool(promtool!, ['test', 'rules', ...rendered.testFiles]);
      expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    });

    it('accepts the collector scrape configuration', () => {
      const file = path.join(rendered.dir, 'scrape.yml');
      fs.writeFileSync(
        file,
        renderScrapeConfiguration({
          clusterName: 'lakestream-dev',
          brokerHosts: ['b-1.lakestream-dev.x1y2z3.c2.kafka.eu-west-1.amazonaws.com', 'b-2.lakestream-dev.x1y2z3.c2.kafka.eu-west-1.amazonaws.com'],
          scrapeInterval: Duration.seconds(30),
        }),
      );
      const result = runPromtool(promtool!, ['check', 'config', file]);
      expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    });

    it('passes the unit tests of the rule set without Flink, which include a six-hour silent Flink group', () => {
      const flinkless = renderToTempDir(DEFAULT_RULE_THRESHOLDS, { flink: false });
      try {
        expect(flinkless.ruleFiles.map((file) => path.basename(file))).not.toContain('flink-consumer-lag.yml');
        expect(flinkless.testFiles.map((file) => path.basename(file))).toContain('consumer-lag.test.yml');
        const result = runPromtool(promtool!, ['test', 'rules', ...flinkless.testFiles]);
        expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
      } finally {
        fs.rmSync(flinkless.dir, { recursive: true, force: true });
      }
    });

    it('the no-Flink case fails when the Flink alerts are loaded anyway: the absence alert would page', () => {
      const test = path.join(rendered.dir, 'tests', 'consumer-lag.test.yml');
      const withFlink = path.join(rendered.dir, 'tests', 'consumer-lag-with-flink.test.yml');
      fs.writeFileSync(
        withFlink,
        fs.readFileSync(test, 'utf8').replace('  - ../consumer-lag.yml\n', '  - ../consumer-lag.yml\n  - ../flink-consumer-lag.yml\n'),
      );
      const result = runPromtool(promtool!, ['test', 'rules', withFlink]);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('alertname: KafkaConsumerLagMetricsMissing');
    });

    it('fails the unit tests when a threshold moves past the tested values', () => {
      const shifted = renderToTempDir({ ...DEFAULT_RULE_THRESHOLDS, produceLatencyMs: 400, flinkConsumerLagMessages: 9999 });
      try {
        const result = runPromtool(promtool!, ['test', 'rules', ...shifted.testFiles]);
        expect(result.status).not.toBe(0);
        expect(result.output).toContain('alertname: KafkaProduceLatencyHigh');
        expect(result.output).toContain('alertname: FlinkConsumerLagHigh');
      } finally {
        fs.rmSync(shifted.dir, { recursive: true, force: true });
      }
    });
  },
);
