/**
 * Classifies AWS SDK v3 errors by what the operator must do. The SDK throws
 * `CredentialsProviderError` when no credentials resolve, and services answer AccessDenied-style
 * codes when the caller lacks a permission; both make a check impossible to judge (exit 2),
 * which is different from a check that ran and found a problem (exit 1).
 */

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);

const ACCESS_DENIED_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'NotAuthorized']);

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [e.name, e.Code, e.code]) if (typeof candidate === 'string') return candidate;
  return undefined;
}

/** True when the SDK found no credentials, or the service refused them as invalid or expired. */
export function isCredentialsError(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && CREDENTIAL_ERRORS.has(name);
}

/** True when the credentials are valid but lack the permission for the call. */
export function isAccessDenied(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && ACCESS_DENIED_ERRORS.has(name);
}

/** True for a service's "no such thing" answer, under the names the services here use. */
export function isNotFound(error: unknown, ...names: string[]): boolean {
  const name = errorName(error);
  return name !== undefined && names.includes(name);
}

/** `<name>: <message>` of an SDK error, for a table cell or a log line. */
export function describeAwsError(error: unknown): string {
  const name = errorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(name) ? message : `${name}: ${message}`;
}
