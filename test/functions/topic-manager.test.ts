import * as kafkajs from 'kafkajs';
import { ConfigSource, KafkaJSAggregateError, KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type ITopicConfig } from 'kafkajs';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { PermanentError } from '../../lib/functions/shared/custom-resource';
import type { TopicAdmin } from '../../lib/functions/topic-manager/cluster';
import { createTopicManager, type TopicManagerDependencies } from '../../lib/functions/topic-manager/manager';
import { describePlan, planTopicChanges, sameConfigValue, type CurrentTopic } from '../../lib/functions/topic-manager/plan';
import { defaultPlatformTopics, TOPIC_NAMES, type TopicSpec } from '../../lib/contracts/topic-spec';

const CLUSTER = 'lakestream-dev';
const BROKERS = ['b-1.lakestream.kafka.eu-west-1.amazonaws.com:9098', 'b-2.lakestream.kafka.eu-west-1.amazonaws.com:9098'];

const spec = (name: string, overrides: Partial<TopicSpec> = {}): TopicSpec => ({
  name,
  partitions: 3,
  replicationFactor: 2,
  retentionMs: 86_400_000,
  cleanupPolicy: 'delete',
  ...overrides,
});

const current = (name: string, overrides: Partial<CurrentTopic> = {}): CurrentTopic => ({
  name,
  partitions: 3,
  replicationFactor: 2,
  overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
  ...overrides,
});

const stateOf = (...topics: CurrentTopic[]) => new Map(topics.map((t) => [t.name, t]));

