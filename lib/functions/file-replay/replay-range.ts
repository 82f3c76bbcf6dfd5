import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PermanentError } from '../shared/errors';
import { Batcher, type SealedBatch } from './batcher';
import type { ByteSource } from './byte-source';
import type { CheckpointStore, RangeCheckpoint } from './checkpoint';
import { EnvelopeEncoder } from './envelope';
import { LineProcessor } from './line-processor';
import { LineSplitter } from './line-splitter';
import type { QuarantineStore } from './quarantine';
import type { RecordSink } from './record-sink';
import { checkpointKey, quarantineKey } from './storage-keys';
import { addTotals, contentOf, type RangeTotals, type ReplayObject, type ReplayRange, type WorkerInput, type WorkerResult, ZERO_TOTALS } from './types';

export interface ReplaySettings {
  /** Records per Kafka batch. */
  readonly maxBatchRecords: number;
  /** Envelope bytes per Kafka batch (before compression). */
  readonly maxBatchBytes: number;
  /** Longest line accepted; longer ones are quarantined. Also how far a worker reads past its range end. */
  readonly maxLineBytes: number;
  /** Quarantine entries held before they are committed. */
  readonly maxRejectBytes: number;
}

export interface ReplayDependencies {
  readonly source: ByteSource;
  readonly sink: RecordSink;
  readonly checkpoints: CheckpointStore;
  readonly quarantine: QuarantineStore;
  readonly settings: ReplaySettings;
  /** Asked after each committed batch; true ends the invocation early (its time budget is spent). */
  readonly shouldStop: () => boolean;
  readonly now?: () => Date;
}

export interface RangeReplayOutcome extends WorkerResult {
  /** What this invocation alone did. */
  readonly invocation: RangeTotals & { readonly durationMs: number };
}

/**
 * Replays one range: resume from its checkpoint, stream the bytes (ranged read for plain files,
 * a decompressing stream from the top for gzip), split lines, validate, batch, send, checkpoint.
 *
 * Delivery is at least once with duplicates bounded to one batch. The checkpoint for batch k is
 * written while the worker reads and parses batch k+1, and batch k+1 is sent only after that
 * checkpoint is durable; so whatever stops the worker, at most one acknowledged batch lacks its
 * checkpoint and is sent again by the next run.
 *
 * Gzip cannot be entered mid-stream (a deflate position depends on the 32 KiB window before it,
 * and zlib in Node cannot restore one). The state machine therefore decompresses a gzip file once
 * into a plain staging object (stage.ts) and replays that in plain ranges (`object.staged`). An
 * object given here still compressed is read from the top, skipping lines before the checkpoint:
 * each continuation then pays for decompressing what came before it, quadratic over many
 * continuations, which is why the state machine never does that (the benchmark measures both).
 */
export async function replayRange(input: WorkerInput, deps: ReplayDependencies): Promise<RangeReplayOutcome> {
  const started = Date.now();
  const { object, range } = input;
  const now = deps.now ?? (() => new Date());
  const storeKey = checkpointKey(object, range);
  const checkpoint = await deps.checkpoints.load(storeKey);
  const carried = checkpoint?.totals ?? ZERO_TOTALS;
  if (checkpoint?.done) {
    return {
      done: true,
      rangeIndex: range.index,
      nextOffset: checkpoint.nextOffset,
      totals: carried,
      invocation: { ...ZERO_TOTALS, durationMs: Date.now() - started },
    };
  }

  const from = checkpoint ? checkpoint.nextOffset : range.start;
  const fromLineNumber = checkpoint ? checkpoint.nextLineNumber : range.firstLineNumber;
  const layout = readLayout(object, range, from, fromLineNumber, deps.settings.maxLineBytes);
  const committer = new Committer(deps, object, range, storeKey, carried, from, fromLineNumber, now);
  if (layout.empty) {
    await committer.commitDone();
    return committer.outcome(true, started);
  }

  const encoder = new EnvelopeEncoder(object, now());
  const limits = { maxRecords: deps.settings.maxBatchRecords, maxBytes: deps.settings.maxBatchBytes, maxRejectBytes: deps.settings.maxRejectBytes };
  const batcher = new Batcher(limits, encoder, from, fromLineNumber);
  const processor = new LineProcessor(batcher, {
    format: object.format,
    csvColumns: object.csvColumns,
    lineNumberBase: layout.lineNumberBase,
    maxRecordBytes: deps.settings.maxLineBytes,
  });
  const splitter = new LineSplitter(
    { baseOffset: layout.baseOffset, firstLineStart: from, endOffset: layout.endOffset, maxLineBytes: deps.settings.maxLineBytes },
    processor.handleLine,
    processor.handleOversized,
  );

  const stream = await openContent(deps.source, object, layout);
  let stoppedEarly = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      splitter.push(chunk);
      if (await committer.sendAll(batcher.takeSealed())) {
        stoppedEarly = true;
        break;
      }
      if (splitter.stopped) break;
    }
    if (!stoppedEarly) {
      splitter.end();
      batcher.seal();
      await committer.sendAll(batcher.takeSealed(), { final: true });
      await deps.sink.flush();
      await committer.commitDone();
    }
    await committer.settle();
  } catch (error) {
    // Let the last acknowledged batch's checkpoint land if it can: fewer records re-sent by the retry.
    await committer.settle().catch(() => undefined);
    throw describeStreamError(error, object);
  } finally {
    stream.destroy();
  }
  return committer.outcome(!stoppedEarly, started);
}

