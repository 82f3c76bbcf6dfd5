import { FILE_RECORD_ENVELOPE_SCHEMA_VERSION } from '../../contracts/file-record-envelope';
import type { ReplayObject } from './types';

/**
 * Writes file-record envelopes (contracts/file-record-envelope.ts) around a validated record's
 * original bytes. The record is copied, never re-serialized: it is valid JSON already (it just
 * parsed), and re-serializing millions of records would cost more than parsing them. The fields
 * that are the same for every record of an invocation are rendered once.
 */
export class EnvelopeEncoder {
  private readonly head: Buffer;
  /** Largest envelope size beyond the record's own bytes. */
  readonly overheadBytes: number;

  constructor(object: Pick<ReplayObject, 'bucket' | 'key' | 'etag'>, replayedAt: Date) {
    this.head = Buffer.from(
      `{"source_bucket":${JSON.stringify(object.bucket)},"source_key":${JSON.stringify(object.key)},` +
        `"source_etag":${JSON.stringify(object.etag)},"replayed_at":${JSON.stringify(replayedAt.toISOString())},` +
        `"schema_version":${FILE_RECORD_ENVELOPE_SCHEMA_VERSION},"source_offset":`,
    );
    this.overheadBytes = this.head.length + MAX_DIGITS + LINE_NUMBER.length + MAX_DIGITS + RECORD.length + 1;
  }

  /** Writes the envelope for `source[start, end)` at `target[position]`; returns the position after it. */
  encode(target: Buffer, position: number, offset: number, lineNumber: number | undefined, source: Buffer, start: number, end: number): number {
    let cursor = position + this.head.copy(target, position);
    cursor = writeDigits(target, cursor, offset);
    if (lineNumber !== undefined) {
      cursor += LINE_NUMBER.copy(target, cursor);
      cursor = writeDigits(target, cursor, lineNumber);
    }
    cursor += RECORD.copy(target, cursor);
    cursor += source.copy(target, cursor, start, end);
    target[cursor] = CLOSE_BRACE;
    return cursor + 1;
  }
}

const LINE_NUMBER = Buffer.from(',"line_number":');
const RECORD = Buffer.from(',"record":');
const CLOSE_BRACE = 0x7d;
const MAX_DIGITS = 16;

/** Decimal digits of a non-negative safe integer, without allocating a string. */
function writeDigits(target: Buffer, position: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let index = position + digits - 1; index >= position; index--) {
    target[index] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return position + digits;
}
