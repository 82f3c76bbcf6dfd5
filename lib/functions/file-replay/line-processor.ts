import { isUtf8 } from 'node:buffer';
import type { LoginEvent } from '../../contracts/login-event';
import { explainLoginEvent, isLoginEvent } from '../../contracts/login-event-validator';
import type { Batcher } from './batcher';
import type { LineHandler } from './line-splitter';
import { csvRowToLoginEvent, splitCsvLine } from './csv';
import type { FileFormat } from './types';

export interface LineProcessorOptions {
  readonly format: FileFormat;
  /** Columns from the CSV header (CSV only). */
  readonly csvColumns?: readonly string[];
  /**
   * Line number of the splitter's line index 0, when known; undefined when the range starts
   * mid-file and the lines before it were never counted.
   */
  readonly lineNumberBase: number | undefined;
  /** Longest record accepted (bytes); CSV rows grow when rendered as JSON. */
  readonly maxRecordBytes: number;
  /** How much of a rejected line goes into its quarantine entry. @default 4096 */
  readonly rawPreviewChars?: number;
}

const CARRIAGE_RETURN = 0x0d;

/**
 * Parses and validates each line and hands it to the batcher as a record, a reject or a skip.
 * Every line moves the batcher's position, so a checkpoint never points into the middle of
 * lines it has not accounted for.
 */
export class LineProcessor {
  private readonly rawPreviewChars: number;
  private readonly lineNumberBase: number | undefined;
  private readonly maxRecordBytes: number;
  private readonly csvColumns: readonly string[];
  /** The last buffer checked for UTF-8 as a whole; lines are slices of it. */
  private checkedBuffer: Buffer | undefined;
  private checkedBufferIsUtf8 = false;
  /** The splitter's LineHandler for this format. */
  readonly handleLine: LineHandler;

  constructor(
    private readonly batcher: Batcher,
    options: LineProcessorOptions,
  ) {
    if (options.format === 'csv' && !options.csvColumns) throw new Error('CSV replay needs the header columns');
    this.rawPreviewChars = options.rawPreviewChars ?? 4096;
    this.lineNumberBase = options.lineNumberBase;
    this.maxRecordBytes = options.maxRecordBytes;
    this.csvColumns = options.csvColumns ?? [];
    this.handleLine = options.format === 'jsonl' ? this.handleJsonLine : this.handleCsvLine;
  }

  /** Bound for use as the splitter's OversizedLineHandler. */
  readonly handleOversized = (preview: Buffer, lineOffset: number, nextOffset: number, lineIndex: number): void => {
    this.reject(preview.toString('utf8'), `line longer than ${this.maxRecordBytes} bytes`, lineOffset, nextOffset, this.lineNumber(lineIndex));
  };

  private readonly handleJsonLine: LineHandler = (buffer, start, end, lineOffset, nextOffset, lineIndex) => {
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
    if (lineOffset === 0 && hasByteOrderMark(buffer, start, end)) start += 3;
    if (end === start) {
      this.batcher.skip(nextOffset, this.lineNumber(lineIndex));
      return;
    }
    const text = buffer.toString('utf8', start, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (text.trim() === '') this.batcher.skip(nextOffset, this.lineNumber(lineIndex));
      else this.reject(text, `invalid JSON: ${(error as Error).message}`, lineOffset, nextOffset, this.lineNumber(lineIndex));
      return;
    }
    if (!isLoginEvent(value)) {
      this.reject(text, contractReason(value), lineOffset, nextOffset, this.lineNumber(lineIndex));
      return;
    }
    if (!this.isUtf8(buffer, start, end)) {
      this.reject(text, 'invalid UTF-8', lineOffset, nextOffset, this.lineNumber(lineIndex));
      return;
    }
    this.batcher.addRecord((value as LoginEvent).user_id, text, end - start, lineOffset, nextOffset, this.lineNumber(lineIndex));
  };

  private readonly handleCsvLine: LineHandler = (buffer, start, end, lineOffset, nextOffset, lineIndex) => {
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
    if (lineOffset === 0 && hasByteOrderMark(buffer, start, end)) start += 3;
    const lineNumber = this.lineNumber(lineIndex);
    if (end === start) {
      this.batcher.skip(nextOffset, lineNumber);
      return;
    }
    this.handleCsv(buffer.toString('utf8', start, end), buffer, start, end, lineOffset, nextOffset, lineNumber);
  };

  private lineNumber(lineIndex: number): number | undefined {
    return this.lineNumberBase === undefined ? undefined : this.lineNumberBase + lineIndex;
  }

  private handleCsv(text: string, buffer: Buffer, start: number, end: number, lineOffset: number, nextOffset: number, lineNumber: number | undefined): void {
    const fields = splitCsvLine(text);
    if (typeof fields === 'string') {
      this.reject(text, `invalid CSV: ${fields}`, lineOffset, nextOffset, lineNumber);
      return;
    }
    const event = csvRowToLoginEvent(this.csvColumns, fields);
    if (typeof event === 'string') {
      this.reject(text, `invalid CSV: ${event}`, lineOffset, nextOffset, lineNumber);
      return;
    }
    if (!isLoginEvent(event)) {
      this.reject(text, contractReason(event), lineOffset, nextOffset, lineNumber);
      return;
    }
    if (!this.isUtf8(buffer, start, end)) {
      this.reject(text, 'invalid UTF-8', lineOffset, nextOffset, lineNumber);
      return;
    }
    const record = JSON.stringify(event);
    const recordBytes = Buffer.byteLength(record);
    if (recordBytes > this.maxRecordBytes) {
      this.reject(text, `record longer than ${this.maxRecordBytes} bytes as JSON`, lineOffset, nextOffset, lineNumber);
      return;
    }
    this.batcher.addRecord(event.user_id as string, record, recordBytes, lineOffset, nextOffset, lineNumber);
  }

  /**
   * `toString` replaces invalid UTF-8 silently, and the text is what gets forwarded, so invalid
   * lines must be caught. Checking the whole chunk once (SIMD in Node) covers every line in it;
   * only a chunk that fails (possibly just a character cut at its edge) is checked line by line.
   */
  private isUtf8(buffer: Buffer, start: number, end: number): boolean {
    if (buffer !== this.checkedBuffer) {
      this.checkedBuffer = buffer;
      this.checkedBufferIsUtf8 = isUtf8(buffer);
    }
    return this.checkedBufferIsUtf8 || isUtf8(buffer.subarray(start, end));
  }

  private reject(text: string, reason: string, lineOffset: number, nextOffset: number, lineNumber: number | undefined): void {
    this.batcher.addReject(
      {
        source_offset: lineOffset,
        ...(lineNumber === undefined ? {} : { line_number: lineNumber }),
        reason,
        raw: text.length > this.rawPreviewChars ? text.slice(0, this.rawPreviewChars) : text,
      },
      nextOffset,
    );
  }
}

function contractReason(value: unknown): string {
  return `contract violation: ${explainLoginEvent(value) ?? 'rejected by the login-event schema'}`;
}

function hasByteOrderMark(buffer: Buffer, start: number, end: number): boolean {
  return end - start >= 3 && buffer[start] === 0xef && buffer[start + 1] === 0xbb && buffer[start + 2] === 0xbf;
}
