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
import type { CustomResourceEvent } from '../../lib/functions/shared/custom-resource';
import { openDownload } from '../../lib/functions/artifact-mirror/download';

type Handler = typeof import('../../lib/functions/artifact-mirror/index').handler;

const BUCKET = 'lakestream-dev-artifacts';
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const SAFETY_MARGIN_MS = 1_000;

const smallJar = Buffer.from('PK\u0003\u0004 a small jar that stands in for a connector\n'.repeat(64));
// Larger than one 8 MiB part so that the multipart path of lib-storage is exercised.
const largeZip = Buffer.alloc(12 * 1024 * 1024 + 123, 7);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('hex');

const s3Mock = mockClient(S3Client);
let server: http.Server;
let baseUrl: string;
const hits: string[] = [];
let handler: Handler;

function notFound(): S3ServiceException {
  return new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
}

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
  process.env.RESPONSE_TIMEOUT_MS = '400';
  process.env.AWS_REGION = 'eu-west-1';
  process.env.POWERTOOLS_DEV = 'false';
  process.env.LOG_LEVEL = 'ERROR';

  server = http.createServer((request, response) => {
    hits.push(request.url ?? '');
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
  it('streams a fresh artifact into the bucket with SSE-KMS and its checksum as metadata', async () => {
    const key = 'artifacts/small/1.0/small.jar';
    const result = await handler(event('Create', [{ name: 'small', key, url: `${baseUrl}/small.jar`, sha256: sha256(smallJar) }]), lambdaContext());

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
      Metadata: { sha256: sha256(smallJar) },
    });
    expect(Buffer.from(input.Body as Uint8Array).equals(smallJar)).toBe(true);
    expect(s3Mock.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: key });
    expect(result).toEqual({
      PhysicalResourceId: `artifact-mirror:${BUCKET}`,
      Data: { 'small.Key': key, 'small.S3Uri': `s3://${BUCKET}/${key}` },
    });
  });

  it('uses a multipart upload for artifacts larger than one part and verifies sha256 and sha512 together', async () => {
    const key = 'artifacts/large/2.0/large.zip';
    await handler(
      event('Update', [{ name: 'large', key, url: `${baseUrl}/large.zip`, sha256: sha256(largeZip), sha512: sha512(largeZip) }]),
      lambdaContext(),
    );

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
    await handler(event('Create', [{ name: 'small', key: 'artifacts/small.jar', url: `${baseUrl}/moved`, sha256: sha256(smallJar) }]), lambdaContext());
    expect(hits).toEqual(['/moved', '/hop', '/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('gives up after the redirect limit', async () => {
    await expect(
      handler(event('Create', [{ name: 'looping', key: 'artifacts/l.jar', url: `${baseUrl}/loop`, sha256: sha256(smallJar) }]), lambdaContext()),
    ).rejects.toThrow(`download of looping failed: more than 5 redirects starting at ${baseUrl}/loop`);
    expect(hits).toHaveLength(6);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('fails with the HTTP status when the artifact is missing upstream', async () => {
    await expect(
      handler(event('Create', [{ name: 'gone', key: 'artifacts/g.jar', url: `${baseUrl}/gone.jar`, sha256: sha256(smallJar) }]), lambdaContext()),
    ).rejects.toThrow(`download of gone failed: HTTP 404 Not Found from ${baseUrl}/gone.jar`);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('times out a server that never answers', async () => {
    await expect(
      handler(event('Create', [{ name: 'slow', key: 'artifacts/s.jar', url: `${baseUrl}/hang`, sha256: sha256(smallJar) }]), lambdaContext()),
    ).rejects.toThrow(`download of slow timed out: no response from ${baseUrl}/hang within 400 ms`);
  });

  it('stops at the invocation deadline while a body is still arriving and names the artifact', async () => {
    const started = Date.now();
    await expect(
      handler(
        event('Create', [{ name: 'trickling', key: 'artifacts/t.jar', url: `${baseUrl}/trickle`, sha256: sha256(smallJar) }]),
        lambdaContext(SAFETY_MARGIN_MS + 300),
      ),
    ).rejects.toThrow(/artifact mirror ran out of its 0\.3s time budget while copying trickling to s3:\/\/lakestream-dev-artifacts\/artifacts\/t\.jar; raise the function timeout/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('checksum verification', () => {
  it('fails a mismatching single-part artifact without writing it', async () => {
    const wrong = 'a'.repeat(64);
    await expect(
      handler(event('Create', [{ name: 'tampered', key: 'artifacts/t.jar', url: `${baseUrl}/small.jar`, sha256: wrong }]), lambdaContext()),
    ).rejects.toThrow(`checksum mismatch for tampered: expected ${wrong}, got ${sha256(smallJar)} (sha256 of ${smallJar.length} bytes)`);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('aborts the multipart upload of a mismatching large artifact', async () => {
    const wrong = 'b'.repeat(128);
    await expect(
      handler(event('Create', [{ name: 'big-tampered', key: 'artifacts/b.zip', url: `${baseUrl}/large.zip`, sha512: wrong }]), lambdaContext()),
    ).rejects.toThrow(`checksum mismatch for big-tampered: expected ${wrong}, got ${sha512(largeZip)}`);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: 'artifacts/b.zip', UploadId: 'upload-1' });
  });
});

describe('idempotence', () => {
  it('skips an object already verified against the same pins without downloading it', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { sha256: sha256(smallJar) } });
    const result = await handler(
      event('Update', [{ name: 'small', key: 'artifacts/small.jar', url: `${baseUrl}/small.jar`, sha256: sha256(smallJar) }]),
      lambdaContext(),
    );
    expect(hits).toEqual([]);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(result.Data).toEqual({ 'small.Key': 'artifacts/small.jar', 'small.S3Uri': `s3://${BUCKET}/artifacts/small.jar` });
  });

  it('replaces an object that was verified against a different pin', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ Metadata: { sha256: 'c'.repeat(64) } });
    await handler(event('Update', [{ name: 'small', key: 'artifacts/small.jar', url: `${baseUrl}/small.jar`, sha256: sha256(smallJar) }]), lambdaContext());
    expect(hits).toEqual(['/small.jar']);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('treats 403 from HeadObject as a missing object, since the role has no s3:ListBucket', async () => {
    s3Mock
      .on(HeadObjectCommand)
      .rejects(new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Forbidden' }));
    await handler(event('Create', [{ name: 'small', key: 'artifacts/small.jar', url: `${baseUrl}/small.jar`, sha256: sha256(smallJar) }]), lambdaContext());
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});

describe('copying from S3 for accounts without internet', () => {
  it('streams the object at sourceS3Uri through the checksum check', async () => {
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([smallJar.subarray(0, 100), smallJar.subarray(100)]) }));
    await handler(
      event('Create', [
        { name: 'small', key: 'artifacts/small/1.0/small.jar', sourceS3Uri: 's3://corp-mirror/lakestream/artifacts/small/1.0/small.jar', sha256: sha256(smallJar) },
      ]),
      lambdaContext(),
    );
    expect(s3Mock.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'corp-mirror', Key: 'lakestream/artifacts/small/1.0/small.jar' });
    const put = s3Mock.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: 'artifacts/small/1.0/small.jar', Metadata: { sha256: sha256(smallJar) } });
    expect(Buffer.from(put.Body as Uint8Array).equals(smallJar)).toBe(true);
    expect(hits).toEqual([]);
  });

  it('reports a failed copy with the source it tried', async () => {
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'NoSuchKey', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'The specified key does not exist.' }));
    await expect(
      handler(event('Create', [{ name: 'small', key: 'artifacts/s.jar', sourceS3Uri: 's3://corp-mirror/s.jar', sha256: sha256(smallJar) }]), lambdaContext()),
    ).rejects.toThrow('copy of small from s3://corp-mirror/s.jar failed: NoSuchKey: The specified key does not exist.');
  });

  it('fails a mismatching copy without writing it', async () => {
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from('not the pinned file')]) }));
    await expect(
      handler(event('Create', [{ name: 'small', key: 'artifacts/s.jar', sourceS3Uri: 's3://corp-mirror/s.jar', sha256: sha256(smallJar) }]), lambdaContext()),
    ).rejects.toThrow(`checksum mismatch for small: expected ${sha256(smallJar)}, got ${sha256(Buffer.from('not the pinned file'))}`);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('Delete', () => {
  const artifacts = [
    { name: 'a', key: 'artifacts/a.jar', url: 'https://repo1.maven.org/a.jar', sha256: sha256(smallJar) },
    { name: 'b', key: 'artifacts/b.jar', url: 'https://repo1.maven.org/b.jar', sha256: sha256(smallJar) },
  ];

  it('leaves the objects in the retained bucket by default', async () => {
    const result = await handler(event('Delete', artifacts), lambdaContext());
    expect(result).toEqual({ PhysicalResourceId: `artifact-mirror:${BUCKET}` });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('removes every mirrored key when DeleteOnRemove is true', async () => {
    await handler(event('Delete', artifacts, { DeleteOnRemove: 'true' }), lambdaContext());
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
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
  it('refuses an artifact without a pinned checksum', async () => {
    await expect(handler(event('Create', [{ name: 'unpinned', key: 'artifacts/u.jar', url: `${baseUrl}/small.jar` }]), lambdaContext())).rejects.toThrow(
      'Invalid ResourceProperties: Artifacts.0: needs a pinned sha256 or sha512',
    );
    expect(hits).toEqual([]);
  });

  it('refuses an artifact with both or neither of url and sourceS3Uri', async () => {
    await expect(
      handler(event('Create', [{ name: 'both', key: 'artifacts/b.jar', url: `${baseUrl}/small.jar`, sourceS3Uri: 's3://x/y', sha256: sha256(smallJar) }]), lambdaContext()),
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
