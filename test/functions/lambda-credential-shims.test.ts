import * as path from 'node:path';
import * as signer from 'aws-msk-iam-sasl-signer-js';
import { buildSync } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../../lib/constructs/core/lambda-bundles';

/**
 * The shims that LakestreamFunction's esbuild aliases put in place of @aws-sdk/credential-providers
 * and @aws-sdk/client-sts, exercised through the real MSK IAM signer exactly as shared/kafka.ts calls it.
 */
jest.mock('@aws-sdk/credential-providers', () => jest.requireActual('../../lib/functions/shared/lambda-credential-providers'));
jest.mock('@aws-sdk/client-sts', () => jest.requireActual('../../lib/functions/shared/lambda-sts'));

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE01',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'session-token-of-the-execution-role',
};

describe('MSK IAM signer with the Lambda credential shims', () => {
  const saved = { ...process.env };
  beforeEach(() => Object.assign(process.env, CREDENTIALS));
  afterEach(() => {
    for (const name of Object.keys(CREDENTIALS)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('signs a kafka-cluster:Connect token with the environment credentials (generateAuthToken({ region }))', async () => {
    const { token, expiryTime } = await signer.generateAuthToken({ region: 'eu-west-1' });
    const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
    expect(url.hostname).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAEXAMPLEEXAMPLE01\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(CREDENTIALS.AWS_SESSION_TOKEN);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(expiryTime).toBeGreaterThan(Date.now());
  });

  it('fails clearly when the environment holds no credentials', async () => {
    for (const name of Object.keys(CREDENTIALS)) delete process.env[name];
    await expect(signer.generateAuthToken({ region: 'eu-west-1' })).rejects.toThrow(/environment variable credentials/i);
  });

  it('refuses profiles and role assumption with a message saying why', async () => {
    await expect(signer.generateAuthTokenFromProfile({ region: 'eu-west-1', awsProfileName: 'dev' })).rejects.toThrow(
      /fromIni is not available inside Lambda bundles: AWS profiles do not exist there/,
    );
    await expect(signer.generateAuthTokenFromRole({ region: 'eu-west-1', awsRoleArn: 'arn:aws:iam::111111111111:role/other' })).rejects.toThrow(
      /fromTemporaryCredentials is not available inside Lambda bundles: role assumption is not bundled/,
    );
  });

  it('refuses the awsDebugCreds identity lookup instead of calling STS', async () => {
    await expect(signer.generateAuthToken({ region: 'eu-west-1', awsDebugCreds: true })).rejects.toThrow(
      /The STS client is not available inside Lambda bundles .*do not pass awsDebugCreds/,
    );
  });
});

describe('Lambda bundles of the Kafka functions', () => {
  const functionsDir = path.join(__dirname, '..', '..', 'lib', 'functions');

  it.each(['topic-manager', 'ga4-ingest', 'file-replay'])(
    '%s bundles no STS, profile or SSO credential code, SSM only to keep state, and no classic zod of its own',
    (name) => {
      const result = buildSync({
        entryPoints: [path.join(functionsDir, name, 'index.ts')],
        ...LAMBDA_BUNDLE_OPTIONS,
        write: false,
        outdir: path.join(__dirname, 'unused-outdir'),
        metafile: true,
      });
      const inputs = Object.keys(result.metafile.inputs);
      const packages = (fragment: string) => inputs.filter((input) => input.includes(fragment));
      expect(packages('node_modules/@aws-sdk/client-ssm/').length > 0).toBe(name === 'ga4-ingest'); // its high-water mark lives in SSM
      expect(packages('node_modules/@aws-sdk/client-sts/')).toEqual([]);
      expect(packages('node_modules/@aws-sdk/credential-providers/')).toEqual([]);
      expect(packages('node_modules/@aws-sdk/credential-provider-ini/')).toEqual([]);
      expect(packages('node_modules/@aws-sdk/nested-clients/')).toEqual([]);
      expect(inputs).toEqual(expect.arrayContaining([expect.stringContaining('lib/functions/shared/lambda-credential-providers.ts')]));
      // The classic zod API (zod/v4/classic) stays out except where a shared contract module still needs it.
      expect(packages('node_modules/zod/v4/classic/').length > 0).toBe(name === 'topic-manager'); // lib/contracts/topic-spec.ts
    },
  );
});
