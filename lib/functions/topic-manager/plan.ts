import type { TopicSpec } from '../../contracts/topic-spec';

/**
 * Pure planning: given what the cluster holds and what is declared, decide what to change. The
 * handler only reads state and executes the plan, so every decision here is testable without Kafka.
 */

/** What the cluster reports about one existing topic. */
export interface CurrentTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic-level config overrides (config source DYNAMIC_TOPIC_CONFIG), not broker defaults. */
  readonly overrides: Readonly<Record<string, string>>;
}

/** Existing topics the manager can see, by name. */
export type ClusterState = ReadonlyMap<string, CurrentTopic>;

export interface ConfigChange {
  readonly key: string;
  /** Current override; undefined when the topic uses the broker default. */
  readonly from?: string;
  /** Wanted override; undefined when the override is dropped (back to the broker default). */
  readonly to?: string;
}

export interface PartitionIncrease {
  readonly topic: string;
  readonly from: number;
  readonly to: number;
}

export interface ConfigAlteration {
  readonly topic: string;
  readonly changes: ConfigChange[];
  /**
   * The complete override set to send. Kafka's AlterConfigs (the only config-altering API kafkajs
   * speaks) replaces every override of the topic, so overrides we do not manage are sent back unchanged.
   */
  readonly entries: Readonly<Record<string, string>>;
}

export interface TopicPlan {
  readonly create: TopicSpec[];
  readonly addPartitions: PartitionIncrease[];
  readonly alterConfigs: ConfigAlteration[];
  /** Undeclared topics that exist and are deleted (AllowDelete). */
  readonly delete: string[];
  /** Undeclared topics that exist and are left in place (no AllowDelete). */
  readonly keep: string[];
  /** Undeclared topics that the manager cannot see: already deleted, or outside its IAM grant. */
  readonly absent: string[];
  /** Changes Kafka cannot make; when any is present nothing is executed. */
  readonly violations: string[];
}

export interface PlanInput {
  /** The new declaration. */
  readonly desired: readonly TopicSpec[];
  /** The declaration of the previous deployment on the same cluster (Update only). */
  readonly previous?: readonly TopicSpec[];
  /** Names explicitly retired: delete them too (when allowed) even if the previous declaration is unknown. */
  readonly retired?: readonly string[];
  readonly current: ClusterState;
  readonly allowDelete: boolean;
  /** For messages. */
  readonly clusterName: string;
}

/** The topic-level configs a declaration pins. */
export function declaredConfigs(spec: TopicSpec): Record<string, string> {
  return { ...spec.configs, 'retention.ms': String(spec.retentionMs), 'cleanup.policy': spec.cleanupPolicy };
}

/** Compares config values the way Kafka interprets them. */
export function sameConfigValue(key: string, a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (key === 'cleanup.policy') return normalizeList(a) === normalizeList(b);
  return a.trim() === b.trim();
}

function normalizeList(value: string): string {
  return value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter(Boolean)
    .sort()
    .join(',');
}

export function planTopicChanges(input: PlanInput): TopicPlan {
  const previousByName = new Map((input.previous ?? []).map((spec) => [spec.name, spec]));
  const create: TopicSpec[] = [];
  const addPartitions: PartitionIncrease[] = [];
  const alterConfigs: ConfigAlteration[] = [];
  const violations: string[] = [];

  for (const spec of input.desired) {
    const current = input.current.get(spec.name);
    if (!current) {
      create.push(spec);
      continue;
    }
    const structural = structuralViolations(spec, current, input.clusterName);
    violations.push(...structural);
    if (structural.length === 0 && spec.partitions > current.partitions) {
      addPartitions.push({ topic: spec.name, from: current.partitions, to: spec.partitions });
    }
    const alteration = planConfigAlteration(spec, current, previousByName.get(spec.name));
    if (alteration) alterConfigs.push(alteration);
  }

  const removal = planRemoval(input);
  return { create, addPartitions, alterConfigs, ...removal, violations };
}

