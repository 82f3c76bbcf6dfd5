/**
 * Exit codes shared by every `lakestream` command, so scripts can branch on them:
 * 0 the checked thing is healthy, 1 it is not, 2 the command could not judge (bad usage, bad
 * config, missing credentials or access denied).
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE_OR_CREDENTIALS: 2,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem with how the command was called or configured (unknown environment, invalid config). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** No usable credentials, or credentials for another account than the environment names. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}
