import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { fileRecordEnvelopeSchema, type FileRecordEnvelope } from '../../lib/contracts';
import type { RecordBatch } from '../../lib/functions/file-replay/batcher';
import { FileByteSource } from '../../lib/functions/file-replay/byte-source';
import type { CheckpointStore, RangeCheckpoint } from '../../lib/functions/file-replay/checkpoint';
import { REPLAY_DEFAULTS } from '../../lib/functions/file-replay/config';
import { planReplay } from '../../lib/functions/file-replay/plan';
import type { QuarantineEntry, QuarantineStore } from '../../lib/functions/file-replay/quarantine';
import type { RecordSink } from '../../lib/functions/file-replay/record-sink';
import { replayRange, type ReplaySettings } from '../../lib/functions/file-replay/replay-range';
import { checkpointKey } from '../../lib/functions/file-replay/storage-keys';
import type { PlanResult, RangeTotals, ReplayObject, ReplayRange } from '../../lib/functions/file-replay/types';

/**
 * File replay end to end, in process: real files on disk, the real planner (its S3 calls answered
 * from those files), the real worker path (ranged reads from the files through the ByteSource
 * interface), with the Kafka producer, checkpoint store and quarantine replaced at their interfaces.
 */

const BUCKET = 'landing-bucket';
const ETAG = 'etag-1';
const s3 = mockClient(S3Client);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-replay-'));
const files = new Map<string, Buffer>();

/** Serves HeadObject and ranged GetObject for `files`, like S3 would. */
function serveFilesFromDisk(): void {
  s3.reset();
  s3.on(HeadObjectCommand).callsFake((input: { Key: string; IfMatch?: string }) => {
    const content = files.get(input.Key);
    if (!content) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    if (input.IfMatch && input.IfMatch !== `"${ETAG}"`)
      throw Object.assign(new Error('PreconditionFailed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    return { ContentLength: content.length, ETag: `"${ETAG}"` };
  });
  s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
    const content = files.get(input.Key);
    if (!content) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    const [, start, end] = /bytes=(\d+)-(\d+)/.exec(input.Range ?? '') ?? [];
    const slice = input.Range ? content.subarray(Number(start), Number(end) + 1) : content;
    return { Body: bodyOf(slice) };
  });
}

function bodyOf(bytes: Buffer) {
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async () => bytes.toString('utf8'),
  });
}

