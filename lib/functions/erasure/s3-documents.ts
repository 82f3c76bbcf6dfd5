import { DeleteObjectsCommand, GetObjectCommand, ListObjectVersionsCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';

/** A JSON document from S3, or undefined when the key does not exist. */
export async function readJson(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await response.Body!.transformToString('utf-8')) as unknown;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
}

/** Every version and delete marker under a prefix, all pages. */
export async function listVersions(s3: S3Client, bucket: string, prefix: string): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest === true, deleteMarker: false });
    for (const m of page.DeleteMarkers ?? []) out.push({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest === true, deleteMarker: true });
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
  return out;
}

/** Deletes specific versions for good (DeleteObjects takes at most 1000 per call); fails on any per-key error. */
export async function deleteVersions(s3: S3Client, bucket: string, versions: readonly ObjectVersion[]): Promise<void> {
  for (let i = 0; i < versions.length; i += 1000) {
    const batch = versions.slice(i, i + 1000);
    const response = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true } }),
    );
    const errors = response.Errors ?? [];
    if (errors.length > 0) {
      throw new Error(
        `S3 refused to delete ${errors.length} version(s) in ${bucket}, first: ${errors[0]!.Code ?? 'unknown'} ${errors[0]!.Message ?? ''}`.trim(),
      );
    }
  }
}

/** Splits s3://bucket/key. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// object URI: ${uri.slice(0, 200)}`);
  return { bucket: match[1]!, key: match[2]! };
}
