import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CompressionTypes } from 'kafkajs';
import type { PlanResult, WorkerResult } from '../../lib/functions/file-replay/types';
import { createMskIamKafka } from '../../lib/functions/shared/kafka';

/**
 * The Lambda handlers' wiring: environment, S3 calls (mocked), the Kafka producer (mocked at the
 * shared kafka module), metrics and logs. The replay logic itself is covered end to end in
 * file-replay.test.ts.
 */

const producerConfigs: unknown[] = [];
const sends: Array<{ topic: string; acks: number; timeout?: number; compression: number; messages: Array<{ key: string; value: string }> }> = [];
let failNextSend = false;
const disconnects: number[] = [];

jest.mock('../../lib/functions/shared/kafka', () => ({
  ...jest.requireActual('../../lib/functions/shared/kafka'),
  createMskIamKafka: jest.fn(() => ({
    producer: (config: unknown) => {
      producerConfigs.push(config);
      return {
        connect: async () => undefined,
        disconnect: async () => void disconnects.push(1),
        send: async (record: (typeof sends)[number]) => {
          if (failNextSend) {
            failNextSend = false;
            throw new Error('KafkaJSNumberOfRetriesExceeded');
          }
          sends.push(record);
          return [];
        },
      };
    },
  })),
}));

const BUCKET = 'landing-bucket';
const KEY = 'incoming/day.jsonl';
const ETAG = 'abc123';
const s3 = mockClient(S3Client);
const stored = new Map<string, Buffer>();
const puts: Array<{ Key: string; Body: string }> = [];

function line(i: number, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_id: `3b241101-e2bb-4255-8caf-${String(i).padStart(12, '0')}`,
    user_id: `user-${i}`,
    event_time: '2024-05-01T00:00:00Z',
    source: 'replay',
    schema_version: 1,
    ...overrides,
  });
}

const content = Buffer.from(`${[line(1), line(2), 'not json', line(3), line(4, { source: 'fax' }), line(5)].join('\n')}\n`);

function body(bytes: Buffer) {
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async () => bytes.toString('utf8'),
  });
}

function context(remainingMs = 900_000): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

let stdout: string[] = [];
let handlers: typeof import('../../lib/functions/file-replay');

beforeAll(async () => {
  Object.assign(process.env, {
    LANDING_BUCKET: BUCKET,
    TOPIC_NAME: 'files.replay',
    BOOTSTRAP_BROKERS: 'b-1.example:9098, b-2.example:9098',
    AWS_REGION: 'eu-west-1',
    MAX_BATCH_RECORDS: '2',
    RANGE_SIZE_BYTES: String(1024 * 1024),
    POWERTOOLS_SERVICE_NAME: 'file-replay-test',
  });
  handlers = await import('../../lib/functions/file-replay');
});

