import { PermanentError, type CustomResourceEvent, type CustomResourceResult } from '../shared/custom-resource';
import type { TopicSpec } from '../../contracts/topic-spec';
import { deleteTopics, executePlan, readClusterState, type ClusterSession, type LogSink, type TopicAdmin } from './cluster';
import { Deadline, TimeBudgetError } from './deadline';
import { explainConnectionError, unreachableReason } from './errors';
import { describePlan, isNoop, planTopicChanges, splitRemovals } from './plan';
import { parseTopicDeclaration, parseTopicManagerProperties, type TopicManagerProperties } from './properties';

export interface TopicManagerDependencies {
  /** A not-yet-connected kafkajs admin for the brokers. */
  readonly createAdmin: (brokers: string[]) => TopicAdmin;
  readonly log: LogSink;
  /** Upper bound of any single step (connect, one admin request). */
  readonly operationTimeoutMs: number;
  /** Broker-side timeout sent with create, partition and delete requests. */
  readonly brokerTimeoutMs: number;
  /** The run stops this long before the Lambda timeout, to disconnect and report a reason. */
  readonly safetyMarginMs: number;
  /** Time budget when no Lambda context is given. */
  readonly defaultBudgetMs: number;
  /** Bound on the final disconnect. */
  readonly disconnectTimeoutMs: number;
  readonly clock?: () => number;
}

export interface LambdaTimeContext {
  getRemainingTimeInMillis(): number;
}

/** The custom resource's onEvent handler, with its I/O injected. */
export function createTopicManager(deps: TopicManagerDependencies) {
  const clock = deps.clock ?? Date.now;

  return async function onEvent(event: CustomResourceEvent, context?: LambdaTimeContext): Promise<CustomResourceResult> {
    const budget = context ? context.getRemainingTimeInMillis() - deps.safetyMarginMs : deps.defaultBudgetMs;
    const deadline = new Deadline(clock() + Math.max(0, budget), deps.operationTimeoutMs, clock);
    if (event.RequestType === 'Delete') return onDelete(event, deadline);
    return onCreateOrUpdate(event, deadline);
  };

  async function onCreateOrUpdate(event: CustomResourceEvent, deadline: Deadline): Promise<CustomResourceResult> {
    const props = parseTopicManagerProperties(event.ResourceProperties);
    const previous = event.RequestType === 'Update' ? previousDeclaration(event.OldResourceProperties, props.clusterName) : undefined;
    const names = unique([...props.topics.map((t) => t.name), ...(previous ?? []).map((t) => t.name), ...props.retiredTopics]);

    await withCluster(props, deadline, async (session) => {
      const current = await readClusterState(session, names);
      const plan = planTopicChanges({
        desired: props.topics,
        previous,
        retired: props.retiredTopics,
        current,
        allowDelete: props.allowDelete,
        clusterName: props.clusterName,
      });
      if (plan.violations.length > 0) {
        throw new PermanentError(`Refusing to change topics; nothing was changed. ${plan.violations.join('; ')}`);
      }
      for (const name of plan.absent) {
        deps.log.warn(
          'Undeclared topic not found: already deleted, or not visible to the topic manager (list it in retiredTopicNames to let it delete the topic)',
          { topic: name },
        );
      }
      deps.log.info(isNoop(plan) ? 'Topics already match the declaration' : 'Applying topic plan', { cluster: props.clusterName, actions: describePlan(plan) });
      await executePlan(session, plan);
    });

    // Stable across updates, even onto a new cluster: a new id would make CloudFormation delete
    // the "old" resource with old properties, whose broker list names a cluster that may be gone.
    const physicalResourceId = event.RequestType === 'Update' && event.PhysicalResourceId ? event.PhysicalResourceId : `topics-${props.clusterName}`;
    return { PhysicalResourceId: physicalResourceId, Data: { TopicNames: props.topics.map((t) => t.name).join(',') } };
  }

  async function onDelete(event: CustomResourceEvent, deadline: Deadline): Promise<CustomResourceResult> {
    const physicalResourceId = event.PhysicalResourceId;
    let props: TopicManagerProperties;
    try {
      props = parseTopicManagerProperties(event.ResourceProperties);
    } catch (error) {
      // Unreadable properties cannot say deletion is allowed; keeping data is the safe side.
      deps.log.warn('Keeping topics: the resource properties are unreadable', { reason: (error as Error).message });
      return { PhysicalResourceId: physicalResourceId };
    }
    const names = unique([...props.topics.map((t) => t.name), ...props.retiredTopics]);
    if (!props.allowDelete) {
      deps.log.info('Keeping topics: AllowDelete is false', { cluster: props.clusterName, topics: names });
      return { PhysicalResourceId: physicalResourceId };
    }
    try {
      await withCluster(props, deadline, async (session) => {
        const removal = splitRemovals(names, await readClusterState(session, names), true);
        if (removal.absent.length > 0) deps.log.info('Topics already gone', { topics: removal.absent });
        await deleteTopics(session, removal.delete);
      });
    } catch (error) {
      // Topics live inside the cluster: when it is gone (its broker names no longer resolve) or
      // cannot be reached within the bounded time, there is nothing this resource can still
      // clean up, and failing would leave the stack in DELETE_FAILED. A broker that answers with
      // an error of its own (a refused deletion, authorization) still fails the delete.
      const reason = unreachableReason(error);
      if (reason === undefined) throw error;
      deps.log.warn('Leaving topics undeleted: the cluster is gone or unreachable, so the delete succeeds without it', {
        cluster: props.clusterName,
        brokers: props.bootstrapBrokers,
        topics: names,
        reason,
        error: (error as Error).message,
      });
    }
    return { PhysicalResourceId: physicalResourceId };
  }

  function previousDeclaration(raw: Record<string, unknown> | undefined, clusterName: string): TopicSpec[] | undefined {
    try {
      const old = parseTopicDeclaration(raw, 'OldResourceProperties');
      // Topics declared for another cluster are not on this one; CloudFormation does not hand the old cluster to us.
      return old.clusterName === clusterName ? old.topics : undefined;
    } catch (error) {
      deps.log.warn('Ignoring the previous declaration: it is unreadable, so no topic is deleted as removed', { reason: (error as Error).message });
      return undefined;
    }
  }

  async function withCluster(props: TopicManagerProperties, deadline: Deadline, body: (session: ClusterSession) => Promise<void>): Promise<void> {
    const brokers = props.bootstrapBrokers;
    const admin = deps.createAdmin(brokers);
    try {
      try {
        await deadline.run(`Connect to cluster ${props.clusterName}`, () => admin.connect());
      } catch (error) {
        throw new Error(explainConnectionError(props.clusterName, brokers, error), { cause: error });
      }
      await body({ admin, deadline, clusterName: props.clusterName, log: deps.log, brokerTimeoutMs: deps.brokerTimeoutMs });
    } finally {
      await disconnect(admin);
    }
  }

  async function disconnect(admin: TopicAdmin): Promise<void> {
    // A hung disconnect must not eat the time left to report the real outcome.
    try {
      await new Deadline(clock() + deps.disconnectTimeoutMs, deps.disconnectTimeoutMs, clock).run('Disconnect', () => admin.disconnect());
    } catch (error) {
      deps.log.warn('Disconnect failed; the execution environment will drop the connection', {
        reason: error instanceof TimeBudgetError ? error.message : String(error),
      });
    }
  }
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
