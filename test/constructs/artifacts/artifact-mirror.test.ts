import { Duration, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ArtifactSpec, BundleSpec } from '../../../lib/constructs/artifacts/artifact-manifest';
import { ArtifactMirror, ArtifactMirrorProps } from '../../../lib/constructs/artifacts/artifact-mirror';
import { Finding, formatFindings, newCompliantTestApp, synthFindings } from '../../helpers/compliance';

const PLUGIN: ArtifactSpec = {
  name: 'connector-plugin',
  version: '1.0.0',
  source: 'maven:example:connector-plugin:1.0.0:plugin@tar.gz',
  url: 'https://repo1.maven.org/maven2/example/connector-plugin/1.0.0/connector-plugin-1.0.0-plugin.tar.gz',
  published: { kind: 'sidecar' },
  key: 'artifacts/connector-plugin/1.0.0/connector-plugin-1.0.0-plugin.tar.gz',
  usedBy: ['debezium'],
  purpose: 'test',
};
const JAR: ArtifactSpec = {
  name: 'client-jar',
  version: '2.0.0',
  source: 'github:example/client@v2.0.0/client-2.0.0-all.jar',
  url: 'https://github.com/example/client/releases/download/v2.0.0/client-2.0.0-all.jar',
  published: { kind: 'github-release', releaseUrl: 'https://api.github.com/repos/example/client/releases/tags/v2.0.0', asset: 'client-2.0.0-all.jar' },
  sha256: 'a'.repeat(64),
  key: 'artifacts/client-jar/2.0.0/client-2.0.0-all.jar',
  usedBy: ['debezium'],
  purpose: 'test',
};
const BUNDLE: BundleSpec = {
  name: 'plugin-zip',
  version: '1.0.0+2.0.0',
  key: 'artifacts/plugin-zip/1.0.0+2.0.0/plugin-zip-1.0.0+2.0.0.zip',
  parts: [
    { artifact: PLUGIN.name, unpack: 'tar.gz' },
    { artifact: JAR.name, directory: 'client/' },
  ],
  usedBy: ['debezium'],
  purpose: 'test',
};

interface Scenario {
  readonly template: Template;
  readonly findings: Finding[];
  readonly mirror: ArtifactMirror;
  readonly stack: Stack;
}

function build(extra: Partial<ArtifactMirrorProps> = {}): Scenario {
  const app = newCompliantTestApp();
  const stage = new Stage(app, 'Test');
  const stack = new Stack(stage, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const bucketKey = new kms.Key(stack, 'BucketKey', { enableKeyRotation: true });
  const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'Artifacts', { encryptionKey: bucketKey, versioned: true, enforceSSL: true });
  const mirror = new ArtifactMirror(stack, 'Mirror', {
    bucket,
    bucketKey,
    artifacts: [PLUGIN, JAR],
    bundles: [BUNDLE],
    encryptionKey: logsKey,
    logRetention: logs.RetentionDays.ONE_MONTH,
    ...extra,
  });
  const findings = synthFindings(app).filter((finding) => finding.path.startsWith(mirror.node.path));
  const template = Template.fromStack(stack);
  return { template, findings, mirror, stack };
}

const sorted = (value: unknown): string[] => [...(value as string[])].sort();

function statementsOfMirrorRole(template: Template): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy');
  const mine = Object.entries(policies).filter(([logicalId]) => logicalId.startsWith('MirrorHandlerRoleDefaultPolicy'));
  expect(mine).toHaveLength(1);
  return (mine[0][1] as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement;
}

