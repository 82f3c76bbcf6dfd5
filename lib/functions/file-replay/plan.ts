import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PermanentError } from '../shared/errors';
import { parseCsvHeader } from './csv';
import { normalizeEtag } from './storage-keys';
import type { Compression, FileFormat, PlanInput, PlanResult, ReplayRange } from './types';

export interface PlanSettings {
  /** Target size of one plain-file range (one worker's share). */
  readonly rangeSizeBytes: number;
  /** Upper bound on ranges per object; ranges grow beyond rangeSizeBytes to stay under it (state payload limit). */
  readonly maxRanges: number;
  /** How much of the object's start is read to detect the format and the CSV header. @default 64 KiB */
  readonly headBytes?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Gzip is recognised by its magic bytes, not the name: names lie, and S3 hands back stored bytes as they are. */
export function detectCompression(head: Buffer): Compression {
  return head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1] ? 'gzip' : 'none';
}

/** By extension (ignoring .gz), then content type, then the first line's shape. */
export function detectFormat(key: string, contentType: string | undefined, firstLine: string): FileFormat {
  const name = key.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('csv')) return 'csv';
  if (type.includes('json')) return 'jsonl';
  return firstLine
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{')
    ? 'jsonl'
    : 'csv';
}

export interface FirstLine {
  readonly text: string;
  /** Bytes up to and including the newline: where the data after a header starts. */
  readonly length: number;
  /** False when the content ended without a newline. */
  readonly terminated: boolean;
}

/** The first line of `content`, or undefined when `complete` is false and no newline was found. */
export function firstLineOf(content: Buffer, complete: boolean): FirstLine | undefined {
  const newline = content.indexOf(0x0a);
  if (newline === -1) return complete ? { text: content.toString('utf8'), length: content.length, terminated: false } : undefined;
  const end = newline > 0 && content[newline - 1] === 0x0d ? newline - 1 : newline;
  return { text: content.toString('utf8', 0, end), length: newline + 1, terminated: true };
}

export interface RangePlanParameters {
  readonly compression: Compression;
  /** Stored size (plain files: also the content size). */
  readonly size: number;
  /** Content offset of the first data line (after a CSV header). */
  readonly contentStart: number;
  readonly firstLineNumber: number;
  readonly rangeSizeBytes: number;
  readonly maxRanges: number;
}

export function planRanges(p: RangePlanParameters): ReplayRange[] {
  if (p.compression === 'gzip') {
    // One range: a deflate stream can only be read from its start. The state machine stages it
    // (stage.ts) and replaces this range with plain ranges over the decompressed copy.
    return p.size === 0 ? [] : [{ index: 0, start: p.contentStart, end: null, firstLineNumber: p.firstLineNumber }];
  }
  const span = p.size - p.contentStart;
  if (span <= 0) return [];
  const rangeSize = Math.max(p.rangeSizeBytes, Math.ceil(span / p.maxRanges));
  const ranges: ReplayRange[] = [];
  for (let start = p.contentStart, index = 0; start < p.size; start += rangeSize, index++) {
    ranges.push({ index, start, end: Math.min(start + rangeSize, p.size), firstLineNumber: index === 0 ? p.firstLineNumber : null });
  }
  return ranges;
}

/**
 * HEADs the object (pinned to the event's ETag), reads its first bytes to tell the compression,
 * the format and the CSV header, and splits it into ranges. An object deleted or overwritten since
 * the event is skipped: the newer version has an event of its own.
 */
export async function planReplay(input: PlanInput, s3: S3Client, settings: PlanSettings): Promise<PlanResult> {
  const headBytes = settings.headBytes ?? 64 * 1024;
  const ifMatch = input.etag ? `"${normalizeEtag(input.etag)}"` : undefined;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: input.bucket, Key: input.key, IfMatch: ifMatch }));
  } catch (error) {
    const skipped = skippedReason(error);
    if (skipped) return { object: null, ranges: [], skippedReason: skipped, needsStaging: false };
    throw error;
  }
  const size = head.ContentLength ?? 0;
  const etag = normalizeEtag(head.ETag ?? input.etag ?? '');
  if (!etag) throw new PermanentError(`s3://${input.bucket}/${input.key} has no ETag`);
  if (size === 0) return { object: null, ranges: [], skippedReason: 'empty object', needsStaging: false };

  const response = await s3.send(
    new GetObjectCommand({ Bucket: input.bucket, Key: input.key, Range: `bytes=0-${Math.min(size, headBytes) - 1}`, IfMatch: `"${etag}"` }),
  );
  const stored = Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
  const compression = detectCompression(stored);
  const wholeObject = size <= headBytes;
  const content = compression === 'gzip' ? gunzipHead(stored, input) : stored;
  const first = firstLineOf(content, wholeObject);
  const format = detectFormat(input.key, head.ContentType, first?.text ?? '');

  let csvColumns: string[] | undefined;
  let contentStart = 0;
  let firstLineNumber = 1;
  if (format === 'csv') {
    if (!first) throw new PermanentError(`s3://${input.bucket}/${input.key}: CSV header line longer than ${headBytes} bytes`);
    try {
      csvColumns = parseCsvHeader(first.text);
    } catch (error) {
      throw new PermanentError(`s3://${input.bucket}/${input.key}: ${(error as Error).message}`);
    }
    contentStart = first.length;
    firstLineNumber = 2;
  }
  const ranges = planRanges({ compression, size, contentStart, firstLineNumber, rangeSizeBytes: settings.rangeSizeBytes, maxRanges: settings.maxRanges });
  return {
    object: { bucket: input.bucket, key: input.key, etag, size, format, compression, ...(csvColumns ? { csvColumns } : {}) },
    ranges,
    skippedReason: null,
    needsStaging: compression === 'gzip' && ranges.length > 0,
  };
}

/** Decompresses what the first bytes of a gzip stream hold; a cut-off stream is expected here. */
function gunzipHead(stored: Buffer, input: PlanInput): Buffer {
  try {
    return gunzipSync(stored, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (error) {
    throw new PermanentError(`s3://${input.bucket}/${input.key} starts like gzip but does not decompress: ${(error as Error).message}`);
  }
}

function skippedReason(error: unknown): string | undefined {
  const name = (error as { name?: string }).name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (name === 'NotFound' || name === 'NoSuchKey' || status === 404) return 'object no longer exists';
  if (name === 'PreconditionFailed' || status === 412) return 'object was overwritten since the event (the new version has its own event)';
  return undefined;
}
