import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { replayBatchBytes } from '../../lib/functions/file-replay/batch-limits';
import type { RecordBatch } from '../../lib/functions/file-replay/batcher';
import { FileByteSource } from '../../lib/functions/file-replay/byte-source';
import { MemoryCheckpointStore } from '../helpers/replay';
import { REPLAY_DEFAULTS } from '../../lib/functions/file-replay/config';
import type { RecordSink } from '../../lib/functions/file-replay/record-sink';
import { replayRange } from '../../lib/functions/file-replay/replay-range';
import type { ReplayObject } from '../../lib/functions/file-replay/types';

/* eslint-disable @typescript-eslint/no-require-imports */
// kafkajs's own record batch encoder: the bytes the broker measures against max.message.bytes.
const { RecordBatch: encodeRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
const { Types: Compression } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };

/** Encodes each batch the way the producer does (record batch v2, one partition) and keeps the sizes. */
class EncodingSink implements RecordSink {
  readonly plainSizes: number[] = [];
  readonly gzipSizes: number[] = [];
  records = 0;

  async send(batch: RecordBatch): Promise<void> {
    const now = Date.now();
    const records = batch.records.map((record, index) =>
      KafkaRecord({ offsetDelta: index, timestampDelta: index, key: Buffer.from(record.key), value: Buffer.from(record.value) }),
    );
    const common = { firstTimestamp: now, maxTimestamp: now + records.length, lastOffsetDelta: records.length - 1, records };
    // The broker checks the whole batch: 8 bytes of first offset, the length, and what it covers.
    this.plainSizes.push((await encodeRecordBatch({ ...common, compression: Compression.None })).buffer.length);
    this.gzipSizes.push((await encodeRecordBatch({ ...common, compression: Compression.GZIP })).buffer.length);
    this.records += batch.records.length;
  }

  async flush(): Promise<void> {}
}

const TOPIC_MAX_MESSAGE_BYTES = 256 * 1024;

/** Login lines whose attributes are random (hardly compressible), of sizes around a quarter of the limit. */
function writeLines(file: string, count: number): number {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const padding = randomBytes(20_000 + ((i * 7919) % 40_000)).toString('base64');
    lines.push(
      JSON.stringify({
        event_id: `3b241101-e2bb-4255-8caf-${i.toString(16).padStart(12, '0')}`,
        user_id: `user-with-a-rather-long-identifier-${'x'.repeat(60)}-${i % 7}`,
        event_time: new Date(Date.UTC(2024, 4, 1) + i * 1000).toISOString(),
        source: 'replay',
        schema_version: 1,
        attributes: { padding },
      }),
    );
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return count;
}

describe('file replay batches at the Kafka limit', () => {
  it('never produces a record batch above the topic max.message.bytes, counting keys and record framing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-batch-'));
    const file = path.join(dir, 'big-lines.jsonl');
    const lines = writeLines(file, 60);
    const size = fs.statSync(file).size;
    const settings = { MAX_BATCH_BYTES: 64 * 1024 * 1024, MAX_LINE_BYTES: 128 * 1024, TOPIC_MAX_MESSAGE_BYTES };
    const maxBatchBytes = replayBatchBytes(settings);
    const object: ReplayObject = { bucket: 'landing', key: 'incoming/big-lines.jsonl', etag: 'e1', size, format: 'jsonl', compression: 'none' };
    const sink = new EncodingSink();
    const outcome = await replayRange(
      { object, range: { index: 0, start: 0, end: size, firstLineNumber: 1 } },
      {
        source: new FileByteSource(file),
        sink,
        checkpoints: new MemoryCheckpointStore(),
        quarantine: { write: async () => undefined },
        settings: { ...REPLAY_DEFAULTS, maxBatchRecords: 10_000, maxBatchBytes, maxLineBytes: settings.MAX_LINE_BYTES },
        shouldStop: () => false,
      },
    );
    expect(outcome.done).toBe(true);
    expect(sink.records).toBe(lines);
    expect(sink.plainSizes.length).toBeGreaterThan(5);
    // Batches are filled close to the limit, and never past it, compressed or not.
    expect(Math.max(...sink.plainSizes)).toBeLessThanOrEqual(TOPIC_MAX_MESSAGE_BYTES);
    expect(Math.max(...sink.gzipSizes)).toBeLessThanOrEqual(TOPIC_MAX_MESSAGE_BYTES);
    expect(Math.max(...sink.plainSizes)).toBeGreaterThan(TOPIC_MAX_MESSAGE_BYTES * 0.6);
  });

  it('refuses a line limit whose longest line could not fit a batch of its own', () => {
    expect(() => replayBatchBytes({ MAX_BATCH_BYTES: 1024 * 1024, MAX_LINE_BYTES: 1024 * 1024, TOPIC_MAX_MESSAGE_BYTES: 1_048_588 })).toThrow(
      /MAX_LINE_BYTES = 1048576 is not allowed: .* above the batch limit of 10484\d\d .*allowed: at most \d+/,
    );
    expect(replayBatchBytes({ MAX_BATCH_BYTES: 1024 * 1024, MAX_LINE_BYTES: 512 * 1024, TOPIC_MAX_MESSAGE_BYTES: 1_048_588 })).toBeLessThanOrEqual(
      1_048_588 - 61,
    );
  });
});
