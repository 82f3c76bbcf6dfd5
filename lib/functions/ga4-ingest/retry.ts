/**
 * Bounded retry with exponential backoff and full jitter. Google's quota errors (429
 * RESOURCE_EXHAUSTED) and 5xx are worth retrying a few times; everything else fails at once
 * because a repeat would get the same answer.
 */

/** An HTTP answer from Google that the caller must not hide. */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retriable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Credentials or permissions are wrong: retrying cannot help, an operator has to act. */
export class Ga4AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Ga4AuthError';
  }
}

/** The retry budget (attempts or run deadline) is spent. */
export class RetryExhaustedError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryExhaustedError';
  }
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Epoch milliseconds after which no new attempt may start. */
  readonly deadline: number;
}

export interface RetryHooks {
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
  /** Called before each wait, e.g. to count retries. */
  readonly onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

export const realRetryHooks: RetryHooks = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  random: () => Math.random(),
};

/**
 * Full jitter (uniform in [0, cap]) spreads retries of concurrent clients; a server-sent
 * Retry-After is a floor because retrying sooner only burns quota.
 */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: number, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random * cap);
  return retryAfterMs === undefined ? jittered : Math.min(Math.max(jittered, retryAfterMs), policy.maxDelayMs);
}

/** Network failures and timeouts are transient; HTTP errors say for themselves. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof HttpError) return error.retriable;
  if (error instanceof Ga4AuthError) return false;
  if (error instanceof Error) return error.name === 'TypeError' || error.name === 'TimeoutError' || error.name === 'AbortError';
  return false;
}

export async function withRetry<T>(what: string, policy: RetryPolicy, hooks: RetryHooks, operation: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      if (!isRetriable(error)) throw error;
      if (attempt >= policy.maxAttempts) {
        throw new RetryExhaustedError(`${what} still failing after ${attempt} attempts: ${error.message}`, attempt, { cause: error });
      }
      const delay = backoffDelayMs(attempt, policy, hooks.random(), error instanceof HttpError ? error.retryAfterMs : undefined);
      if (hooks.now() + delay >= policy.deadline) {
        throw new RetryExhaustedError(
          `${what} gave up after ${attempt} attempts: the next retry (in ${delay} ms) would pass the run deadline; last error: ${error.message}`,
          attempt,
          { cause: error },
        );
      }
      hooks.onRetry?.(error, attempt, delay);
      await hooks.sleep(delay);
    }
  }
}
