import * as z from 'zod/mini';
import { cfnInt, parseProperties, PermanentError, type CustomResourceEvent } from '../shared/custom-resource';

/** SSM parameter names: fully qualified (leading '/'), SSM's character set and length limit. */
export const PARAMETER_NAME_PATTERN = /^\/[a-zA-Z0-9_.\-/]{1,1010}$/;

const CLUSTER_ARN_PATTERN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;

/** A missing property and a malformed one both get the same statement of what is allowed. */
const requiredString = (pattern: RegExp, allowed: string) => z.string(allowed).check(z.regex(pattern, allowed));

export const bootstrapBrokersPropertiesSchema = z.object({
  ClusterArn: requiredString(CLUSTER_ARN_PATTERN, 'must be an MSK cluster ARN (arn:<partition>:kafka:<region>:<account>:cluster/<name>/<id>)'),
  // Present: publish the broker string to this parameter (data stack). Absent: discovery only (consumer stacks).
  ParameterName: z.optional(
    requiredString(PARAMETER_NAME_PATTERN, "must be a fully qualified SSM parameter name such as '/lakestream/dev/msk/bootstrap-brokers-iam'"),
  ),
  // Re-runs the resource when brokers are added (the broker string then lists more hosts); discovery also checks it.
  BrokerCount: z.optional(cfnInt),
});

export type BootstrapBrokersProperties = z.infer<typeof bootstrapBrokersPropertiesSchema>;

/** What one CloudFormation event asks of the handler. */
export type BootstrapBrokersPlan =
  | {
      readonly action: 'publish';
      readonly clusterArn: string;
      readonly parameterName: string;
      /**
       * True when the parameter is ours already (same physical ID): an Update replaces its value.
       * False for a parameter we have not written yet, so that a name already used by someone else
       * is never overwritten.
       */
      readonly overwrite: boolean;
    }
  | {
      readonly action: 'discover';
      readonly clusterArn: string;
      /** The broker count the cluster is declared with; the discovered brokers must match it. */
      readonly expectedBrokerCount?: number;
    }
  | { readonly action: 'delete'; readonly parameterName: string }
  | { readonly action: 'none'; readonly physicalResourceId: string; readonly reason: string };

/**
 * Decides what to do for an event. When publishing, the physical resource ID is the parameter
 * name: it changes only when the name changes, and CloudFormation then deletes the old parameter
 * after the update. Discovery writes nothing, so its Delete (physical ID: the cluster ARN) is a no-op.
 */
export function planEvent(event: CustomResourceEvent): BootstrapBrokersPlan {
  if (event.RequestType === 'Delete') {
    const physicalId = event.PhysicalResourceId ?? '';
    // Every ID this handler returns is a parameter name; anything else names nothing we wrote.
    if (!PARAMETER_NAME_PATTERN.test(physicalId)) {
      return { action: 'none', physicalResourceId: physicalId, reason: `physical ID '${physicalId}' is not a parameter this resource wrote` };
    }
    return { action: 'delete', parameterName: physicalId };
  }

  const properties = parseProperties(bootstrapBrokersPropertiesSchema, event.ResourceProperties);
  if (properties.ParameterName === undefined) {
    return { action: 'discover', clusterArn: properties.ClusterArn, expectedBrokerCount: properties.BrokerCount };
  }
  const overwrite = event.RequestType === 'Update' && event.PhysicalResourceId === properties.ParameterName;
  return { action: 'publish', clusterArn: properties.ClusterArn, parameterName: properties.ParameterName, overwrite };
}

/** AWS SDK v3 service errors carry the exception name in `name`. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The MSK API calls the handler makes; each needs the action of the same name on the cluster. */
export type KafkaOperation = 'GetBootstrapBrokers' | 'ListNodes';

/**
 * Turns a GetBootstrapBrokers or ListNodes failure into a message that says what to fix. Failures
 * a retry cannot fix become PermanentError; throttling and service errors keep their name so the
 * caller (and the CloudFormation event) shows they were transient.
 */