beforeEach(() => {
  s3.reset();
  stored.clear();
  stored.set(KEY, content);
  puts.length = 0;
  sends.length = 0;
  stdout = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({ ContentLength: stored.get(input.Key)?.length, ETag: `"${ETAG}"` }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string; IfMatch?: string }) => {
    const bytes = stored.get(input.Key);
    if (!bytes) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    const match = /bytes=(\d+)-(\d+)/.exec(input.Range ?? '');
    return { Body: body(match ? bytes.subarray(Number(match[1]), Number(match[2]) + 1) : bytes) };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    puts.push({ Key: input.Key, Body: input.Body });
    stored.set(input.Key, Buffer.from(input.Body));
    return {};
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

function emf(): Array<Record<string, unknown>> {
  return stdout
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

async function planned(): Promise<PlanResult> {
  return handlers.planHandler({ bucket: BUCKET, key: KEY, etag: ETAG });
}

describe('planHandler', () => {
  it('plans the object, pinned to the event ETag', async () => {
    const plan = await planned();
    expect(plan).toEqual({
      object: { bucket: BUCKET, key: KEY, etag: ETAG, size: content.length, format: 'jsonl', compression: 'none' },
      ranges: [{ index: 0, start: 0, end: content.length, firstLineNumber: 1 }],
      skippedReason: null,
      needsStaging: false,
    });
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toMatchObject({ Bucket: BUCKET, Key: KEY, IfMatch: `"${ETAG}"` });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({ Range: `bytes=0-${content.length - 1}`, IfMatch: `"${ETAG}"` });
  });

  it('refuses an object outside the landing bucket', async () => {
    await expect(handlers.planHandler({ bucket: 'other', key: KEY })).rejects.toMatchObject({
      name: 'PermanentError',
      message: 'bucket other is not the landing bucket landing-bucket',
    });
  });
});

describe('handler (range worker)', () => {
  it('replays a range through an idempotent, GZIP-compressing producer, checkpoints and quarantines in the landing bucket', async () => {
    const plan = await planned();
    const result = await handlers.handler({ object: plan.object!, range: plan.ranges[0] }, context());

    expect(result).toEqual<WorkerResult>({ done: true, rangeIndex: 0, nextOffset: content.length, totals: { records: 4, rejected: 2, bytes: content.length } });
    expect(producerConfigs[0]).toMatchObject({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    expect(jest.mocked(createMskIamKafka)).toHaveBeenCalledWith({
      brokers: ['b-1.example:9098', 'b-2.example:9098'],
      region: 'eu-west-1',
      clientId: 'lakestream-file-replay',
    });
    // The broker's ack wait ends before the client's request timeout: a slow ISR answers instead of costing a retry.
    const { KAFKA_REQUEST_TIMEOUT_MS } = jest.requireActual('../../lib/functions/shared/kafka');
    for (const s of sends) expect(s.timeout).toBeLessThan(KAFKA_REQUEST_TIMEOUT_MS);
    expect(sends.map((s) => [s.topic, s.acks, s.compression, s.messages.map((m) => m.key)])).toEqual([
      ['files.replay', -1, CompressionTypes.GZIP, ['user-1', 'user-2']],
      ['files.replay', -1, CompressionTypes.GZIP, ['user-3', 'user-5']],
    ]);
    const ranged = s3
      .commandCalls(GetObjectCommand)
      .map((c) => c.args[0].input)
      .find((input) => input.Key === KEY && input.Range === `bytes=0-${content.length - 1}`);
    expect(ranged?.IfMatch).toBe(`"${ETAG}"`);

    const quarantine = puts.filter((p) => p.Key.startsWith('quarantine/'));
    // Both rejects fall in the second batch: one quarantine object, named by its first reject's offset.
    expect(quarantine.map((p) => p.Key)).toEqual([`quarantine/${KEY}/${ETAG}/range-0/${content.indexOf('not json')}.jsonl`]);
    expect(
      quarantine.flatMap((p) =>
        p.Body.trim()
          .split('\n')
          .map((l) => JSON.parse(l).reason),
      ),
    ).toEqual([expect.stringMatching(/^invalid JSON/), expect.stringContaining('source')]);
    const checkpoints = puts.filter((p) => p.Key === `_replay/checkpoints/${KEY}/${ETAG}/0-${content.length}.json`).map((p) => JSON.parse(p.Body));
    expect(checkpoints[checkpoints.length - 1]).toMatchObject({ done: true, nextOffset: content.length, totals: { records: 4, rejected: 2 } });

    const metrics = emf().find((m) => 'ReplayRecordsSent' in m);
    expect(metrics).toMatchObject({ service: 'file-replay-test', ReplayRecordsSent: 4, ReplayRecordsRejected: 2, ReplayBytesRead: content.length });
    expect((metrics!._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0].Namespace).toBe('Lakestream');
  });

  it('stops after a batch when its time budget is spent, and the next invocation finishes from the checkpoint', async () => {
    const plan = await planned();
    const first = await handlers.handler({ object: plan.object!, range: plan.ranges[0] }, context(60_000));
    expect(first.done).toBe(false);
    expect(sends).toHaveLength(1);
    const second = await handlers.handler({ object: plan.object!, range: plan.ranges[0] }, context());
    expect(second).toMatchObject({ done: true, totals: { records: 4, rejected: 2 } });
    expect(sends.flatMap((s) => s.messages.map((m) => m.key))).toEqual(['user-1', 'user-2', 'user-3', 'user-5']);
  });

  it('fails on a broken producer, replaces it, and the retry resumes without duplicates', async () => {
    const plan = await planned();
    const before = producerConfigs.length;
    failNextSend = true;
    await expect(handlers.handler({ object: plan.object!, range: plan.ranges[0] }, context())).rejects.toThrow('KafkaJSNumberOfRetriesExceeded');
    expect(disconnects.length).toBeGreaterThan(0);
    await handlers.handler({ object: plan.object!, range: plan.ranges[0] }, context());
    expect(producerConfigs.length).toBe(before + 1);
    expect(sends.flatMap((s) => s.messages.map((m) => m.key))).toEqual(['user-1', 'user-2', 'user-3', 'user-5']);
  });
});

describe('summaryHandler', () => {
  it('logs the run summary and emits it as metrics', async () => {
    const summary = await handlers.summaryHandler({
      object: { bucket: BUCKET, key: KEY, etag: ETAG, size: 10, format: 'jsonl', compression: 'none' },
      skippedReason: null,
      results: [{ rangeIndex: 0, totals: { records: 4, rejected: 2, bytes: 10 } }],
      startedAt: new Date(Date.now() - 5_000).toISOString(),
    });
    expect(summary).toMatchObject({ key: KEY, records: 4, rejected: 2, bytes: 10, ranges: 1 });
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(5);
    const log = stdout
      .map((chunk) => chunk.trim())
      .filter((l) => l.includes('replay run summary'))
      .map((l) => JSON.parse(l));
    expect(log[0]).toMatchObject({ message: 'replay run summary', records: 4, rejected: 2, key: KEY });
    expect(emf().find((m) => 'ReplayRuns' in m)).toMatchObject({ ReplayRuns: 1, ReplayRunRecords: 4, ReplayRunRejected: 2, ReplayRunBytes: 10 });
  });

  it('counts a skipped run separately', async () => {
    await handlers.summaryHandler({ object: null, skippedReason: 'object no longer exists', results: [], startedAt: new Date().toISOString() });
    expect(emf().find((m) => 'ReplayRunsSkipped' in m)).toMatchObject({ ReplayRunsSkipped: 1 });
    expect(emf().some((m) => 'ReplayRuns' in m)).toBe(false);
  });
});

describe('configuration', () => {
  it('fails naming the missing variable', async () => {
    jest.resetModules();
    const saved = process.env.TOPIC_NAME;
    delete process.env.TOPIC_NAME;
    try {
      const fresh = await import('../../lib/functions/file-replay');
      await expect(
        fresh.handler(
          {
            object: { bucket: BUCKET, key: KEY, etag: ETAG, size: 1, format: 'jsonl', compression: 'none' },
            range: { index: 0, start: 0, end: 1, firstLineNumber: 1 },
          },
          context(),
        ),
      ).rejects.toThrow(/Invalid environment: TOPIC_NAME: /);
    } finally {
      process.env.TOPIC_NAME = saved;
    }
  });

  it('fails naming BOOTSTRAP_BROKERS when the broker list is missing', async () => {
    jest.resetModules();
    const saved = process.env.BOOTSTRAP_BROKERS;
    delete process.env.BOOTSTRAP_BROKERS;
    try {
      const fresh = await import('../../lib/functions/file-replay');
      await expect(
        fresh.handler(
          {
            object: { bucket: BUCKET, key: KEY, etag: ETAG, size: 1, format: 'jsonl', compression: 'none' },
            range: { index: 0, start: 0, end: 1, firstLineNumber: 1 },
          },
          context(),
        ),
      ).rejects.toThrow(/Invalid environment: BOOTSTRAP_BROKERS: must be set/);
    } finally {
      process.env.BOOTSTRAP_BROKERS = saved;
    }
  });
});
