import {
  DeleteApplicationSnapshotCommand,
  KinesisAnalyticsV2Client,
  ListApplicationSnapshotsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import type { Producer } from 'kafkajs';
import { prepare } from '../../lib/functions/erasure/prepare';
import { receiptDocument, writeReceipt, type ReceiptInput } from '../../lib/functions/erasure/receipt';
import { deleteSnapshotsBefore } from '../../lib/functions/erasure/snapshots';
import { countKeys, writeTombstones } from '../../lib/functions/erasure/tombstones';
import { purgeOldVersions } from '../../lib/functions/erasure/versions';

const s3Mock = mockClient(S3Client);
const kmsMock = mockClient(KMSClient);
const flinkMock = mockClient(KinesisAnalyticsV2Client);
const s3 = new S3Client({ region: 'eu-west-1' });
const kms = new KMSClient({ region: 'eu-west-1' });
/** A GetObject body as the SDK returns it (a stream with transformToString). */
const body = (value: unknown) => Object.assign(Readable.from([Buffer.from(JSON.stringify(value))]), { transformToString: async () => JSON.stringify(value) });
const CONFIG = { workBucket: 'bronze', receiptsBucket: 'receipts', hmacKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/hmac' };
const notFound = () => new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  s3Mock.reset();
  kmsMock.reset();
  flinkMock.reset();
});

describe('prepare', () => {
  test('validates the request, digests each id once with the HMAC key, and never returns an id', async () => {
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock
      .on(GetObjectCommand, { Bucket: 'bronze', Key: '_erasure/R1/request.json' })
      .resolves({ Body: body({ requestId: 'R1', userIds: ['ann', 'bob', 'ann'], requestedAt: '2024-01-07T10:00:00Z' }) } as never);
    kmsMock.on(GenerateMacCommand).callsFake((input: { Message: Uint8Array }) => ({ Mac: Buffer.from(`mac:${Buffer.from(input.Message).toString()}`) }));
    const result = await prepare({ requestId: 'R1' }, { s3, kms }, CONFIG);
    expect(result).toMatchObject({ requestId: 'R1', requestedAt: '2024-01-07T10:00:00Z', subjectCount: 2, alreadyErased: false });
    expect(result.subjectDigests).toEqual([Buffer.from('mac:ann').toString('hex'), Buffer.from('mac:bob').toString('hex')].sort());
    expect(kmsMock.commandCalls(GenerateMacCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ KeyId: CONFIG.hmacKeyId, MacAlgorithm: 'HMAC_SHA_256' }),
      expect.objectContaining({ KeyId: CONFIG.hmacKeyId, MacAlgorithm: 'HMAC_SHA_256' }),
    ]);
    expect(JSON.stringify(result)).not.toMatch(/ann|bob/);
  });

  test('a final receipt short-circuits a re-run without reading the request', async () => {
    s3Mock.on(HeadObjectCommand, { Bucket: 'receipts', Key: 'receipts/R1/final.json' }).resolves({});
    expect(await prepare({ requestId: 'R1' }, { s3, kms }, CONFIG)).toMatchObject({ alreadyErased: true });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  test('fails fast on a bad request id, a missing document, or one for another request', async () => {
    await expect(prepare({ requestId: '../x' }, { s3, kms }, CONFIG)).rejects.toThrow(/requestId is invalid/);
    s3Mock.on(HeadObjectCommand).rejects(notFound());
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    await expect(prepare({ requestId: 'R1' }, { s3, kms }, CONFIG)).rejects.toThrow(/no request document at s3:\/\/bronze\/_erasure\/R1\/request.json/);
    s3Mock.on(GetObjectCommand).resolves({ Body: body({ requestId: 'R2', userIds: ['ann'], requestedAt: '2024-01-07T10:00:00Z' }) } as never);
    await expect(prepare({ requestId: 'R1' }, { s3, kms }, CONFIG)).rejects.toThrow(/names another request id/);
  });
});

describe('tombstones', () => {
  test('running key plus one window key per window start over the horizon, in the Flink key format', () => {
    const keys = countKeys(['ann'], { topic: 'logins.counts', windowMinutes: 60, keyHorizonHours: 3 }, new Date('2024-01-07T10:30:00Z'));
    expect(keys).toEqual([
      'ann',
      'ann|2024-01-07T07:00:00.000Z',
      'ann|2024-01-07T08:00:00.000Z',
      'ann|2024-01-07T09:00:00.000Z',
      'ann|2024-01-07T10:00:00.000Z',
    ]);
  });

  test('a week of one-minute windows for two people, written as null values with acks=all in batches', async () => {
    const keys = countKeys(['ann', 'bob'], { topic: 'logins.counts', windowMinutes: 1, keyHorizonHours: 192 }, new Date('2024-01-07T10:30:00Z'));
    expect(keys).toHaveLength(2 * (192 * 60 + 1 + 1));
    const sent: Array<{ topic: string; acks: number; messages: Array<{ key: string; value: null }> }> = [];
    const producer = { send: jest.fn(async (record) => void sent.push(record)) } as unknown as Producer;
    expect(await writeTombstones(producer, 'logins.counts', keys)).toBe(keys.length);
    expect(sent.every((r) => r.acks === -1 && r.topic === 'logins.counts' && r.messages.every((m) => m.value === null))).toBe(true);
    expect(sent.flatMap((r) => r.messages.map((m) => m.key))).toEqual(keys);
    expect(Math.max(...sent.map((r) => r.messages.length))).toBeLessThanOrEqual(5000);
  });
});

