import { ConfigResourceTypes, ConfigSource, type Admin, type ConfigEntries } from 'kafkajs';
import { declaredConfigs, type ClusterState, type CurrentTopic, type TopicPlan } from './plan';
import { TimeBudgetError, type Deadline } from './deadline';
import { explainKafkaError, isUnknownTopic } from './errors';

/** The slice of the kafkajs admin the topic manager uses (tests pass an in-memory fake). */
export type TopicAdmin = Pick<
  Admin,
  'connect' | 'disconnect' | 'fetchTopicMetadata' | 'describeConfigs' | 'createTopics' | 'createPartitions' | 'alterConfigs' | 'deleteTopics'
>;

export interface LogSink {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface ClusterSession {
  readonly admin: TopicAdmin;
  readonly deadline: Deadline;
  readonly clusterName: string;
  readonly log: LogSink;
  /** Broker-side timeout for create/partition/delete requests. */
  readonly brokerTimeoutMs: number;
}

/**
 * Reads partitions, replication and config overrides of the named topics that exist. The
 * all-topics metadata request returns only topics the role may describe, which under MSK IAM are
 * exactly the declared and retired names, so no topic outside the grant is ever touched.
 */
export async function readClusterState(session: ClusterSession, names: readonly string[]): Promise<ClusterState> {
  const { admin, clusterName } = session;
  const wanted = new Set(names);
  const metadata = await guarded(session, 'List topics', () => admin.fetchTopicMetadata({ topics: [] }));
  const existing = metadata.topics.filter((topic) => wanted.has(topic.name));
  const state = new Map<string, CurrentTopic>();
  if (existing.length === 0) return state;

  const described = await guarded(session, `Describe configs of ${existing.map((t) => t.name).join(', ')}`, () =>
    admin.describeConfigs({
      resources: existing.map((topic) => ({ type: ConfigResourceTypes.TOPIC, name: topic.name })),
      includeSynonyms: false,
    }),
  );
  const overridesByTopic = new Map<string, Record<string, string>>();
  for (const resource of described.resources) {
    if (resource.errorCode !== 0) {
      throw new Error(
        `Describe configs of topic "${resource.resourceName}" failed on cluster ${clusterName}: error code ${resource.errorCode} ${resource.errorMessage ?? ''}`.trim(),
      );
    }
    overridesByTopic.set(resource.resourceName, topicOverrides(resource.configEntries));
  }

  for (const topic of existing) {
    const partitions = [...topic.partitions].sort((a, b) => a.partitionId - b.partitionId);
    const overrides = overridesByTopic.get(topic.name);
    if (!overrides) throw new Error(`Describe configs on cluster ${clusterName} returned nothing for topic "${topic.name}"; retry`);
    state.set(topic.name, {
      name: topic.name,
      partitions: partitions.length,
      // The replica list of partition 0 is the topic's replication factor; it only differs during a reassignment.
      replicationFactor: partitions[0]?.replicas.length ?? 0,
      overrides,
    });
  }
  return state;
}

function topicOverrides(entries: ConfigEntries[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const entry of entries) {
    // DescribeConfigs v0 has no source; there a non-default value is a topic override.
    const isOverride = entry.configSource === undefined ? !entry.isDefault : entry.configSource === ConfigSource.TOPIC_CONFIG;
    if (isOverride && entry.configValue !== null && entry.configValue !== undefined) overrides[entry.configName] = entry.configValue;
  }
  return overrides;
}

/**
 * Executes a plan in an order that converges on retry: creations first (a retry sees them as
 * existing), then partition increases, config changes, and deletions last. Each topic is its own
 * request, so a failure names the topic and the steps before it stay done.
 */
export async function executePlan(session: ClusterSession, plan: TopicPlan): Promise<void> {
  const { admin, log, brokerTimeoutMs } = session;
  if (plan.create.length > 0) {
    const names = plan.create.map((spec) => spec.name).join(', ');
    const created = await guarded(session, `Create topics ${names}`, () =>
      admin.createTopics({
        topics: plan.create.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(declaredConfigs(spec)).map(([name, value]) => ({ name, value })),
        })),
        waitForLeaders: true,
        timeout: brokerTimeoutMs,
      }),
    );
    log.info(created ? 'Created topics' : 'Topics already existed', { topics: names });
  }

  for (const increase of plan.addPartitions) {
    await guarded(session, `Raise partitions of topic "${increase.topic}" from ${increase.from} to ${increase.to}`, () =>
      admin.createPartitions({ topicPartitions: [{ topic: increase.topic, count: increase.to }], timeout: brokerTimeoutMs }),
    );
    log.info('Raised partitions', { ...increase });
  }

  for (const alteration of plan.alterConfigs) {
    await guarded(session, `Alter configs of topic "${alteration.topic}"`, () =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: alteration.topic,
            configEntries: Object.entries(alteration.entries).map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
    log.info('Altered topic configs', { topic: alteration.topic, changes: alteration.changes });
  }

  await deleteTopics(session, plan.delete);
}

/** Deletes topics one by one; a topic that is already gone counts as deleted. */
export async function deleteTopics(session: ClusterSession, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await session.deadline.run(`Delete topic "${name}"`, () => session.admin.deleteTopics({ topics: [name], timeout: session.brokerTimeoutMs }));
      session.log.info('Deleted topic', { topic: name });
    } catch (error) {
      if (error instanceof TimeBudgetError) throw error;
      if (!isUnknownTopic(error)) throw new Error(explainKafkaError(`Delete topic "${name}"`, session.clusterName, error), { cause: error });
      session.log.info('Topic already gone', { topic: name });
    }
  }
}

/** Runs one admin call under the deadline and rewrites its failure into a reason naming the step. */
async function guarded<T>(session: ClusterSession, what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await session.deadline.run(what, operation);
  } catch (error) {
    if (error instanceof TimeBudgetError) throw error;
    throw new Error(explainKafkaError(what, session.clusterName, error), { cause: error });
  }
}
