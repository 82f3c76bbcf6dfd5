import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PermanentError } from '../shared/errors';
import type { ByteSource } from './byte-source';
import { planRanges } from './plan';
import { normalizeEtag, stagingKey } from './storage-keys';
import type { PlanResult, ReplayObject } from './types';

/**
 * Makes gzip replay linear in the file size. A deflate stream can only be entered at its start, and
 * Node's zlib cannot save and restore an inflate state, so a gzip range that had to resume would
 * decompress everything before its checkpoint again: quadratic work over a big file. Instead the
 * file is decompressed exactly once, streamed into a plain staging object (S3 multipart upload),
 * and the plain staging object is replayed like any plain file: in parallel byte ranges that
 * resume from their checkpoints by ranged reads. Total work: one decompression plus one replay.
 *
 * The decompression runs in one invocation (a 15-minute Lambda decompresses and uploads several
 * GB of content; see the README's cost model). A file it cannot finish fails permanently with the
 * measured rate, instead of resuming quadratically; a retry after a transient error starts over,
 * which costs at most the attempts times one decompression.
 */

/** Where the decompressed content goes: an S3 multipart upload in production, memory or disk in tests. */
export interface StagingTarget {
  begin(): Promise<void>;
  uploadPart(partNumber: number, body: Buffer): Promise<void>;
  /** Completes the upload; resolves to the staged object's ETag. */
  complete(): Promise<string>;
  abort(): Promise<void>;
}

export interface StageSettings {
  /** Bytes per uploaded part (S3: 5 MiB to 5 GiB, at most 10,000 parts). */
  readonly partBytes: number;
  /** True when the invocation must stop (time budget): staging then fails permanently. */
  readonly shouldStop: () => boolean;
}

export interface StageOutcome {
  readonly size: number;
  readonly etag: string;
  readonly parts: number;
}

export async function stageGzip(source: ByteSource, object: ReplayObject, target: StagingTarget, settings: StageSettings): Promise<StageOutcome> {
  const raw = await source.open(0, object.size);
  const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
  raw.on('error', (error) => gunzip.destroy(error));
  const stream: Readable = raw.pipe(gunzip);
  await target.begin();
  let size = 0;
  let parts = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // One upload in flight while the next part decompresses: both stay busy, memory stays at two parts.
  let inFlight: Promise<void> = Promise.resolve();
  const flushPart = async () => {
    const body = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const partNumber = ++parts;
    if (partNumber > 10_000)
      throw new PermanentError(`s3://${object.bucket}/${object.key}: decompressed content exceeds 10,000 staging parts of ${settings.partBytes} bytes`);
    await inFlight;
    inFlight = target.uploadPart(partNumber, body);
    inFlight.catch(() => undefined);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      size += chunk.length;
      if (pendingBytes >= settings.partBytes) await flushPart();
      if (settings.shouldStop()) {
        throw new PermanentError(
          `s3://${object.bucket}/${object.key}: decompressed ${size} bytes of content before the invocation's time budget ran out; ` +
            'gzip is decompressed once in one invocation to keep replay linear, so split the file into smaller gzip files',
        );
      }
    }
    if (pendingBytes > 0 || parts === 0) await flushPart();
    await inFlight;
    const etag = await target.complete();
    return { size, etag: normalizeEtag(etag), parts };
  } catch (error) {
    await target.abort().catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && ['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT'].includes(code)) {
      throw new PermanentError(`s3://${object.bucket}/${object.key} is not a valid gzip stream: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    stream.destroy();
  }
}

/** The plan of a staged gzip file: plain ranges over the staging object, the planner's header offset kept. */
export function planStaged(plan: PlanResult, staged: StageOutcome, key: string, settings: { rangeSizeBytes: number; maxRanges: number }): PlanResult {
  const object = plan.object!;
  const first = plan.ranges[0]!;
  const ranges = planRanges({
    compression: 'none',
    size: staged.size,
    contentStart: first.start,
    firstLineNumber: first.firstLineNumber ?? 1,
    rangeSizeBytes: settings.rangeSizeBytes,
    maxRanges: settings.maxRanges,
  });
  return { object: { ...object, staged: { key, etag: staged.etag, size: staged.size } }, ranges, skippedReason: null, needsStaging: false };
}

/** A multipart upload of the staging object in the landing bucket (encrypted by its default key). */
export class S3StagingTarget implements StagingTarget {
  private uploadId: string | undefined;
  private readonly parts: Array<{ PartNumber: number; ETag: string }> = [];

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly key: string,
  ) {}

  async begin(): Promise<void> {
    const out = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: 'application/octet-stream' }));
    this.uploadId = out.UploadId;
  }

  async uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const out = await this.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber: partNumber, Body: body }));
    this.parts.push({ PartNumber: partNumber, ETag: out.ETag ?? '' });
  }

  async complete(): Promise<string> {
    const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
    const out = await this.s3.send(
      new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: parts } }),
    );
    return out.ETag ?? '';
  }

  async abort(): Promise<void> {
    if (this.uploadId) await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }));
  }
}

export { stagingKey };
