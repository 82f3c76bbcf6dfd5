// zod/mini: the same validation as zod's classic API at a fraction of the bundle size and load time.
import * as z from 'zod/mini';

/**
 * Documents and step payloads of the erasure workflow. Only the request document in the work prefix
 * names the people to erase; every payload that passes through Step Functions (whose execution
 * history AWS keeps 90 days) carries counts and keyed digests, never an id.
 */

/** Bronze prefix of the workflow's documents (lib/constructs/lake/lake-storage.ts ERASURE_WORK_PREFIX). */
export const WORK_PREFIX = '_erasure/';
/** Same bounds as jobs/spark/lakestream_spark/erasure.py. */
export const MAX_SUBJECTS = 100;
export const MAX_USER_ID_LENGTH = 128;
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
export const RECEIPT_FORMAT_VERSION = 1;

export const requestIdSchema = z.string().check(z.regex(REQUEST_ID_PATTERN, "must be 1-80 letters, digits, '_' or '-', starting with a letter or digit"));

/** `<work prefix><request id>/request.json`, written by `lakestream erase`. */
export const requestDocumentSchema = z.object({
  requestId: requestIdSchema,
  userIds: z.array(z.string().check(z.minLength(1), z.maxLength(MAX_USER_ID_LENGTH))).check(z.minLength(1), z.maxLength(MAX_SUBJECTS)),
  /** ISO-8601 instant the request was made: the deadline counts from here. */
  requestedAt: z.iso.datetime(),
});
export type RequestDocument = z.infer<typeof requestDocumentSchema>;

export const phaseSchema = z.enum(['initial', 'final']);
export type Phase = z.infer<typeof phaseSchema>;

export function requestKey(requestId: string): string {
  return `${WORK_PREFIX}${requestId}/request.json`;
}

export function sparkReportKey(requestId: string): string {
  return `${WORK_PREFIX}${requestId}/spark-report.json`;
}

export function receiptKey(requestId: string, phase: Phase): string {
  return `receipts/${requestId}/${phase}.json`;
}

/** jobs/spark/erase_subjects.py's report (report_document). */
export const sparkReportSchema = z.object({
  requestId: z.string(),
  finishedAt: z.string(),
  datasets: z.array(
    z.object({
      dataset: z.string(),
      tier: z.string(),
      rowsRemoved: z.number(),
      files: z.array(z.object({ uri: z.string(), action: z.enum(['rewritten', 'deleted']), rowsBefore: z.number(), rowsRemoved: z.number() })),
    }),
  ),
});
export type SparkReport = z.infer<typeof sparkReportSchema>;

/** Parses with a message that names the document and the first problem, not the content. */
export function parseDocument<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${what} is invalid: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'unknown problem'}`);
  }
  return result.data;
}

export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} must be set`);
  return value;
}
