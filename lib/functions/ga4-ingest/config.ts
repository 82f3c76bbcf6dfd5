import * as z from 'zod';

/**
 * Base URLs may be plain http only on loopback: that is how tests stand in for Google without
 * weakening production, where every other http URL is refused.
 */
export function isAllowedEndpoint(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  GA4_PROPERTY_ID: z.string().regex(/^\d{1,20}$/, 'must be the numeric GA4 property id, e.g. 123456789'),
  GA4_CREDENTIALS_SECRET_ARN: z.string().regex(/^arn:aws[\w-]*:secretsmanager:/, 'must be a Secrets Manager secret ARN'),
  GA4_LOGIN_EVENT_NAME: z.string().min(1).max(40).default('login'),
  GA4_USER_ID_DIMENSION: z.string().regex(/^[\w:]+$/, 'must be a Data API dimension name, e.g. customUser:user_id').default('customUser:user_id'),
  GA4_API_BASE_URL: z
    .string()
    .refine(isAllowedEndpoint, 'must be an https URL (http is accepted on loopback only)')
    .default('https://analyticsdata.googleapis.com'),
  /** Minutes younger than this are left for a later run: GA4 keeps adding late hits to recent minutes. */
  GA4_SETTLE_DELAY_MINUTES: z.coerce.number().int().min(0).max(72 * 60).default(30),
  GA4_INITIAL_LOOKBACK_MINUTES: positiveInt(24 * 60),
  /** Upper bound on one run's window so a long outage is caught up over several runs. */
  GA4_MAX_WINDOW_MINUTES: positiveInt(24 * 60),
  GA4_PAGE_SIZE: z.coerce.number().int().min(1).max(250_000).default(10_000),
  GA4_MAX_EVENTS_PER_ROW: positiveInt(10_000),
  GA4_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  GA4_RETRY_BASE_MS: positiveInt(1_000),
  GA4_RETRY_MAX_MS: positiveInt(30_000),
  GA4_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  HIGH_WATER_MARK_PARAMETER: z.string().min(1),
  BOOTSTRAP_BROKERS_PARAMETER: z.string().min(1),
  RAW_TOPIC: z.string().min(1),
  DLQ_TOPIC: z.string().min(1),
  AWS_REGION: z.string().min(1),
});

export interface Ga4IngestConfig {
  readonly propertyId: string;
  readonly credentialsSecretArn: string;
  readonly loginEventName: string;
  readonly userIdDimension: string;
  readonly apiBaseUrl: string;
  readonly settleDelayMs: number;
  readonly initialLookbackMs: number;
  readonly maxWindowMs: number;
  readonly pageSize: number;
  readonly maxEventsPerRow: number;
  readonly retry: RetrySettings;
  readonly highWaterMarkParameter: string;
  readonly bootstrapBrokersParameter: string;
  readonly rawTopic: string;
  readonly dlqTopic: string;
  readonly region: string;
}

export interface RetrySettings {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
}

const MINUTE_MS = 60_000;

/** Parses the function's environment; the error names every offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Ga4IngestConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid ga4-ingest environment: ${details}`);
  }
  const e = result.data;
  return {
    propertyId: e.GA4_PROPERTY_ID,
    credentialsSecretArn: e.GA4_CREDENTIALS_SECRET_ARN,
    loginEventName: e.GA4_LOGIN_EVENT_NAME,
    userIdDimension: e.GA4_USER_ID_DIMENSION,
    apiBaseUrl: e.GA4_API_BASE_URL.replace(/\/+$/, ''),
    settleDelayMs: e.GA4_SETTLE_DELAY_MINUTES * MINUTE_MS,
    initialLookbackMs: e.GA4_INITIAL_LOOKBACK_MINUTES * MINUTE_MS,
    maxWindowMs: e.GA4_MAX_WINDOW_MINUTES * MINUTE_MS,
    pageSize: e.GA4_PAGE_SIZE,
    maxEventsPerRow: e.GA4_MAX_EVENTS_PER_ROW,
    retry: {
      maxAttempts: e.GA4_MAX_ATTEMPTS,
      baseDelayMs: e.GA4_RETRY_BASE_MS,
      maxDelayMs: Math.max(e.GA4_RETRY_MAX_MS, e.GA4_RETRY_BASE_MS),
      requestTimeoutMs: e.GA4_REQUEST_TIMEOUT_MS,
    },
    highWaterMarkParameter: e.HIGH_WATER_MARK_PARAMETER,
    bootstrapBrokersParameter: e.BOOTSTRAP_BROKERS_PARAMETER,
    rawTopic: e.RAW_TOPIC,
    dlqTopic: e.DLQ_TOPIC,
    region: e.AWS_REGION,
  };
}