interface ReadLayout {
  readonly empty: boolean;
  /** Content offset of the first byte read. */
  readonly baseOffset: number;
  readonly endOffset: number;
  /** Stored bytes to read: [readStart, readEnd). */
  readonly readStart: number;
  readonly readEnd: number;
  readonly lineNumberBase: number | undefined;
}

function readLayout(object: ReplayObject, range: ReplayRange, from: number, fromLineNumber: number | null, maxLineBytes: number): ReadLayout {
  const content = contentOf(object);
  if (content.compression === 'gzip') {
    // Decompression starts at the top every time, so line numbers are always known.
    return { empty: object.size === 0, baseOffset: 0, endOffset: range.end ?? Number.POSITIVE_INFINITY, readStart: 0, readEnd: object.size, lineNumberBase: 1 };
  }
  const end = Math.min(range.end ?? content.size, content.size);
  // One byte before `from` tells whether `from` starts a line (that byte is a newline) or falls inside one.
  const baseOffset = from > 0 ? from - 1 : 0;
  const lineNumberBase = fromLineNumber === null ? undefined : from > 0 ? fromLineNumber - 1 : fromLineNumber;
  return {
    empty: from >= end,
    baseOffset,
    endOffset: end,
    readStart: baseOffset,
    // Past the end by at most one line: the last line that starts in the range is ours to finish.
    readEnd: Math.min(content.size, end + maxLineBytes + 1),
    lineNumberBase,
  };
}

async function openContent(source: ByteSource, object: ReplayObject, layout: ReadLayout): Promise<Readable> {
  const raw = await source.open(layout.readStart, layout.readEnd);
  if (contentOf(object).compression !== 'gzip') return raw;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  raw.on('error', (error) => gunzip.destroy(error));
  gunzip.on('close', () => raw.destroy());
  return raw.pipe(gunzip);
}

function describeStreamError(error: unknown, object: ReplayObject): unknown {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && ['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT'].includes(code)) {
    return new PermanentError(`s3://${object.bucket}/${object.key} is not a valid gzip stream: ${(error as Error).message}`);
  }
  const name = (error as { name?: string }).name;
  if (name === 'PreconditionFailed') {
    return new PermanentError(`s3://${object.bucket}/${object.key} was overwritten during the replay (ETag ${object.etag} no longer matches)`);
  }
  return error;
}

/**
 * Sends sealed batches and commits them (quarantine entries, then the checkpoint), keeping at
 * most one commit in flight so that parsing overlaps with the checkpoint write.
 */
class Committer {
  private inFlight: Promise<void> = Promise.resolve();
  private committedOffset: number;
  private committedLineNumber: number | null;
  private totals: RangeTotals;
  private invocation: RangeTotals = ZERO_TOTALS;

  constructor(
    private readonly deps: ReplayDependencies,
    private readonly object: ReplayObject,
    private readonly range: ReplayRange,
    private readonly storeKey: string,
    carried: RangeTotals,
    from: number,
    fromLineNumber: number | null,
    private readonly now: () => Date,
  ) {
    this.totals = carried;
    this.committedOffset = from;
    this.committedLineNumber = fromLineNumber;
  }

  /** Sends and commits each batch in order; true when the time budget says stop. */
  async sendAll(batches: SealedBatch[], options: { final?: boolean } = {}): Promise<boolean> {
    for (const batch of batches) {
      // The previous checkpoint must be durable before anything more is sent: the one-batch bound.
      await this.inFlight;
      await this.deps.sink.send(batch);
      this.schedule(batch);
      if (!options.final && this.deps.shouldStop()) {
        await this.inFlight;
        return true;
      }
    }
    return false;
  }

  async commitDone(): Promise<void> {
    await this.inFlight;
    await this.deps.checkpoints.save(this.storeKey, this.checkpoint(true));
  }

  async settle(): Promise<void> {
    await this.inFlight;
  }

  outcome(done: boolean, started: number): RangeReplayOutcome {
    return {
      done,
      rangeIndex: this.range.index,
      nextOffset: this.committedOffset,
      totals: this.totals,
      invocation: { ...this.invocation, durationMs: Date.now() - started },
    };
  }

  private schedule(batch: SealedBatch): void {
    const delta: RangeTotals = { records: batch.records.length, rejected: batch.rejects.length, bytes: batch.nextOffset - this.committedOffset };
    this.totals = addTotals(this.totals, delta);
    this.invocation = addTotals(this.invocation, delta);
    this.committedOffset = batch.nextOffset;
    this.committedLineNumber = batch.nextLineNumber;
    const checkpoint = this.checkpoint(false);
    const commit = async () => {
      if (batch.rejects.length > 0) {
        await this.deps.quarantine.write(quarantineKey(this.object, this.range, batch.rejects[0].source_offset), batch.rejects);
      }
      await this.deps.checkpoints.save(this.storeKey, checkpoint);
    };
    this.inFlight = commit();
    // Observed at the next await; this keeps Node from reporting the rejection as unhandled meanwhile.
    this.inFlight.catch(() => undefined);
  }

  private checkpoint(done: boolean): RangeCheckpoint {
    return {
      version: 1,
      bucket: this.object.bucket,
      key: this.object.key,
      etag: this.object.etag,
      rangeIndex: this.range.index,
      nextOffset: this.committedOffset,
      nextLineNumber: this.committedLineNumber,
      done,
      totals: this.totals,
      updatedAt: this.now().toISOString(),
    };
  }
}
