import { Token } from 'aws-cdk-lib';

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
