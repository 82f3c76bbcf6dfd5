import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { isAllowedEndpoint } from './config';
import { Ga4AuthError, HttpError } from './retry';

/**
 * OAuth 2.0 for a Google service account without the Google SDK: sign a JWT with the account's
 * RSA key (RS256) and exchange it at the key's token endpoint for a short-lived access token.
 * Nothing in here logs or returns the key or the token inside an error message.
 */

export const ANALYTICS_READONLY_SCOPE = 'https://www.googleapis.com/auth/analytics.readonly';
const ASSERTION_LIFETIME_S = 3600;

export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
}

const keySchema = z.object({
  type: z.literal('service_account', "must be 'service_account'"),
  client_email: z.email('must be an email address'),
  private_key: z.string('must be set').check(z.minLength(1, 'must be set')),
  private_key_id: z.optional(z.string('must be a string')),
  token_uri: z._default(z.string('must be an https URL').check(z.refine(isAllowedEndpoint, 'must be an https URL')), 'https://oauth2.googleapis.com/token'),
});

/** Parses the service-account JSON held in Secrets Manager. Errors name fields, never values. */
export function parseServiceAccountKey(secretString: string | undefined, secretArn: string): ServiceAccountKey {
  if (!secretString) throw new Ga4AuthError(`Secret ${secretArn} has no SecretString: store the service-account JSON key as text`);
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new Ga4AuthError(`Secret ${secretArn} is not JSON: store the service-account JSON key downloaded from Google Cloud`);
  }
  const parsed = z.safeParse(keySchema, json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Ga4AuthError(`Secret ${secretArn} is not a usable service-account key (${fields})`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(parsed.data.private_key);
  } catch {
    throw new Ga4AuthError(`Secret ${secretArn}: private_key is not a PEM-encoded RSA private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Ga4AuthError(`Secret ${secretArn}: private_key must be an RSA key for RS256`);
  return {
    clientEmail: parsed.data.client_email,
    privateKey,
    privateKeyId: parsed.data.private_key_id,
    tokenUri: parsed.data.token_uri,
  };
}

const base64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

/** A signed JWT bearer assertion (RFC 7523) asking for read-only Analytics access. */
export function createJwtAssertion(key: ServiceAccountKey, nowMs: number, scope = ANALYTICS_READONLY_SCOPE): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope, aud: key.tokenUri, iat, exp: iat + ASSERTION_LIFETIME_S };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key.privateKey);
  return `${signingInput}.${base64url(signature)}`;
}

export interface AccessToken {
  readonly value: string;
  readonly expiresAtMs: number;
}

const tokenResponseSchema = z.object({
  access_token: z.string('must be set').check(z.minLength(1, 'must be set')),
  expires_in: z._default(z.coerce.number('must be a number').check(z.positive('must be positive')), 3600),
});

/** Status codes Google returns for transient trouble. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Retry-After in seconds (the form Google uses) as milliseconds. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * One token-exchange attempt. 400 invalid_grant, 401 and 403 mean the key is wrong, revoked
 * or disabled: an auth failure, not a retry.
 */
export async function exchangeJwtForToken(key: ServiceAccountKey, nowMs: number, timeoutMs: number): Promise<AccessToken> {
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: createJwtAssertion(key, nowMs),
  });
  const response = await fetch(key.tokenUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) {
    const reason = describeOAuthError(text);
    if (isTransientStatus(response.status)) {
      throw new HttpError(`token exchange: HTTP ${response.status} ${reason}`, response.status, true, retryAfterMs(response.headers.get('retry-after')));
    }
    throw new Ga4AuthError(
      `GA4 authentication failed: the token endpoint rejected service account ${key.clientEmail} (HTTP ${response.status} ${reason}); ` +
        'check that the key in the credentials secret is current and the account is enabled',
    );
  }
  const parsed = tokenResponseSchema.safeParse(safeJson(text));
  if (!parsed.success) throw new HttpError('token exchange: response has no access_token', response.status, false);
  return { value: parsed.data.access_token, expiresAtMs: nowMs + parsed.data.expires_in * 1000 };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** OAuth errors look like {"error":"invalid_grant","error_description":"..."}; keep only those two fields. */
function describeOAuthError(text: string): string {
  const json = safeJson(text) as { error?: unknown; error_description?: unknown } | undefined;
  const code = typeof json?.error === 'string' ? json.error : 'error';
  const description = typeof json?.error_description === 'string' ? `: ${json.error_description.slice(0, 200)}` : '';
  return `${code}${description}`;
}
