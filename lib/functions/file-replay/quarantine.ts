import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** One rejected line, as written to the quarantine object (JSON lines). */
export interface QuarantineEntry {
  /** Byte offset of the line in the uncompressed content. */
  readonly source_offset: number;
  /** Present when the range's line numbers are known. */
  readonly line_number?: number;
  readonly reason: string;
  /** The line as text, cut to a few KiB. */
  readonly raw: string;
}

export interface QuarantineStore {
  write(key: string, entries: readonly QuarantineEntry[]): Promise<void>;
}

export function renderQuarantine(entries: readonly QuarantineEntry[]): string {
  return `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`;
}

export class S3QuarantineStore implements QuarantineStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async write(key: string, entries: readonly QuarantineEntry[]): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: renderQuarantine(entries), ContentType: 'application/x-ndjson' }));
  }
}
