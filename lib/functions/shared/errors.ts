/**
 * Thrown for failures a retry cannot fix (bad input, forbidden change, corrupt file). Custom
 * resources pass its message to the CloudFormation console verbatim; Step Functions retriers match
 * the error name `PermanentError` and fail at once. Kept free of dependencies so every bundle can use it.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