function writeFile(key: string, content: Buffer): string {
  const file = path.join(dir, key.replace(/\//g, '_'));
  fs.writeFileSync(file, content);
  files.set(key, content);
  return file;
}

interface SentRecord {
  readonly key: string;
  readonly value: string;
  readonly envelope: FileRecordEnvelope;
}

class RecordingSink implements RecordSink {
  readonly batches: SentRecord[][] = [];
  /** Throw on this send (1-based), once, before anything of it is acknowledged. */
  failOnSend: number | undefined;
  private sends = 0;

  async send(batch: RecordBatch): Promise<void> {
    this.sends++;
    if (this.sends === this.failOnSend) throw new Error('broker unavailable');
    this.batches.push(batch.records.map((record) => ({ key: record.key, value: record.value, envelope: JSON.parse(record.value) as FileRecordEnvelope })));
  }

  async flush(): Promise<void> {}

  get records(): SentRecord[] {
    return this.batches.flat();
  }
}

class MemoryCheckpoints implements CheckpointStore {
  readonly saved = new Map<string, RangeCheckpoint>();
  readonly history: RangeCheckpoint[] = [];
  /** Throw on this save (1-based), once. */
  failOnSave: number | undefined;
  private saves = 0;

  async load(key: string): Promise<RangeCheckpoint | undefined> {
    return this.saved.get(key);
  }

  async save(key: string, checkpoint: RangeCheckpoint): Promise<void> {
    this.saves++;
    if (this.saves === this.failOnSave) throw new Error('S3 PutObject timed out');
    this.saved.set(key, checkpoint);
    this.history.push(checkpoint);
  }
}

class MemoryQuarantine implements QuarantineStore {
  readonly objects = new Map<string, QuarantineEntry[]>();
  async write(key: string, entries: readonly QuarantineEntry[]): Promise<void> {
    this.objects.set(key, [...entries]);
  }
  get entries(): QuarantineEntry[] {
    return [...this.objects.values()].flat().sort((a, b) => a.source_offset - b.source_offset);
  }
}

interface Harness {
  readonly sink: RecordingSink;
  readonly checkpoints: MemoryCheckpoints;
  readonly quarantine: MemoryQuarantine;
}

function harness(): Harness {
  return { sink: new RecordingSink(), checkpoints: new MemoryCheckpoints(), quarantine: new MemoryQuarantine() };
}

const SMALL_BATCHES: ReplaySettings = { ...REPLAY_DEFAULTS, maxBatchRecords: 7, maxLineBytes: 4096 };

async function plan(key: string, rangeSizeBytes: number): Promise<PlanResult> {
  return planReplay({ bucket: BUCKET, key, etag: ETAG }, s3 as unknown as S3Client, { rangeSizeBytes, maxRanges: 10_000 });
}

/** Invokes the worker on a range until it reports done, as the state machine's loop does. */
async function replayUntilDone(
  h: Harness,
  file: string,
  object: ReplayObject,
  range: ReplayRange,
  options: { settings?: ReplaySettings; batchesPerInvocation?: number } = {},
): Promise<{ invocations: number; totals: RangeTotals }> {
  for (let invocation = 1; invocation <= 10_000; invocation++) {
    let committed = 0;
    const outcome = await replayRange(
      { object, range },
      {
        source: new FileByteSource(file, 97),
        sink: h.sink,
        checkpoints: h.checkpoints,
        quarantine: h.quarantine,
        settings: options.settings ?? SMALL_BATCHES,
        shouldStop: () => options.batchesPerInvocation !== undefined && ++committed >= options.batchesPerInvocation,
        now: () => new Date('2024-06-01T00:00:00.000Z'),
      },
    );
    if (outcome.done) return { invocations: invocation, totals: outcome.totals };
  }
  throw new Error('range never finished');
}

async function replayFile(
  h: Harness,
  key: string,
  file: string,
  rangeSizeBytes: number,
  options: { settings?: ReplaySettings; batchesPerInvocation?: number } = {},
) {
  const planned = await plan(key, rangeSizeBytes);
  if (!planned.object) throw new Error(`nothing planned: ${planned.skippedReason}`);
  const perRange = [];
  for (const range of planned.ranges) perRange.push(await replayUntilDone(h, file, planned.object, range, options));
  return { planned, perRange };
}

let counter = 0;
function loginEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  const hex = counter.toString(16).padStart(12, '0');
  return {
    event_id: `3b241101-e2bb-4255-8caf-${hex}`,
    user_id: `user-${counter % 5}`,
    event_time: new Date(Date.UTC(2024, 4, 1) + counter * 1000).toISOString(),
    source: 'replay',
    schema_version: 1,
    ...(counter % 3 === 0 ? { attributes: { country: 'NL', note: 'café, "quoted"' } } : {}),
    ...overrides,
  };
}

interface Line {
  readonly text: string;
  readonly offset: number;
  readonly valid: boolean;
}

/** Joins lines with `\n` (or `\r\n`) and remembers each line's byte offset. */
function layout(texts: Array<{ text: string; valid: boolean }>, newline = '\n', trailingNewline = true): { content: Buffer; lines: Line[] } {
  const lines: Line[] = [];
  let offset = 0;
  const parts: string[] = [];
  texts.forEach(({ text, valid }, index) => {
    lines.push({ text, offset, valid });
    const part = index < texts.length - 1 || trailingNewline ? text + newline : text;
    parts.push(part);
    offset += Buffer.byteLength(part);
  });
  return { content: Buffer.from(parts.join('')), lines };
}

function expectExactlyOnce(sink: RecordingSink, expected: Line[], key: string): void {
  const sent = sink.records;
  expect(sent.map((r) => r.envelope.source_offset)).toEqual(expected.map((line) => line.offset));
  for (const [index, record] of sent.entries()) {
    expect(fileRecordEnvelopeSchema.safeParse(record.envelope).success).toBe(true);
    expect(record.key).toBe(record.envelope.record.user_id);
    expect(record.envelope).toMatchObject({ source_bucket: BUCKET, source_key: key, source_etag: ETAG, replayed_at: '2024-06-01T00:00:00.000Z' });
    // The record is the line's own text, embedded as is.
    expect(record.value.slice(record.value.indexOf(',"record":') + ',"record":'.length, -1)).toBe(expected[index].text);
  }
}

beforeEach(() => {
  serveFilesFromDisk();
});

describe('JSON lines, plain', () => {
  const key = 'incoming/logins.jsonl';
  const valid = () => ({ text: JSON.stringify(loginEvent()), valid: true });
  const texts = [
    valid(),
    valid(),
    { text: '{"event_id": "not json"', valid: false },
    valid(),
    { text: '', valid: false },
    { text: JSON.stringify(loginEvent({ event_time: '2024-05-01 10:00' })), valid: false },
    { text: JSON.stringify(loginEvent({ tenant: 'x' })), valid: false },
    { text: '   ', valid: false },
    valid(),
    { text: `{"pad":"${'x'.repeat(5000)}"}`, valid: false },
    valid(),
    valid(),
  ];
  const { content, lines } = layout(texts, '\n', false);

  it('sends every valid line once, keyed by user, and quarantines the rest with reasons', async () => {
    const file = writeFile(key, content);
    const h = harness();
    const { planned, perRange } = await replayFile(h, key, file, 1024 * 1024);

    expect(planned.object).toMatchObject({ format: 'jsonl', compression: 'none', size: content.length, etag: ETAG });
    expect(planned.ranges).toEqual([{ index: 0, start: 0, end: content.length, firstLineNumber: 1 }]);
    expectExactlyOnce(
      h.sink,
      lines.filter((l) => l.valid),
      key,
    );
    expect(h.quarantine.entries).toEqual([
      expect.objectContaining({ source_offset: lines[2].offset, line_number: 3, reason: expect.stringMatching(/^invalid JSON: /), raw: texts[2].text }),
      expect.objectContaining({ source_offset: lines[5].offset, line_number: 6, reason: expect.stringContaining('event_time') }),
      expect.objectContaining({ source_offset: lines[6].offset, line_number: 7, reason: expect.stringContaining('tenant') }),
      expect.objectContaining({ source_offset: lines[9].offset, line_number: 10, reason: 'line longer than 4096 bytes', raw: texts[9].text.slice(0, 1024) }),
    ]);
    expect(perRange[0].totals).toEqual({ records: 6, rejected: 4, bytes: content.length });
    // Quarantine objects are named after the source object, its version and the range.
    expect([...h.quarantine.objects.keys()].every((k) => k.startsWith(`quarantine/${key}/${ETAG}/range-0/`))).toBe(true);
  });

  it('splits into many ranges: lines crossing range boundaries are sent exactly once, by the range they start in', async () => {
    const many = layout(Array.from({ length: 300 }, (_, i) => (i % 17 === 5 ? { text: 'garbage', valid: false } : valid())));
    const file = writeFile('incoming/many.jsonl', many.content);
    for (const rangeSize of [61, 97, 256, 1000, 4096]) {
      const h = harness();
      const { planned } = await replayFile(h, 'incoming/many.jsonl', file, rangeSize);
      expect(planned.ranges.length).toBe(Math.ceil(many.content.length / rangeSize));
      // Some ranges are shorter than a line: they own no line start at all.
      expectExactlyOnce(
        h.sink,
        many.lines.filter((l) => l.valid),
        'incoming/many.jsonl',
      );
      expect(h.quarantine.entries.map((e) => e.source_offset)).toEqual(many.lines.filter((l) => !l.valid).map((l) => l.offset));
    }
  });

  it('handles CRLF line ends and a byte order mark', async () => {
    const crlf = layout([valid(), valid(), valid()], '\r\n');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), crlf.content]);
    const file = writeFile('incoming/windows.jsonl', withBom);
    const h = harness();
    await replayFile(h, 'incoming/windows.jsonl', file, 64);
    expect(h.sink.records.map((r) => r.envelope.source_offset)).toEqual([0, ...crlf.lines.slice(1).map((l) => l.offset + 3)]);
    expect(h.sink.records.map((r) => r.envelope.record.event_id)).toEqual(crlf.lines.map((l) => JSON.parse(l.text).event_id));
    expect(h.quarantine.entries).toEqual([]);
  });

  it('quarantines invalid UTF-8 instead of forwarding replaced characters', async () => {
    const good = JSON.stringify(loginEvent());
    const broken = Buffer.from(JSON.stringify(loginEvent({ user_id: 'user-XX' })));
    broken[broken.indexOf('XX')] = 0xff;
    const file = writeFile('incoming/binary.jsonl', Buffer.concat([Buffer.from(`${good}\n`), broken, Buffer.from(`\n${good}\n`)]));
    const h = harness();
    await replayFile(h, 'incoming/binary.jsonl', file, 1024);
    expect(h.sink.records).toHaveLength(2);
    expect(h.quarantine.entries).toEqual([expect.objectContaining({ reason: 'invalid UTF-8', line_number: 2 })]);
  });
});

