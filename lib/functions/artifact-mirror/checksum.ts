import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

export type ChecksumAlgorithm = 'sha256' | 'sha512';

/** The pinned digests of one artifact (lower-case hex), at least one of them. */
export type ChecksumPins = Partial<Record<ChecksumAlgorithm, string>>;

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha256', 'sha512'];

export class ChecksumMismatchError extends Error {
  constructor(name: string, algorithm: ChecksumAlgorithm, expected: string, actual: string, bytes: number) {
    super(`checksum mismatch for ${name}: expected ${expected}, got ${actual} (${algorithm} of ${bytes} bytes)`);
    this.name = 'ChecksumMismatchError';
  }
}

export function pinnedAlgorithms(pins: ChecksumPins): ChecksumAlgorithm[] {
  return ALGORITHMS.filter((algorithm) => pins[algorithm] !== undefined);
}

/**
 * Object metadata that records what an uploaded object was verified against. S3 returns user
 * metadata keys in lower case, which these already are.
 */
export function checksumMetadata(pins: ChecksumPins): Record<string, string> {
  return Object.fromEntries(pinnedAlgorithms(pins).map((algorithm) => [algorithm, pins[algorithm] as string]));
}

/** True when an existing object was uploaded and verified against exactly these pins. */
export function metadataMatchesPins(pins: ChecksumPins, metadata: Record<string, string> | undefined): boolean {
  const algorithms = pinnedAlgorithms(pins);
  return algorithms.length > 0 && algorithms.every((algorithm) => metadata?.[algorithm]?.toLowerCase() === pins[algorithm]);
}

/**
 * Passes bytes through unchanged while hashing them, and fails the stream at its end when a
 * digest differs from its pin. Failing before the end of the stream is what keeps a bad file out
 * of the bucket: the uploader reading this stream sees the error before it can complete the
 * upload, and aborts it instead.
 */
export class ChecksumVerifier extends Transform {
  private readonly hashes: Array<[ChecksumAlgorithm, Hash]>;
  private byteCount = 0;

  constructor(private readonly artifactName: string, private readonly pins: ChecksumPins) {
    super();
    this.hashes = pinnedAlgorithms(pins).map((algorithm) => [algorithm, createHash(algorithm)]);
    if (this.hashes.length === 0) {
      throw new Error(`${artifactName} has no pinned sha256 or sha512`);
    }
  }

  public get bytes(): number {
    return this.byteCount;
  }

  public override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const [, hash] of this.hashes) hash.update(chunk);
    this.byteCount += chunk.length;
    callback(null, chunk);
  }

  public override _flush(callback: TransformCallback): void {
    for (const [algorithm, hash] of this.hashes) {
      const actual = hash.digest('hex');
      const expected = this.pins[algorithm] as string;
      if (actual !== expected) {
        callback(new ChecksumMismatchError(this.artifactName, algorithm, expected, actual, this.byteCount));
        return;
      }
    }
    callback();
  }
}
