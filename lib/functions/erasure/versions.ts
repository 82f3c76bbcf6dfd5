import type { S3Client } from '@aws-sdk/client-s3';
import { parseDocument, sparkReportKey, sparkReportSchema } from './model';
import { deleteVersions, listVersions, parseS3Uri, readJson, type ObjectVersion } from './s3-documents';

export interface LakeSummary {
  readonly datasets: Array<{ dataset: string; tier: string; rowsRemoved: number; objects: number }>;
  readonly rowsRemoved: number;
  readonly objectsRewritten: number;
  readonly objectsDeleted: number;
  /** Old versions (and delete markers) of the rewritten objects, deleted for good. */
  readonly versionsDeleted: number;
  readonly versionIds: string[];
}

/**
 * After the Spark job: deletes every noncurrent version of each object it rewrote or deleted, so the
 * person's rows do not survive in S3's version history (lifecycle would take
 * lake.noncurrentVersionExpirationDays). Only versions of the exact keys in the report, and only in
 * the lake buckets this function may touch. Re-running finds nothing left to delete.
 */
export async function purgeOldVersions(s3: S3Client, workBucket: string, allowedBuckets: readonly string[], requestId: string): Promise<LakeSummary> {
  const raw = await readJson(s3, workBucket, sparkReportKey(requestId));
  if (raw === undefined) throw new Error(`request ${requestId}: the Spark job left no report at s3://${workBucket}/${sparkReportKey(requestId)}`);
  const report = parseDocument(sparkReportSchema, raw, `Spark report of ${requestId}`);
  const versionIds: string[] = [];
  let rewritten = 0;
  let deleted = 0;
  for (const dataset of report.datasets) {
    for (const file of dataset.files) {
      const { bucket, key } = parseS3Uri(file.uri);
      if (!allowedBuckets.includes(bucket))
        throw new Error(`request ${requestId}: the report names bucket ${bucket}, which is not a lake bucket of this environment`);
      if (file.action === 'rewritten') rewritten += 1;
      else deleted += 1;
      const old: ObjectVersion[] = (await listVersions(s3, bucket, key)).filter(
        (v) => v.key === key && (!v.isLatest || (v.deleteMarker && file.action === 'deleted')),
      );
      await deleteVersions(s3, bucket, old);
      versionIds.push(...old.map((v) => v.versionId));
    }
  }
  return {
    datasets: report.datasets.map((d) => ({ dataset: d.dataset, tier: d.tier, rowsRemoved: d.rowsRemoved, objects: d.files.length })),
    rowsRemoved: report.datasets.reduce((sum, d) => sum + d.rowsRemoved, 0),
    objectsRewritten: rewritten,
    objectsDeleted: deleted,
    versionsDeleted: versionIds.length,
    versionIds: versionIds.sort(),
  };
}
