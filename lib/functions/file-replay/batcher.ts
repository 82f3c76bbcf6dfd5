import type { QuarantineEntry } from './quarantine';
import type { EnvelopeEncoder } from './envelope';

/** One Kafka record: keyed for per-user ordering, value = the envelope's bytes. */
export interface OutgoingRecord {
  readonly key: string;
  readonly value: Buffer;
}

export interface RecordBatch {
  readonly records: readonly OutgoingRecord[];
  /** Sum of the values' sizes. */
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

export interface BatchLimits {
  /** Seal when this many records are in the batch. */
  readonly maxRecords: number;
  /** Seal once the values reach this many bytes. */
  readonly maxBytes: number;
  /** Largest single record (the line limit): sizes the buffer so a record never needs a second one. */
  readonly maxRecordBytes: number;
  /** Seal once the quarantine entries held reach this many bytes, so a file of garbage stays in bounded memory too. */
  readonly maxRejectBytes: number;
}

/**
 * Packs records into batches by count and bytes. Envelopes are written back to back into one
 * buffer per batch and each record's value is a view of it: one allocation per batch instead of
 * one per record. A new buffer per batch, never reused, because a sink may hold on to the values.
 */
export class Batcher {
  private buffer: Buffer;
  private position = 0;
  private records: OutgoingRecord[] = [];
  private rejects: QuarantineEntry[] = [];
  private rejectBytes = 0;
  private dirty = false;
  private readonly sealed: SealedBatch[] = [];

  constructor(
    private readonly limits: BatchLimits,
    private readonly encoder: EnvelopeEncoder,
    private nextOffset: number,
    private nextLineNumber: number | null,
  ) {
    this.buffer = this.newBuffer();
  }

  addRecord(key: string, source: Buffer, start: number, end: number, lineOffset: number, lineNumber: number | undefined, nextOffset: number): void {
    const begin = this.position;
    this.position = this.encoder.encode(this.buffer, begin, lineOffset, lineNumber, source, start, end);
    this.records.push({ key, value: this.buffer.subarray(begin, this.position) });
    this.advance(nextOffset, lineNumber);
    if (this.records.length >= this.limits.maxRecords || this.position >= this.limits.maxBytes) this.seal();
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

  /** Closes the open batch, if anything happened since the last one. */
  seal(): void {
    if (!this.dirty) return;
    this.sealed.push({
      records: this.records,
      bytes: this.position,
      rejects: this.rejects,
      nextOffset: this.nextOffset,
      nextLineNumber: this.nextLineNumber,
    });
    this.records = [];
    this.rejects = [];
    this.rejectBytes = 0;
    this.dirty = false;
    if (this.position > 0) {
      this.buffer = this.newBuffer();
      this.position = 0;
    }
  }

  takeSealed(): SealedBatch[] {
    return this.sealed.splice(0, this.sealed.length);
  }

  private advance(nextOffset: number, lineNumber: number | undefined): void {
    this.nextOffset = nextOffset;
    this.nextLineNumber = lineNumber === undefined ? null : lineNumber + 1;
    this.dirty = true;
  }

  private newBuffer(): Buffer {
    return Buffer.allocUnsafe(this.limits.maxBytes + this.limits.maxRecordBytes + this.encoder.overheadBytes);
  }
}
