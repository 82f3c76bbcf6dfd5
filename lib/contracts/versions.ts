/**
 * Contract versions and keys, kept free of zod so the Lambda functions can import them without it.
 * Bump one on a breaking change (removed field, narrowed type, new required field): the contract
 * test and the generator refuse a breaking change at the same version (see compatibility.ts).
 */
export const LOGIN_EVENT_SCHEMA_VERSION = 1;
export const LOGIN_COUNT_EVENT_SCHEMA_VERSION = 2;
export const FILE_RECORD_ENVELOPE_SCHEMA_VERSION = 1;

/**
 * GA4 has no event id of its own (the Data API reports aggregates), so GA4 ingest derives a
 * deterministic id from what identifies the aggregate row; the prefix keeps it apart from UUIDs.
 */
export const GA4_EVENT_ID_PREFIX = 'ga4:';

/** Kafka key of a login event: per-user ordering is what the Flink counter relies on. */
export function loginEventKey(event: { readonly user_id: string }): string {
  return event.user_id;
}
