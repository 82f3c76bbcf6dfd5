/**
 * A failure a retry cannot fix (corrupt file, bad CSV header, object replaced mid-replay). The state
 * machine's retriers match the error name `PermanentError` and fail the execution at once.
 *
 * Same name and meaning as shared/custom-resource.ts's PermanentError, declared here because that
 * module also carries zod helpers: importing it would put ~450 KB of zod in the replay bundle.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