describe('planTopicChanges', () => {
  const base = { clusterName: CLUSTER, allowDelete: false };

  it('creates every declared topic on an empty cluster and nothing else', () => {
    const desired = [spec('a'), spec('b')];
    const plan = planTopicChanges({ ...base, desired, current: new Map() });
    expect(plan).toEqual({ create: desired, addPartitions: [], alterConfigs: [], delete: [], keep: [], absent: [], violations: [] });
  });

  it('changes nothing when the cluster matches, comparing cleanup.policy lists without regard to order', () => {
    const desired = [spec('a', { cleanupPolicy: 'compact,delete', configs: { 'min.insync.replicas': '1' } })];
    const plan = planTopicChanges({
      ...base,
      desired,
      current: stateOf(current('a', { overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete, compact', 'min.insync.replicas': '1' } })),
    });
    expect(describePlan(plan)).toEqual([]);
    expect(plan.violations).toEqual([]);
  });

  it('raises partitions when more are declared', () => {
    const plan = planTopicChanges({ ...base, desired: [spec('a', { partitions: 12 })], current: stateOf(current('a')) });
    expect(plan.addPartitions).toEqual([{ topic: 'a', from: 3, to: 12 }]);
  });

  it('refuses to lower partitions, naming topic, current and wanted value', () => {
    const plan = planTopicChanges({ ...base, desired: [spec('a', { partitions: 2 })], current: stateOf(current('a', { partitions: 6 })) });
    expect(plan.violations).toEqual([expect.stringContaining('Topic "a" on cluster lakestream-dev: cannot lower partitions from 6 to 2')]);
    expect(plan.addPartitions).toEqual([]);
  });

  it('refuses to change the replication factor either way', () => {
    const up = planTopicChanges({ ...base, desired: [spec('a', { replicationFactor: 3 })], current: stateOf(current('a')) });
    const down = planTopicChanges({ ...base, desired: [spec('a', { replicationFactor: 1 })], current: stateOf(current('a')) });
    expect(up.violations).toEqual([expect.stringContaining('cannot change replicationFactor from 2 to 3')]);
    expect(down.violations).toEqual([expect.stringContaining('cannot change replicationFactor from 2 to 1')]);
  });

  it('alters only differing declared keys, and sends back overrides it does not manage', () => {
    const plan = planTopicChanges({
      ...base,
      desired: [spec('a', { retentionMs: 3_600_000, configs: { 'compression.type': 'zstd' } })],
      current: stateOf(
        current('a', { overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete', 'compression.type': 'zstd', 'max.message.bytes': '2097152' } }),
      ),
    });
    expect(plan.alterConfigs).toEqual([
      {
        topic: 'a',
        changes: [{ key: 'retention.ms', from: '86400000', to: '3600000' }],
        entries: { 'retention.ms': '3600000', 'cleanup.policy': 'delete', 'compression.type': 'zstd', 'max.message.bytes': '2097152' },
      },
    ]);
  });

  it('pins a declared key that is only a broker default today', () => {
    const plan = planTopicChanges({ ...base, desired: [spec('a', { configs: { 'min.insync.replicas': '2' } })], current: stateOf(current('a')) });
    expect(plan.alterConfigs[0]?.changes).toEqual([{ key: 'min.insync.replicas', from: undefined, to: '2' }]);
  });

  it('returns a key the previous deployment declared, and this one does not, to the broker default', () => {
    const plan = planTopicChanges({
      ...base,
      desired: [spec('a')],
      previous: [spec('a', { configs: { 'segment.ms': '3600000' } })],
      current: stateOf(current('a', { overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete', 'segment.ms': '3600000' } })),
    });
    expect(plan.alterConfigs).toEqual([
      { topic: 'a', changes: [{ key: 'segment.ms', from: '3600000' }], entries: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' } },
    ]);
  });

  it('deletes topics removed from the declaration only when allowed, and reports invisible ones', () => {
    const input = {
      ...base,
      desired: [spec('a')],
      previous: [spec('a'), spec('gone'), spec('invisible')],
      retired: ['old', 'a'],
      current: stateOf(current('a'), current('gone'), current('old')),
    };
    const allowed = planTopicChanges({ ...input, allowDelete: true });
    expect([allowed.delete, allowed.keep, allowed.absent]).toEqual([['gone', 'old'], [], ['invisible']]);
    const kept = planTopicChanges({ ...input, allowDelete: false });
    expect([kept.delete, kept.keep, kept.absent]).toEqual([[], ['gone', 'old'], ['invisible']]);
  });

  it('deletes nothing without a previous declaration or retired names', () => {
    const plan = planTopicChanges({ ...base, allowDelete: true, desired: [spec('a')], current: stateOf(current('a'), current('other')) });
    expect(plan.delete).toEqual([]);
  });

  it('compares config values the way Kafka reads them', () => {
    expect(sameConfigValue('cleanup.policy', 'compact,delete', 'delete,compact')).toBe(true);
    expect(sameConfigValue('retention.ms', ' 1000', '1000')).toBe(true);
    expect(sameConfigValue('retention.ms', undefined, '1000')).toBe(false);
    expect(sameConfigValue('compression.type', 'zstd', 'lz4')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// An in-memory Kafka cluster behind the kafkajs admin API, with AlterConfigs' replace semantics.

interface FakeTopic {
  partitions: number;
  replicationFactor: number;
  overrides: Record<string, string>;
}
type Operation = 'connect' | 'disconnect' | 'fetchTopicMetadata' | 'describeConfigs' | 'createTopics' | 'createPartitions' | 'alterConfigs' | 'deleteTopics';

// Real kafkajs error classes whose constructors its type declarations leave out or mistype.
const { KafkaJSCreateTopicError, KafkaJSSASLAuthenticationError } = kafkajs as unknown as {
  KafkaJSCreateTopicError: new (cause: Error, topic: string) => Error;
  KafkaJSSASLAuthenticationError: new (message: string) => Error;
};

const protocolError = (type: string, code: number, message = type) => new KafkaJSProtocolError({ message, type, code, retriable: false } as never);

class FakeCluster {
  public readonly topics = new Map<string, FakeTopic>();
  public readonly calls: Array<{ op: Operation; args: unknown }> = [];
  /** Names the role may not describe: hidden from all-topics metadata, like MSK IAM does. */
  public readonly hidden = new Set<string>();
  private readonly faults = new Map<Operation, Array<(args: unknown) => Promise<void> | void>>();

  /** The next call of `op` runs `fault` first; a throw from it fails the call. */
  public fault(op: Operation, fault: (args: unknown) => Promise<void> | void): void {
    this.faults.set(op, [...(this.faults.get(op) ?? []), fault]);
  }

  public mutations(): Array<{ op: Operation; args: unknown }> {
    return this.calls.filter((c) => ['createTopics', 'createPartitions', 'alterConfigs', 'deleteTopics'].includes(c.op));
  }

  public add(name: string, topic: Partial<FakeTopic> = {}): void {
    this.topics.set(name, { partitions: 3, replicationFactor: 2, overrides: {}, ...topic });
  }

  public applyCreate(topics: ITopicConfig[]): void {
    for (const t of topics) {
      this.add(t.topic, {
        partitions: t.numPartitions ?? 1,
        replicationFactor: t.replicationFactor ?? 1,
        overrides: Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value])),
      });
    }
  }

  public readonly admin: TopicAdmin = {
    connect: async () => this.record('connect', undefined),
    disconnect: async () => this.record('disconnect', undefined),
    fetchTopicMetadata: async (args) => {
      await this.record('fetchTopicMetadata', args);
      return {
        topics: [...this.topics.entries()]
          .filter(([name]) => !this.hidden.has(name))
          .map(([name, t]) => ({
            name,
            // Reverse order: the manager must not rely on partition order.
            partitions: Array.from({ length: t.partitions }, (_, i) => ({
              partitionErrorCode: 0,
              partitionId: t.partitions - 1 - i,
              leader: 1,
              replicas: Array.from({ length: t.replicationFactor }, (_, r) => r + 1),
              isr: [],
            })),
          })),
      };
    },
    describeConfigs: async (args) => {
      await this.record('describeConfigs', args);
      return {
        throttleTime: 0,
        resources: args.resources.map((r) => {
          const t = this.topics.get(r.name);
          if (!t) return { resourceName: r.name, resourceType: r.type, errorCode: 3, errorMessage: 'unknown topic', configEntries: [] };
          const entry = (configName: string, configValue: string, configSource: ConfigSource) => ({
            configName,
            configValue,
            configSource,
            isDefault: configSource === ConfigSource.DEFAULT_CONFIG,
            isSensitive: false,
            readOnly: false,
            configSynonyms: [],
          });
          return {
            resourceName: r.name,
            resourceType: r.type,
            errorCode: 0,
            errorMessage: '',
            configEntries: [
              ...Object.entries(t.overrides).map(([k, v]) => entry(k, v, ConfigSource.TOPIC_CONFIG)),
              entry('segment.bytes', '1073741824', ConfigSource.DEFAULT_CONFIG),
              ...('min.insync.replicas' in t.overrides ? [] : [entry('min.insync.replicas', '2', ConfigSource.STATIC_BROKER_CONFIG)]),
            ],
          };
        }),
      };
    },
    createTopics: async (args) => {
      await this.record('createTopics', args);
      const fresh = args.topics.filter((t) => !this.topics.has(t.topic));
      this.applyCreate(fresh);
      return fresh.length > 0;
    },
    createPartitions: async (args) => {
      await this.record('createPartitions', args);
      for (const { topic, count } of args.topicPartitions) {
        const t = this.topics.get(topic);
        if (!t) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3);
        if (count <= t.partitions) throw protocolError('INVALID_PARTITIONS', 37, `Topic already has ${t.partitions} partitions.`);
        t.partitions = count;
      }
      return true;
    },
    alterConfigs: async (args) => {
      await this.record('alterConfigs', args);
      for (const r of args.resources) {
        const t = this.topics.get(r.name);
        if (!t) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3);
        // Legacy AlterConfigs: the request's entries become the topic's complete override set.
        t.overrides = Object.fromEntries(r.configEntries.map((e) => [e.name, e.value]));
      }
      return { resources: [] };
    },
    deleteTopics: async (args) => {
      await this.record('deleteTopics', args);
      for (const name of args.topics) {
        if (!this.topics.delete(name)) {
          throw new KafkaJSNumberOfRetriesExceeded(protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, 'This server does not host this topic-partition'), {
            retryCount: 5,
            retryTime: 3000,
          } as never);
        }
      }
    },
  };

  private async record(op: Operation, args: unknown): Promise<void> {
    this.calls.push({ op, args });
    const queued = this.faults.get(op);
    const fault = queued?.shift();
    if (fault) await fault(args);
  }
}

// ---------------------------------------------------------------------------------------------

function setup(options: Partial<TopicManagerDependencies> = {}) {
  const cluster = new FakeCluster();
  const log = { info: jest.fn(), warn: jest.fn() };
  const createAdmin = jest.fn((_brokers: string[]) => cluster.admin);
  const onEvent = createTopicManager({
    createAdmin,
    log,
    operationTimeoutMs: 2_000,
    brokerTimeoutMs: 30_000,
    safetyMarginMs: 20_000,
    defaultBudgetMs: 10_000,
    disconnectTimeoutMs: 100,
    ...options,
  });
  return { cluster, log, createAdmin, onEvent };
}

function properties(topics: TopicSpec[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ClusterName: CLUSTER,
    BootstrapBrokers: BROKERS.join(','),
    Topics: JSON.stringify(topics),
    AllowDelete: 'false',
    ...extra,
  };
}

const common = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1',
  RequestId: 'r-1',
  LogicalResourceId: 'Topics',
  ResourceType: 'Custom::KafkaTopics',
};

const createEvent = (props: Record<string, string>): CustomResourceEvent =>
  ({ ...common, RequestType: 'Create', ResourceProperties: props }) as CustomResourceEvent;
const updateEvent = (props: Record<string, string>, old: Record<string, string>): CustomResourceEvent =>
  ({ ...common, RequestType: 'Update', PhysicalResourceId: `topics-${CLUSTER}`, ResourceProperties: props, OldResourceProperties: old }) as CustomResourceEvent;
const deleteEvent = (props: Record<string, string>): CustomResourceEvent =>
  ({ ...common, RequestType: 'Delete', PhysicalResourceId: `topics-${CLUSTER}`, ResourceProperties: props }) as CustomResourceEvent;

const platform = defaultPlatformTopics({ replicationFactor: 3, partitions: 6 });

describe('topic manager: Create', () => {
  it('creates the platform topics with their configs and returns a stable id and the names', async () => {
    const { cluster, onEvent, createAdmin } = setup();
    const result = await onEvent(createEvent(properties(platform)));

    expect(createAdmin).toHaveBeenCalledWith(BROKERS);
    expect(result).toEqual({ PhysicalResourceId: 'topics-lakestream-dev', Data: { TopicNames: platform.map((t) => t.name).join(',') } });
    expect(cluster.mutations()).toHaveLength(1);
    const request = cluster.mutations()[0]?.args as { topics: ITopicConfig[]; waitForLeaders: boolean; timeout: number };
    expect(request.waitForLeaders).toBe(true);
    expect(request.timeout).toBe(30_000);
    expect(request.topics.find((t) => t.topic === TOPIC_NAMES.loginsCounts)).toEqual({
      topic: 'logins.counts',
      numPartitions: 6,
      replicationFactor: 3,
      configEntries: [
        { name: 'min.insync.replicas', value: '2' },
        { name: 'segment.ms', value: '86400000' },
        { name: 'max.compaction.lag.ms', value: '86400000' },
        { name: 'delete.retention.ms', value: '86400000' },
        { name: 'retention.ms', value: '604800000' },
        { name: 'cleanup.policy', value: 'compact,delete' },
      ],
    });
    expect(cluster.topics.get(TOPIC_NAMES.cdcSchemaHistory)).toEqual({
      partitions: 1,
      replicationFactor: 3,
      overrides: { 'min.insync.replicas': '2', 'retention.bytes': '-1', 'retention.ms': '-1', 'cleanup.policy': 'delete' },
    });
    expect(cluster.calls.at(-1)?.op).toBe('disconnect');
  });

  it('is idempotent: a second run with the same declaration changes nothing', async () => {
    const { cluster, onEvent, log } = setup();
    await onEvent(createEvent(properties(platform)));
    cluster.calls.length = 0;
    await onEvent(createEvent(properties(platform)));
    expect(cluster.mutations()).toEqual([]);
    expect(log.info).toHaveBeenCalledWith('Topics already match the declaration', { cluster: CLUSTER, actions: [] });
  });

  it('converges on retry after a partial failure in the middle of creation', async () => {
    const { cluster, onEvent } = setup();
    const topics = [spec('a'), spec('b'), spec('c')];
    cluster.fault('createTopics', (args) => {
      cluster.applyCreate((args as { topics: ITopicConfig[] }).topics.slice(0, 2));
      throw new KafkaJSAggregateError('Topic creation errors', [
        new KafkaJSCreateTopicError(protocolError('REQUEST_TIMED_OUT', 7, 'The request timed out.'), 'c'),
      ]);
    });

    await expect(onEvent(createEvent(properties(topics)))).rejects.toThrow(
      'Create topics a, b, c failed on cluster lakestream-dev: topic "c": REQUEST_TIMED_OUT: The request timed out. (the controller did not finish in time; the change may still complete, and a retry converges)',
    );
    expect([...cluster.topics.keys()]).toEqual(['a', 'b']);
    expect(cluster.calls.at(-1)?.op).toBe('disconnect');

    cluster.calls.length = 0;
    await onEvent(createEvent(properties(topics)));
    expect(cluster.mutations()).toEqual([{ op: 'createTopics', args: expect.objectContaining({ topics: [expect.objectContaining({ topic: 'c' })] }) }]);
    expect([...cluster.topics.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('converges on retry after a config change failed for one topic', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a', { overrides: { 'retention.ms': '1', 'cleanup.policy': 'delete' } });
    cluster.add('b', { overrides: { 'retention.ms': '1', 'cleanup.policy': 'delete' } });
    cluster.fault('alterConfigs', () => undefined);
    cluster.fault('alterConfigs', () => {
      throw protocolError('INVALID_CONFIG', 40, 'Invalid value');
    });
    await expect(onEvent(createEvent(properties([spec('a'), spec('b')])))).rejects.toThrow(
      'Alter configs of topic "b" failed on cluster lakestream-dev: INVALID_CONFIG: Invalid value (the broker rejected a config name or value',
    );
    expect(cluster.topics.get('a')?.overrides['retention.ms']).toBe('86400000');

    cluster.calls.length = 0;
    await onEvent(createEvent(properties([spec('a'), spec('b')])));
    expect(cluster.mutations().map((c) => c.op)).toEqual(['alterConfigs']);
    expect(cluster.topics.get('b')?.overrides).toEqual({ 'retention.ms': '86400000', 'cleanup.policy': 'delete' });
  });

  it('names the missing permission when the broker refuses authorization', async () => {
    const { cluster, onEvent } = setup();
    cluster.fault('createTopics', () => {
      throw new KafkaJSAggregateError('Topic creation errors', [
        new KafkaJSCreateTopicError(protocolError('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized to access topics: [Topic authorization failed.]'), 'a'),
      ]);
    });
    await expect(onEvent(createEvent(properties([spec('a')])))).rejects.toThrow(
      /topic "a": TOPIC_AUTHORIZATION_FAILED: .*has no kafka-cluster permission on this topic/,
    );
  });

  it('rejects an invalid declaration with PermanentError before touching the cluster', async () => {
    const { cluster, onEvent } = setup();
    const bad = [{ ...spec('a'), partitions: 0 }];
    const error = await onEvent(createEvent(properties(bad))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('topic "a": partitions = 0 is not allowed (allowed: an integer from 1 to 10000)');
    const notJson = await onEvent(createEvent({ ...properties([]), Topics: '[{' })).catch((e: unknown) => e);
    expect((notJson as Error).message).toMatch(/^Invalid ResourceProperties.Topics: not JSON/);
    const missing = await onEvent(createEvent({ ...properties([]), ClusterName: '' })).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/^Invalid ResourceProperties: ClusterName/);
    expect(cluster.calls).toEqual([]);
  });
});

describe('topic manager: Update', () => {
  it('raises partitions, alters differing configs, keeps unmanaged overrides and keeps the physical id', async () => {
    const { cluster, onEvent } = setup();
    const before = [spec('a'), spec('b', { configs: { 'segment.ms': '3600000' } })];
    await onEvent(createEvent(properties(before)));
    cluster.topics.get('a')!.overrides['max.message.bytes'] = '2097152'; // set by an operator, not declared
    cluster.calls.length = 0;

    const after = [spec('a', { partitions: 6, retentionMs: 3_600_000 }), spec('b')];
    const result = await onEvent(updateEvent(properties(after), properties(before)));

    expect(result.PhysicalResourceId).toBe('topics-lakestream-dev');
    expect(cluster.mutations()).toEqual([
      { op: 'createPartitions', args: { topicPartitions: [{ topic: 'a', count: 6 }], timeout: 30_000 } },
      {
        op: 'alterConfigs',
        args: {
          validateOnly: false,
          resources: [
            {
              type: 2,
              name: 'a',
              configEntries: [
                { name: 'retention.ms', value: '3600000' },
                { name: 'cleanup.policy', value: 'delete' },
                { name: 'max.message.bytes', value: '2097152' },
              ],
            },
          ],
        },
      },
      {
        op: 'alterConfigs',
        args: {
          validateOnly: false,
          resources: [
            {
              type: 2,
              name: 'b',
              configEntries: [
                { name: 'retention.ms', value: '86400000' },
                { name: 'cleanup.policy', value: 'delete' },
              ],
            },
          ],
        },
      },
    ]);
    expect(cluster.topics.get('a')).toEqual({
      partitions: 6,
      replicationFactor: 2,
      overrides: { 'retention.ms': '3600000', 'cleanup.policy': 'delete', 'max.message.bytes': '2097152' },
    });
  });

  it('refuses to lower partitions with a PermanentError and changes nothing, not even other topics', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a', { partitions: 6, overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' } });
    const error = await onEvent(updateEvent(properties([spec('a', { partitions: 3 }), spec('new')]), properties([spec('a', { partitions: 6 })]))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe(
      'Refusing to change topics; nothing was changed. Topic "a" on cluster lakestream-dev: cannot lower partitions from 6 to 3 (Kafka cannot remove partitions; declare 6 or more, or declare a new topic)',
    );
    expect(cluster.mutations()).toEqual([]);
    expect(cluster.calls.at(-1)?.op).toBe('disconnect');
  });

  it('refuses to change the replication factor', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a', { replicationFactor: 3, overrides: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' } });
    await expect(onEvent(updateEvent(properties([spec('a')]), properties([spec('a', { replicationFactor: 3 })])))).rejects.toThrow(
      'Topic "a" on cluster lakestream-dev: cannot change replicationFactor from 3 to 2',
    );
    expect(cluster.mutations()).toEqual([]);
  });

  it('deletes topics removed from the declaration when AllowDelete is true', async () => {
    const { cluster, onEvent } = setup();
    await onEvent(createEvent(properties([spec('a'), spec('b')])));
    cluster.calls.length = 0;
    await onEvent(updateEvent(properties([spec('a')], { AllowDelete: 'true' }), properties([spec('a'), spec('b')])));
    expect(cluster.mutations()).toEqual([{ op: 'deleteTopics', args: { topics: ['b'], timeout: 30_000 } }]);
    expect([...cluster.topics.keys()]).toEqual(['a']);
  });

  it('keeps removed topics and logs them when AllowDelete is false', async () => {
    const { cluster, onEvent, log } = setup();
    await onEvent(createEvent(properties([spec('a'), spec('b')])));
    cluster.calls.length = 0;
    await onEvent(updateEvent(properties([spec('a')]), properties([spec('a'), spec('b')])));
    expect(cluster.mutations()).toEqual([]);
    expect(cluster.topics.has('b')).toBe(true);
    expect(log.info).toHaveBeenCalledWith('Topics already match the declaration', { cluster: CLUSTER, actions: ['keep undeclared b (AllowDelete is false)'] });
  });

  it('deletes retired topics and warns about removed topics it cannot see', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.add('retired');
    cluster.add('hidden');
    cluster.hidden.add('hidden');
    await onEvent(updateEvent(properties([], { AllowDelete: 'true', RetiredTopics: JSON.stringify(['retired']) }), properties([spec('hidden')])));
    expect(cluster.mutations()).toEqual([{ op: 'deleteTopics', args: { topics: ['retired'], timeout: 30_000 } }]);
    expect(cluster.topics.has('hidden')).toBe(true);
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('not visible to the topic manager'), { topic: 'hidden' });
  });

  it('does not delete anything as "removed" when the update moves to another cluster', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('b');
    const result = await onEvent(
      updateEvent(properties([spec('a')], { AllowDelete: 'true', ClusterName: 'lakestream-dev-2' }), properties([spec('a'), spec('b')])),
    );
    expect(cluster.topics.has('b')).toBe(true);
    expect(cluster.topics.has('a')).toBe(true);
    expect(result.PhysicalResourceId).toBe('topics-lakestream-dev');
  });

  it('ignores unreadable old properties instead of deleting on a guess', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.add('b');
    await onEvent(updateEvent(properties([spec('a')], { AllowDelete: 'true' }), { ...properties([]), Topics: 'garbage' }));
    expect(cluster.topics.has('b')).toBe(true);
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('Ignoring the previous declaration'), { reason: expect.stringContaining('not JSON') });
  });
});

