import { Readable, pipeline } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ChecksumPins, ChecksumVerifier, checksumMetadata, metadataMatchesPins } from './checksum';
import { Deadline } from './deadline';
import { DownloadOptions, openDownload } from './download';
import type { MirroredArtifact } from './properties';
import { contentTypeFor, parseS3Uri } from './s3-location';

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
  readonly bytes?: number;
}

function pinsOf(artifact: MirroredArtifact): ChecksumPins {
  return { ...(artifact.sha256 ? { sha256: artifact.sha256 } : {}), ...(artifact.sha512 ? { sha512: artifact.sha512 } : {}) };
}

function isMissing(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  // Without s3:ListBucket (deliberately not granted) S3 answers 403 rather than 404 for a missing key.
  return name === 'NotFound' || name === 'NoSuchKey' || status === 404 || status === 403;
}

async function hasVerifiedCopy(artifact: MirroredArtifact, target: MirrorTarget, context: MirrorContext): Promise<boolean> {
  try {
    const head = await context.s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: artifact.key }), {
      abortSignal: context.deadline.signal,
    });
    return metadataMatchesPins(pinsOf(artifact), head.Metadata);
  } catch (error) {
    if (isMissing(error)) return false;
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

/**
 * Puts one artifact into the bucket unless a copy verified against the same pins is already
 * there. The bytes flow source -> hash -> multipart upload; a checksum mismatch fails the stream
 * before the upload can complete, so the object is never written and the multipart upload is
 * aborted.
 */
export async function mirrorArtifact(artifact: MirroredArtifact, target: MirrorTarget, context: MirrorContext): Promise<MirrorOutcome> {
  const pins = pinsOf(artifact);
  context.deadline.activity = `checking s3://${target.bucket}/${artifact.key} for ${artifact.name}`;
  if (await hasVerifiedCopy(artifact, target, context)) {
    return { name: artifact.name, key: artifact.key, action: 'already-present' };
  }

  context.deadline.activity = `opening ${artifact.sourceS3Uri ?? artifact.url} for ${artifact.name}`;
  const source = await openSource(artifact, context);
  const verifier = new ChecksumVerifier(artifact.name, pins);
  // Errors of either stream reach the uploader through `verifier`, which it is reading.
  pipeline(source, verifier, () => undefined);
  const stopOnDeadline = () => verifier.destroy(context.deadline.error);
  context.deadline.signal.addEventListener('abort', stopOnDeadline, { once: true });
  context.deadline.activity = `copying ${artifact.name} to s3://${target.bucket}/${artifact.key}`;
  try {
    const upload = new Upload({
      client: context.s3,
      partSize: UPLOAD_PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
      params: {
        Bucket: target.bucket,
        Key: artifact.key,
        Body: verifier,
        ContentType: contentTypeFor(artifact.key),
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: target.kmsKeyArn,
        BucketKeyEnabled: true,
        Metadata: checksumMetadata(pins),
      },
    });
    await upload.done();
  } catch (error) {
    if (context.deadline.expired) throw context.deadline.error;
    throw error;
  } finally {
    context.deadline.signal.removeEventListener('abort', stopOnDeadline);
  }
  return { name: artifact.name, key: artifact.key, action: 'mirrored', bytes: verifier.bytes };
}

/** Removes one mirrored object; S3 treats a missing key as success, which keeps Delete retryable. */
export async function removeArtifact(artifact: MirroredArtifact, target: MirrorTarget, context: MirrorContext): Promise<void> {
  context.deadline.activity = `deleting s3://${target.bucket}/${artifact.key}`;
  await context.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: artifact.key }), { abortSignal: context.deadline.signal });
}
