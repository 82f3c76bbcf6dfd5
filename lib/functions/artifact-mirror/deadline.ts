/** Raised when the function would outlive its own timeout; the message says what was running. */
export class DeadlineExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * One time budget for a whole invocation. Every network call listens to `signal`, so that running
 * out of time stops the work and reports which artifact was in progress, instead of the Lambda
 * being killed mid-upload with nothing but a timeout in the logs.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private current = 'starting';

  constructor(
    public readonly budgetMs: number,
    private readonly hint: string,
  ) {
    this.timer = setTimeout(() => this.expire(), Math.max(0, budgetMs));
    this.timer.unref();
  }

  public get signal(): AbortSignal {
    return this.controller.signal;
  }

  public get expired(): boolean {
    return this.controller.signal.aborted;
  }

  /** The error to report once expired. */
  public get error(): DeadlineExceededError {
    return this.controller.signal.reason as DeadlineExceededError;
  }

  /** Records what is running now, for the timeout message. */
  public set activity(description: string) {
    this.current = description;
  }

  public dispose(): void {
    clearTimeout(this.timer);
  }

  private expire(): void {
    const seconds = (this.budgetMs / 1000).toFixed(1);
    this.controller.abort(new DeadlineExceededError(`artifact mirror ran out of its ${seconds}s time budget while ${this.current}; ${this.hint}`));
  }
}
