import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** Strongest first: the mirror verifies against the strongest checksum a repository publishes. */
export const PUBLISHED_ALGORITHMS = ['sha512', 'sha256', 'sha1'] as const;
export type ChecksumAlgorithm = (typeof PUBLISHED_ALGORITHMS)[number];

export const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { sha512: 128, sha256: 64, sha1: 40 };

/** A digest the file must have, and where it was found (for messages). */
export interface ExpectedDigest {
  readonly algorithm: ChecksumAlgorithm;
  /** Lower-case hex. */
  readonly value: string;
  /** Published by the artifact's publisher, or pinned in the lock file. */
  readonly origin: 'published' | 'pin';
  /** e.g. `published at https://.../x.jar.sha512` or `pin in jobs/artifacts.lock.json`. */
  readonly source: string;
}

export class ChecksumMismatchError extends Error {
  constructor(name: string, expected: ExpectedDigest, actual: string, bytes: number) {
    super(`checksum mismatch for ${name}: expected ${expected.algorithm} ${expected.value} (${expected.source}), got ${actual} (${bytes} bytes)`);
    this.name = 'ChecksumMismatchError';
  }
}

/**
 * Object metadata recording what an uploaded object was verified against. S3 returns user
 * metadata keys in lower case, which these already are.
 */
export function checksumMetadata(expected: readonly ExpectedDigest[]): Record<string, string> {
  return Object.fromEntries(expected.map((digest) => [digest.algorithm, digest.value]));
}

/** Identity of verified content, e.g. `sha512:ab12...,sha256:cd34...`, for fingerprints of what is built from it. */
export function digestIdentity(expected: readonly ExpectedDigest[]): string {
  return expected.map((digest) => `${digest.algorithm}:${digest.value}`).join(',');
}

/** True when an existing object was verified against exactly these digests. */
export function metadataMatches(expected: readonly ExpectedDigest[], metadata: Record<string, string> | undefined): boolean {
  return expected.length > 0 && expected.every((digest) => metadata?.[digest.algorithm]?.toLowerCase() === digest.value);
}

/**
 * Passes bytes through unchanged while hashing them, and fails the stream at its end when a
 * digest differs from what is expected. Failing before the end of the stream is what keeps a bad
 * file out of the bucket: the uploader reading this stream sees the error before it can complete
 * the upload, and aborts it instead. SHA-256 is always computed, for the object's metadata.
 */
export class ChecksumVerifier extends Transform {
  private readonly hashes: Map<ChecksumAlgorithm, Hash>;
  private byteCount = 0;
  private sha256Hex?: string;

  constructor(
    private readonly artifactName: string,
    private readonly expected: readonly ExpectedDigest[],
  ) {
    super();
    if (expected.length === 0) throw new Error(`${artifactName} has no checksum to verify against`);
    const algorithms = new Set<ChecksumAlgorithm>(['sha256', ...expected.map((digest) => digest.algorithm)]);
    this.hashes = new Map([...algorithms].map((algorithm) => [algorithm, createHash(algorithm)]));
  }

  public get bytes(): number {
    return this.byteCount;
  }

  /** SHA-256 of everything that passed, once the stream has ended. */
  public get sha256(): string {
    if (this.sha256Hex === undefined) throw new Error(`${this.artifactName} has not been read to its end`);
    return this.sha256Hex;
  }

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const hash of this.hashes.values()) hash.update(chunk);
    this.byteCount += chunk.length;
    callback(null, chunk);
  }

  public override _flush(callback: TransformCallback): void {
    const actual = new Map([...this.hashes].map(([algorithm, hash]) => [algorithm, hash.digest('hex')]));
    for (const digest of this.expected) {
      if (actual.get(digest.algorithm) !== digest.value) {
        callback(new ChecksumMismatchError(this.artifactName, digest, actual.get(digest.algorithm) as string, this.byteCount));
        return;
      }
    }
    this.sha256Hex = actual.get('sha256');
    callback();
  }
}