function structuralViolations(spec: TopicSpec, current: CurrentTopic, clusterName: string): string[] {
  const violations: string[] = [];
  if (spec.partitions < current.partitions) {
    violations.push(
      `Topic "${spec.name}" on cluster ${clusterName}: cannot lower partitions from ${current.partitions} to ${spec.partitions} ` +
        `(Kafka cannot remove partitions; declare ${current.partitions} or more, or declare a new topic)`,
    );
  }
  if (spec.replicationFactor !== current.replicationFactor) {
    violations.push(
      `Topic "${spec.name}" on cluster ${clusterName}: cannot change replicationFactor from ${current.replicationFactor} to ${spec.replicationFactor} ` +
        `(the topic manager never reassigns replicas; declare ${current.replicationFactor}, or reassign with kafka-reassign-partitions first)`,
    );
  }
  return violations;
}

function planConfigAlteration(spec: TopicSpec, current: CurrentTopic, previous: TopicSpec | undefined): ConfigAlteration | undefined {
  const wanted = declaredConfigs(spec);
  // Keys the previous deployment pinned but this one no longer declares go back to the broker default.
  const dropped = Object.keys(previous ? declaredConfigs(previous) : {}).filter((key) => !(key in wanted) && key in current.overrides);
  const changes: ConfigChange[] = [];
  for (const [key, to] of Object.entries(wanted)) {
    const from = current.overrides[key];
    if (!sameConfigValue(key, from, to)) changes.push({ key, from, to });
  }
  for (const key of dropped) changes.push({ key, from: current.overrides[key] });
  if (changes.length === 0) return undefined;

  const entries: Record<string, string> = {};
  for (const [key, value] of Object.entries(current.overrides)) {
    if (!dropped.includes(key)) entries[key] = value;
  }
  Object.assign(entries, wanted);
  return { topic: spec.name, changes, entries };
}

function planRemoval(input: PlanInput): Pick<TopicPlan, 'delete' | 'keep' | 'absent'> {
  const declared = new Set(input.desired.map((spec) => spec.name));
  const candidates = new Set<string>();
  for (const spec of input.previous ?? []) if (!declared.has(spec.name)) candidates.add(spec.name);
  for (const name of input.retired ?? []) if (!declared.has(name)) candidates.add(name);
  return splitRemovals([...candidates], input.current, input.allowDelete);
}

/** Which of `names` to delete, keep or report as absent; also used for the resource's own Delete. */
export function splitRemovals(names: readonly string[], current: ClusterState, allowDelete: boolean): Pick<TopicPlan, 'delete' | 'keep' | 'absent'> {
  const existing = names.filter((name) => current.has(name));
  return {
    delete: allowDelete ? existing : [],
    keep: allowDelete ? [] : existing,
    absent: names.filter((name) => !current.has(name)),
  };
}

/** True when the plan changes nothing on the cluster. */
export function isNoop(plan: TopicPlan): boolean {
  return plan.create.length + plan.addPartitions.length + plan.alterConfigs.length + plan.delete.length === 0;
}

/** One line per action, for the log and for failure messages. */
export function describePlan(plan: TopicPlan): string[] {
  return [
    ...plan.create.map((spec) => `create ${spec.name} (${spec.partitions} partitions, replication ${spec.replicationFactor})`),
    ...plan.addPartitions.map((p) => `raise partitions of ${p.topic} from ${p.from} to ${p.to}`),
    ...plan.alterConfigs.map((a) => `alter ${a.topic}: ${a.changes.map((c) => `${c.key} ${c.from ?? '(default)'} -> ${c.to ?? '(default)'}`).join(', ')}`),
    ...plan.delete.map((name) => `delete ${name}`),
    ...plan.keep.map((name) => `keep undeclared ${name} (AllowDelete is false)`),
  ];
}
