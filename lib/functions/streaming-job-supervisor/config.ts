import { createHash } from 'node:crypto';
// zod/mini: the same validation as zod's classic API at a fraction of the bundle size and load time.
import * as z from 'zod/mini';
import { STREAMING_JOB_SUPERVISOR_METRICS } from '../../contracts/metrics';

const jsonStringArray = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed as string[];
    } catch {
      // reported below
    }
    ctx.issues.push({ code: 'custom', message: 'must be a JSON array of strings, e.g. ["--bronze-uri","s3://bucket/"]', input: text });
    return [] as string[];
  }),
);

const jsonStringRecord = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) {
        return parsed as Record<string, string>;
      }
    } catch {
      // reported below
    }
    ctx.issues.push({ code: 'custom', message: 'must be a JSON object of strings, e.g. {"spark.x":"y"}', input: text });
    return {} as Record<string, string>;
  }),
);

const pattern = (regex: RegExp, message: string) => z.string('must be set').check(z.regex(regex, message));
const integer = (min: number, max: number, fallback: number) =>
  z._default(
    z.coerce.number('must be a number').check(
      z.refine((value: number) => Number.isInteger(value), 'must be an integer'),
      z.minimum(min, `must be at least ${min}`),
      z.maximum(max, `must be at most ${max}`),
    ),
    fallback,
  );

const envSchema = z.object({
  APPLICATION_ID: pattern(/^[0-9a-z]+$/, 'must be an EMR Serverless application id'),
  EXECUTION_ROLE_ARN: pattern(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
  JOB_NAME: pattern(/^[A-Za-z0-9._\-/#]{1,64}$/, 'must be 1-64 letters, digits or ._-/#'),
  ENTRY_POINT: pattern(/^s3:\/\/.+/, 'must be an s3:// URI'),
  ENTRY_POINT_ARGUMENTS: z._default(jsonStringArray, []),
  SPARK_SUBMIT_PARAMETERS: z._default(z.string(), ''),
  /** Spark properties of each run (spark-defaults override); EMR.secret@ values resolve at run start. */
  SPARK_DEFAULTS: z._default(jsonStringRecord, {}),
  /** Key of the run's managed-storage logs (per run: a STARTED application refuses updates). */
  MANAGED_LOGS_KEY_ARN: z.optional(pattern(/^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN')),
  /** EMR's own restart budget inside one streaming run before the run fails. */
  MAX_FAILED_ATTEMPTS_PER_HOUR: integer(1, 10, 5),
  BACKOFF_BASE_SECONDS: integer(1, 3600, 60),
  BACKOFF_MAX_SECONDS: integer(1, 86400, 3600),
  /** A run that stayed up this long ends a failure streak: its failure is a new incident, not a crash loop. */
  STABLE_RUN_MINUTES: integer(1, 1440, 30),
  /** Seconds a cancelled streaming run gets to finish its micro-batch. */
  SHUTDOWN_GRACE_SECONDS: integer(15, 1800, 120),
  METRICS_NAMESPACE: z._default(z.string().check(z.minLength(1)), STREAMING_JOB_SUPERVISOR_METRICS.namespace),
});

export interface SupervisorConfig {
  readonly applicationId: string;
  readonly executionRoleArn: string;
  readonly jobName: string;
  readonly entryPoint: string;
  readonly entryPointArguments: readonly string[];
  readonly sparkSubmitParameters: string;
  readonly sparkDefaults: Readonly<Record<string, string>>;
  /** Key of the run's managed-storage logs; absent: the application's setting. */
  readonly managedLogsKeyArn?: string;
  readonly maxFailedAttemptsPerHour: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly stableRunMs: number;
  readonly shutdownGraceSeconds: number;
  readonly metricsNamespace: string;
  /** Digest of everything that defines a run; a run tagged with another digest predates a deploy. */
  readonly configurationHash: string;
}

/** Reads and validates the function's environment; the error names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): SupervisorConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid streaming-job-supervisor environment: ${details}`);
  }
  const e = parsed.data;
  if (e.BACKOFF_MAX_SECONDS < e.BACKOFF_BASE_SECONDS) {
    throw new Error(
      `Invalid streaming-job-supervisor environment: BACKOFF_MAX_SECONDS (${e.BACKOFF_MAX_SECONDS}) must be at least BACKOFF_BASE_SECONDS (${e.BACKOFF_BASE_SECONDS})`,
    );
  }
  const definition = {
    applicationId: e.APPLICATION_ID,
    executionRoleArn: e.EXECUTION_ROLE_ARN,
    jobName: e.JOB_NAME,
    entryPoint: e.ENTRY_POINT,
    entryPointArguments: e.ENTRY_POINT_ARGUMENTS,
    sparkSubmitParameters: e.SPARK_SUBMIT_PARAMETERS,
    sparkDefaults: e.SPARK_DEFAULTS,
    ...(e.MANAGED_LOGS_KEY_ARN ? { managedLogsKeyArn: e.MANAGED_LOGS_KEY_ARN } : {}),
    maxFailedAttemptsPerHour: e.MAX_FAILED_ATTEMPTS_PER_HOUR,
  };
  return {
    ...definition,
    backoffBaseMs: e.BACKOFF_BASE_SECONDS * 1000,
    backoffMaxMs: e.BACKOFF_MAX_SECONDS * 1000,
    stableRunMs: e.STABLE_RUN_MINUTES * 60_000,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    metricsNamespace: e.METRICS_NAMESPACE,
    configurationHash: createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16),
  };
}
