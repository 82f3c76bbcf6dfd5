/**
 * Bounds every step of a run. Each operation gets at most `operationTimeoutMs`, and never more than
 * what is left before `endsAt`, which the handler sets below the Lambda timeout so that the function
 * still has time to disconnect and report a clear reason instead of being killed mid-flight.
 */
export class TimeBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeBudgetError';
  }
}

export class Deadline {
  constructor(
    private readonly endsAt: number,
    private readonly operationTimeoutMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  public remainingMs(): number {
    return Math.max(0, this.endsAt - this.clock());
  }

  /** Runs `operation`, rejecting with a message naming `what` when it outlives its budget. */
  public async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    const remaining = this.remainingMs();
    if (remaining === 0) {
      throw new TimeBudgetError(`${what} was not started: the run's time budget is spent (a retry resumes from the cluster's current state)`);
    }
    const budget = Math.min(remaining, this.operationTimeoutMs);
    const reason =
      budget < this.operationTimeoutMs
        ? `the run's time budget ran out (a retry resumes from the cluster's current state)`
        : `the per-operation limit of ${this.operationTimeoutMs} ms`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeBudgetError(`${what} did not finish within ${budget} ms: ${reason}`)), budget);
    });
    try {
      return await Promise.race([operation(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
