import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Prefix CloudWatch Logs treats specially for vended log delivery. */
export const VENDED_LOGS_PREFIX = '/aws/vendedlogs/';

/**
 * Name of a log group that an AWS service writes to through CloudWatch Logs vended log delivery
 * (Step Functions, Amazon Managed Service for Prometheus, MSK, MSK Connect).
 *
 * Why the prefix: without it, each delivery adds the log group to the account's CloudWatch Logs
 * resource policy, which is limited in size (5,120 characters) and count per region; under
 * `/aws/vendedlogs/` one policy statement covers them all, so many environments in one account
 * never exhaust it. `qualifier` (the environment's, e.g. `lakestream-dev`, or a stack name that
 * contains it) keeps names of environments apart and deterministic.
 */
export function vendedLogGroupName(service: string, qualifier: string, name: string): string {
  for (const [field, value] of Object.entries({ service, qualifier, name })) {
    if (Token.isUnresolved(value)) throw new Error(`vendedLogGroupName: ${field} must be a literal string, not a token`);
    if (!/^[A-Za-z0-9_.\-/]+$/.test(value) || value.startsWith('/') || value.endsWith('/')) {
      throw new Error(`vendedLogGroupName: ${field} is '${value}'; allowed: letters, digits, '_', '-', '.', and inner '/'.`);
    }
  }
  const logGroupName = `${VENDED_LOGS_PREFIX}${service}/${qualifier}/${name}`;
  if (logGroupName.length > 512) throw new Error(`vendedLogGroupName: '${logGroupName}' is longer than CloudWatch Logs' 512 characters.`);
  return logGroupName;
}

/**
 * `vendedLogGroupName` for a construct: qualified by its stack's name (which carries the
 * environment qualifier, e.g. `lakestream-dev-processing`) and named after its path in the stack,
 * so two constructs never share a log group and a redeploy keeps the name.
 */
export function vendedLogGroupNameFor(scope: IConstruct, service: string): string {
  const stack = Stack.of(scope);
  const scopes = scope.node.scopes;
  const path = scopes
    .slice(scopes.indexOf(stack) + 1)
    .map((s) => s.node.id.replace(/[^A-Za-z0-9_.-]/g, '-'))
    .join('/');
  return vendedLogGroupName(service, stack.stackName, path);
}
