import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockArtifacts, parseArguments } from '../../bin/artifacts-lock';
import { applyPins, loadArtifactLock } from '../../lib/constructs/artifacts/artifact-lock';
import { loadArtifactManifest } from '../../lib/constructs/artifacts/artifact-manifest';

const connector = Buffer.from('PK\u0003\u0004 flink connector '.repeat(200));
const clients = Buffer.from('PK\u0003\u0004 kafka clients '.repeat(300));
const shaded = Buffer.from('PK\u0003\u0004 shaded iam auth '.repeat(100));
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

/** What the local server answers: a Maven repository under /maven, GitHub under /gh and its API under /api. */
const routes = new Map<string, Buffer | string>();
let server: http.Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const body = routes.get(request.url ?? '');
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  routes.clear();
  routes.set('/maven/org/apache/flink/flink-connector-kafka/3.4.0-1.20/flink-connector-kafka-3.4.0-1.20.jar', connector);
  routes.set('/maven/org/apache/flink/flink-connector-kafka/3.4.0-1.20/flink-connector-kafka-3.4.0-1.20.jar.sha512', hex('sha512', connector));
  routes.set('/maven/org/apache/kafka/kafka-clients/3.4.0/kafka-clients-3.4.0.jar', clients);
  routes.set('/maven/org/apache/kafka/kafka-clients/3.4.0/kafka-clients-3.4.0.jar.sha1', `${hex('sha1', clients)}  kafka-clients-3.4.0.jar`);
  routes.set('/gh/aws/aws-msk-iam-auth/releases/download/v2.3.2/aws-msk-iam-auth-2.3.2-all.jar', shaded);
  routes.set(
    '/api/repos/aws/aws-msk-iam-auth/releases/tags/v2.3.2',
    JSON.stringify({ assets: [{ name: 'aws-msk-iam-auth-2.3.2-all.jar', digest: `sha256:${hex('sha256', shaded)}` }] }),
  );
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artifacts-lock-'));
  fs.writeFileSync(
    path.join(dir, 'artifacts.json'),
    JSON.stringify({
      runtimes: { flink: '1.20', spark: '3.5.5', scala: '2.12' },
      artifacts: [
        { name: 'flink-connector-kafka', maven: 'org.apache.flink:flink-connector-kafka:3.4.0-1.20', usedBy: ['flink'], purpose: 'test' },
        { name: 'flink-kafka-clients', maven: 'org.apache.kafka:kafka-clients:3.4.0', usedBy: ['flink'], purpose: 'test' },
        {
          name: 'aws-msk-iam-auth',
          version: '2.3.2',
          githubRelease: { repository: 'aws/aws-msk-iam-auth', tag: 'v2.3.2', asset: 'aws-msk-iam-auth-2.3.2-all.jar' },
          usedBy: ['flink'],
          purpose: 'test',
        },
      ],
    }),
  );
});

const options = () => ({
  manifestPath: path.join(dir, 'artifacts.json'),
  lockPath: path.join(dir, 'artifacts.lock.json'),
  repositories: { maven: `${base}/maven`, github: `${base}/gh`, githubApi: `${base}/api` },
  allowInsecureHttp: true,
  log: () => undefined,
});

test('records the SHA-256 of every artifact after checking the checksum its publisher publishes', async () => {
  await lockArtifacts(options());
  const lock = loadArtifactLock(options().lockPath);
  expect(lock.pins).toEqual({
    'flink-connector-kafka': {
      source: 'maven:org.apache.flink:flink-connector-kafka:3.4.0-1.20',
      sha256: hex('sha256', connector),
      verifiedWith: `sha512 published at ${base}/maven/org/apache/flink/flink-connector-kafka/3.4.0-1.20/flink-connector-kafka-3.4.0-1.20.jar.sha512`,
    },
    'flink-kafka-clients': {
      source: 'maven:org.apache.kafka:kafka-clients:3.4.0',
      sha256: hex('sha256', clients),
      verifiedWith: `sha1 published at ${base}/maven/org/apache/kafka/kafka-clients/3.4.0/kafka-clients-3.4.0.jar.sha1`,
    },
    'aws-msk-iam-auth': {
      source: 'github:aws/aws-msk-iam-auth@v2.3.2/aws-msk-iam-auth-2.3.2-all.jar',
      sha256: hex('sha256', shaded),
      verifiedWith: `sha256 GitHub release digest of aws-msk-iam-auth-2.3.2-all.jar at ${base}/api/repos/aws/aws-msk-iam-auth/releases/tags/v2.3.2`,
    },
  });
  // The pins are keyed by source, so they apply to the same manifest resolved against the public repositories.
  expect(applyPins(loadArtifactManifest(options().manifestPath).artifacts, lock).map((a) => a.sha256)).toEqual(
    [connector, clients, shaded].map((data) => hex('sha256', data)),
  );
});

