import { batchBytesWithin, encodedRecordBytes } from './batcher';

/**
 * Largest envelope around a line: the fixed fields, an S3 key of up to 1,024 bytes, a bucket name
 * of up to 63, an ETag, a timestamp and a 16-digit offset, JSON-escaped (at most 6 bytes per byte).
 */
export const MAX_ENVELOPE_OVERHEAD_BYTES = 200 + 6 * (1024 + 63 + 64) + 16;
/** Largest key: a contract user id of 128 characters, 4 bytes each in UTF-8. */
export const MAX_KEY_BYTES = 128 * 4;

export interface BatchLimitSettings {
  readonly MAX_BATCH_BYTES: number;
  readonly MAX_LINE_BYTES: number;
  readonly TOPIC_MAX_MESSAGE_BYTES: number;
}

/**
 * The batch limit the worker uses: the configured size, capped by what the topic accepts. Fails
 * when the longest accepted line could not fit in a batch of its own, because that line could then
 * be neither sent nor quarantined.
 */
export function replayBatchBytes(settings: BatchLimitSettings): number {
  const limit = Math.min(settings.MAX_BATCH_BYTES, batchBytesWithin(settings.TOPIC_MAX_MESSAGE_BYTES));
  const largestRecord = encodedRecordBytes(MAX_KEY_BYTES, MAX_ENVELOPE_OVERHEAD_BYTES + settings.MAX_LINE_BYTES);
  if (largestRecord > limit) {
    throw new Error(
      `MAX_LINE_BYTES = ${settings.MAX_LINE_BYTES} is not allowed: a line that long encodes to up to ${largestRecord} bytes, above the batch limit of ${limit} ` +
        `(MAX_BATCH_BYTES ${settings.MAX_BATCH_BYTES}, topic max.message.bytes ${settings.TOPIC_MAX_MESSAGE_BYTES}); allowed: at most ${limit - (largestRecord - settings.MAX_LINE_BYTES)}`,
    );
  }
  return limit;
}
