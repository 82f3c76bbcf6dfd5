import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

/** dashboards/ at the repository root: rule files, alert manager template and dashboards live there as code. */
export const DASHBOARDS_DIR = path.join(__dirname, '..', '..', '..', 'dashboards');
/** Prometheus rule files, one rule-groups namespace each. */
export const RULES_DIR = path.join(DASHBOARDS_DIR, 'rules');
/** AMP alert manager definition with `${ALARM_TOPIC_ARN}` and `${AWS_REGION}` placeholders. */
export const ALERT_MANAGER_TEMPLATE = path.join(DASHBOARDS_DIR, 'alertmanager.yml');

/**
 * Per-environment alert thresholds. Each field fills the placeholder of the same name in
 * UPPER_SNAKE_CASE in the rule files, e.g. `brokerDiskUsedRatio` fills `${BROKER_DISK_USED_RATIO}`.
 */
export interface RuleThresholds {
  /** Share (0-1] of a broker filesystem in use above which KafkaBrokerDiskUsageHigh fires. */
  readonly brokerDiskUsedRatio: number;
  /** Share (0-1] of broker CPU time in use above which KafkaBrokerCpuHigh fires. */
  readonly brokerCpuUtilisationRatio: number;
  /** Mean produce request time in milliseconds above which KafkaProduceLatencyHigh fires. */
  readonly produceLatencyMs: number;
  /**
   * Mean consumer fetch time in milliseconds above which KafkaFetchConsumerLatencyHigh fires.
   * Includes the time a fetch waits for data (fetch.max.wait.ms, 500 ms by default).
   */
  readonly fetchConsumerLatencyMs: number;
  /**
   * Unread messages of the Flink consumer group above which FlinkConsumerLagHigh fires. There is no
   * Spark counterpart: Structured Streaming commits no offsets to Kafka, so MSK publishes no lag for it
   * (see dashboards/rules/consumer-lag.yml).
   */
  readonly flinkConsumerLagMessages: number;
}

/**
 * Thresholds the rule unit tests are written against, and a sensible starting point for an
 * environment: CPU at MSK's recommended 60 % ceiling, disk with room to grow the volume.
 */
export const DEFAULT_RULE_THRESHOLDS: RuleThresholds = {
  brokerDiskUsedRatio: 0.85,
  brokerCpuUtilisationRatio: 0.6,
  produceLatencyMs: 200,
  fetchConsumerLatencyMs: 1500,
  flinkConsumerLagMessages: 10000,
};

const ratio = z.number('must be a number').gt(0, 'must be greater than 0').max(1, 'must be at most 1 (a share, not a percentage)');
const positive = z.number('must be a finite number').gt(0, 'must be greater than 0');

const thresholdsSchema = z
  .object({
    brokerDiskUsedRatio: ratio,
    brokerCpuUtilisationRatio: ratio,
    produceLatencyMs: positive,
    fetchConsumerLatencyMs: positive,
    flinkConsumerLagMessages: positive,
  })
  .strict();

/** Kafka metadata mode: which nodes report the controller metrics. */
export type KafkaMetadataMode = 'kraft' | 'zookeeper';

/**
 * Rule files whose name ends with this suffix read controller metrics
 * (kafka_controller_KafkaController_Value). In ZooKeeper mode the active controller is a broker
 * and MSK's JMX exporter (port 11001) reports them; in KRaft mode only controller-role nodes
 * expose them (Apache Kafka KIP "KRaft controller metrics", cwiki pageId 188743985), and MSK
 * does not expose its KRaft controllers to open monitoring, so these files are skipped there.
 */
export const ZOOKEEPER_ONLY_SUFFIX = '-zookeeper';

/** Whether the rule file `name` (without extension) applies to a cluster in `mode`. */
export function ruleFileAppliesTo(name: string, mode: KafkaMetadataMode): boolean {
  return mode === 'zookeeper' || !name.endsWith(ZOOKEEPER_ONLY_SUFFIX);
}

/** A rule file rendered for one environment. */
export interface RuleFile {
  /** File name without extension; used as the rule-groups namespace name. */
  readonly name: string;
  /** Path of the template it was rendered from. */
  readonly sourcePath: string;
  /** Rendered YAML, ready for promtool or an AMP rule-groups namespace. */
  readonly content: string;
}

/** Values for the alert manager template. */
export interface AlertManagerValues {
  /** ARN of the SNS topic alerts go to (a token is fine). */
  readonly alarmTopicArn: string;
  /** Region of the topic, for the SigV4 signature (a token is fine). */
  readonly region: string;
}

const PLACEHOLDER = /\$\{([A-Z][A-Z0-9_]*)\}/g;
/** AMP limits rule-groups namespace names to 64 characters. */
const MAX_NAMESPACE_NAME = 64;

