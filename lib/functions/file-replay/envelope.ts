import { FILE_RECORD_ENVELOPE_SCHEMA_VERSION } from '../../contracts/file-record-envelope';
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
  /** UTF-8 bytes beyond one per character in the head (non-ASCII bucket or key names). */
  private readonly headExtraBytes: number;

  constructor(object: Pick<ReplayObject, 'bucket' | 'key' | 'etag'>, replayedAt: Date) {
    this.head =
      `{"source_bucket":${JSON.stringify(object.bucket)},"source_key":${JSON.stringify(object.key)},` +
      `"source_etag":${JSON.stringify(object.etag)},"replayed_at":${JSON.stringify(replayedAt.toISOString())},` +
      `"schema_version":${FILE_RECORD_ENVELOPE_SCHEMA_VERSION},"source_offset":`;
    this.headExtraBytes = Buffer.byteLength(this.head) - this.head.length;
  }

  wrap(offset: number, record: string): string {
    return `${this.head}${offset}${RECORD}${record}}`;
  }

  /**
   * UTF-8 size of an envelope from `wrap`, given its record's text and that text's size in bytes.
   * Everything but the head and the record is ASCII, and a string's length is stored, so this
   * costs nothing per record.
   */
  byteLength(envelope: string, record: string, recordBytes: number): number {
    return envelope.length + this.headExtraBytes + (recordBytes - record.length);
  }
}

const RECORD = ',"record":';
