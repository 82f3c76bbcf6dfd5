import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Bundled in place of @aws-sdk/credential-provider-node (see LakestreamFunction's esbuild alias).
 * Lambda always hands the execution role's credentials to the function as environment variables,
 * so the SSO, INI, process, web-identity and IMDS providers of the default chain are dead weight:
 * dropping them takes about 90 KB off every SDK client bundle and their load time off cold starts.
 */
export const defaultProvider = (): AwsCredentialIdentityProvider => fromEnv();
