import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { defaultProvider } from './lambda-credentials';

/**
 * Bundled in place of @aws-sdk/credential-providers (see LakestreamFunction's esbuild alias), which
 * only aws-msk-iam-sasl-signer-js imports. `generateAuthToken({ region })`, the signer call of
 * shared/kafka.ts, uses `fromNodeProviderChain` alone; inside Lambda that chain always ends at the
 * environment credentials of the execution role, so it is the env provider here. The package's
 * other providers pull in the SSO, STS and Cognito clients (about 150 KB and their load time).
 */
export const fromNodeProviderChain = (_init?: unknown): AwsCredentialIdentityProvider => defaultProvider();

/** The signer's `generateAuthTokenFromProfile`: there are no profile files inside Lambda. */
export function fromIni(_init?: unknown): AwsCredentialIdentityProvider {
  throw new Error(
    'fromIni is not available inside Lambda bundles: AWS profiles do not exist there and @aws-sdk/credential-providers is replaced by the environment credentials (lib/functions/shared/lambda-credential-providers.ts); use generateAuthToken({ region }).',
  );
}

/** The signer's `generateAuthTokenFromRole`: grant the function's own role instead of assuming another. */
export function fromTemporaryCredentials(_init?: unknown): AwsCredentialIdentityProvider {
  throw new Error(
    "fromTemporaryCredentials is not available inside Lambda bundles: role assumption is not bundled (lib/functions/shared/lambda-credential-providers.ts); grant the function's own execution role and use generateAuthToken({ region }).",
  );
}