describe('topic manager: Delete', () => {
  it('keeps the topics without connecting when AllowDelete is false', async () => {
    const { cluster, onEvent, createAdmin } = setup();
    const result = await onEvent(deleteEvent(properties(platform)));
    expect(result).toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(createAdmin).not.toHaveBeenCalled();
    expect(cluster.calls).toEqual([]);
  });

  it('deletes the declared and retired topics that exist and succeeds for those already gone', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a');
    cluster.add('r');
    cluster.add('unrelated');
    await onEvent(deleteEvent(properties([spec('a'), spec('gone')], { AllowDelete: 'true', RetiredTopics: '["r"]' })));
    expect(cluster.mutations().map((c) => c.args)).toEqual([
      { topics: ['a'], timeout: 30_000 },
      { topics: ['r'], timeout: 30_000 },
    ]);
    expect([...cluster.topics.keys()]).toEqual(['unrelated']);
  });

  it('succeeds when a topic disappears between listing and deletion', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.add('a');
    cluster.fault('deleteTopics', () => {
      cluster.topics.delete('a');
    });
    await onEvent(deleteEvent(properties([spec('a')], { AllowDelete: 'true' })));
    expect(log.info).toHaveBeenCalledWith('Topic already gone', { topic: 'a' });
  });

  it('fails with the broker reason when deletion is refused', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a');
    cluster.fault('deleteTopics', () => {
      throw protocolError('TOPIC_DELETION_DISABLED', 73, 'Topic deletion is disabled.');
    });
    await expect(onEvent(deleteEvent(properties([spec('a')], { AllowDelete: 'true' })))).rejects.toThrow(
      'Delete topic "a" failed on cluster lakestream-dev: TOPIC_DELETION_DISABLED: Topic deletion is disabled. (the cluster runs with delete.topic.enable=false)',
    );
  });

  it('keeps the topics when its properties are unreadable', async () => {
    const { cluster, onEvent } = setup();
    const result = await onEvent(deleteEvent({ ...properties([]), AllowDelete: 'maybe' }));
    expect(result).toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(cluster.calls).toEqual([]);
  });
});