describe('Flink snapshots', () => {
  test('deletes the snapshots taken before the pass, across pages, and keeps newer ones', async () => {
    const before = new Date('2024-01-07T10:00:00Z');
    flinkMock
      .on(ListApplicationSnapshotsCommand, { ApplicationName: 'app', NextToken: undefined })
      .resolves({
        SnapshotSummaries: [
          { SnapshotName: 'old-1', SnapshotStatus: 'READY', ApplicationVersionId: 1, SnapshotCreationTimestamp: new Date('2024-01-01T00:00:00Z') },
        ],
        NextToken: 't',
      })
      .on(ListApplicationSnapshotsCommand, { ApplicationName: 'app', NextToken: 't' })
      .resolves({
        SnapshotSummaries: [
          { SnapshotName: 'new-1', SnapshotStatus: 'READY', ApplicationVersionId: 1, SnapshotCreationTimestamp: new Date('2024-01-08T00:00:00Z') },
        ],
      });
    flinkMock.on(DeleteApplicationSnapshotCommand).resolves({});
    expect(await deleteSnapshotsBefore(new KinesisAnalyticsV2Client({ region: 'eu-west-1' }), 'app', before)).toEqual(['old-1']);
    expect(flinkMock.commandCalls(DeleteApplicationSnapshotCommand).map((c) => c.args[0].input.SnapshotName)).toEqual(['old-1']);
  });

  test('an application that no longer exists has nothing to delete', async () => {
    flinkMock.on(ListApplicationSnapshotsCommand).rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    expect(await deleteSnapshotsBefore(new KinesisAnalyticsV2Client({ region: 'eu-west-1' }), 'app', new Date())).toEqual([]);
  });
});

describe('old versions', () => {
  const report = {
    requestId: 'R1',
    finishedAt: '2024-01-07T11:00:00Z',
    datasets: [
      {
        dataset: 'landing_logins',
        tier: 'bronze',
        rowsRemoved: 3,
        files: [
          { uri: 's3://bronze/landing/logins/a.parquet', action: 'rewritten', rowsBefore: 5, rowsRemoved: 2 },
          { uri: 's3://bronze/landing/logins/b.parquet', action: 'deleted', rowsBefore: 1, rowsRemoved: 1 },
        ],
      },
      { dataset: 'top_users', tier: 'gold', rowsRemoved: 0, files: [] },
    ],
  };

  test('deletes every noncurrent version of exactly the rewritten keys, and the delete marker of a deleted one', async () => {
    s3Mock.on(GetObjectCommand, { Key: '_erasure/R1/spark-report.json' }).resolves({ Body: body(report) } as never);
    s3Mock.on(ListObjectVersionsCommand, { Prefix: 'landing/logins/a.parquet' }).resolves({
      Versions: [
        { Key: 'landing/logins/a.parquet', VersionId: 'a-new', IsLatest: true },
        { Key: 'landing/logins/a.parquet', VersionId: 'a-old', IsLatest: false },
        { Key: 'landing/logins/a.parquet.bak', VersionId: 'other', IsLatest: false },
      ],
    });
    s3Mock.on(ListObjectVersionsCommand, { Prefix: 'landing/logins/b.parquet' }).resolves({
      Versions: [{ Key: 'landing/logins/b.parquet', VersionId: 'b-old', IsLatest: false }],
      DeleteMarkers: [{ Key: 'landing/logins/b.parquet', VersionId: 'b-marker', IsLatest: true }],
    });
    s3Mock.on(DeleteObjectsCommand).resolves({});
    const summary = await purgeOldVersions(s3, 'bronze', ['bronze', 'gold'], 'R1');
    expect(summary).toMatchObject({ rowsRemoved: 3, objectsRewritten: 1, objectsDeleted: 1, versionsDeleted: 3, versionIds: ['a-old', 'b-marker', 'b-old'] });
    const deleted = s3Mock.commandCalls(DeleteObjectsCommand).flatMap((c) => c.args[0].input.Delete!.Objects!.map((o) => o.VersionId));
    expect(deleted.sort()).toEqual(['a-old', 'b-marker', 'b-old']);
  });

  test('refuses a report naming a bucket outside the lake, and fails when S3 refuses a delete', async () => {
    s3Mock.on(GetObjectCommand).resolves({
      Body: body({ ...report, datasets: [{ ...report.datasets[0], files: [{ ...report.datasets[0]!.files[0], uri: 's3://elsewhere/x.parquet' }] }] }),
    } as never);
    await expect(purgeOldVersions(s3, 'bronze', ['bronze', 'gold'], 'R1')).rejects.toThrow(/bucket elsewhere, which is not a lake bucket/);
    s3Mock.on(GetObjectCommand).resolves({ Body: body(report) } as never);
    s3Mock.on(ListObjectVersionsCommand).resolves({ Versions: [{ Key: 'landing/logins/a.parquet', VersionId: 'v', IsLatest: false }] });
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'k', Code: 'AccessDenied', Message: 'denied' }] });
    await expect(purgeOldVersions(s3, 'bronze', ['bronze', 'gold'], 'R1')).rejects.toThrow(/refused to delete 1 version\(s\) in bronze, first: AccessDenied/);
  });

  test('a missing Spark report fails with the place it was expected', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    await expect(purgeOldVersions(s3, 'bronze', ['bronze'], 'R1')).rejects.toThrow(/left no report at s3:\/\/bronze\/_erasure\/R1\/spark-report.json/);
  });
});

