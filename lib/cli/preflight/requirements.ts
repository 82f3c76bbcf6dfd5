import * as cxapi from 'aws-cdk-lib/cx-api';

/** A service-linked role the synthesized templates name by ARN. */
export interface ReferencedServiceLinkedRole {
  readonly roleName: string;
  /** The service principal, which is also the `--aws-service-name` to create the role with. */
  readonly awsServiceName: string;
}

/** What the environment's synthesized stage needs from the account, read from its cloud assembly. */
export interface PreflightRequirements {
  /**
   * Per bootstrap version parameter (one per qualifier, `/cdk-bootstrap/<qualifier>/version`), the
   * highest bootstrap stack version any stack or asset manifest of the stage requires.
   */
  readonly bootstrap: ReadonlyArray<{ readonly parameterName: string; readonly minVersion: number; readonly artifacts: string[] }>;
  /** Every CloudFormation resource type in the stage's templates, sorted. */
  readonly resourceTypes: string[];
  /** Service-linked roles referenced by ARN anywhere in the templates. */
  readonly referencedServiceLinkedRoles: ReferencedServiceLinkedRole[];
}

const SERVICE_LINKED_ROLE_ARN = /:role\/aws-service-role\/([a-z0-9.-]+)\/([\w+=,.@-]+)/g;

interface VersionedArtifact {
  readonly id: string;
  readonly requiresBootstrapStackVersion?: number;
  readonly bootstrapStackVersionSsmParameter?: string;
}

/**
 * Reads the requirements from an assembly. CDK's default synthesizer records in the manifest,
 * per stack and per asset manifest, the minimum bootstrap stack version it needs and the SSM
 * parameter that holds the deployed version (the same numbers as the `CheckBootstrapVersion`
 * rule in each template), so nothing here is hard-coded to a CDK release.
 */
export function requirementsFromAssembly(assembly: cxapi.CloudAssembly): PreflightRequirements {
  const byParameter = new Map<string, { minVersion: number; artifacts: string[] }>();
  for (const artifact of assembly.artifacts as unknown as VersionedArtifact[]) {
    const version = artifact.requiresBootstrapStackVersion;
    const parameterName = artifact.bootstrapStackVersionSsmParameter;
    if (version === undefined || parameterName === undefined) continue;
    const entry = byParameter.get(parameterName) ?? { minVersion: 0, artifacts: [] };
    entry.minVersion = Math.max(entry.minVersion, version);
    entry.artifacts.push(artifact.id);
    byParameter.set(parameterName, entry);
  }

  const resourceTypes = new Set<string>();
  const roles = new Map<string, ReferencedServiceLinkedRole>();
  for (const stack of assembly.stacks) {
    const resources = (stack.template as { Resources?: Record<string, { Type?: string }> }).Resources ?? {};
    for (const resource of Object.values(resources)) if (resource.Type) resourceTypes.add(resource.Type);
    for (const match of JSON.stringify(stack.template).matchAll(SERVICE_LINKED_ROLE_ARN)) {
      const [, awsServiceName, roleName] = match;
      if (awsServiceName && roleName) roles.set(roleName, { roleName, awsServiceName });
    }
  }

  return {
    bootstrap: [...byParameter.entries()].map(([parameterName, entry]) => ({ parameterName, ...entry })),
    resourceTypes: [...resourceTypes].sort(),
    referencedServiceLinkedRoles: [...roles.values()].sort((a, b) => a.roleName.localeCompare(b.roleName)),
  };
}
