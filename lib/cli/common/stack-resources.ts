import { paginateListStackResources, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { isNotFound } from './aws-errors';
import type { ResourceRef } from './deployment';

/** A deployed resource: its physical id (what `Ref` returns for most types) and CloudFormation status. */
export interface DeployedResource {
  readonly physicalId: string;
  readonly status: string;
}

/**
 * Physical ids of the stage's resources, read from CloudFormation. A stack that does not exist
 * (not deployed, or deleted) yields no entries, so every lookup into it reports "not deployed".
 */
export class StackResources {
  private constructor(
    private readonly byKey: ReadonlyMap<string, DeployedResource>,
    /** Stacks that do not exist. */
    public readonly missingStacks: readonly string[],
  ) {}

  static async load(client: CloudFormationClient, stackNames: readonly string[]): Promise<StackResources> {
    const byKey = new Map<string, DeployedResource>();
    const missing: string[] = [];
    await Promise.all(
      stackNames.map(async (stackName) => {
        try {
          for await (const page of paginateListStackResources({ client }, { StackName: stackName })) {
            for (const r of page.StackResourceSummaries ?? []) {
              if (r.LogicalResourceId && r.PhysicalResourceId) {
                byKey.set(`${stackName}/${r.LogicalResourceId}`, { physicalId: r.PhysicalResourceId, status: r.ResourceStatus ?? 'UNKNOWN' });
              }
            }
          }
        } catch (error) {
          // CloudFormation answers a missing stack with ValidationError "Stack with id X does not exist".
          if (isNotFound(error, 'ValidationError') && /does not exist/.test(String((error as Error).message))) missing.push(stackName);
          else throw error;
        }
      }),
    );
    return new StackResources(byKey, missing.sort());
  }

  /** The deployed resource, or undefined when its stack or the resource itself is absent. */
  find(resource: ResourceRef): DeployedResource | undefined {
    return this.byKey.get(`${resource.stackName}/${resource.logicalId}`);
  }

  /** The deployed resource; throws NotDeployedError when it is absent. */
  get(resource: ResourceRef): DeployedResource {
    const found = this.find(resource);
    if (!found) throw new NotDeployedError(resource);
    return found;
  }
}

/** A resource the stage defines but the account does not have (stack not deployed, or resource failed). */
export class NotDeployedError extends Error {
  constructor(public readonly resource: ResourceRef) {
    super(`${resource.resourceType} ${resource.logicalId} is not deployed in stack ${resource.stackName}`);
    this.name = 'NotDeployedError';
  }
}

/** The last segment of an ARN's resource part (`arn:...:workspace/ws-1` -> `ws-1`), or the id itself. */
export function idFromArn(physicalId: string): string {
  return physicalId.startsWith('arn:') ? (physicalId.split(/[:/]/).at(-1) ?? physicalId) : physicalId;
}