describe('topic manager: Delete when the cluster is gone or unreachable (teardown)', () => {
  const deleting = () => deleteEvent(properties([spec('a')], { AllowDelete: 'true', RetiredTopics: '["r"]' }));
  const dnsGone = () => {
    // What kafkajs reports once MSK has removed the brokers' DNS records with the cluster.
    const lookup = Object.assign(new Error(`getaddrinfo ENOTFOUND ${BROKERS[0]?.split(':')[0]}`), { code: 'ENOTFOUND' });
    const connection = new KafkaJSConnectionError(`Connection error: ${lookup.message}`, { broker: BROKERS[0], code: 'ENOTFOUND' } as never);
    return new KafkaJSNumberOfRetriesExceeded(Object.assign(connection, { cause: lookup }), { retryCount: 3, retryTime: 5000 } as never);
  };

  it('succeeds with a structured warning when the broker names no longer resolve, and still disconnects', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.fault('connect', () => {
      throw dnsGone();
    });
    const result = await onEvent(deleting());
    expect(result).toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(log.warn).toHaveBeenCalledWith('Leaving topics undeleted: the cluster is gone or unreachable, so the delete succeeds without it', {
      cluster: CLUSTER,
      brokers: BROKERS,
      topics: ['a', 'r'],
      reason: expect.stringMatching(/^(ENOTFOUND: )?KafkaJSConnectionError: Connection error: getaddrinfo ENOTFOUND b-1\.lakestream/),
      error: expect.stringContaining('Cannot connect to Kafka cluster lakestream-dev'),
    });
    expect(cluster.calls.map((c) => c.op)).toEqual(['connect', 'disconnect']);
  });

  it('succeeds within the operation timeout when the connection hangs (security group or route gone)', async () => {
    const { cluster, onEvent, log } = setup({ operationTimeoutMs: 50 });
    cluster.fault('connect', () => new Promise<void>(() => undefined));
    const started = Date.now();
    await expect(onEvent(deleting())).resolves.toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining('Leaving topics undeleted'),
      expect.objectContaining({ reason: expect.stringContaining('TimeBudgetError: Connect to cluster lakestream-dev did not finish within 50 ms') }),
    );
  });

  it('succeeds when the cluster stops answering in the middle of the deletion, before the Lambda timeout', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.add('a');
    cluster.fault('fetchTopicMetadata', () => new Promise<void>(() => undefined));
    await expect(onEvent(deleting(), { getRemainingTimeInMillis: () => 20_080 })).resolves.toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining('Leaving topics undeleted'),
      expect.objectContaining({ reason: expect.stringContaining("the run's time budget ran out") }),
    );
  });

  it('still fails when the cluster answers but refuses the connection (IAM), since a cluster that answers is not gone', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.fault('connect', () => {
      throw new KafkaJSSASLAuthenticationError('SASL OAUTHBEARER authentication failed: Access denied');
    });
    await expect(onEvent(deleting())).rejects.toThrow(/IAM authentication was refused/);
    expect(log.warn).not.toHaveBeenCalledWith(expect.stringContaining('Leaving topics undeleted'), expect.anything());
  });

  it('still fails when a broker refuses the deletion after retries', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a');
    cluster.fault('deleteTopics', () => {
      throw new KafkaJSNumberOfRetriesExceeded(protocolError('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized'), { retryCount: 5, retryTime: 1 } as never);
    });
    await expect(onEvent(deleting())).rejects.toThrow('Delete topic "a" failed on cluster lakestream-dev: TOPIC_AUTHORIZATION_FAILED: Not authorized');
  });

  it('attempts nothing where topics are kept (AllowDelete false, prod), even with an unreachable cluster', async () => {
    const { cluster, onEvent, createAdmin, log } = setup();
    cluster.fault('connect', () => {
      throw dnsGone();
    });
    await expect(onEvent(deleteEvent(properties([spec('a')], { AllowDelete: 'false' })))).resolves.toEqual({ PhysicalResourceId: 'topics-lakestream-dev' });
    expect(createAdmin).not.toHaveBeenCalled();
    expect(log.info).toHaveBeenCalledWith('Keeping topics: AllowDelete is false', { cluster: CLUSTER, topics: ['a'] });
  });

  it('keeps failing Create and Update on an unreachable cluster: only Delete may leave topics behind', async () => {
    const { cluster, onEvent } = setup();
    cluster.fault('connect', () => {
      throw dnsGone();
    });
    await expect(onEvent(createEvent(properties([spec('a')])))).rejects.toThrow(/^Cannot connect to Kafka cluster lakestream-dev/);
  });
});

