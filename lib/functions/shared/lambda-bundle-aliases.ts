import * as path from 'node:path';

/**
 * esbuild aliases applied to every Lambda bundle (LakestreamFunction and bench/bundles.ts both read
 * this map, so measured and deployed bundles match): module specifier → shim file in this folder.
 * Each shim keeps only what runs inside Lambda, where credentials are always the execution role's
 * environment variables; see the shims for what they refuse.
 */
export const LAMBDA_BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(__dirname, 'lambda-credentials.ts'),
  '@aws-sdk/credential-providers': path.join(__dirname, 'lambda-credential-providers.ts'),
  '@aws-sdk/client-sts': path.join(__dirname, 'lambda-sts.ts'),
};