describe('receipts', () => {
  const input: ReceiptInput = {
    requestId: 'R1',
    phase: 'final',
    requestedAt: '2024-01-07T10:00:00.000Z',
    subjectDigests: ['aa', 'bb'],
    lake: {
      datasets: [{ dataset: 'landing_logins', tier: 'bronze', rowsRemoved: 3, objects: 2 }],
      rowsRemoved: 3,
      objectsRewritten: 1,
      objectsDeleted: 1,
      versionsDeleted: 2,
      versionIds: ['v1', 'v2'],
    },
    kafka: { topic: 'logins.counts', keysTombstoned: 10 },
    flink: { application: 'app', snapshotsDeleted: ['s1'] },
  };
  const config = {
    receiptsBucket: 'receipts',
    workBucket: 'bronze',
    environment: 'dev',
    deadlineDays: 30,
    hmacKeyArn: 'arn:key',
    boundedStores: [{ store: 'kafka logins.raw', maxAgeDays: 8 }],
  };

  test('the document names every store, the deadline and digests, never an id', () => {
    const doc = receiptDocument(input, config, new Date('2024-01-20T00:00:00Z'));
    expect(doc).toMatchObject({
      receiptFormat: 1,
      requestId: 'R1',
      phase: 'final',
      deadline: '2024-02-06T10:00:00.000Z',
      subjects: { count: 2, digestAlgorithm: 'HMAC_SHA_256', digests: ['aa', 'bb'] },
    });
    expect((doc.stores as Array<{ store: string }>).map((s) => s.store)).toEqual(['s3-lake', 's3-versions', 'kafka', 'flink', 'kafka logins.raw']);
  });

  test('written once with a checksum; the final receipt deletes the request documents with all versions', async () => {
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'rv1' });
    s3Mock.on(ListObjectVersionsCommand, { Bucket: 'bronze', Prefix: '_erasure/R1/' }).resolves({
      Versions: [
        { Key: '_erasure/R1/request.json', VersionId: 'q1', IsLatest: true },
        { Key: '_erasure/R1/spark-report.json', VersionId: 'q2', IsLatest: true },
      ],
    });
    s3Mock.on(DeleteObjectsCommand).resolves({});
    const result = await writeReceipt(s3, input, config, new Date('2024-01-20T00:00:00Z'));
    expect(result).toMatchObject({ key: 'receipts/R1/final.json', versionId: 'rv1' });
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'receipts',
      Key: 'receipts/R1/final.json',
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
    });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)[0]!.args[0].input.Delete!.Objects).toEqual([
      { Key: '_erasure/R1/request.json', VersionId: 'q1' },
      { Key: '_erasure/R1/spark-report.json', VersionId: 'q2' },
    ]);
  });

  test('a retried step returns the receipt already written instead of a second version', async () => {
    s3Mock
      .on(PutObjectCommand)
      .rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'exists' }));
    s3Mock.on(GetObjectCommand).resolves({ Body: body({ requestId: 'R1', phase: 'initial', first: true }), VersionId: 'rv0' } as never);
    const result = await writeReceipt(s3, { ...input, phase: 'initial' }, config, new Date());
    expect(result).toMatchObject({ key: 'receipts/R1/initial.json', versionId: 'rv0', receipt: { first: true } });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});