describe('topic manager: unreachable cluster and time bounds', () => {
  it('explains an unreachable broker and still disconnects', async () => {
    const { cluster, onEvent } = setup();
    cluster.fault('connect', () => {
      throw new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout', { broker: BROKERS[0] } as never), {
        retryCount: 3,
        retryTime: 5000,
      } as never);
    });
    const error = (await onEvent(createEvent(properties([spec('a')]))).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(
      `Cannot connect to Kafka cluster lakestream-dev through ${BROKERS.join(',')}: KafkaJSNumberOfRetriesExceeded: Connection timeout. ` +
        'check that the cluster is ACTIVE, that the topic manager runs in the cluster VPC, and that its security group may reach the brokers on TCP 9098.',
    );
    expect(cluster.calls.map((c) => c.op)).toEqual(['connect', 'disconnect']);
  });

  it('explains a refused IAM authentication', async () => {
    const { cluster, onEvent } = setup();
    cluster.fault('connect', () => {
      throw new KafkaJSSASLAuthenticationError('SASL OAUTHBEARER authentication failed: Access denied');
    });
    await expect(onEvent(createEvent(properties([spec('a')])))).rejects.toThrow(
      /IAM authentication was refused: check the role's kafka-cluster:Connect permission/,
    );
  });

  it('gives up on a hanging connection within the operation timeout', async () => {
    const { cluster, onEvent } = setup({ operationTimeoutMs: 50 });
    cluster.fault('connect', () => new Promise<void>(() => undefined));
    const started = Date.now();
    await expect(onEvent(createEvent(properties([spec('a')])))).rejects.toThrow(
      'Cannot connect to Kafka cluster lakestream-dev through b-1.lakestream.kafka.eu-west-1.amazonaws.com:9098,b-2.lakestream.kafka.eu-west-1.amazonaws.com:9098: TimeBudgetError: Connect to cluster lakestream-dev did not finish within 50 ms: the per-operation limit of 50 ms.',
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('stops before the Lambda timeout with a resumable reason', async () => {
    const { cluster, onEvent } = setup({ safetyMarginMs: 20_000 });
    cluster.fault('fetchTopicMetadata', () => new Promise<void>(() => undefined));
    await expect(onEvent(createEvent(properties([spec('a')])), { getRemainingTimeInMillis: () => 20_080 })).rejects.toThrow(
      /^List topics did not finish within \d+ ms: the run's time budget ran out \(a retry resumes from the cluster's current state\)$/,
    );
    expect(cluster.calls.at(-1)?.op).toBe('disconnect');
  });

  it('does not wait for a hanging disconnect', async () => {
    const { cluster, onEvent, log } = setup({ disconnectTimeoutMs: 30 });
    cluster.fault('disconnect', () => new Promise<void>(() => undefined));
    await onEvent(createEvent(properties([spec('a')])));
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('Disconnect failed'), {
      reason: 'Disconnect did not finish within 30 ms: the per-operation limit of 30 ms',
    });
  });

  it('refuses a missing or empty broker list with PermanentError before connecting', async () => {
    const { onEvent, createAdmin } = setup();
    const { BootstrapBrokers: _brokers, ...withoutBrokers } = properties([spec('a')]);
    const missing = await onEvent(createEvent(withoutBrokers)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PermanentError);
    expect((missing as Error).message).toMatch(
      /^Invalid ResourceProperties: BootstrapBrokers: must be the bootstrap broker string host:9098,\.\.\. \(missing\)/,
    );
    const empty = await onEvent(createEvent(properties([spec('a')], { BootstrapBrokers: ' , ' }))).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(PermanentError);
    expect((empty as Error).message).toBe('Invalid ResourceProperties: BootstrapBrokers: must list at least one host:port broker (got " , ")');
    expect(createAdmin).not.toHaveBeenCalled();
  });

  it('connects to the brokers of the new properties, trimmed, when an update moves to another broker list', async () => {
    const { onEvent, createAdmin } = setup();
    const moved = ['b-1.new.kafka.eu-west-1.amazonaws.com:9098', 'b-2.new.kafka.eu-west-1.amazonaws.com:9098'];
    await onEvent(updateEvent(properties([spec('a')], { BootstrapBrokers: ` ${moved.join(' , ')} ` }), properties([spec('a')])));
    expect(createAdmin).toHaveBeenCalledWith(moved);
  });

  it('still reads the previous declaration from properties that named an SSM parameter instead of brokers', async () => {
    const { cluster, onEvent, log } = setup();
    cluster.add('a');
    cluster.add('old');
    const { BootstrapBrokers: _brokers, ...declaration } = properties([spec('a'), spec('old')], { AllowDelete: 'true' });
    const legacy = { ...declaration, BootstrapBrokersParameter: '/lakestream/dev/msk/bootstrap-brokers-iam' };
    await onEvent(updateEvent(properties([spec('a')], { AllowDelete: 'true' }), legacy));
    expect(cluster.topics.has('old')).toBe(false);
    expect(log.warn).not.toHaveBeenCalledWith(expect.stringContaining('Ignoring the previous declaration'), expect.anything());
  });

  it('reports a failed config description with the topic name', async () => {
    const { cluster, onEvent } = setup();
    cluster.add('a');
    cluster.fault('describeConfigs', () => {
      throw new KafkaJSNumberOfRetriesExceeded(protocolError('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized'), { retryCount: 1, retryTime: 1 } as never);
    });
    await expect(onEvent(createEvent(properties([spec('a')])))).rejects.toThrow(
      'Describe configs of a failed on cluster lakestream-dev: TOPIC_AUTHORIZATION_FAILED: Not authorized',
    );
  });
});