describe('resumed and retried runs', () => {
  const key = 'incoming/resume.jsonl';
  const { content, lines } = layout(
    Array.from({ length: 120 }, (_, i) => ({ text: i % 11 === 3 ? '{oops' : JSON.stringify(loginEvent()), valid: i % 11 !== 3 })),
  );
  let file: string;

  beforeAll(() => {
    file = writeFile(key, content);
  });

  it('a worker that stops for its time budget resumes from its checkpoint: nothing lost, nothing twice', async () => {
    const h = harness();
    const { perRange } = await replayFile(h, key, file, 4096, { batchesPerInvocation: 1 });
    expect(perRange.every((r) => r.invocations >= 2)).toBe(true);
    expectExactlyOnce(
      h.sink,
      lines.filter((l) => l.valid),
      key,
    );
    expect(h.quarantine.entries.map((e) => e.source_offset)).toEqual(lines.filter((l) => !l.valid).map((l) => l.offset));
    expect(perRange.reduce((sum, r) => sum + r.totals.records, 0)).toBe(lines.filter((l) => l.valid).length);
    // Checkpoints only move forward, and every range ends done.
    const byRange = new Map<number, number[]>();
    for (const checkpoint of h.checkpoints.history) byRange.set(checkpoint.rangeIndex, [...(byRange.get(checkpoint.rangeIndex) ?? []), checkpoint.nextOffset]);
    for (const offsets of byRange.values()) expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
    expect([...h.checkpoints.saved.values()].every((c) => c.done)).toBe(true);
  });

  it('a send that fails is retried by the next invocation without loss or duplicates', async () => {
    const h = harness();
    h.sink.failOnSend = 3;
    const planned = await plan(key, content.length);
    const object = planned.object as ReplayObject;
    await expect(replayUntilDone(h, file, object, planned.ranges[0])).rejects.toThrow('broker unavailable');
    const partial = h.sink.records.length;
    expect(partial).toBe(2 * SMALL_BATCHES.maxBatchRecords);
    await replayUntilDone(h, file, object, planned.ranges[0]);
    expectExactlyOnce(
      h.sink,
      lines.filter((l) => l.valid),
      key,
    );
  });

  it('a checkpoint that fails after an acknowledged batch re-sends at most that one batch', async () => {
    const h = harness();
    h.checkpoints.failOnSave = 3;
    const planned = await plan(key, content.length);
    const object = planned.object as ReplayObject;
    await expect(replayUntilDone(h, file, object, planned.ranges[0])).rejects.toThrow('S3 PutObject timed out');
    await replayUntilDone(h, file, object, planned.ranges[0]);

    const offsets = h.sink.records.map((r) => r.envelope.source_offset);
    const duplicates = offsets.filter((offset, index) => offsets.indexOf(offset) !== index);
    expect(new Set(offsets)).toEqual(new Set(lines.filter((l) => l.valid).map((l) => l.offset)));
    expect(duplicates.length).toBeGreaterThan(0);
    expect(duplicates.length).toBeLessThanOrEqual(SMALL_BATCHES.maxBatchRecords);
    // The duplicates are exactly the batch whose checkpoint was lost.
    expect(duplicates).toEqual(h.sink.batches[2].map((r) => r.envelope.source_offset));
  });

  it('a range that is already done sends nothing when invoked again (a re-run execution)', async () => {
    const h = harness();
    await replayFile(h, key, file, 4096);
    const sent = h.sink.records.length;
    const { perRange } = await replayFile(h, key, file, 4096);
    expect(h.sink.records.length).toBe(sent);
    expect(perRange.every((r) => r.invocations === 1)).toBe(true);
  });

  it('keeps checkpoints per object version and range', async () => {
    const h = harness();
    const { planned } = await replayFile(h, key, file, 4096);
    expect([...h.checkpoints.saved.keys()].sort()).toEqual(planned.ranges.map((range) => checkpointKey({ key, etag: ETAG }, range)).sort());
    expect(checkpointKey({ key, etag: ETAG }, planned.ranges[0])).toBe(`_replay/checkpoints/${key}/${ETAG}/0-4096.json`);
  });
});

