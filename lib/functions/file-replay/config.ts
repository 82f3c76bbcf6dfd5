import { z } from 'zod';

/**
 * Environment of the three replay functions (one bundle, three handlers). Each handler validates
 * only its own variables, on its first invocation, and fails naming the variable.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const MiB = 1024 * 1024;

/** Defaults of the worker's batching and line limits (also what the benchmark runs with). */
export const REPLAY_DEFAULTS = {
  maxBatchRecords: 5_000,
  /**
   * Envelope bytes per batch, before compression: under MSK's default 1 MiB message.max.bytes even
   * if a whole batch landed on one partition uncompressed. Larger batches mean fewer Kafka round
   * trips and checkpoint writes, but they live longer in memory and cost more garbage collection
   * (measured: 2 MiB batches replay ~5% slower than 1 MiB ones).
   */
  maxBatchBytes: MiB,
  maxLineBytes: 512 * 1024,
  maxRejectBytes: MiB,
  rangeSizeBytes: 256 * MiB,
  maxRanges: 2_000,
} as const;

export const planEnvSchema = z.object({
  LANDING_BUCKET: z.string().min(3),
  RANGE_SIZE_BYTES: z.coerce.number().int().min(MiB, 'must be at least 1 MiB').default(REPLAY_DEFAULTS.rangeSizeBytes),
  MAX_RANGES: z.coerce.number().int().min(1).max(5_000).default(REPLAY_DEFAULTS.maxRanges),
});

export const workerEnvSchema = z.object({
  LANDING_BUCKET: z.string().min(3),
  TOPIC_NAME: z.string().min(1),
  BOOTSTRAP_BROKERS_PARAMETER: z.string().min(1),
  AWS_REGION: z.string().min(1),
  MAX_BATCH_RECORDS: positiveInt(REPLAY_DEFAULTS.maxBatchRecords),
  MAX_BATCH_BYTES: z.coerce.number().int().min(64 * 1024).max(64 * MiB).default(REPLAY_DEFAULTS.maxBatchBytes),
  MAX_LINE_BYTES: z.coerce.number().int().min(1024).max(8 * MiB).default(REPLAY_DEFAULTS.maxLineBytes),
  MAX_REJECT_BYTES: positiveInt(REPLAY_DEFAULTS.maxRejectBytes),
  /** Stop taking new batches when less than this is left of the invocation (send, commit and return must fit). */
  STOP_BEFORE_TIMEOUT_MS: positiveInt(120_000),
});

export type PlanEnv = z.infer<typeof planEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function parseEnv<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid environment: ${details}`);
  }
  return result.data;
}
