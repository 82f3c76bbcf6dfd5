import * as z from 'zod/mini';

/**
 * Environment of the three replay functions (one bundle, three handlers). Each handler validates
 * only its own variables, on its first invocation, and fails naming the variable. zod/mini keeps
 * the bundle small; the contracts' full zod stays out of the Lambda (see json-schema-validator.ts).
 */
function integer(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z._default(
    z.coerce.number().check(z.multipleOf(1, 'must be a whole number'), z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`)),
    fallback,
  );
}

const required = () => z.string('must be set').check(z.minLength(1, 'must be set'));

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
  /**
   * MSK's default message.max.bytes (1,048,588), which a topic inherits unless it sets
   * max.message.bytes. Batches are bounded by their encoded size against it (batcher.ts).
   */
  topicMaxMessageBytes: 1_048_588,
  maxLineBytes: 512 * 1024,
  maxRejectBytes: MiB,
  rangeSizeBytes: 256 * MiB,
  /**
   * Keeps the plan and the Map's output (about 70 and 60 bytes per range) under Step Functions'
   * 256 KiB state size, and an inline Map's history well under 25,000 events. 1,000 default ranges
   * cover 250 GiB; a larger file gets larger ranges.
   */
  maxRanges: 1_000,
} as const;

export const planEnvSchema = z.object({
  LANDING_BUCKET: required(),
  RANGE_SIZE_BYTES: integer(REPLAY_DEFAULTS.rangeSizeBytes, MiB),
  MAX_RANGES: integer(REPLAY_DEFAULTS.maxRanges, 1, 1_500),
});

export const workerEnvSchema = z.object({
  LANDING_BUCKET: required(),
  TOPIC_NAME: required(),
  /** The IAM bootstrap broker string, resolved by CloudFormation at deploy time (see shared/kafka.ts). */
  BOOTSTRAP_BROKERS: required(),
  AWS_REGION: required(),
  MAX_BATCH_RECORDS: integer(REPLAY_DEFAULTS.maxBatchRecords, 1),
  MAX_BATCH_BYTES: integer(REPLAY_DEFAULTS.maxBatchBytes, 64 * 1024, 64 * MiB),
  /** The topic's max.message.bytes: no batch may encode to more (see batcher.ts for the bound). */
  TOPIC_MAX_MESSAGE_BYTES: integer(REPLAY_DEFAULTS.topicMaxMessageBytes, 64 * 1024, 64 * MiB),
  MAX_LINE_BYTES: integer(REPLAY_DEFAULTS.maxLineBytes, 1024, 8 * MiB),
  MAX_REJECT_BYTES: integer(REPLAY_DEFAULTS.maxRejectBytes, 1),
  /** Stop taking new batches when less than this is left of the invocation (send, commit and return must fit). */
  STOP_BEFORE_TIMEOUT_MS: integer(120_000, 1),
});

export type PlanEnv = z.infer<typeof planEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function parseEnv<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid environment: ${details}`);
  }
  return result.data;
}
