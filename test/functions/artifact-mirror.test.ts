import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { openDownload } from '../../lib/functions/artifact-mirror/download';
import { entryContent, readZip } from '../../lib/functions/shared/zip-archive';

type Handler = typeof import('../../lib/functions/artifact-mirror/index').handler;

const BUCKET = 'lakestream-dev-artifacts';
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const SAFETY_MARGIN_MS = 1_000;

const smallJar = Buffer.from('PK\u0003\u0004 a small jar that stands in for a connector\n'.repeat(64));
// Larger than one 8 MiB part so that the multipart path of lib-storage is exercised.
const largeZip = Buffer.alloc(12 * 1024 * 1024 + 123, 7);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('hex');
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

/** Extra paths the server answers, set per test: checksum files, release descriptions, archives. */
const published = new Map<string, Buffer | string>();

const s3Mock = mockClient(S3Client);
let server: http.Server;
let baseUrl: string;
const hits: string[] = [];
let handler: Handler;

/** A GetObject body as the SDK returns it (a stream with transformToString). */
function sdkBody(text: string): Readable & { transformToString: () => Promise<string> } {
  return Object.assign(Readable.from([Buffer.from(text)]), { transformToString: async () => text });
}

function notFound(): S3ServiceException {
  return new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
}

/** An artifact from the local server whose checksum is found in <url>.sha512/.sha256/.sha1. */
const fromUrl = (name: string, key: string, path: string, extra: Record<string, unknown> = {}) => ({
  name,
  key,
  url: `${baseUrl}${path}`,
  published: 'sidecar',
  ...extra,
});

function event(requestType: 'Create' | 'Update' | 'Delete', artifacts: unknown[], extra: Record<string, string> = {}): CustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ResponseURL: 'https://example.invalid/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1',
    RequestId: 'request-1',
    LogicalResourceId: 'ArtifactMirror',
    ResourceType: 'Custom::ArtifactMirror',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `artifact-mirror:${BUCKET}` }),
    ...(requestType === 'Update' ? { OldResourceProperties: {} } : {}),
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
      Bucket: BUCKET,
      KmsKeyArn: KMS_KEY_ARN,
      Artifacts: JSON.stringify(artifacts),
      ...extra,
    },
  } as CustomResourceEvent;
}

const lambdaContext = (remainingMs = 120_000) => ({ getRemainingTimeInMillis: () => remainingMs });

function uploadedBytes(): Buffer {
  const parts = s3Mock
    .commandCalls(UploadPartCommand)
    .map((call) => call.args[0].input)
    .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  return Buffer.concat(parts.map((part) => Buffer.from(part.Body as Uint8Array)));
}

