import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { RecordBatch } from '../../lib/functions/file-replay/batcher';
import { FileByteSource, type ByteSource } from '../../lib/functions/file-replay/byte-source';
import { MemoryCheckpointStore } from '../helpers/replay';
import { REPLAY_DEFAULTS } from '../../lib/functions/file-replay/config';
import { planRanges } from '../../lib/functions/file-replay/plan';
import { replayRange } from '../../lib/functions/file-replay/replay-range';
import { planStaged, stageGzip, type StagingTarget } from '../../lib/functions/file-replay/stage';
import type { PlanResult, ReplayObject } from '../../lib/functions/file-replay/types';

/** Counts the stored bytes a source hands out: the measure of work for resumes. */
class CountingSource implements ByteSource {
  bytes = 0;
  constructor(private readonly inner: ByteSource) {}
  async open(start: number, end: number): Promise<Readable> {
    const stream = await this.inner.open(start, end);
    stream.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
    return stream;
  }
}

/** A multipart upload into a local file: parts must arrive numbered 1..n, each but the last at least the part size. */
class FileStagingTarget implements StagingTarget {
  readonly parts: Array<{ number: number; body: Buffer }> = [];
  aborted = false;
  constructor(readonly file: string) {}
  async begin() {}
  async uploadPart(partNumber: number, body: Buffer) {
    this.parts.push({ number: partNumber, body });
  }
  async complete() {
    const sorted = [...this.parts].sort((a, b) => a.number - b.number);
    expect(sorted.map((p) => p.number)).toEqual(sorted.map((_, i) => i + 1));
    fs.writeFileSync(this.file, Buffer.concat(sorted.map((p) => p.body)));
    return '"staged-etag-1"';
  }
  async abort() {
    this.aborted = true;
  }
}

class Sink {
  readonly offsets: number[] = [];
  async send(batch: RecordBatch) {
    for (const record of batch.records) this.offsets.push((JSON.parse(record.value) as { source_offset: number }).source_offset);
  }
  async flush() {}
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-staging-'));

function loginLines(count: number): { content: Buffer; offsets: number[] } {
  const offsets: number[] = [];
  let offset = 0;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const line = JSON.stringify({
      event_id: `3b241101-e2bb-4255-8caf-${i.toString(16).padStart(12, '0')}`,
      user_id: `user-${i % 13}`,
      event_time: new Date(Date.UTC(2024, 4, 1) + i * 1000).toISOString(),
      source: 'replay',
      schema_version: 1,
    });
    offsets.push(offset);
    offset += Buffer.byteLength(line) + 1;
    lines.push(line);
  }
  return { content: Buffer.from(`${lines.join('\n')}\n`), offsets };
}

/** Replays every range, each invocation stopping after `batchesPerInvocation` batches (resumes). */
async function replayAll(plan: PlanResult, source: ByteSource, sink: Sink, batchesPerInvocation: number): Promise<number> {
  const checkpoints = new MemoryCheckpointStore();
  let invocations = 0;
  for (const range of plan.ranges) {
    for (;;) {
      invocations++;
      let batches = 0;
      const outcome = await replayRange(
        { object: plan.object!, range },
        {
          source,
          sink,
          checkpoints,
          quarantine: { write: async () => undefined },
          settings: { ...REPLAY_DEFAULTS, maxBatchRecords: 100 },
          shouldStop: () => ++batches >= batchesPerInvocation,
        },
      );
      if (outcome.done) break;
    }
  }
  return invocations;
}

