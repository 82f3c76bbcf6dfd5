/**
 * What flows between the replay state machine's steps (plan → worker per range → summary). Kept
 * small: Step Functions passes it as JSON with a 256 KiB payload limit.
 */
export type FileFormat = 'jsonl' | 'csv';
export type Compression = 'none' | 'gzip';

/** One object version to replay, as the planner found it. */
export interface ReplayObject {
  readonly bucket: string;
  readonly key: string;
  /** ETag without quotes: every read is pinned to this version (If-Match). */
  readonly etag: string;
  /** Stored (compressed) size in bytes. */
  readonly size: number;
  readonly format: FileFormat;
  readonly compression: Compression;
  /** CSV columns from the header line (the planner reads it once for all ranges). */
  readonly csvColumns?: string[];
  /**
   * For gzip: the decompressed copy the ranges read (plain, same offsets). Records still name the
   * source object; only the bytes come from here.
   */
  readonly staged?: { readonly key: string; readonly etag: string; readonly size: number };
}

/** Where a worker reads the content of an object: the staged copy of a gzip file, or the object itself. */
export function contentOf(object: ReplayObject): { key: string; etag: string; size: number; compression: Compression } {
  return object.staged ? { ...object.staged, compression: 'none' } : { key: object.key, etag: object.etag, size: object.size, compression: object.compression };
}

/**
 * A slice of the content. Offsets are in the uncompressed content: for plain files that is the
 * object's bytes; a gzip file has one range over its whole decompressed stream (`end` null).
 */
export interface ReplayRange {
  readonly index: number;
  readonly start: number;
  /** Exclusive; null = to the end of the content. */
  readonly end: number | null;
  /** 1-based line number of the first line at `start`, when known (the range starts the file). */
  readonly firstLineNumber: number | null;
}

export interface RangeTotals {
  /** Records sent to Kafka (acknowledged). */
  readonly records: number;
  /** Lines quarantined. */
  readonly rejected: number;
  /** Content bytes consumed (uncompressed). */
  readonly bytes: number;
}

export const ZERO_TOTALS: RangeTotals = { records: 0, rejected: 0, bytes: 0 };

export function addTotals(a: RangeTotals, b: RangeTotals): RangeTotals {
  return { records: a.records + b.records, rejected: a.rejected + b.rejected, bytes: a.bytes + b.bytes };
}

export interface PlanInput {
  readonly bucket: string;
  readonly key: string;
  /** From the S3 event; pins the version the event was about. */
  readonly etag?: string;
}

/** Every field is always present (null when not applicable): Step Functions paths fail on missing ones. */
export interface PlanResult {
  /** Null when there is nothing to replay (object gone, empty, or overwritten since the event). */
  readonly object: ReplayObject | null;
  readonly ranges: ReplayRange[];
  readonly skippedReason: string | null;
  /** True for gzip: the state machine decompresses it once into a staging object before the ranges run. */
  readonly needsStaging: boolean;
}

export interface WorkerInput {
  readonly object: ReplayObject;
  readonly range: ReplayRange;
}

/** What one worker invocation reports; `done` false asks the state machine to invoke again. */
export interface WorkerResult {
  readonly done: boolean;
  readonly rangeIndex: number;
  readonly nextOffset: number;
  /** Cumulative over every invocation on this range (carried in the checkpoint). */
  readonly totals: RangeTotals;
}