beforeAll(async () => {
  process.env.ALLOW_INSECURE_HTTP_FOR_TESTS = 'true';
  process.env.DEADLINE_SAFETY_MARGIN_MS = String(SAFETY_MARGIN_MS);
  // Long enough that a loaded CI machine answers a healthy local request in time (400 ms flaked),
  // short enough for the hang test.
  process.env.RESPONSE_TIMEOUT_MS = '2000';
  process.env.AWS_REGION = 'eu-west-1';
  process.env.POWERTOOLS_DEV = 'false';
  process.env.LOG_LEVEL = 'ERROR';

  server = http.createServer((request, response) => {
    hits.push(request.url ?? '');
    const extra = published.get(request.url ?? '');
    if (extra !== undefined) {
      response.writeHead(200).end(extra);
      return;
    }
    switch (request.url) {
      case '/small.jar':
        response.writeHead(200, { 'content-type': 'application/java-archive' }).end(smallJar);
        return;
      case '/large.zip':
        response.writeHead(200);
        Readable.from(
          (function* () {
            for (let offset = 0; offset < largeZip.length; offset += 1024 * 1024) yield largeZip.subarray(offset, offset + 1024 * 1024);
          })(),
        ).pipe(response);
        return;
      case '/moved':
        response.writeHead(302, { location: '/hop' }).end();
        return;
      case '/hop':
        response.writeHead(301, { location: `${baseUrl}/small.jar` }).end();
        return;
      case '/loop':
        response.writeHead(302, { location: '/loop' }).end();
        return;
      case '/repos/owner/limited/releases/tags/v1.0':
        // GitHub's answer once the unauthenticated primary rate limit is used up.
        response
          .writeHead(403, 'rate limit exceeded', { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1893456000' })
          .end('{"message":"API rate limit exceeded"}');
        return;
      case '/repos/owner/forbidden/releases/tags/v1.0':
        response.writeHead(403, 'Forbidden').end('{"message":"Forbidden"}');
        return;
      case '/hang':
        return; // never answers: the response timeout must end the request
      case '/trickle':
        response.writeHead(200);
        response.write(smallJar.subarray(0, 10)); // headers and a few bytes, then silence
        return;
      default:
        response.writeHead(404, 'Not Found').end('no such artifact');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ({ handler } = require('../../lib/functions/artifact-mirror/index') as { handler: Handler });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits.length = 0;
  published.clear();
  s3Mock.reset();
  s3Mock.on(HeadObjectCommand).rejects(notFound());
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
  s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber?: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
  s3Mock.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v2' });
  s3Mock.on(AbortMultipartUploadCommand).resolves({});
  s3Mock.on(DeleteObjectCommand).resolves({});
});

describe('Create/Update: downloading from a URL', () => {
  it('streams a fresh artifact into the bucket with SSE-KMS and the published checksum as metadata', async () => {
    const key = 'artifacts/small/1.0/small.jar';
    published.set('/small.jar.sha512', sha512(smallJar));
    const result = await handler(event('Create', [fromUrl('small', key, '/small.jar')]), lambdaContext());

    const puts = s3Mock.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0].args[0].input;
    expect(input).toMatchObject({
      Bucket: BUCKET,
      Key: key,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KMS_KEY_ARN,
      BucketKeyEnabled: true,
      ContentType: 'application/java-archive',
      Metadata: { sha512: sha512(smallJar) },
    });
    expect(Buffer.from(input.Body as Uint8Array).equals(smallJar)).toBe(true);
    expect(s3Mock.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: key });
    expect(result).toEqual({
      PhysicalResourceId: `artifact-mirror:${BUCKET}`,
      Data: { 'small.Key': key, 'small.S3Uri': `s3://${BUCKET}/${key}` },
    });
  });

  it('uses a multipart upload for artifacts larger than one part and checks the published checksum and the pin together', async () => {
    const key = 'artifacts/large/2.0/large.zip';
    published.set('/large.zip.sha512', `${sha512(largeZip)}  large.zip\n`);
    await handler(event('Update', [fromUrl('large', key, '/large.zip', { sha256: sha256(largeZip) })]), lambdaContext());

    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      Bucket: BUCKET,
      Key: key,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KMS_KEY_ARN,
      ContentType: 'application/zip',
      Metadata: { sha256: sha256(largeZip), sha512: sha512(largeZip) },
    });
    expect(s3Mock.commandCalls(UploadPartCommand)).toHaveLength(2);
    expect(uploadedBytes().equals(largeZip)).toBe(true);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.MultipartUpload?.Parts).toEqual([
      { PartNumber: 1, ETag: '"etag-1"' },
      { PartNumber: 2, ETag: '"etag-2"' },
    ]);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(0);
  });

  it('follows redirects to the artifact', async () => {
    published.set('/moved.sha256', sha256(smallJar));
    await handler(event('Create', [fromUrl('small', 'artifacts/small.jar', '/moved')]), lambdaContext());
    expect(hits).toEqual(['/moved.sha512', '/moved.sha256', '/moved', '/hop', '/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('gives up after the redirect limit', async () => {
    await expect(handler(event('Create', [fromUrl('looping', 'artifacts/l.jar', '/loop', { sha256: sha256(smallJar) })]), lambdaContext())).rejects.toThrow(
      `download of looping failed: more than 5 redirects starting at ${baseUrl}/loop`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('fails with the HTTP status when the artifact is missing upstream', async () => {
    published.set('/gone.jar.sha1', sha1(smallJar));
    await expect(handler(event('Create', [fromUrl('gone', 'artifacts/g.jar', '/gone.jar')]), lambdaContext())).rejects.toThrow(
      `download of gone failed: HTTP 404 Not Found from ${baseUrl}/gone.jar`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('times out a server that never answers', async () => {
    published.set('/hang.sha512', sha512(smallJar));
    await expect(handler(event('Create', [fromUrl('slow', 'artifacts/s.jar', '/hang')]), lambdaContext())).rejects.toThrow(
      `download of slow timed out: no response from ${baseUrl}/hang within 2000 ms`,
    );
  });

  it('stops at the invocation deadline while a body is still arriving and names the artifact', async () => {
    published.set('/trickle.sha512', sha512(smallJar));
    const started = Date.now();
    await expect(handler(event('Create', [fromUrl('trickling', 'artifacts/t.jar', '/trickle')]), lambdaContext(SAFETY_MARGIN_MS + 300))).rejects.toThrow(
      /artifact mirror ran out of its 0\.3s time budget while copying trickling to s3:\/\/lakestream-dev-artifacts\/artifacts\/t\.jar; raise the function timeout/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('published checksums', () => {
  it('uses the strongest checksum file the repository publishes and reads no weaker one', async () => {
    published.set('/small.jar.sha512', sha512(smallJar));
    published.set('/small.jar.sha256', sha256(smallJar));
    published.set('/small.jar.sha1', sha1(smallJar));
    await handler(event('Create', [fromUrl('small', 'artifacts/s.jar', '/small.jar')]), lambdaContext());
    expect(hits).toEqual(['/small.jar.sha512', '/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).toEqual({ sha512: sha512(smallJar) });
  });

  it('falls back to SHA-1 when that is all the repository publishes', async () => {
    published.set('/small.jar.sha1', sha1(smallJar));
    await handler(event('Create', [fromUrl('small', 'artifacts/s.jar', '/small.jar')]), lambdaContext());
    expect(hits).toEqual(['/small.jar.sha512', '/small.jar.sha256', '/small.jar.sha1', '/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).toEqual({ sha1: sha1(smallJar) });
  });

  it('fails on a checksum file that is not a checksum', async () => {
    published.set('/small.jar.sha512', '<html>proxy login</html>');
    await expect(handler(event('Create', [fromUrl('small', 'artifacts/s.jar', '/small.jar')]), lambdaContext())).rejects.toThrow(
      `${baseUrl}/small.jar.sha512 is not a sha512 checksum file`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('refuses an artifact with neither a published checksum nor a pin, naming where it looked', async () => {
    await expect(handler(event('Create', [fromUrl('unverifiable', 'artifacts/u.jar', '/small.jar')]), lambdaContext())).rejects.toThrow(
      `refusing to mirror unverifiable: its publisher publishes no checksum (looked for ${baseUrl}/small.jar.sha512, ${baseUrl}/small.jar.sha256, ${baseUrl}/small.jar.sha1) and jobs/artifacts.lock.json has no pin for it`,
    );
    expect(hits).not.toContain('/small.jar');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('mirrors an artifact without a published checksum against its pin', async () => {
    await handler(event('Create', [fromUrl('pinned', 'artifacts/p.jar', '/small.jar', { sha256: sha256(smallJar) })]), lambdaContext());
    expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).toEqual({ sha256: sha256(smallJar) });
  });

  describe('GitHub release assets', () => {
    const release = (digest: string | null) =>
      JSON.stringify({
        tag_name: 'v1.0',
        assets: [
          { name: 'other.jar', digest: `sha256:${'0'.repeat(64)}` },
          { name: 'tool-1.0-all.jar', digest },
        ],
      });
    const fromRelease = (extra: Record<string, unknown> = {}) => ({
      name: 'tool',
      key: 'artifacts/tool/1.0/tool-1.0-all.jar',
      url: `${baseUrl}/small.jar`,
      published: 'github-release',
      releaseUrl: `${baseUrl}/repos/owner/tool/releases/tags/v1.0`,
      asset: 'tool-1.0-all.jar',
      ...extra,
    });

    it("verifies against the asset's digest from the REST API", async () => {
      published.set('/repos/owner/tool/releases/tags/v1.0', release(`sha256:${sha256(smallJar)}`));
      await handler(event('Create', [fromRelease()]), lambdaContext());
      expect(hits).toEqual(['/repos/owner/tool/releases/tags/v1.0', '/small.jar']);
      expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).toEqual({ sha256: sha256(smallJar) });
    });

    it('fails when the downloaded asset differs from its digest', async () => {
      const digest = 'd'.repeat(64);
      published.set('/repos/owner/tool/releases/tags/v1.0', release(`sha256:${digest}`));
      await expect(handler(event('Create', [fromRelease()]), lambdaContext())).rejects.toThrow(
        `checksum mismatch for tool: expected sha256 ${digest} (GitHub release digest of tool-1.0-all.jar at ${baseUrl}/repos/owner/tool/releases/tags/v1.0), got ${sha256(smallJar)}`,
      );
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('refuses an asset GitHub has no digest for, unless it is pinned', async () => {
      published.set('/repos/owner/tool/releases/tags/v1.0', release(null));
      await expect(handler(event('Create', [fromRelease()]), lambdaContext())).rejects.toThrow(
        `refusing to mirror tool: its publisher publishes no checksum (looked for the digest of tool-1.0-all.jar at ${baseUrl}/repos/owner/tool/releases/tags/v1.0)`,
      );
      await handler(event('Create', [fromRelease({ sha256: sha256(smallJar) })]), lambdaContext());
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
    });

    it('fails on a rate-limited GitHub API with what to do, and verifies a pinned asset against its pin instead', async () => {
      const limited = (extra: Record<string, unknown> = {}) => fromRelease({ releaseUrl: `${baseUrl}/repos/owner/limited/releases/tags/v1.0`, ...extra });
      await expect(handler(event('Create', [limited()]), lambdaContext())).rejects.toThrow(
        `tool: the GitHub REST API refused ${baseUrl}/repos/owner/limited/releases/tags/v1.0 (HTTP 403, rate limit until 2030-01-01T00:00:00.000Z). ` +
          'Unauthenticated requests get 60 an hour per source IP address',
      );
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      await expect(handler(event('Create', [limited({ sha256: 'e'.repeat(64) })]), lambdaContext())).rejects.toThrow(
        `checksum mismatch for tool: expected sha256 ${'e'.repeat(64)} (pin`,
      );
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      await handler(event('Create', [limited({ sha256: sha256(smallJar) })]), lambdaContext());
      expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).toEqual({ sha256: sha256(smallJar) });
    });

    it('still fails on any other refusal of the GitHub API, pinned or not', async () => {
      const forbidden = fromRelease({ releaseUrl: `${baseUrl}/repos/owner/forbidden/releases/tags/v1.0`, sha256: sha256(smallJar) });
      await expect(handler(event('Create', [forbidden]), lambdaContext())).rejects.toThrow(
        `failed: HTTP 403 Forbidden from ${baseUrl}/repos/owner/forbidden/releases/tags/v1.0`,
      );
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('fails naming the asset when the release does not have it', async () => {
      published.set('/repos/owner/tool/releases/tags/v1.0', JSON.stringify({ assets: [] }));
      await expect(handler(event('Create', [fromRelease()]), lambdaContext())).rejects.toThrow(
        `tool: the release at ${baseUrl}/repos/owner/tool/releases/tags/v1.0 has no asset named tool-1.0-all.jar`,
      );
    });
  });
});

describe('checksum verification', () => {
  it('fails a file that differs from its published checksum, naming artifact, expected and actual, without writing it', async () => {
    const wrong = 'a'.repeat(128);
    published.set('/small.jar.sha512', wrong);
    await expect(handler(event('Create', [fromUrl('tampered', 'artifacts/t.jar', '/small.jar')]), lambdaContext())).rejects.toThrow(
      `checksum mismatch for tampered: expected sha512 ${wrong} (published at ${baseUrl}/small.jar.sha512), got ${sha512(smallJar)} (${smallJar.length} bytes)`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('fails a file that matches its published checksum but not its pin', async () => {
    const pin = 'e'.repeat(64);
    published.set('/small.jar.sha512', sha512(smallJar));
    await expect(handler(event('Create', [fromUrl('repinned', 'artifacts/t.jar', '/small.jar', { sha256: pin })]), lambdaContext())).rejects.toThrow(
      `checksum mismatch for repinned: expected sha256 ${pin} (pin in jobs/artifacts.lock.json), got ${sha256(smallJar)}`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('aborts the multipart upload of a mismatching large artifact', async () => {
    const wrong = 'b'.repeat(128);
    published.set('/large.zip.sha512', wrong);
    await expect(handler(event('Create', [fromUrl('big-tampered', 'artifacts/b.zip', '/large.zip')]), lambdaContext())).rejects.toThrow(
      `checksum mismatch for big-tampered: expected sha512 ${wrong}`,
    );
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: 'artifacts/b.zip', UploadId: 'upload-1' });
  });
});

describe('idempotence', () => {
  it('skips an object already verified against the same checksums without downloading it', async () => {
    published.set('/small.jar.sha512', sha512(smallJar));
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { sha512: sha512(smallJar) } });
    const result = await handler(event('Update', [fromUrl('small', 'artifacts/small.jar', '/small.jar')]), lambdaContext());
    expect(hits).toEqual(['/small.jar.sha512']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(result.Data).toEqual({ 'small.Key': 'artifacts/small.jar', 'small.S3Uri': `s3://${BUCKET}/artifacts/small.jar` });
  });

  it('replaces an object verified before a pin was added', async () => {
    published.set('/small.jar.sha512', sha512(smallJar));
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { sha512: sha512(smallJar) } });
    await handler(event('Update', [fromUrl('small', 'artifacts/small.jar', '/small.jar', { sha256: sha256(smallJar) })]), lambdaContext());
    expect(hits).toEqual(['/small.jar.sha512', '/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('treats 403 from HeadObject as a missing object, since the role has no s3:ListBucket', async () => {
    s3Mock
      .on(HeadObjectCommand)
      .rejects(new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Forbidden' }));
    await handler(event('Create', [fromUrl('small', 'artifacts/small.jar', '/small.jar', { sha256: sha256(smallJar) })]), lambdaContext());
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});

describe('copying from S3 for accounts without internet', () => {
  const missing = () =>
    new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' });
  const source = 's3://corp-mirror/lakestream/artifacts/small/1.0/small.jar';

  it('streams the object at sourceS3Uri through the check against the checksum file beside it', async () => {
    s3Mock.on(GetObjectCommand).rejects(missing());
    s3Mock
      .on(GetObjectCommand, { Bucket: 'corp-mirror', Key: 'lakestream/artifacts/small/1.0/small.jar.sha256' })
      .callsFake(() => ({ Body: sdkBody(sha256(smallJar)) }));
    s3Mock.on(GetObjectCommand, { Bucket: 'corp-mirror', Key: 'lakestream/artifacts/small/1.0/small.jar' }).callsFake(() => ({
      Body: Readable.from([smallJar.subarray(0, 100), smallJar.subarray(100)]),
    }));
    await handler(event('Create', [{ name: 'small', key: 'artifacts/small/1.0/small.jar', sourceS3Uri: source, published: 'sidecar' }]), lambdaContext());
    expect(s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      'lakestream/artifacts/small/1.0/small.jar.sha512',
      'lakestream/artifacts/small/1.0/small.jar.sha256',
      'lakestream/artifacts/small/1.0/small.jar',
    ]);
    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: 'artifacts/small/1.0/small.jar', Metadata: { sha256: sha256(smallJar) } });
    expect(Buffer.from(put.Body as Uint8Array).equals(smallJar)).toBe(true);
    expect(hits).toEqual([]);
  });

  it('reports a failed copy with the source it tried', async () => {
    s3Mock.on(GetObjectCommand).rejects(missing());
    await expect(
      handler(
        event('Create', [{ name: 'small', key: 'artifacts/s.jar', sourceS3Uri: 's3://corp-mirror/s.jar', published: 'sidecar', sha256: sha256(smallJar) }]),
        lambdaContext(),
      ),
    ).rejects.toThrow('copy of small from s3://corp-mirror/s.jar failed: NoSuchKey: The specified key does not exist.');
  });

  it('fails a mismatching copy without writing it', async () => {
    s3Mock.on(GetObjectCommand).rejects(missing());
    s3Mock.on(GetObjectCommand, { Bucket: 'corp-mirror', Key: 's.jar' }).callsFake(() => ({ Body: Readable.from([Buffer.from('not the pinned file')]) }));
    await expect(
      handler(
        event('Create', [{ name: 'small', key: 'artifacts/s.jar', sourceS3Uri: 's3://corp-mirror/s.jar', published: 'sidecar', sha256: sha256(smallJar) }]),
        lambdaContext(),
      ),
    ).rejects.toThrow(
      `checksum mismatch for small: expected sha256 ${sha256(smallJar)} (pin in jobs/artifacts.lock.json), got ${sha256(Buffer.from('not the pinned file'))}`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('bundles: the MSK Connect plugin ZIP', () => {
  const connectorJar = Buffer.from('PK\u0003\u0004 connector classes '.repeat(500));
  const jdbcJar = Buffer.from('PK\u0003\u0004 jdbc driver '.repeat(300));
  const readme = Buffer.from('Debezium SQL Server connector\n'.repeat(20));

  async function pluginArchive(members: Array<[string, Buffer | null]>): Promise<Buffer> {
    const pack = tar.pack();
    for (const [name, content] of members) {
      if (content === null) pack.entry({ name, type: 'directory' });
      else pack.entry({ name, size: content.length }, content);
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of (pack as unknown as Readable).pipe(createGzip())) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  const specs = [
    {
      name: 'connector',
      key: 'artifacts/connector/2.7/connector-plugin.tar.gz',
      url: '/connector-plugin.tar.gz',
      published: 'sidecar',
      sha256: 'a'.repeat(64),
    },
    { name: 'providers', key: 'artifacts/providers/0.4/providers-all.jar', url: '/providers-all.jar', published: 'sidecar', sha256: 'b'.repeat(64) },
  ];
  /** The parts, at the local server (without checksum files there: their pins verify them). */
  const parts = () => specs.map((spec) => ({ ...spec, url: `${baseUrl}${spec.url}` }));
  const bundle = {
    name: 'plugin',
    key: 'artifacts/plugin/2.7+0.4/plugin-2.7+0.4.zip',
    parts: [
      { artifact: 'connector', unpack: 'tar.gz' },
      { artifact: 'providers', directory: 'providers/' },
    ],
  };
  const providersJar = Buffer.from('PK\u0003\u0004 config providers '.repeat(100));

  async function givenMirrored(archive: Buffer): Promise<void> {
    // Both parts are already in the bucket with their pins: no download, only assembly.
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock.on(HeadObjectCommand, { Key: specs[0].key }).resolves({ Metadata: { sha256: 'a'.repeat(64) } });
    s3Mock.on(HeadObjectCommand, { Key: specs[1].key }).resolves({ Metadata: { sha256: 'b'.repeat(64) } });
    s3Mock
      .on(GetObjectCommand, { Bucket: BUCKET, Key: specs[0].key })
      .callsFake(() => ({ Body: Readable.from([archive.subarray(0, 50), archive.subarray(50)]) }));
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: specs[1].key }).callsFake(() => ({ Body: Readable.from([providersJar]) }));
  }

  it('unpacks the connector archive and adds the config providers jar into one ZIP of jars', async () => {
    await givenMirrored(
      await pluginArchive([
        ['debezium-connector-sqlserver/', null],
        ['debezium-connector-sqlserver/debezium-connector-sqlserver-2.7.jar', connectorJar],
        ['debezium-connector-sqlserver/mssql-jdbc.jar', jdbcJar],
        ['./debezium-connector-sqlserver/README.md', readme],
      ]),
    );
    const result = await handler(event('Create', parts(), { Bundles: JSON.stringify([bundle]) }), lambdaContext());

    const put = s3Mock.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key === bundle.key)!.args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN, ContentType: 'application/zip' });
    expect(put.Metadata?.inputs).toMatch(/^[0-9a-f]{64}$/);
    const zip = Buffer.from(put.Body as Uint8Array);
    const entries = readZip(zip, 'plugin');
    expect(entries.map((entry) => [entry.name, entry.method])).toEqual([
      ['debezium-connector-sqlserver/debezium-connector-sqlserver-2.7.jar', 0],
      ['debezium-connector-sqlserver/mssql-jdbc.jar', 0],
      ['debezium-connector-sqlserver/README.md', 8],
      ['providers/providers-all.jar', 0],
    ]);
    expect(entryContent(entries[0], 'plugin').equals(connectorJar)).toBe(true);
    expect(entryContent(entries[2], 'plugin').equals(readme)).toBe(true);
    expect(entryContent(entries[3], 'plugin').equals(providersJar)).toBe(true);
    expect(result.Data).toMatchObject({ 'plugin.Key': bundle.key, 'plugin.S3Uri': `s3://${BUCKET}/${bundle.key}` });
    expect(hits.filter((hit) => !hit.match(/\.sha(512|256|1)$/))).toEqual([]);
  });

  it('gives equal bytes for equal inputs, and skips a bundle built from the same verified parts', async () => {
    const archive = await pluginArchive([['c/c.jar', connectorJar]]);
    await givenMirrored(archive);
    const props = { Bundles: JSON.stringify([bundle]) };
    await handler(event('Create', parts(), props), lambdaContext());
    const first = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    s3Mock.resetHistory();
    await handler(event('Update', parts(), props), lambdaContext());
    expect(Buffer.from(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input.Body as Uint8Array).equals(Buffer.from(first.Body as Uint8Array))).toBe(true);

    s3Mock.resetHistory();
    s3Mock.on(HeadObjectCommand, { Key: bundle.key }).resolves({ Metadata: { inputs: first.Metadata!.inputs } });
    await handler(event('Update', parts(), props), lambdaContext());
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('rebuilds the bundle when a part was verified against another digest', async () => {
    await givenMirrored(await pluginArchive([['c/c.jar', connectorJar]]));
    s3Mock.on(HeadObjectCommand, { Key: bundle.key }).resolves({ Metadata: { inputs: 'f'.repeat(64) } });
    await handler(event('Update', parts(), { Bundles: JSON.stringify([bundle]) }), lambdaContext());
    expect(s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key)).toEqual([bundle.key]);
  });

  it('refuses an archive member that would escape the plugin folder, writing nothing', async () => {
    await givenMirrored(await pluginArchive([['../../evil.jar', connectorJar]]));
    await expect(handler(event('Create', parts(), { Bundles: JSON.stringify([bundle]) }), lambdaContext())).rejects.toThrow(
      'bundle plugin: unsafe member path "../../evil.jar"',
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('fails naming the part when it is not a .tar.gz', async () => {
    await givenMirrored(Buffer.from('<html>not an archive</html>'));
    await expect(handler(event('Create', parts(), { Bundles: JSON.stringify([bundle]) }), lambdaContext())).rejects.toThrow(
      'connector is not a readable .tar.gz',
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('refuses a bundle whose parts are not mirrored by the same resource', async () => {
    await expect(handler(event('Create', [parts()[0]], { Bundles: JSON.stringify([bundle]) }), lambdaContext())).rejects.toThrow(
      'Bundles: plugin needs unknown artifact(s) providers',
    );
  });
});

describe('Delete', () => {
  const artifacts = [
    { name: 'a', key: 'artifacts/a.jar', url: 'https://repo1.maven.org/a.jar', published: 'sidecar' },
    { name: 'b', key: 'artifacts/b.jar', url: 'https://repo1.maven.org/b.jar', published: 'sidecar' },
  ];
  const bundles = JSON.stringify([{ name: 'ab', key: 'artifacts/ab.zip', parts: [{ artifact: 'a' }, { artifact: 'b' }] }]);

  it('leaves the objects in the retained bucket by default', async () => {
    const result = await handler(event('Delete', artifacts, { Bundles: bundles }), lambdaContext());
    expect(result).toEqual({ PhysicalResourceId: `artifact-mirror:${BUCKET}` });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('removes every mirrored key and bundle when DeleteOnRemove is true', async () => {
    await handler(event('Delete', artifacts, { DeleteOnRemove: 'true', Bundles: bundles }), lambdaContext());
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: 'artifacts/ab.zip' },
      { Bucket: BUCKET, Key: 'artifacts/a.jar' },
      { Bucket: BUCKET, Key: 'artifacts/b.jar' },
    ]);
  });

  it('succeeds when the properties of a failed Create never parsed', async () => {
    const bad = event('Delete', []);
    (bad.ResourceProperties as Record<string, unknown>).Artifacts = 'not json';
    await expect(handler(bad, lambdaContext())).resolves.toEqual({ PhysicalResourceId: `artifact-mirror:${BUCKET}` });
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe('input validation', () => {
  it('refuses an artifact that does not say where its checksum is published', async () => {
    await expect(handler(event('Create', [{ name: 'unknown', key: 'artifacts/u.jar', url: `${baseUrl}/small.jar` }]), lambdaContext())).rejects.toThrow(
      "Invalid ResourceProperties: Artifacts.0.published: must be 'sidecar' or 'github-release'",
    );
    expect(hits).toEqual([]);
  });

  it('refuses an artifact with both or neither of url and sourceS3Uri', async () => {
    await expect(
      handler(
        event('Create', [{ name: 'both', key: 'artifacts/b.jar', url: `${baseUrl}/small.jar`, sourceS3Uri: 's3://x/y', published: 'sidecar' }]),
        lambdaContext(),
      ),
    ).rejects.toThrow('Artifacts.0: needs exactly one of url or sourceS3Uri');
  });

  it('refuses plain http unless the test switch is on', async () => {
    const signal = new AbortController().signal;
    await expect(openDownload(`${baseUrl}/small.jar`, 'small', { signal, allowInsecureHttp: false, maxRedirects: 5, responseTimeoutMs: 1000 })).rejects.toThrow(
      `refusing to download small from ${baseUrl}/small.jar: only https:// is allowed`,
    );
    expect(hits).toEqual([]);
  });
});
