import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { RECEIPT_FORMAT_VERSION, WORK_PREFIX, receiptKey, type Phase } from './model';
import { deleteVersions, listVersions } from './s3-documents';
import type { LakeSummary } from './versions';

/** A store whose data is not erased by the workflow but by age, with the bound synth checked. */
export interface BoundedStore {
  readonly store: string;
  readonly maxAgeDays: number;
}

export interface ReceiptInput {
  readonly requestId: string;
  readonly phase: Phase;
  readonly requestedAt: string;
  readonly subjectDigests: string[];
  readonly lake: LakeSummary;
  readonly kafka: { readonly topic: string; readonly keysTombstoned: number };
  readonly flink: { readonly application: string | null; readonly snapshotsDeleted: string[] };
  /** When the second pass runs (initial receipt only). */
  readonly sweepAt?: string;
}

export interface ReceiptConfig {
  readonly receiptsBucket: string;
  readonly workBucket: string;
  readonly environment: string;
  readonly deadlineDays: number;
  readonly hmacKeyArn: string;
  readonly boundedStores: BoundedStore[];
}

/** The receipt document; its format is documented in the README (erasure receipts). */
export function receiptDocument(input: ReceiptInput, config: ReceiptConfig, writtenAt: Date): Record<string, unknown> {
  const deadline = new Date(Date.parse(input.requestedAt) + config.deadlineDays * 86_400_000).toISOString();
  return {
    receiptFormat: RECEIPT_FORMAT_VERSION,
    requestId: input.requestId,
    environment: config.environment,
    phase: input.phase,
    requestedAt: input.requestedAt,
    writtenAt: writtenAt.toISOString(),
    deadline,
    subjects: { count: input.subjectDigests.length, digestAlgorithm: 'HMAC_SHA_256', digestKeyArn: config.hmacKeyArn, digests: input.subjectDigests },
    stores: [
      {
        store: 's3-lake',
        mechanism: 'Parquet objects rewritten without the rows (EMR Serverless Spark)',
        datasets: input.lake.datasets,
        rowsRemoved: input.lake.rowsRemoved,
        objectsRewritten: input.lake.objectsRewritten,
        objectsDeleted: input.lake.objectsDeleted,
      },
      {
        store: 's3-versions',
        mechanism: 'noncurrent versions of the rewritten objects deleted',
        versionsDeleted: input.lake.versionsDeleted,
        versionIds: input.lake.versionIds,
      },
      { store: 'kafka', mechanism: 'tombstones on the compacted topic', topic: input.kafka.topic, keysTombstoned: input.kafka.keysTombstoned },
      {
        store: 'flink',
        mechanism: 'snapshots taken before this pass deleted; keyed state expires by TTL',
        application: input.flink.application,
        snapshotsDeleted: input.flink.snapshotsDeleted,
      },
      ...config.boundedStores.map((b) => ({ store: b.store, mechanism: 'expires by retention (checked at synth)', maxAgeDays: b.maxAgeDays })),
    ],
    ...(input.sweepAt ? { sweepAt: input.sweepAt } : {}),
  };
}

function isPreconditionFailed(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 412 || error.name === 'PreconditionFailed');
}

/**
 * Writes the receipt once: the bucket's Object Lock keeps it; IfNoneMatch makes a retried step read
 * the receipt already written instead of adding a second version. After the final receipt, the
 * request's work documents (the only place the ids were written) are deleted with all their versions.
 */
export async function writeReceipt(
  s3: S3Client,
  input: ReceiptInput,
  config: ReceiptConfig,
  now: Date,
): Promise<{ key: string; versionId?: string; receipt: Record<string, unknown> }> {
  const key = receiptKey(input.requestId, input.phase);
  let receipt = receiptDocument(input, config, now);
  let versionId: string | undefined;
  try {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: config.receiptsBucket,
        Key: key,
        Body: JSON.stringify(receipt, null, 2),
        ContentType: 'application/json',
        // Object Lock requires an integrity checksum on every PUT.
        ChecksumAlgorithm: 'SHA256',
        IfNoneMatch: '*',
      }),
    );
    versionId = put.VersionId;
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
    const existing = await s3.send(new GetObjectCommand({ Bucket: config.receiptsBucket, Key: key }));
    receipt = JSON.parse(await existing.Body!.transformToString('utf-8')) as Record<string, unknown>;
    versionId = existing.VersionId;
  }
  if (input.phase === 'final') {
    const work = await listVersions(s3, config.workBucket, `${WORK_PREFIX}${input.requestId}/`);
    await deleteVersions(s3, config.workBucket, work);
  }
  return { key, versionId, receipt };
}
