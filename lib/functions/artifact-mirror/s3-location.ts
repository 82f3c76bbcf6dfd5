export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** Parses `s3://bucket/key`; anything else is a clear error naming the artifact. */
export function parseS3Uri(uri: string, artifactName: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) {
    throw new Error(`sourceS3Uri of ${artifactName} must look like s3://bucket/key, got '${uri}'`);
  }
  return { bucket: match[1], key: match[2] };
}

/** Content type from the key's extension, so that consoles and MSK Connect see a JAR or ZIP as such. */
export function contentTypeFor(key: string): string {
  const lower = key.toLowerCase();
  if (lower.endsWith('.jar')) return 'application/java-archive';
  if (lower.endsWith('.zip')) return 'application/zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'application/gzip';
  return 'application/octet-stream';
}

/** Without s3:ListBucket (deliberately not granted) S3 answers 403 rather than 404 for a missing key. */
export function isMissingObject(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  return name === 'NotFound' || name === 'NoSuchKey' || status === 404 || status === 403;
}
