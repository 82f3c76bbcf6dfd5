import { z } from 'zod';
import { nonNegativeInt, utcDateTime } from './common';
import { loginEventSchema } from './login-event';
import { FILE_RECORD_ENVELOPE_SCHEMA_VERSION } from './versions';

export { FILE_RECORD_ENVELOPE_SCHEMA_VERSION };

/**
 * A record replayed from a file in the landing bucket, with where it came from.
 *
 * `source_offset`, the byte offset of the line's first byte in the uncompressed content, identifies
 * the record within the object version: (source_bucket, source_key, source_etag, source_offset) is
 * the natural de-duplication key downstream. There is deliberately no line number: files are
 * replayed in byte ranges by parallel workers, and a worker that starts at byte 256 MiB cannot know
 * how many lines came before without reading them. (Quarantine entries carry line numbers where
 * they are known, for the people who look a bad line up.)
 */
export const fileRecordEnvelopeSchema = z
  .strictObject({
    source_bucket: z.string().min(3).max(63),
    source_key: z.string().min(1).max(1024),
    source_etag: z.string().min(1).max(128),
    source_offset: nonNegativeInt,
    record: loginEventSchema,
    replayed_at: utcDateTime,
    schema_version: z.literal(FILE_RECORD_ENVELOPE_SCHEMA_VERSION),
  })
  .meta({
    title: 'FileRecordEnvelope',
    description: 'A login event replayed from a landing-bucket file, keyed by record.user_id on the file replay topic.',
  });

export type FileRecordEnvelope = z.infer<typeof fileRecordEnvelopeSchema>;

export function fileRecordEnvelopeKey(envelope: Pick<FileRecordEnvelope, 'record'>): string {
  return envelope.record.user_id;
}
