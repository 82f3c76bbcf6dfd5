import { Readable, pipeline } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ChecksumVerifier, ExpectedDigest, checksumMetadata, metadataMatches } from './checksum';
import { Deadline } from './deadline';
import { DownloadOptions, openDownload } from './download';
import type { MirroredArtifact } from './properties';
import { publishedChecksum, publishedChecksumLocations } from './published-checksum';
import { contentTypeFor, isMissingObject, parseS3Uri } from './s3-location';

/** 8 MiB parts, two in flight: memory stays near 16 MiB whatever the artifact's size. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
export const UPLOAD_QUEUE_SIZE = 2;

export interface MirrorTarget {
  readonly bucket: string;
  readonly kmsKeyArn: string;
}

export interface MirrorContext {
  readonly s3: S3Client;
  readonly deadline: Deadline;
  readonly download: Omit<DownloadOptions, 'signal'>;
}

export interface MirrorOutcome {
  readonly name: string;
  readonly key: string;
  readonly action: 'already-present' | 'mirrored';
  /** What it was verified against (and what its metadata records). */
  readonly verifiedWith: readonly ExpectedDigest[];
  readonly bytes?: number;
}

/** Thrown when an artifact can be verified against nothing: neither a published checksum nor a pin. */
export class UnverifiableArtifactError extends Error {
  constructor(artifact: MirroredArtifact) {
    super(
      `refusing to mirror ${artifact.name}: its publisher publishes no checksum (looked for ${publishedChecksumLocations(artifact)}) ` +
        `and jobs/artifacts.lock.json has no pin for it; where there is internet access, check the file's origin and run ` +
        `\`npm run artifacts:lock -- --trust-unpublished ${artifact.name}\`, then commit the lock file`,
    );
    this.name = 'UnverifiableArtifactError';
  }
}

/** The published checksum (when the publisher has one) and the lock file's pin (when there is one). */
export async function expectedDigests(artifact: MirroredArtifact, context: MirrorContext): Promise<ExpectedDigest[]> {
  context.deadline.activity = `reading the published checksum of ${artifact.name}`;
  let published: ExpectedDigest | undefined;
  try {
    published = await publishedChecksum(artifact, { s3: context.s3, download: { ...context.download, signal: context.deadline.signal } });
  } catch (error) {
    if (context.deadline.expired) throw context.deadline.error;
    throw error;
  }
  const expected = [
    ...(published ? [published] : []),
    ...(artifact.sha256 ? [{ algorithm: 'sha256' as const, value: artifact.sha256, origin: 'pin' as const, source: 'pin in jobs/artifacts.lock.json' }] : []),
  ];
  if (expected.length === 0) throw new UnverifiableArtifactError(artifact);
  return expected;
}

/** User metadata of an object, or undefined when it does not exist. */
export async function headMetadata(bucket: string, key: string, context: MirrorContext): Promise<Record<string, string> | undefined> {
  try {
    const head = await context.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: context.deadline.signal });
    return head.Metadata ?? {};
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

async function openSource(artifact: MirroredArtifact, context: MirrorContext): Promise<Readable> {
  if (artifact.sourceS3Uri) {
    const source = parseS3Uri(artifact.sourceS3Uri, artifact.name);
    let response;
    try {
      response = await context.s3.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }), {
        abortSignal: context.deadline.signal,
      });
    } catch (error) {
      if (context.deadline.expired) throw context.deadline.error;
      throw new Error(`copy of ${artifact.name} from ${artifact.sourceS3Uri} failed: ${(error as Error).name}: ${(error as Error).message}`);
    }
    if (!(response.Body instanceof Readable)) {
      throw new Error(`copy of ${artifact.name} from ${artifact.sourceS3Uri} failed: S3 returned no readable body`);
    }
    return response.Body;
  }
  return openDownload(artifact.url as string, artifact.name, { ...context.download, signal: context.deadline.signal });
}

/** Multipart upload of a stream with SSE-KMS; the stream's error (a checksum mismatch) aborts it. */
export async function uploadStream(body: Readable, key: string, metadata: Record<string, string>, target: MirrorTarget, context: MirrorContext): Promise<void> {
  const stopOnDeadline = () => body.destroy(context.deadline.error);
  context.deadline.signal.addEventListener('abort', stopOnDeadline, { once: true });
  try {
    const upload = new Upload({
      client: context.s3,
      partSize: UPLOAD_PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
      params: {
        Bucket: target.bucket,
        Key: key,
        Body: body,
        ContentType: contentTypeFor(key),
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: target.kmsKeyArn,
        BucketKeyEnabled: true,
        Metadata: metadata,
      },
    });
    await upload.done();
  } catch (error) {
    if (context.deadline.expired) throw context.deadline.error;
    throw error;
  } finally {
    context.deadline.signal.removeEventListener('abort', stopOnDeadline);
  }
}

/**
 * Puts one artifact into the bucket unless a copy verified against the same digests is already
 * there. The bytes flow source -> hash -> multipart upload; a checksum mismatch fails the stream
 * before the upload can complete, so the object is never written and the multipart upload is
 * aborted.
 */
export async function mirrorArtifact(artifact: MirroredArtifact, target: MirrorTarget, context: MirrorContext): Promise<MirrorOutcome> {
  const expected = await expectedDigests(artifact, context);
  context.deadline.activity = `checking s3://${target.bucket}/${artifact.key} for ${artifact.name}`;
  const existing = await headMetadata(target.bucket, artifact.key, context);
  if (metadataMatches(expected, existing)) {
    return { name: artifact.name, key: artifact.key, action: 'already-present', verifiedWith: expected };
  }

  context.deadline.activity = `opening ${artifact.sourceS3Uri ?? artifact.url} for ${artifact.name}`;
  const source = await openSource(artifact, context);
  const verifier = new ChecksumVerifier(artifact.name, expected);
  // Errors of either stream reach the uploader through `verifier`, which it is reading.
  pipeline(source, verifier, () => undefined);
  context.deadline.activity = `copying ${artifact.name} to s3://${target.bucket}/${artifact.key}`;
  // S3 takes metadata when the upload starts, before the bytes are hashed: it records the expected
  // digests, and the upload only completes when the stream's end has proven them equal to the actual ones.
  await uploadStream(verifier, artifact.key, checksumMetadata(expected), target, context);
  return { name: artifact.name, key: artifact.key, action: 'mirrored', verifiedWith: expected, bytes: verifier.bytes };
}

/** Removes one mirrored object; S3 treats a missing key as success, which keeps Delete retryable. */
export async function removeObject(key: string, target: MirrorTarget, context: MirrorContext): Promise<void> {
  context.deadline.activity = `deleting s3://${target.bucket}/${key}`;
  await context.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: context.deadline.signal });
}