describe('gzip', () => {
  const key = 'incoming/logins.jsonl.gz';
  const texts = Array.from({ length: 200 }, (_, i) => (i === 50 ? { text: '[1,2]', valid: false } : { text: JSON.stringify(loginEvent()), valid: true }));
  const { content, lines } = layout(texts);

  it('replays a gzip file as one stream, with line numbers, whatever the range size', async () => {
    const file = writeFile(key, gzipSync(content));
    const h = harness();
    const { planned, perRange } = await replayFile(h, key, file, 64);
    expect(planned.object).toMatchObject({ compression: 'gzip', format: 'jsonl' });
    expect(planned.ranges).toEqual([{ index: 0, start: 0, end: null, firstLineNumber: 1 }]);
    expectExactlyOnce(
      h.sink,
      lines.filter((l) => l.valid),
      key,
    );
    expect(h.quarantine.entries).toEqual([expect.objectContaining({ line_number: 51, source_offset: lines[50].offset })]);
    expect(perRange[0].totals.bytes).toBe(content.length);
  });

  it('resumes a gzip stream by re-reading it and skipping what was committed', async () => {
    const file = writeFile(key, gzipSync(content));
    const h = harness();
    const { perRange } = await replayFile(h, key, file, 64, { batchesPerInvocation: 3 });
    expect(perRange[0].invocations).toBeGreaterThan(5);
    expectExactlyOnce(
      h.sink,
      lines.filter((l) => l.valid),
      key,
    );
    const last = [...h.checkpoints.saved.values()][0];
    expect(last).toMatchObject({ done: true, nextOffset: content.length, nextLineNumber: 201 });
  });

  it('reads a multi-member gzip file (concatenated gzip streams)', async () => {
    const half = lines[100].offset;
    const file = writeFile('incoming/members.jsonl.gz', Buffer.concat([gzipSync(content.subarray(0, half)), gzipSync(content.subarray(half))]));
    const h = harness();
    await replayFile(h, 'incoming/members.jsonl.gz', file, 64);
    expect(h.sink.records).toHaveLength(lines.filter((l) => l.valid).length);
  });

  it('fails permanently on a gzip stream that is corrupt in its first bytes (planner) or later (worker)', async () => {
    const stored = gzipSync(content);
    const corruptHead = Buffer.from(stored);
    corruptHead.fill(0x41, 20, 400);
    writeFile('incoming/corrupt-head.jsonl.gz', corruptHead);
    await expect(plan('incoming/corrupt-head.jsonl.gz', 1024)).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('does not decompress'),
    });

    const file = writeFile('incoming/corrupt-body.jsonl.gz', stored);
    const planned = await plan('incoming/corrupt-body.jsonl.gz', 1024);
    const corruptBody = Buffer.from(stored);
    corruptBody.fill(0x41, stored.length - 400, stored.length - 20);
    fs.writeFileSync(file, corruptBody);
    await expect(replayUntilDone(harness(), file, planned.object as ReplayObject, planned.ranges[0])).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('is not a valid gzip stream'),
    });
  });
});