/** `brokerDiskUsedRatio` -> `BROKER_DISK_USED_RATIO`. */
export function placeholderName(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Checks the thresholds and returns them as placeholder values, failing with the field, value and what is allowed. */
export function thresholdPlaceholders(thresholds: RuleThresholds): Record<string, string> {
  const parsed = thresholdsSchema.safeParse(thresholds);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(thresholds)';
      const value = issue.path.length > 0 ? (thresholds as unknown as Record<string, unknown>)[String(issue.path[0])] : thresholds;
      return `${field}=${JSON.stringify(value)}: ${issue.message}`;
    });
    throw new Error(`Invalid Prometheus rule thresholds: ${problems.join('; ')}`);
  }
  return Object.fromEntries(Object.entries(parsed.data).map(([field, value]) => [placeholderName(field), String(value)]));
}

/**
 * Replaces every `${NAME}` in the template. A placeholder without a value is an error naming the
 * source file, so a typo in a rule file fails synth instead of shipping an unparseable rule.
 */
export function renderPlaceholders(template: string, values: Readonly<Record<string, string>>, source: string): string {
  const unknown = [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]))].filter((name) => !(name in values));
  if (unknown.length > 0) {
    throw new Error(`${source} uses unknown placeholder(s) ${unknown.map((name) => `\${${name}}`).join(', ')}; known: ${Object.keys(values).join(', ')}`);
  }
  // A replacer function, because values may be CDK tokens containing `$` sequences.
  return template.replace(PLACEHOLDER, (_match, name: string) => values[name]);
}

/** Rule file templates in `rulesDir` (only *.yml directly inside it; tests live in a subfolder). */
export function ruleFileTemplates(rulesDir: string = RULES_DIR): string[] {
  return fs
    .readdirSync(rulesDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yml'))
    .map((entry) => path.join(rulesDir, entry.name))
    .sort();
}

/** Optional platform components that some rule files watch. */
export interface DeployedComponents {
  /** The Managed Flink login-counts application (its consumer group's lag alerts). */
  readonly flink: boolean;
}

/**
 * Rule files (by name) that watch one optional component: loaded only where it is deployed, so an
 * environment without it gets no alert that can never resolve (an absence alert would page forever).
 */
export const COMPONENT_RULE_FILES: Readonly<Record<string, keyof DeployedComponents>> = {
  'flink-consumer-lag': 'flink',
};

/** Every optional component deployed: the rule set of the full platform. */
export const ALL_COMPONENTS: DeployedComponents = { flink: true };

/** Which rule files an environment loads. */
export interface RuleSelection {
  /**
   * The cluster's metadata mode: files written for the other mode are left out.
   * @default every file (e.g. for promtool)
   */
  readonly metadataMode?: KafkaMetadataMode;
  /**
   * The optional components the environment deploys: files watching an absent one are left out.
   * @default ALL_COMPONENTS
   */
  readonly components?: DeployedComponents;
}

/**
 * Loads the rule files an environment needs (its metadata mode, its deployed components) and
 * renders them with the environment's thresholds.
 */
export function loadRuleFiles(thresholds: RuleThresholds, rulesDir: string = RULES_DIR, selection: RuleSelection = {}): RuleFile[] {
  const values = thresholdPlaceholders(thresholds);
  const components = selection.components ?? ALL_COMPONENTS;
  const files = ruleFileTemplates(rulesDir).filter((file) => {
    const name = path.basename(file, '.yml');
    const component = COMPONENT_RULE_FILES[name];
    if (component !== undefined && !components[component]) return false;
    return selection.metadataMode === undefined || ruleFileAppliesTo(name, selection.metadataMode);
  });
  if (files.length === 0) throw new Error(`No Prometheus rule files (*.yml) found in ${rulesDir}`);
  return files.map((sourcePath) => {
    const name = path.basename(sourcePath, '.yml');
    if (name.length > MAX_NAMESPACE_NAME || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) {
      throw new Error(
        `Rule file ${sourcePath}: its name becomes the rule-groups namespace name and must be letters, digits, '-' or '_', at most ${MAX_NAMESPACE_NAME} characters`,
      );
    }
    return { name, sourcePath, content: renderPlaceholders(fs.readFileSync(sourcePath, 'utf8'), values, sourcePath) };
  });
}

/** Renders the alert manager definition for the workspace. */
export function renderAlertManagerDefinition(values: AlertManagerValues, templatePath: string = ALERT_MANAGER_TEMPLATE): string {
  return renderPlaceholders(fs.readFileSync(templatePath, 'utf8'), { ALARM_TOPIC_ARN: values.alarmTopicArn, AWS_REGION: values.region }, templatePath);
}
