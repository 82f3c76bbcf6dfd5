import { createHash } from 'node:crypto';
import * as z from 'zod';

const jsonStringArray = z.string().transform((text, ctx) => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed as string[];
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'must be a JSON array of strings, e.g. ["--bronze-uri","s3://bucket/"]' });
  return z.NEVER;
});

const envSchema = z.object({
  APPLICATION_ID: z.string().regex(/^[0-9a-z]+$/, 'must be an EMR Serverless application id'),
  EXECUTION_ROLE_ARN: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'),
  JOB_NAME: z.string().regex(/^[A-Za-z0-9._\-/#]{1,64}$/, 'must be 1-64 letters, digits or ._-/#'),
  ENTRY_POINT: z.string().regex(/^s3:\/\/.+/, 'must be an s3:// URI'),
  ENTRY_POINT_ARGUMENTS: jsonStringArray.default([]),
  SPARK_SUBMIT_PARAMETERS: z.string().default(''),
  /** EMR's own restart budget inside one streaming run before the run fails. */
  MAX_FAILED_ATTEMPTS_PER_HOUR: z.coerce.number().int().min(1).max(10).default(5),
  BACKOFF_BASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  BACKOFF_MAX_SECONDS: z.coerce.number().int().min(1).max(86400).default(3600),
  /** A run that stayed up this long ends a failure streak: its failure is a new incident, not a crash loop. */
  STABLE_RUN_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  /** Seconds a cancelled streaming run gets to finish its micro-batch. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(15).max(1800).default(120),
  METRICS_NAMESPACE: z.string().min(1).default('Lakestream'),
});

export interface SupervisorConfig {
  readonly applicationId: string;
  readonly executionRoleArn: string;
  readonly jobName: string;
  readonly entryPoint: string;
  readonly entryPointArguments: readonly string[];
  readonly sparkSubmitParameters: string;
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
    throw new Error(`Invalid streaming-job-supervisor environment: BACKOFF_MAX_SECONDS (${e.BACKOFF_MAX_SECONDS}) must be at least BACKOFF_BASE_SECONDS (${e.BACKOFF_BASE_SECONDS})`);
  }
  const definition = {
    applicationId: e.APPLICATION_ID,
    executionRoleArn: e.EXECUTION_ROLE_ARN,
    jobName: e.JOB_NAME,
    entryPoint: e.ENTRY_POINT,
    entryPointArguments: e.ENTRY_POINT_ARGUMENTS,
    sparkSubmitParameters: e.SPARK_SUBMIT_PARAMETERS,
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
