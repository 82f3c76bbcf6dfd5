import * as z from 'zod/mini';

export interface MirrorConfig {
  /** Plain http:// is refused unless the test suite turns this on (it serves artifacts from 127.0.0.1). */
  readonly allowInsecureHttp: boolean;
  /** Time kept back from the Lambda timeout so that a failure is reported instead of the function being killed. */
  readonly deadlineSafetyMarginMs: number;
  /** How long a download may wait for response headers. */
  readonly responseTimeoutMs: number;
  /** Redirect hops followed per download (Maven Central and GitHub releases redirect once or twice). */
  readonly maxRedirects: number;
}

const positiveInt = (fallback: number) =>
  z._default(z.pipe(z.string('must be a whole number').check(z.regex(/^\d+$/, 'must be a whole number')), z.transform(Number)), fallback);

const envSchema = z.object({
  ALLOW_INSECURE_HTTP_FOR_TESTS: z.optional(z.enum(['true', 'false'], "must be 'true' or 'false'")),
  DEADLINE_SAFETY_MARGIN_MS: positiveInt(30_000),
  RESPONSE_TIMEOUT_MS: positiveInt(30_000),
  MAX_REDIRECTS: positiveInt(5),
});

/** Reads the function's settings from its environment and fails naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv): MirrorConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid environment variable ${details}`);
  }
  return {
    allowInsecureHttp: result.data.ALLOW_INSECURE_HTTP_FOR_TESTS === 'true',
    deadlineSafetyMarginMs: result.data.DEADLINE_SAFETY_MARGIN_MS,
    responseTimeoutMs: result.data.RESPONSE_TIMEOUT_MS,
    maxRedirects: result.data.MAX_REDIRECTS,
  };
}
