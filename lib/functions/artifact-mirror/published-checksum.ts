import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExpectedDigest, HEX_LENGTH, PUBLISHED_ALGORITHMS, type ChecksumAlgorithm } from './checksum';
import { DownloadOptions, HttpStatusError, fetchText } from './download';
import type { MirroredArtifact } from './properties';
import { isMissingObject, parseS3Uri } from './s3-location';

export interface PublishedChecksumContext {
  readonly download: DownloadOptions;
  /** Needed only for artifacts copied from a source bucket. */
  readonly s3?: S3Client;
}

/** Request headers the GitHub REST API asks clients to send. */
const GITHUB_API_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'lakestream-artifact-mirror' };

/** `<hex>` or `<hex>  <file name>` (sha512sum style); Maven Central serves the first form. */
function parseChecksumFile(text: string, algorithm: ChecksumAlgorithm, where: string): string {
  const value = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(value)) {
    throw new Error(
      `${where} is not a ${algorithm} checksum file (expected ${HEX_LENGTH[algorithm]} hex characters, got ${JSON.stringify(text.slice(0, 80))})`,
    );
  }
  return value;
}

async function readSourceObjectText(uri: string, artifact: MirroredArtifact, context: PublishedChecksumContext): Promise<string | undefined> {
  if (!context.s3) throw new Error(`reading ${uri} for ${artifact.name} needs an S3 client`);
  const location = parseS3Uri(uri, artifact.name);
  try {
    const response = await context.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: context.download.signal });
    return (await response.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw new Error(`reading ${uri} for ${artifact.name} failed: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

/** The strongest of `<location>.sha512`, `.sha256`, `.sha1` that exists. */
async function sidecarChecksum(artifact: MirroredArtifact, context: PublishedChecksumContext): Promise<ExpectedDigest | undefined> {
  const location = artifact.sourceS3Uri ?? (artifact.url as string);
  for (const algorithm of PUBLISHED_ALGORITHMS) {
    const where = `${location}.${algorithm}`;
    const text = artifact.sourceS3Uri ? await readSourceObjectText(where, artifact, context) : await fetchText(where, artifact.name, context.download);
    if (text !== undefined) return { algorithm, value: parseChecksumFile(text, algorithm, where), origin: 'published', source: `published at ${where}` };
  }
  return undefined;
}

/**
 * Undefined unless the error is GitHub's primary (x-ratelimit-remaining: 0) or secondary
 * (retry-after) rate limit, both answered with 403 or 429; else when it ends, for the message.
 */
function githubRateLimit(error: unknown): string | undefined {
  if (!(error instanceof HttpStatusError) || (error.status !== 403 && error.status !== 429)) return undefined;
  const reset = Number(error.headers.get('x-ratelimit-reset'));
  if (error.headers.get('x-ratelimit-remaining') === '0') {
    return Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
  }
  const retryAfter = error.headers.get('retry-after');
  return retryAfter === null ? undefined : `; retry after ${retryAfter} s`;
}

/** The `digest` GitHub computes for a release asset (`sha256:<hex>`; null for assets it has not hashed). */
async function githubReleaseChecksum(artifact: MirroredArtifact, context: PublishedChecksumContext): Promise<ExpectedDigest | undefined> {
  const releaseUrl = artifact.releaseUrl as string;
  let text: string | undefined;
  try {
    text = await fetchText(releaseUrl, artifact.name, context.download, GITHUB_API_HEADERS);
  } catch (error) {
    const limit = githubRateLimit(error);
    if (limit === undefined) throw error;
    // The pin was recorded by `npm run artifacts:lock` after it matched this same digest, so it alone still verifies the download.
    if (artifact.sha256) return undefined;
    throw new Error(
      `${artifact.name}: the GitHub REST API refused ${releaseUrl} (HTTP ${(error as HttpStatusError).status}, rate limit${limit}). ` +
        'Unauthenticated requests get 60 an hour per source IP address, and a Lambda function shares its address with other AWS customers. ' +
        'Pin the artifact with `npm run artifacts:lock` (a pinned artifact is then verified against its pin when the API is rate-limited), ' +
        'mirror from artifacts.sourceBucketUri, or deploy again later.',
    );
  }
  if (text === undefined) throw new Error(`${artifact.name}: no GitHub release at ${releaseUrl}`);
  let release: { assets?: Array<{ name?: string; digest?: string | null }> };
  try {
    release = JSON.parse(text) as typeof release;
  } catch {
    throw new Error(`${artifact.name}: ${releaseUrl} did not return JSON`);
  }
  const asset = release.assets?.find((candidate) => candidate.name === artifact.asset);
  if (!asset) throw new Error(`${artifact.name}: the release at ${releaseUrl} has no asset named ${artifact.asset}`);
  if (asset.digest === null || asset.digest === undefined) return undefined;
  const match = /^sha256:([0-9a-f]{64})$/.exec(asset.digest);
  if (!match) throw new Error(`${artifact.name}: unsupported digest ${JSON.stringify(asset.digest)} for ${artifact.asset} at ${releaseUrl}`);
  return { algorithm: 'sha256', value: match[1], origin: 'published', source: `GitHub release digest of ${artifact.asset} at ${releaseUrl}` };
}

/**
 * The checksum the artifact's publisher publishes, or undefined when it publishes none. For an
 * S3 copy (accounts without internet access) the checksum files are read next to the copy.
 */
export async function publishedChecksum(artifact: MirroredArtifact, context: PublishedChecksumContext): Promise<ExpectedDigest | undefined> {
  if (artifact.published === 'github-release' && !artifact.sourceS3Uri) return githubReleaseChecksum(artifact, context);
  return sidecarChecksum(artifact, context);
}

/** Where the published checksum was looked for, for the message when there is none. */
export function publishedChecksumLocations(artifact: MirroredArtifact): string {
  if (artifact.published === 'github-release' && !artifact.sourceS3Uri) return `the digest of ${artifact.asset} at ${artifact.releaseUrl}`;
  const location = artifact.sourceS3Uri ?? artifact.url;
  return PUBLISHED_ALGORITHMS.map((algorithm) => `${location}.${algorithm}`).join(', ');
}
