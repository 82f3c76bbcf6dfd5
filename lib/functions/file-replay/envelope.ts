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
 *
 * The offset is rendered from cached digit groups instead of `${offset}`: V8 keeps every number it
 * converts in its number-string cache, so each record's offset string outlived the record, got
 * copied by every scavenge and promoted to the old generation (measured: scavenges 5x slower, old
 * space and RSS growing with the file). Digit groups are shared, and the pieces die young.
 */
export class EnvelopeEncoder {
  private readonly head: string;
  private readonly fixedBytes: number;
  /** `head` followed by the offset's digits above the last six, for offsets in `[millions * 1e6, millions * 1e6 + 1e6)`. */
  private millions = 0;
  private millionsHead: string;

  constructor(object: Pick<ReplayObject, 'bucket' | 'key' | 'etag'>, replayedAt: Date) {
    this.head =
      `{"source_bucket":${JSON.stringify(object.bucket)},"source_key":${JSON.stringify(object.key)},` +
      `"source_etag":${JSON.stringify(object.etag)},"replayed_at":${JSON.stringify(replayedAt.toISOString())},` +
      `"schema_version":${FILE_RECORD_ENVELOPE_SCHEMA_VERSION},"source_offset":`;
    this.fixedBytes = Buffer.byteLength(this.head) + RECORD.length + CLOSE.length;
    this.millionsHead = this.head;
  }

  wrap(offset: number, record: string): string {
    return `${this.headToRecord(offset)}${record}${CLOSE}`;
  }

  /** Everything before the record: `head`, the offset in decimal, and the record's key. */
  private headToRecord(offset: number): string {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) return `${this.head}${offset}${RECORD}`;
    const millions = Math.floor(offset / 1e6);
    const belowMillion = offset - millions * 1e6;
    const thousands = Math.floor(belowMillion / 1000);
    const units = belowMillion - thousands * 1000;
    if (millions === 0) {
      return thousands === 0 ? this.head + DIGITS_THEN_RECORD[units] : this.head + DIGITS[thousands] + PADDED_DIGITS_THEN_RECORD[units];
    }
    if (millions !== this.millions) {
      // Ranges are read in order, so this changes once per million bytes.
      this.millions = millions;
      this.millionsHead = `${this.head}${millions}`;
    }
    return this.millionsHead + PADDED_DIGITS[thousands] + PADDED_DIGITS_THEN_RECORD[units];
  }

  /** UTF-8 size of `wrap(offset, record)` for a record of `recordBytes` bytes, without building it. */
  byteLength(offset: number, recordBytes: number): number {
    return this.fixedBytes + decimalDigits(offset) + recordBytes;
  }
}

const RECORD = ',"record":';
const CLOSE = '}';
/** `"0"` to `"999"`, and the same zero-padded to three digits. */
const DIGITS = Array.from({ length: 1000 }, (_, n) => String(n));
const PADDED_DIGITS = DIGITS.map((digits) => digits.padStart(3, '0'));
/** The last digit group joined to what follows it once, not once per record. */
const DIGITS_THEN_RECORD = DIGITS.map((digits) => digits + RECORD);
const PADDED_DIGITS_THEN_RECORD = PADDED_DIGITS.map((digits) => digits + RECORD);

function decimalDigits(value: number): number {
  let digits = 1;
  for (let power = 10; value >= power; power *= 10) digits++;
  return digits;
}