describe('CSV', () => {
  const header = 'event_id,user_id,event_time,source,attributes.country,attributes.note';
  function row(event: Record<string, unknown>): string {
    const attributes = (event.attributes ?? {}) as Record<string, string>;
    const quote = (value: string) => (/[",]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
    return [event.event_id, event.user_id, event.event_time, event.source, attributes.country ?? '', quote(attributes.note ?? '')].join(',');
  }
  const events = Array.from({ length: 60 }, () => loginEvent());
  const rows = events.map((event, i) => {
    if (i === 10) return { text: 'a,b', valid: false };
    if (i === 20) return { text: row({ ...event, user_id: '' }), valid: false };
    if (i === 30) return { text: `"${String(event.event_id)},user-1,2024-05-01T00:00:00Z,replay,,`, valid: false };
    return { text: row(event), valid: true };
  });
  const { content, lines } = layout([{ text: header, valid: false }, ...rows]);
  const expectedEvents = events.filter((_, i) => rows[i].valid);

  async function check(key: string, stored: Buffer, rangeSize: number, options: { batchesPerInvocation?: number } = {}) {
    const file = writeFile(key, stored);
    const h = harness();
    const { planned } = await replayFile(h, key, file, rangeSize, options);
    expect(planned.object?.csvColumns).toEqual(header.split(','));
    expect(planned.ranges[0]).toMatchObject({ start: header.length + 1, firstLineNumber: 2 });
    expect(h.sink.records.map((r) => r.envelope.record)).toEqual(expectedEvents);
    expect(h.sink.records.map((r) => r.envelope.source_offset)).toEqual(
      lines
        .slice(1)
        .filter((l) => l.valid)
        .map((l) => l.offset),
    );
    expect(h.quarantine.entries.map((e) => e.reason)).toEqual([
      'invalid CSV: expected 6 fields, found 2',
      expect.stringContaining('contract violation: user_id'),
      'invalid CSV: unterminated quoted field',
    ]);
    return h;
  }

  it('plain: header from the first line, quoted fields, attributes, source defaulted', async () => {
    const h = await check('incoming/logins.csv', content, 1024 * 1024);
    expect(h.quarantine.entries.map((e) => e.line_number)).toEqual([12, 22, 32]);
  });

  it('plain, split into ranges, resumed', async () => {
    await check('incoming/ranges.csv', content, 300, { batchesPerInvocation: 1 });
  });

  it('gzip', async () => {
    await check('incoming/logins.csv.gz', gzipSync(content), 300);
  });

  it('refuses a header with unknown or missing columns before replaying anything', async () => {
    writeFile('incoming/bad.csv', Buffer.from('event_id,user,event_time\n1,2,3\n'));
    await expect(plan('incoming/bad.csv', 1024)).rejects.toMatchObject({
      name: 'PermanentError',
      message: expect.stringContaining('missing column(s) user_id; unknown column(s) user'),
    });
  });
});

describe('planning', () => {
  it('skips an object that was deleted or overwritten since its event', async () => {
    expect(await plan('incoming/gone.jsonl', 1024)).toEqual({ object: null, ranges: [], skippedReason: 'object no longer exists', needsStaging: false });
    writeFile('incoming/overwritten.jsonl', Buffer.from('{}\n'));
    const result = await planReplay({ bucket: BUCKET, key: 'incoming/overwritten.jsonl', etag: 'older-etag' }, s3 as unknown as S3Client, {
      rangeSizeBytes: 1024,
      maxRanges: 10,
    });
    expect(result.skippedReason).toContain('overwritten');
  });

  it('skips an empty object and plans no range for a header-only CSV', async () => {
    writeFile('incoming/empty.jsonl', Buffer.alloc(0));
    expect((await plan('incoming/empty.jsonl', 1024)).skippedReason).toBe('empty object');
    writeFile('incoming/header.csv', Buffer.from('event_id,user_id,event_time\n'));
    expect((await plan('incoming/header.csv', 1024)).ranges).toEqual([]);
  });

  it('grows ranges to stay under the range limit', async () => {
    writeFile('incoming/big.jsonl', Buffer.alloc(10_000, 0x0a));
    const result = await planReplay({ bucket: BUCKET, key: 'incoming/big.jsonl' }, s3 as unknown as S3Client, { rangeSizeBytes: 100, maxRanges: 10 });
    expect(result.ranges).toHaveLength(10);
    expect(result.ranges[9]).toEqual({ index: 9, start: 9000, end: 10_000, firstLineNumber: null });
  });
});
