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

export interface BatchLimits {
  /** Seal when this many records are in the batch. */
  readonly maxRecords: number;
  /** Seal once the values reach this many bytes (before compression). */
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
    const slot = this.count++;
    this.keys[slot] = key;
    this.texts[slot] = text;
    this.offsets[slot] = lineOffset;
    this.bytes += this.encoder.byteLength(lineOffset, textBytes);
    this.advance(nextOffset, lineNumber);
    if (this.count >= this.limits.maxRecords || this.bytes >= this.limits.maxBytes) this.seal();
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