describe('gzip replay by staging', () => {
  const { content, offsets } = loginLines(20_000);
  // Two members, as concatenated gzip files are.
  const gzip = Buffer.concat([gzipSync(content.subarray(0, 1_200_000)), gzipSync(content.subarray(1_200_000))]);
  const gzFile = path.join(dir, 'logins.jsonl.gz');
  fs.writeFileSync(gzFile, gzip);
  const object: ReplayObject = { bucket: 'landing', key: 'incoming/logins.jsonl.gz', etag: 'gz-etag', size: gzip.length, format: 'jsonl', compression: 'gzip' };
  const planned: PlanResult = {
    object,
    ranges: planRanges({ compression: 'gzip', size: gzip.length, contentStart: 0, firstLineNumber: 1, rangeSizeBytes: 1, maxRanges: 10 }),
    skippedReason: null,
    needsStaging: true,
  };

  it('decompresses once into parts, then replays plain ranges with resumes: every line once, total reads linear in the size', async () => {
    const stagedFile = path.join(dir, 'staged.plain');
    const target = new FileStagingTarget(stagedFile);
    const gzipSource = new CountingSource(new FileByteSource(gzFile));
    const staged = await stageGzip(gzipSource, object, target, { partBytes: 1_000_000, shouldStop: () => false });
    expect(staged).toMatchObject({ size: content.length, etag: 'staged-etag-1' });
    expect(staged.parts).toBeGreaterThan(1);
    // S3 needs every part but the last to be at least the minimum part size.
    for (const part of target.parts.slice(0, -1)) expect(part.body.length).toBeGreaterThanOrEqual(1_000_000);
    expect(gzipSource.bytes).toBe(gzip.length);
    expect(fs.readFileSync(stagedFile).equals(content)).toBe(true);

    const plan = planStaged(planned, staged, '_replay/staging/incoming/logins.jsonl.gz/gz-etag.plain', { rangeSizeBytes: 500_000, maxRanges: 100 });
    expect(plan.ranges.length).toBeGreaterThan(3);
    expect(plan.object!.staged).toEqual({ key: '_replay/staging/incoming/logins.jsonl.gz/gz-etag.plain', etag: 'staged-etag-1', size: content.length });
    const plainSource = new CountingSource(new FileByteSource(stagedFile, 64 * 1024));
    const sink = new Sink();
    const invocations = await replayAll(plan, plainSource, sink, 3);
    expect(invocations).toBeGreaterThan(20);
    expect(sink.offsets).toEqual(offsets);
    // Each range reads its bytes once; an invocation adds at most one read-ahead buffer, a range at most one line past its end.
    expect(plainSource.bytes).toBeLessThan(content.length + invocations * 64 * 1024 + plan.ranges.length * REPLAY_DEFAULTS.maxLineBytes);
  });

  it('the unstaged gzip path re-decompresses from the top on every resume (what staging avoids)', async () => {
    const source = new CountingSource(new FileByteSource(gzFile));
    const sink = new Sink();
    const invocations = await replayAll(planned, source, sink, 20);
    expect(invocations).toBeGreaterThanOrEqual(10);
    expect(sink.offsets).toEqual(offsets);
    // Quadratic: about invocations/2 times the file.
    expect(source.bytes).toBeGreaterThan((invocations / 4) * gzip.length);
  });

  it('fails permanently, aborting the upload, when decompression cannot finish in one invocation', async () => {
    const target = new FileStagingTarget(path.join(dir, 'never.plain'));
    let checks = 0;
    await expect(stageGzip(new FileByteSource(gzFile), object, target, { partBytes: 1_000_000, shouldStop: () => ++checks > 1 })).rejects.toThrow(
      /decompressed \d+ bytes of content before the invocation's time budget ran out; .*split the file/,
    );
    expect(target.aborted).toBe(true);
  });

  it('fails permanently on a corrupt gzip stream', async () => {
    const corrupt = Buffer.from(gzip);
    corrupt.fill(0x41, 200, 400);
    const file = path.join(dir, 'corrupt.gz');
    fs.writeFileSync(file, corrupt);
    await expect(
      stageGzip(new FileByteSource(file), object, new FileStagingTarget(path.join(dir, 'c.plain')), { partBytes: 100_000, shouldStop: () => false }),
    ).rejects.toThrow(/is not a valid gzip stream/);
  });
});