test('writes nothing when a download differs from its published checksum, naming the artifact', async () => {
  routes.set('/maven/org/apache/kafka/kafka-clients/3.4.0/kafka-clients-3.4.0.jar', Buffer.from('tampered'));
  await expect(lockArtifacts(options())).rejects.toThrow(/Not written[\s\S]*flink-kafka-clients: checksum mismatch for flink-kafka-clients: expected sha1/);
  expect(fs.existsSync(options().lockPath)).toBe(false);
});

test('refuses to pin what its publisher publishes no checksum for', async () => {
  routes.set('/api/repos/aws/aws-msk-iam-auth/releases/tags/v2.3.2', JSON.stringify({ assets: [{ name: 'aws-msk-iam-auth-2.3.2-all.jar', digest: null }] }));
  await expect(lockArtifacts(options())).rejects.toThrow('aws-msk-iam-auth: its publisher publishes no checksum');
  expect(fs.existsSync(options().lockPath)).toBe(false);
});

test('pins an artifact without a published checksum only when the operator names it, and says so in the lock file', async () => {
  routes.set('/api/repos/aws/aws-msk-iam-auth/releases/tags/v2.3.2', JSON.stringify({ assets: [{ name: 'aws-msk-iam-auth-2.3.2-all.jar', digest: null }] }));
  await expect(lockArtifacts({ ...options(), trustUnpublished: ['flink-kafka-clients'] })).rejects.toThrow('--trust-unpublished aws-msk-iam-auth');
  await expect(lockArtifacts({ ...options(), trustUnpublished: ['no-such-artifact'] })).rejects.toThrow(
    '--trust-unpublished names no artifact of the manifest: no-such-artifact',
  );
  await lockArtifacts({ ...options(), trustUnpublished: ['aws-msk-iam-auth'] });
  const pins = loadArtifactLock(options().lockPath).pins;
  expect(pins['aws-msk-iam-auth']).toEqual({
    source: 'github:aws/aws-msk-iam-auth@v2.3.2/aws-msk-iam-auth-2.3.2-all.jar',
    sha256: hex('sha256', shaded),
    verifiedWith: `trust on first use: no published checksum; downloaded from ${base}/gh/aws/aws-msk-iam-auth/releases/download/v2.3.2/aws-msk-iam-auth-2.3.2-all.jar by artifacts:lock --trust-unpublished aws-msk-iam-auth`,
  });
  // Artifacts with a published checksum are still verified against it.
  expect(pins['flink-kafka-clients'].verifiedWith).toMatch(/^sha1 published at /);
});

test('takes the repository base URLs and file paths from the command line', () => {
  expect(parseArguments(['--maven-repository', 'https://nexus.example/maven', '--lock', '/tmp/x.json'])).toMatchObject({
    lockPath: '/tmp/x.json',
    repositories: { maven: 'https://nexus.example/maven', github: 'https://github.com', githubApi: 'https://api.github.com' },
  });
  expect(parseArguments(['--trust-unpublished', 'a', '--trust-unpublished', 'b']).trustUnpublished).toEqual(['a', 'b']);
  expect(() => parseArguments(['--mirror', 'x'])).toThrow('Unknown or incomplete option --mirror');
});
