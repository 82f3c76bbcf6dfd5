/**
 * Contract versions, kept free of zod so the Lambda functions can import them without it.
 * Bump one on a breaking change (removed field, narrowed type, new required field): the contract
 * test and the generator refuse a breaking change at the same version (see compatibility.ts).
 */
export const LOGIN_EVENT_SCHEMA_VERSION = 1;
export const LOGIN_COUNT_EVENT_SCHEMA_VERSION = 1;
export const FILE_RECORD_ENVELOPE_SCHEMA_VERSION = 1;
