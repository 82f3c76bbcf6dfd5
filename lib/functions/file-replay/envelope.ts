import { FILE_RECORD_ENVELOPE_SCHEMA_VERSION } from '../../contracts/versions';
import type { ReplayObject } from './types';

/**
 * Builds file-record envelopes (contracts/file-record-envelope.ts) around a validated record's
 * original text. The record is embedded as it was read, never re-serialized: it is valid JSON
 * already (it just parsed), and re-serializing millions of records would cost more than parsing
 * them. The fields shared by every record of an invocation are rendered once.
 *
 * The envelope is a string: V8 joins the pieces without copying them, and the producer encodes it
 * to UTF-8 once, straight into its request buffer. The text came from validated UTF-8, so the
 * bytes on the wire are the line's bytes.
 */
export class EnvelopeEncoder {
  private readonly head: string;
  private readonly fixedBytes: number;

  constructor(object: Pick<ReplayObject, 'bucket' | 'key' | 'etag'>, replayedAt: Date) {
    this.head =
      `{"source_bucket":${JSON.stringify(object.bucket)},"source_key":${JSON.stringify(object.key)},` +
      `"source_etag":${JSON.stringify(object.etag)},"replayed_at":${JSON.stringify(replayedAt.toISOString())},` +
      `"schema_version":${FILE_RECORD_ENVELOPE_SCHEMA_VERSION},"source_offset":`;
    this.fixedBytes = Buffer.byteLength(this.head) + RECORD.length + CLOSE.length;
  }

  wrap(offset: number, record: string): string {
    return `${this.head}${offset}${RECORD}${record}${CLOSE}`;
  }

  /** UTF-8 size of `wrap(offset, record)` for a record of `recordBytes` bytes, without building it. */
  byteLength(offset: number, recordBytes: number): number {
    return this.fixedBytes + decimalDigits(offset) + recordBytes;
  }
}

const RECORD = ',"record":';
const CLOSE = '}';

function decimalDigits(value: number): number {
  let digits = 1;
  for (let power = 10; value >= power; power *= 10) digits++;
  return digits;
}
