import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Where a worker reads an object's bytes from. Production reads S3 with ranged GETs; tests and the
 * benchmark read local files through the same interface, so they exercise the real worker path.
 */
export interface ByteSource {
  /** Streams bytes [start, end) of the object. */
  open(start: number, end: number): Promise<Readable>;
}

/** Ranged GETs pinned to one object version: a concurrent overwrite fails the read instead of mixing versions. */
export class S3ByteSource implements ByteSource {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly etag: string,
  ) {}

  async open(start: number, end: number): Promise<Readable> {
    if (end <= start) throw new Error(`empty byte range ${start}-${end} of s3://${this.bucket}/${this.key}`);
    const response = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: this.key, Range: `bytes=${start}-${end - 1}`, IfMatch: `"${this.etag}"` }),
    );
    if (!response.Body) throw new Error(`s3://${this.bucket}/${this.key}: GetObject returned no body`);
    return response.Body as Readable;
  }
}

export class FileByteSource implements ByteSource {
  constructor(
    private readonly path: string,
    private readonly highWaterMark = 1024 * 1024,
  ) {}

  async open(start: number, end: number): Promise<Readable> {
    if (end <= start) throw new Error(`empty byte range ${start}-${end} of ${this.path}`);
    return fs.createReadStream(this.path, { start, end: end - 1, highWaterMark: this.highWaterMark });
  }
}