describe('ArtifactMirror downloading from URLs', () => {
  let scenario: Scenario;
  beforeAll(() => {
    scenario = build();
  });

  it('passes every artifact with its URL, where its checksum is published and its pin, and the bundles, to the custom resource', () => {
    scenario.template.hasResourceProperties('Custom::ArtifactMirror', {
      Bucket: { Ref: Match.stringLikeRegexp('^Artifacts') },
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BucketKey'), 'Arn'] },
      DeleteOnRemove: 'false',
      Artifacts: JSON.stringify([
        { name: PLUGIN.name, key: PLUGIN.key, url: PLUGIN.url, published: 'sidecar' },
        {
          name: JAR.name,
          key: JAR.key,
          url: JAR.url,
          published: 'github-release',
          releaseUrl: 'https://api.github.com/repos/example/client/releases/tags/v2.0.0',
          asset: 'client-2.0.0-all.jar',
          sha256: JAR.sha256,
        },
      ]),
      Bundles: JSON.stringify([{ name: BUNDLE.name, key: BUNDLE.key, parts: BUNDLE.parts }]),
    });
  });

  it('lets the function write exactly the artifact and bundle keys, and nothing else in the bucket', () => {
    const statements = statementsOfMirrorRole(scenario.template);
    const s3Statement = statements.find((statement) => statement.Sid === 'WriteMirroredArtifacts');
    expect(sorted(s3Statement?.Action)).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']);
    expect(s3Statement?.Resource).toHaveLength(3);
    expect(s3Statement?.Resource).toEqual(
      expect.arrayContaining(
        [PLUGIN.key, JAR.key, BUNDLE.key].map((key) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Artifacts/), 'Arn'] }, `/${key}`]] })),
      ),
    );
    expect(JSON.stringify(statements)).not.toContain('s3:DeleteObject');
    expect(JSON.stringify(statements)).not.toContain('s3:ListBucket');
  });

  it('grants the bucket key for SSE-KMS uploads only', () => {
    const kmsStatements = statementsOfMirrorRole(scenario.template).filter((statement) => JSON.stringify(statement.Action).includes('kms:'));
    expect(kmsStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BucketKey/), 'Arn'] },
      },
    ]);
  });

  it('runs the handler on Node 24 ARM64 with a bounded timeout and encrypted logs', () => {
    scenario.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Mirrors third-party artifacts'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 600,
      MemorySize: 512,
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
    });
  });

  it('exposes keys as attributes of the custom resource so that consumers wait for the copy', () => {
    const resolved = scenario.stack.resolve(scenario.mirror.objectKey(PLUGIN.name));
    expect(resolved).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Mirror/), `${PLUGIN.name}.Key`] });
    expect(JSON.stringify(scenario.stack.resolve(scenario.mirror.s3Uri(JAR.name)))).toContain(`${JAR.name}.Key`);
    expect(JSON.stringify(scenario.stack.resolve(scenario.mirror.objectArn(JAR.name)))).toContain(`/${JAR.key}`);
    expect(JSON.stringify(scenario.stack.resolve(scenario.mirror.objectKey(BUNDLE.name)))).toContain(`${BUNDLE.name}.Key`);
    expect(scenario.mirror.artifactsUsedBy('debezium')).toEqual([PLUGIN.name, JAR.name]);
    expect(() => scenario.mirror.artifactsUsedBy('flink')).toThrow('mirrors no artifact used by flink');
    expect(() => scenario.mirror.objectKey('unknown')).toThrow("does not mirror 'unknown'; it mirrors connector-plugin, client-jar, plugin-zip");
  });

  it('gives another stack the literal key and a dependency, never an export (an export in use cannot change)', () => {
    const stage = Stage.of(scenario.stack)!;
    const consumer = new Stack(stage, `Consumer${Date.now()}`, { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(scenario.mirror.objectKeyFor(consumer, JAR.name)).toBe(JAR.key);
    expect(consumer.resolve(scenario.mirror.s3UriFor(consumer, JAR.name))).toMatchObject({ 'Fn::Join': ['', expect.arrayContaining([`/${JAR.key}`])] });
    expect(consumer.dependencies).toEqual([scenario.stack]);
    expect(scenario.stack.resolve(scenario.mirror.objectKeyFor(scenario.stack, JAR.name))).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Mirror/), `${JAR.name}.Key`],
    });
  });

  it('has no unacknowledged cdk-nag findings', () => {
    expect(formatFindings(scenario.findings)).toBe('');
  });
});

