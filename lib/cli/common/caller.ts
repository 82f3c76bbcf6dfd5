import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { ResolvedEnvironment } from '../../config/load-config';
import { describeAwsError, isAccessDenied, isCredentialsError } from './aws-errors';
import { CredentialsError } from './exit-codes';

/**
 * The account of the credentials, checked against the environment's account when it names one.
 * No credentials, or credentials for another account, end the command with exit 2 before any check.
 */
export async function callerAccount(clients: { readonly sts: STSClient }, config: ResolvedEnvironment): Promise<string> {
  let account: string | undefined;
  try {
    account = (await clients.sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    if (isCredentialsError(error) || isAccessDenied(error)) {
      throw new CredentialsError(
        `AWS credentials are missing or invalid (sts:GetCallerIdentity): ${describeAwsError(error)}. Set AWS_PROFILE or run aws sso login.`,
      );
    }
    throw error;
  }
  if (!account) throw new CredentialsError('sts:GetCallerIdentity returned no account');
  if (config.account && config.account !== account) {
    throw new CredentialsError(
      `the credentials are for account ${account}, but environment ${config.stageName} deploys to ${config.account}: use a profile for ${config.account}`,
    );
  }
  return account;
}
