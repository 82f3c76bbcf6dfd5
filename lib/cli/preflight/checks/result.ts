import { CredentialsError } from '../../common/exit-codes';
import { describeAwsError, isAccessDenied, isCredentialsError } from '../../common/aws-errors';
import type { CheckResult, CheckStatus, PreflightCheck, PreflightContext } from '../types';

/** Builds a result row for a check. */
export function result(check: Pick<PreflightCheck, 'id' | 'title'>, status: CheckStatus, detail: string, remedy: string | null = null): CheckResult {
  return { id: check.id, title: check.title, status, detail, remedy };
}

/**
 * Runs a check body. Missing or invalid credentials abort the whole command (exit 2); an access
 * denied makes this row an error naming the permission to add, and the other checks still run.
 */
export async function guarded(check: Pick<PreflightCheck, 'id' | 'title'>, permissions: string, body: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await body();
  } catch (error) {
    if (isCredentialsError(error)) throw new CredentialsError(`AWS credentials are missing or invalid: ${describeAwsError(error)}`);
    if (isAccessDenied(error)) {
      return result(check, 'error', `access denied: ${describeAwsError(error)}`, `allow ${permissions} for the identity running preflight`);
    }
    return result(check, 'error', `the check could not run: ${describeAwsError(error)}`, 'retry; if it persists, check network access to the AWS APIs');
  }
}

export type CheckBody = (context: PreflightContext) => Promise<CheckResult>;
