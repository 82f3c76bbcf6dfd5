/**
 * Bundled in place of @aws-sdk/client-sts (see LakestreamFunction's esbuild alias), which only
 * aws-msk-iam-sasl-signer-js imports, and only to log the caller identity when a caller passes
 * `awsDebugCreds: true`. Lakestream never does, so the ~30 KB client and its load time are left
 * out; a client created anyway fails with a clear message instead of calling STS.
 */
export class STSClient {
  constructor(_config?: unknown) {
    throw new Error(
      'The STS client is not available inside Lambda bundles (lib/functions/shared/lambda-sts.ts replaces @aws-sdk/client-sts): do not pass awsDebugCreds to the MSK IAM signer.',
    );
  }
}

/** Only constructed after a client, which never exists here. */
export class GetCallerIdentityCommand {
  constructor(readonly input: Record<string, never> = {}) {}
}
