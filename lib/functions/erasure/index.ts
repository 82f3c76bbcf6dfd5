import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { bootstrapBrokersFromEnvironment, createMskIamKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { parseDocument, phaseSchema, requestIdSchema, requireEnv } from './model';
import { loadRequest, prepare as prepareStep, type PrepareResult } from './prepare';
import { writeReceipt, type BoundedStore, type ReceiptInput } from './receipt';
import { deleteSnapshotsBefore } from './snapshots';
import { countKeys, writeTombstones } from './tombstones';
import { purgeOldVersions, type LakeSummary } from './versions';

/**
 * The Lambda steps of the erasure workflow (lib/constructs/gdpr/erasure-workflow.ts), one function
 * each with its own role. Logs carry request ids and counts, never a user id or a record.
 */

const logger = createLogger('lakestream-erasure');
const s3 = new S3Client({});

/** Validates the request, digests the ids, and says whether a final receipt already exists. */
export async function prepare(event: { requestId: unknown }): Promise<PrepareResult> {
  const result = await prepareStep(
    event,
    { s3, kms: new KMSClient({}) },
    {
      workBucket: requireEnv(process.env, 'WORK_BUCKET'),
      receiptsBucket: requireEnv(process.env, 'RECEIPTS_BUCKET'),
      hmacKeyId: requireEnv(process.env, 'HMAC_KEY_ID'),
    },
  );
  logger.info('erasure request prepared', { requestId: result.requestId, subjects: result.subjectCount, alreadyErased: result.alreadyErased });
  return result;
}

/** Tombstones every key of the people on the compacted counts topic. */
export async function tombstones(event: { requestId: unknown }): Promise<{ topic: string; keysTombstoned: number }> {
  const requestId = parseDocument(requestIdSchema, event.requestId, 'requestId');
  const request = await loadRequest(s3, requireEnv(process.env, 'WORK_BUCKET'), requestId);
  const config = {
    topic: requireEnv(process.env, 'COUNTS_TOPIC'),
    windowMinutes: Number(requireEnv(process.env, 'WINDOW_MINUTES')),
    keyHorizonHours: Number(requireEnv(process.env, 'KEY_HORIZON_HOURS')),
  };
  const keys = countKeys([...new Set(request.userIds)], config, new Date());
  const kafka = createMskIamKafka({
    brokers: bootstrapBrokersFromEnvironment(),
    region: requireEnv(process.env, 'AWS_REGION'),
    clientId: 'lakestream-erasure',
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const written = await writeTombstones(producer, config.topic, keys);
    logger.info('tombstones written', { requestId, topic: config.topic, keys: written });
    return { topic: config.topic, keysTombstoned: written };
  } finally {
    await producer.disconnect();
  }
}

/** Deletes the Flink application's snapshots taken before this step. */
export async function snapshots(event: { requestId: unknown }): Promise<{ application: string; snapshotsDeleted: string[] }> {
  const requestId = parseDocument(requestIdSchema, event.requestId, 'requestId');
  const application = requireEnv(process.env, 'FLINK_APPLICATION');
  const deleted = await deleteSnapshotsBefore(new KinesisAnalyticsV2Client({}), application, new Date());
  logger.info('flink snapshots deleted', { requestId, application, snapshots: deleted.length });
  return { application, snapshotsDeleted: deleted };
}

/** Deletes the old versions of the objects the Spark job rewrote. */
export async function versions(event: { requestId: unknown }): Promise<LakeSummary> {
  const requestId = parseDocument(requestIdSchema, event.requestId, 'requestId');
  const allowed = requireEnv(process.env, 'LAKE_BUCKETS').split(',');
  const summary = await purgeOldVersions(s3, requireEnv(process.env, 'WORK_BUCKET'), allowed, requestId);
  logger.info('old versions deleted', {
    requestId,
    rowsRemoved: summary.rowsRemoved,
    objectsRewritten: summary.objectsRewritten,
    versionsDeleted: summary.versionsDeleted,
  });
  return summary;
}

/** Writes the initial or final receipt. */
export async function receipt(event: ReceiptInput): Promise<{ key: string; versionId?: string; receipt: Record<string, unknown> }> {
  const input = { ...event, requestId: parseDocument(requestIdSchema, event.requestId, 'requestId'), phase: parseDocument(phaseSchema, event.phase, 'phase') };
  const result = await writeReceipt(
    s3,
    input,
    {
      receiptsBucket: requireEnv(process.env, 'RECEIPTS_BUCKET'),
      workBucket: requireEnv(process.env, 'WORK_BUCKET'),
      environment: requireEnv(process.env, 'ENVIRONMENT_NAME'),
      deadlineDays: Number(requireEnv(process.env, 'DEADLINE_DAYS')),
      hmacKeyArn: requireEnv(process.env, 'HMAC_KEY_ARN'),
      boundedStores: JSON.parse(requireEnv(process.env, 'BOUNDED_STORES')) as BoundedStore[],
    },
    new Date(),
  );
  logger.info('erasure receipt written', { requestId: input.requestId, phase: input.phase, key: result.key });
  return result;
}
