/**
 * Splits a byte stream into lines for one range of a file.
 *
 * Ownership rule: a line belongs to the range in which it STARTS. A worker therefore drops the
 * partial line at the top of its range (the previous range finishes it) and reads past its range's
 * end to finish its own last line. Callers feed the splitter from one byte before the range start
 * (`baseOffset = start - 1`) and set `firstLineStart = start`: if that byte is a newline the first
 * full line starts exactly at `start`, otherwise the bytes up to the first newline are a partial
 * line and dropped. The same rule lets a resumed run skip what an earlier run already committed.
 *
 * Memory stays bounded: lines are handed out as slices of the incoming chunk; only a line that
 * spans chunks is copied, and a line longer than `maxLineBytes` is reported (with a preview) and
 * skipped without being buffered.
 */

/** A complete line: `buffer[start, end)` without its newline, at content offset `lineOffset`. */
export type LineHandler = (buffer: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, lineIndex: number) => void;

/** A line longer than the limit: its first bytes, where it started, and where the next line starts. */
export type OversizedLineHandler = (preview: Buffer, lineOffset: number, nextOffset: number, lineIndex: number) => void;

export interface LineSplitterOptions {
  /** Content offset of the first byte that will be pushed. */
  readonly baseOffset: number;
  /** Lines starting before this offset are dropped (partial first line, or already committed). */
  readonly firstLineStart: number;
  /** Lines starting at or after this offset belong to the next range: the splitter stops. */
  readonly endOffset: number;
  /** Longest line accepted, in bytes without the newline. */
  readonly maxLineBytes: number;
  /** How much of an oversized line is kept for the quarantine entry. @default 1024 */
  readonly previewBytes?: number;
}

const NEWLINE = 0x0a;

export class LineSplitter {
  private readonly firstLineStart: number;
  private readonly endOffset: number;
  private readonly maxLineBytes: number;
  private readonly previewBytes: number;
  /** Content offset of the next byte to be pushed. */
  private streamOffset: number;
  /** Content offset where the line in progress started. */
  private lineOffset: number;
  /** Number of lines (dropped ones included) before the line in progress, counted from `baseOffset`. */
  private lineIndex = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropping = false;
  private oversizedPreview: Buffer | undefined;
  private halted = false;

  constructor(
    options: LineSplitterOptions,
    private readonly onLine: LineHandler,
    private readonly onOversized: OversizedLineHandler,
  ) {
    this.firstLineStart = options.firstLineStart;
    this.endOffset = options.endOffset;
    this.maxLineBytes = options.maxLineBytes;
    this.previewBytes = options.previewBytes ?? 1024;
    this.streamOffset = options.baseOffset;
    this.lineOffset = options.baseOffset;
    this.beginLine(options.baseOffset);
  }

  /** True once a line starting at or after `endOffset` was reached: the caller can stop reading. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Content offset just past the last byte pushed. */
  get offset(): number {
    return this.streamOffset;
  }

  push(chunk: Buffer): void {
    if (this.halted) return;
    const chunkOffset = this.streamOffset;
    this.streamOffset += chunk.length;
    let position = 0;
    while (position < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, position);
      if (newline === -1) {
        this.holdPartial(chunk, position);
        return;
      }
      const nextOffset = chunkOffset + newline + 1;
      // The common case, a whole line inside this chunk, goes straight to the handler.
      if (this.pendingBytes === 0 && !this.dropping && this.oversizedPreview === undefined && newline - position <= this.maxLineBytes) {
        this.onLine(chunk, position, newline, this.lineOffset, nextOffset, this.lineIndex);
      } else {
        this.finishLine(chunk, position, newline, nextOffset);
      }
      position = newline + 1;
      this.lineIndex += 1;
      this.beginLine(nextOffset);
      if (this.halted) return;
    }
  }

  /** End of input: the last line may lack its newline. */
  end(): void {
    if (this.halted) return;
    if (this.oversizedPreview) {
      this.onOversized(this.oversizedPreview, this.lineOffset, this.streamOffset, this.lineIndex);
    } else if (!this.dropping && this.pendingBytes > 0) {
      const line = Buffer.concat(this.pending, this.pendingBytes);
      this.onLine(line, 0, line.length, this.lineOffset, this.streamOffset, this.lineIndex);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.halted = true;
  }

  private beginLine(offset: number): void {
    this.lineOffset = offset;
    this.oversizedPreview = undefined;
    if (offset >= this.endOffset) {
      this.halted = true;
      return;
    }
    this.dropping = offset < this.firstLineStart;
  }

  private finishLine(chunk: Buffer, start: number, newline: number, nextOffset: number): void {
    if (this.oversizedPreview) {
      this.onOversized(this.oversizedPreview, this.lineOffset, nextOffset, this.lineIndex);
      return;
    }
    if (this.dropping) return;
    if (this.pendingBytes === 0) {
      if (newline - start > this.maxLineBytes) {
        this.onOversized(copyOf(chunk, start, Math.min(newline, start + this.previewBytes)), this.lineOffset, nextOffset, this.lineIndex);
        return;
      }
      this.onLine(chunk, start, newline, this.lineOffset, nextOffset, this.lineIndex);
      return;
    }
    const total = this.pendingBytes + (newline - start);
    if (total > this.maxLineBytes) {
      this.pending.push(chunk.subarray(start, newline));
      this.onOversized(this.takePreview(), this.lineOffset, nextOffset, this.lineIndex);
      return;
    }
    this.pending.push(chunk.subarray(start, newline));
    const line = Buffer.concat(this.pending, total);
    this.pending = [];
    this.pendingBytes = 0;
    this.onLine(line, 0, total, this.lineOffset, nextOffset, this.lineIndex);
  }

  private holdPartial(chunk: Buffer, start: number): void {
    if (this.dropping || this.oversizedPreview) return;
    const rest = chunk.length - start;
    this.pending.push(chunk.subarray(start));
    this.pendingBytes += rest;
    if (this.pendingBytes > this.maxLineBytes) this.oversizedPreview = this.takePreview();
  }

  /** The first bytes of the pending line, copied; the rest is released. */
  private takePreview(): Buffer {
    const preview = Buffer.concat(this.pending, Math.min(this.pendingBytes, this.previewBytes));
    this.pending = [];
    this.pendingBytes = 0;
    return preview;
  }
}

function copyOf(buffer: Buffer, start: number, end: number): Buffer {
  return Buffer.from(buffer.subarray(start, end));
}
