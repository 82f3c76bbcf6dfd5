import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

/**
 * Progress of one range of one object version: everything before `nextOffset` has been sent and
 * acknowledged (or quarantined). Written after each acknowledged batch, so a retried or resumed
 * worker re-sends at most the one batch whose checkpoint was not yet written.
 */
const count = () => z.number().check(z.multipleOf(1), z.gte(0));

export const rangeCheckpointSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  key: z.string(),
  etag: z.string(),
  rangeIndex: count(),
  nextOffset: count(),
  /** Line number of the line at nextOffset, when the range's line numbers are known. */
  nextLineNumber: z.nullable(z.number().check(z.multipleOf(1), z.gte(1))),
  done: z.boolean(),
  totals: z.object({ records: count(), rejected: count(), bytes: count() }),
  updatedAt: z.string(),
});

export type RangeCheckpoint = z.infer<typeof rangeCheckpointSchema>;

export interface CheckpointStore {
  load(key: string): Promise<RangeCheckpoint | undefined>;
  save(key: string, checkpoint: RangeCheckpoint): Promise<void>;
}

/** Checkpoints as small JSON objects in the landing bucket (encrypted by the bucket's default key). */
export class S3CheckpointStore implements CheckpointStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async load(key: string): Promise<RangeCheckpoint | undefined> {
    let body: string;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = (await response.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
    const parsed = rangeCheckpointSchema.safeParse(safeJson(body));
    // A checkpoint we cannot read is not trusted: starting the range over re-sends, never loses.
    return parsed.success ? parsed.data : undefined;
  }

  async save(key: string, checkpoint: RangeCheckpoint): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(checkpoint), ContentType: 'application/json' }));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