describe('topic manager: Lambda entry point', () => {
  const kafkaModule = '../../lib/functions/shared/kafka';

  afterEach(() => {
    jest.dontMock(kafkaModule);
    delete process.env.AWS_REGION;
  });

  it('wires the shared MSK IAM client with the region and the brokers from the properties', async () => {
    const cluster = new FakeCluster();
    const createMskIamKafka = jest.fn(() => ({ admin: () => cluster.admin }));
    jest.doMock(kafkaModule, () => ({ ...jest.requireActual(kafkaModule), createMskIamKafka }));
    process.env.AWS_REGION = 'eu-west-1';
    let handler: ((event: CustomResourceEvent) => Promise<unknown>) | undefined;
    jest.isolateModules(() => {
      ({ handler } = require('../../lib/functions/topic-manager/index') as { handler: (event: CustomResourceEvent) => Promise<unknown> });
    });
    await expect(handler!(createEvent(properties([spec('a')])))).resolves.toEqual({ PhysicalResourceId: 'topics-lakestream-dev', Data: { TopicNames: 'a' } });
    expect(createMskIamKafka).toHaveBeenCalledWith({ brokers: BROKERS, region: 'eu-west-1', clientId: 'lakestream-topic-manager' });
    expect(cluster.topics.has('a')).toBe(true);
  });

  it('fails at cold start naming AWS_REGION when it is missing', () => {
    jest.doMock(kafkaModule, () => ({ ...jest.requireActual(kafkaModule), createMskIamKafka: jest.fn() }));
    delete process.env.AWS_REGION;
    expect(() => jest.isolateModules(() => require('../../lib/functions/topic-manager/index'))).toThrow(
      /Invalid environment: AWS_REGION: AWS_REGION is not set/,
    );
  });
});