describe('ArtifactMirror copying from an S3 mirror', () => {
  let scenario: Scenario;
  beforeAll(() => {
    scenario = build({ sourceBucketUri: 's3://corp-mirror/lakestream/', deleteOnRemove: true });
  });

  it('passes sourceS3Uri instead of the URL', () => {
    scenario.template.hasResourceProperties('Custom::ArtifactMirror', {
      DeleteOnRemove: 'true',
      Artifacts: JSON.stringify([
        { name: PLUGIN.name, key: PLUGIN.key, sourceS3Uri: `s3://corp-mirror/lakestream/${PLUGIN.key}`, published: 'sidecar' },
        {
          name: JAR.name,
          key: JAR.key,
          sourceS3Uri: `s3://corp-mirror/lakestream/${JAR.key}`,
          published: 'github-release',
          releaseUrl: 'https://api.github.com/repos/example/client/releases/tags/v2.0.0',
          asset: 'client-2.0.0-all.jar',
          sha256: JAR.sha256,
        },
      ]),
    });
  });

  it('may read exactly the source objects and their checksum files, and delete exactly the mirrored ones', () => {
    const statements = statementsOfMirrorRole(scenario.template);
    const read = statements.find((statement) => statement.Sid === 'ReadArtifactSourceCopies');
    expect(read?.Action).toBe('s3:GetObject');
    const keys = [PLUGIN.key, JAR.key].flatMap((key) => ['', '.sha512', '.sha256', '.sha1'].map((suffix) => `${key}${suffix}`));
    expect(read?.Resource).toHaveLength(8);
    expect(read?.Resource).toEqual(
      expect.arrayContaining(keys.map((key) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::corp-mirror/lakestream/${key}`]] }))),
    );
    const write = statements.find((statement) => statement.Sid === 'WriteMirroredArtifacts');
    expect(sorted(write?.Action)).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject']);
  });

  it('has no unacknowledged cdk-nag findings', () => {
    expect(formatFindings(scenario.findings)).toBe('');
  });
});

describe('ArtifactMirror validation', () => {
  const stackWithPrereqs = () => {
    const stack = new Stack(undefined, 'V', { env: { account: '111111111111', region: 'eu-west-1' } });
    const key = new kms.Key(stack, 'K', { enableKeyRotation: true });
    const bucket = new s3.Bucket(stack, 'B', { encryptionKey: key });
    return { stack, key, bucket };
  };

  it.each([
    [[], 'ArtifactMirror needs at least one artifact'],
    [[JAR, { ...PLUGIN, key: JAR.key }], `Artifact key ${JAR.key} is used twice`],
    [[JAR, { ...JAR }], 'Artifact name client-jar is listed twice'],
  ] as Array<[ArtifactSpec[], string]>)('rejects %j', (artifacts, message) => {
    const { stack, key, bucket } = stackWithPrereqs();
    expect(() => new ArtifactMirror(stack, 'M', { bucket, bucketKey: key, artifacts, encryptionKey: key, logRetention: logs.RetentionDays.ONE_DAY })).toThrow(
      message,
    );
  });

  it('rejects a bundle whose parts it does not mirror', () => {
    const { stack, key, bucket } = stackWithPrereqs();
    expect(
      () =>
        new ArtifactMirror(stack, 'M', {
          bucket,
          bucketKey: key,
          artifacts: [JAR],
          bundles: [BUNDLE],
          encryptionKey: key,
          logRetention: logs.RetentionDays.ONE_DAY,
        }),
    ).toThrow('Bundle plugin-zip needs artifact(s) connector-plugin, which this mirror does not mirror');
  });

  it('rejects a timeout the Provider framework would cut short', () => {
    const { stack, key, bucket } = stackWithPrereqs();
    expect(
      () =>
        new ArtifactMirror(stack, 'M', {
          bucket,
          bucketKey: key,
          artifacts: [JAR],
          encryptionKey: key,
          logRetention: logs.RetentionDays.ONE_DAY,
          timeout: Duration.minutes(15),
        }),
    ).toThrow('ArtifactMirror timeout = 15 minutes is not allowed (allowed: 1 to 14 minutes)');
  });

  it('rejects a malformed sourceBucketUri', () => {
    const { stack, key, bucket } = stackWithPrereqs();
    expect(
      () =>
        new ArtifactMirror(stack, 'M', {
          bucket,
          bucketKey: key,
          artifacts: [JAR],
          encryptionKey: key,
          logRetention: logs.RetentionDays.ONE_DAY,
          sourceBucketUri: 'https://corp-mirror/lakestream',
        }),
    ).toThrow("sourceBucketUri must look like s3://bucket or s3://bucket/prefix, got 'https://corp-mirror/lakestream'");
  });
});
