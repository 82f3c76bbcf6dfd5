// zod/mini: the classic API would add ~90 KB to the bundle and its load time to every cold start.
import * as z from 'zod/mini';
import { bootstrapBrokersFromEnvironment } from '../shared/kafka';
import { DEFAULT_PASS_AGES_MINUTES, passAgeProblems } from './passes';
import { DEFAULT_USER_ID_DIMENSION, parseUserIdDimension, userIdDimensionProblems, type UserIdDimension } from './user-id-dimension';

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

/** A whole number from `min` to `max` (CloudFormation and Lambda hand every variable over as a string). */
const integerIn = (min: number, max: number, fallback: number) => {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `must be a whole number >= ${min}` : `must be a whole number from ${min} to ${max}`;
  return z._default(z.coerce.number(allowed).check(z.int(allowed), z.gte(min, allowed), z.lte(max, allowed)), fallback);
};
const positiveInt = (fallback: number) => integerIn(1, Number.MAX_SAFE_INTEGER, fallback);
const required = () => z.string('must be set').check(z.minLength(1, 'must be set'));
const matching = (pattern: RegExp, allowed: string) => z.string(allowed).check(z.regex(pattern, allowed));

const envSchema = z.object({
  GA4_PROPERTY_ID: matching(/^\d{1,20}$/, 'must be the numeric GA4 property id, e.g. 123456789'),
  GA4_CREDENTIALS_SECRET_ARN: matching(/^arn:aws[\w-]*:secretsmanager:/, 'must be a Secrets Manager secret ARN'),
  GA4_LOGIN_EVENT_NAME: z._default(z.string().check(z.minLength(1, 'must be 1 to 40 characters'), z.maxLength(40, 'must be 1 to 40 characters')), 'login'),
  GA4_USER_ID_DIMENSION: z._default(z.string(), DEFAULT_USER_ID_DIMENSION),
  /** Longest user id the application sends; checked against GA4's truncation length of the dimension's scope. */
  GA4_USER_ID_MAX_LENGTH: integerIn(1, 128, 100),
  /** Comma-separated pass ages in minutes. */
  GA4_PASS_AGES_MINUTES: z._default(
    z.string().check(z.regex(/^\d+(,\d+)*$/, 'must be comma-separated whole minutes, e.g. 480,2160,4320')),
    DEFAULT_PASS_AGES_MINUTES.join(','),
  ),
  /** A pass is not started while fewer hourly tokens than this remain (the API reports them). */
  GA4_MIN_HOURLY_QUOTA_TOKENS: integerIn(0, 1_000_000, 2_000),
  GA4_SENT_COUNTS_TABLE: required(),
  GA4_API_BASE_URL: z._default(
    z.string().check(z.refine(isAllowedEndpoint, 'must be an https URL (http is accepted on loopback only)')),
    'https://analyticsdata.googleapis.com',
  ),
  GA4_INITIAL_LOOKBACK_MINUTES: positiveInt(24 * 60),
  /** Upper bound on one run's window so a long outage is caught up over several runs. */
  GA4_MAX_WINDOW_MINUTES: integerIn(60, 24 * 60, 6 * 60),
  GA4_PAGE_SIZE: integerIn(1, 250_000, 10_000),
  GA4_MAX_EVENTS_PER_ROW: positiveInt(10_000),
  GA4_MAX_ATTEMPTS: integerIn(1, 20, 5),
  GA4_RETRY_BASE_MS: positiveInt(1_000),
  GA4_RETRY_MAX_MS: positiveInt(30_000),
  GA4_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  HIGH_WATER_MARK_PARAMETER: required(),
  /** Checked here to be listed with the other problems; split into brokers by bootstrapBrokersFromEnvironment. */
  BOOTSTRAP_BROKERS: required(),
  RAW_TOPIC: required(),
  DLQ_TOPIC: required(),
  AWS_REGION: required(),
});

export interface Ga4IngestConfig {
  readonly propertyId: string;
  readonly credentialsSecretArn: string;
  readonly loginEventName: string;
  readonly userIdDimension: string;
  readonly userId: UserIdDimension;
  readonly apiBaseUrl: string;
  /** Pass ages in ms, ascending. */
  readonly passAgesMs: number[];
  readonly minHourlyQuotaTokens: number;
  readonly sentCountsTable: string;
  readonly initialLookbackMs: number;
  readonly maxWindowMs: number;
  readonly pageSize: number;
  readonly maxEventsPerRow: number;
  readonly retry: RetrySettings;
  readonly highWaterMarkParameter: string;
  /** host:port entries of the MSK IAM listener, from BOOTSTRAP_BROKERS (resolved by CloudFormation at deploy time). */
  readonly bootstrapBrokers: string[];
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
  const result = z.safeParse(envSchema, env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid ga4-ingest environment: ${details}`);
  }
  const e = result.data;
  const passAges = e.GA4_PASS_AGES_MINUTES.split(',').map(Number);
  const problems = [
    ...userIdDimensionProblems(e.GA4_USER_ID_DIMENSION, e.GA4_USER_ID_MAX_LENGTH),
    ...passAgeProblems(passAges).map((p) => `GA4_PASS_AGES_MINUTES: ${p}`),
  ];
  if (problems.length > 0) throw new Error(`Invalid ga4-ingest environment: ${problems.join('; ')}`);
  return {
    propertyId: e.GA4_PROPERTY_ID,
    credentialsSecretArn: e.GA4_CREDENTIALS_SECRET_ARN,
    loginEventName: e.GA4_LOGIN_EVENT_NAME,
    userIdDimension: e.GA4_USER_ID_DIMENSION,
    userId: parseUserIdDimension(e.GA4_USER_ID_DIMENSION, e.GA4_USER_ID_MAX_LENGTH),
    apiBaseUrl: e.GA4_API_BASE_URL.replace(/\/+$/, ''),
    passAgesMs: passAges.map((age) => age * MINUTE_MS),
    minHourlyQuotaTokens: e.GA4_MIN_HOURLY_QUOTA_TOKENS,
    sentCountsTable: e.GA4_SENT_COUNTS_TABLE,
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
    bootstrapBrokers: bootstrapBrokersFromEnvironment(env),
    rawTopic: e.RAW_TOPIC,
    dlqTopic: e.DLQ_TOPIC,
    region: e.AWS_REGION,
  };
}
