import type { EnvelopeEncoder } from './envelope';
import type { QuarantineEntry } from './quarantine';

/** One Kafka record: keyed for per-user ordering; the value is the envelope's JSON text. */
export interface OutgoingRecord {
  readonly key: string;
  readonly value: string;
}

export interface RecordBatch {
  readonly records: readonly OutgoingRecord[];
  /** UTF-8 size of the values. */
  readonly bytes: number;
}

/**
 * A batch ready to send, with what committing it means: every line before `nextOffset` is then
 * either acknowledged by Kafka or in quarantine.
 */
export interface SealedBatch extends RecordBatch {
  readonly rejects: readonly QuarantineEntry[];
  readonly nextOffset: number;
  readonly nextLineNumber: number | null;
}

/**
 * Kafka record batch format v2 (KIP-98): a batch header of 61 bytes, and per record at most 36
 * bytes of framing besides key and value (length, timestampDelta, offsetDelta, key and value
 * lengths and header count as varints of up to 5 or 10 bytes, plus the attributes byte).
 */
export const KAFKA_BATCH_HEADER_BYTES = 61;
export const KAFKA_RECORD_OVERHEAD_BYTES = 36;
/**
 * What GZIP may add to incompressible input: 18 bytes of gzip header and trailer, and 5 bytes per
 * stored deflate block of at most 65,535 bytes (zlib's worst case, deflateBound).
 */
export function gzipWorstCaseBytes(inputBytes: number): number {
  return 18 + 5 * Math.ceil(Math.max(inputBytes, 1) / 65_535) + 6;
}

/**
 * The largest encoded batch (keys, values and record framing) whose record batch the broker
 * accepts under `max.message.bytes`, even if GZIP compression gains nothing and the whole
 * produce call lands on one partition.
 */
export function batchBytesWithin(maxMessageBytes: number): number {
  let budget = maxMessageBytes - KAFKA_BATCH_HEADER_BYTES;
  budget -= gzipWorstCaseBytes(budget);
  return budget;
}

/** Bytes a record adds to a batch: its key, its value and the v2 record framing. */
export function encodedRecordBytes(keyBytes: number, valueBytes: number): number {
  return keyBytes + valueBytes + KAFKA_RECORD_OVERHEAD_BYTES;
}

export interface BatchLimits {
  /** Seal when this many records are in the batch. */
  readonly maxRecords: number;
  /**
   * Encoded size (keys, values, record framing) a batch never exceeds: a record that would push
   * the open batch past it seals the batch first. Derive it from the topic's max.message.bytes
   * with batchBytesWithin.
   */
  readonly maxBytes: number;
  /** Seal once the quarantine entries held reach this many bytes, so a file of garbage stays in bounded memory too. */
  readonly maxRejectBytes: number;
}

/**
 * Packs records into batches by count and bytes, tracking the content position each batch ends at.
 *
 * While a batch fills, it holds only each record's key, text and offset; the envelopes and record
 * objects are built when it is sealed, right before sending. That keeps what survives the young
 * generation small: with the envelopes built per line, garbage collection cost as much as the
 * contract validation.
 */
export class Batcher {
  /**
   * The open batch's records, in slots reused from batch to batch: arrays rebuilt by push for
   * every batch are reallocated several times each, and the discarded copies feed the GC.
   * Sealing clears the slots, so nothing here keeps a sent batch's texts alive.
   */
  private readonly keys: string[] = [];
  private readonly texts: string[] = [];
  private readonly offsets: number[] = [];
  private count = 0;
  private bytes = 0;
  private rejects: QuarantineEntry[] = [];
  private rejectBytes = 0;
  private dirty = false;
  private readonly sealed: SealedBatch[] = [];

  constructor(
    private readonly limits: BatchLimits,
    private readonly encoder: EnvelopeEncoder,
    private nextOffset: number,
    private nextLineNumber: number | null,
  ) {}

  /** A valid record: its key, its JSON text (`textBytes` long in UTF-8) and the offset of its line. */
  addRecord(key: string, text: string, textBytes: number, lineOffset: number, nextOffset: number, lineNumber: number | undefined): void {
    const recordBytes = encodedRecordBytes(Buffer.byteLength(key), this.encoder.byteLength(lineOffset, textBytes));
    if (recordBytes > this.limits.maxBytes) {
      // The line limit is validated against the batch limit at startup, so this is a configuration bug, not data.
      throw new Error(`a record of ${recordBytes} encoded bytes exceeds the batch limit of ${this.limits.maxBytes} bytes: lower MAX_LINE_BYTES`);
    }
    // Sealed before, not after, passing the limit: a batch that crossed it would be refused by the broker.
    if (this.count > 0 && this.bytes + recordBytes > this.limits.maxBytes) this.sealOpen();
    const slot = this.count++;
    this.keys[slot] = key;
    this.texts[slot] = text;
    this.offsets[slot] = lineOffset;
    this.bytes += recordBytes;
    this.advance(nextOffset, lineNumber);
    if (this.count >= this.limits.maxRecords) this.seal();
  }

  addReject(entry: QuarantineEntry, nextOffset: number): void {
    this.rejects.push(entry);
    this.rejectBytes += entry.raw.length + entry.reason.length + 64;
    this.advance(nextOffset, entry.line_number);
    if (this.rejectBytes >= this.limits.maxRejectBytes) this.seal();
  }

  /** A line that carries nothing (blank): only the position moves. */
  skip(nextOffset: number, lineNumber: number | undefined): void {
    this.advance(nextOffset, lineNumber);
  }

  /** Closes the open batch, if any line was seen since the last one. */
  seal(): void {
    if (!this.dirty) return;
    this.sealOpen();
  }

  /**
   * Closes the open batch at the position reached so far. Called before a record is added, the
   * position is that of the record's line start: the record belongs to the next batch.
   */
  private sealOpen(): void {
    const { keys, texts, offsets, encoder, count } = this;
    const records = new Array<OutgoingRecord>(count);
    for (let i = 0; i < count; i++) {
      records[i] = { key: keys[i], value: encoder.wrap(offsets[i], texts[i]) };
      keys[i] = '';
      texts[i] = '';
    }
    this.sealed.push({ records, bytes: this.bytes, rejects: this.rejects, nextOffset: this.nextOffset, nextLineNumber: this.nextLineNumber });
    this.count = 0;
    this.bytes = 0;
    this.rejects = [];
    this.rejectBytes = 0;
    this.dirty = false;
  }

  takeSealed(): SealedBatch[] {
    return this.sealed.splice(0, this.sealed.length);
  }

  private advance(nextOffset: number, lineNumber: number | undefined): void {
    this.nextOffset = nextOffset;
    this.nextLineNumber = lineNumber === undefined ? null : lineNumber + 1;
    this.dirty = true;
  }
}