export function describeKafkaError(error: unknown, clusterArn: string, operation: KafkaOperation = 'GetBootstrapBrokers'): Error {
  const name = errorName(error);
  const message = errorMessage(error);
  switch (name) {
    case 'NotFoundException':
      return new PermanentError(
        `MSK cluster ${clusterArn} was not found (${message}). Check that ClusterArn names an existing cluster in this account and region.`,
      );
    case 'BadRequestException':
      return new PermanentError(
        `MSK refused ${operation} for ${clusterArn} (${message}). The cluster must be ACTIVE and have IAM client authentication enabled; ` +
          'check its state with `aws kafka describe-cluster-v2` and redeploy once it is ACTIVE.',
      );
    case 'UnauthorizedException':
    case 'ForbiddenException':
    case 'AccessDeniedException':
      return new PermanentError(
        `Not allowed to call kafka:${operation} on ${clusterArn} (${message}). The handler's role needs that action on this cluster ARN.`,
      );
    default:
      return new Error(`${operation} failed for ${clusterArn}: ${name}: ${message}`);
  }
}

/** Same as describeKafkaError for SSM PutParameter/GetParameter/DeleteParameter failures. */
export function describeSsmError(error: unknown, operation: string, parameterName: string): Error {
  const name = errorName(error);
  const message = errorMessage(error);
  if (name === 'AccessDeniedException') {
    return new PermanentError(
      `Not allowed to call ssm:${operation} on ${parameterName} (${message}). The handler's role needs that action on this parameter's ARN.`,
    );
  }
  if (name === 'ParameterLimitExceeded' || name === 'HierarchyLevelLimitExceededException' || name === 'HierarchyTypeMismatchException') {
    return new PermanentError(`ssm:${operation} refused ${parameterName}: ${name}: ${message}`);
  }
  return new Error(`ssm:${operation} failed for ${parameterName}: ${name}: ${message}`);
}

/**
 * The SASL/IAM bootstrap string is a comma-separated `host:9098` list. An empty or missing one
 * means the cluster does not have IAM client authentication on.
 */
export function requireIamBrokerString(brokerString: string | undefined, clusterArn: string): string {
  const trimmed = brokerString?.trim() ?? '';
  if (trimmed === '') {
    throw new PermanentError(
      `MSK cluster ${clusterArn} returned no IAM bootstrap broker string (BootstrapBrokerStringSaslIam). ` +
        'Enable IAM client authentication (ClientAuthentication.Sasl.Iam) on the cluster.',
    );
  }
  return trimmed;
}

/** The part of a ListNodes entry discovery reads. */
export interface DiscoveredNode {
  readonly NodeType?: string;
  readonly BrokerNodeInfo?: { readonly BrokerId?: number; readonly Endpoints?: string[] };
}

/**
 * One DNS name per broker (`b-<id>.<cluster>...`), ordered by broker ID, from ListNodes. KRaft
 * controllers and ZooKeeper nodes are skipped: open monitoring runs on the brokers only. A broker
 * without an endpoint, or a count that differs from the declared one, fails the deployment rather
 * than leave a broker unmonitored or a consumer with a partial list.
 */
export function brokerHostsFrom(nodes: readonly DiscoveredNode[], clusterArn: string, expectedBrokerCount?: number): string[] {
  const brokers = nodes
    .filter((node) => node.BrokerNodeInfo !== undefined && (node.NodeType === undefined || node.NodeType === 'BROKER'))
    .map((node) => node.BrokerNodeInfo!)
    .sort((a, b) => (a.BrokerId ?? 0) - (b.BrokerId ?? 0));
  const hosts = brokers.map((broker) => {
    const host = broker.Endpoints?.find((endpoint) => endpoint.trim() !== '')?.trim();
    if (host === undefined) {
      throw new PermanentError(`MSK broker ${broker.BrokerId ?? '?'} of ${clusterArn} has no endpoint in ListNodes; is the cluster ACTIVE?`);
    }
    return host;
  });
  if (hosts.length === 0) {
    throw new PermanentError(`ListNodes returned no brokers for ${clusterArn}; the cluster must be ACTIVE before its consumers are deployed.`);
  }
  if (expectedBrokerCount !== undefined && hosts.length !== expectedBrokerCount) {
    throw new Error(
      `ListNodes returned ${hosts.length} brokers for ${clusterArn} (${hosts.join(', ')}) but the cluster is declared with ${expectedBrokerCount}. ` +
        'A broker-count change may still be in progress: wait until the cluster is ACTIVE and redeploy.',
    );
  }
  return hosts;
}
