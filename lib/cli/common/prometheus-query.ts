import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CredentialsProvider } from './ops-clients';

/** A GET on a Managed Prometheus workspace's HTTP API (Prometheus-compatible: /api/v1/query, /api/v1/alerts). */
export interface PrometheusRequest {
  /** The workspace's `prometheusEndpoint` (DescribeWorkspace), ending in `/workspaces/<id>/`. */
  readonly endpoint: string;
  /** Path under the endpoint, e.g. `api/v1/alerts`. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly region: string;
  readonly credentials: CredentialsProvider;
  /** @default 15000 */
  readonly timeoutMs?: number;
}

/** The HTTP status and parsed body of the answer. */
export interface PrometheusAnswer {
  readonly status: number;
  readonly body: { status?: string; data?: unknown; error?: string; errorType?: string } | undefined;
}

/**
 * Sends a SigV4-signed GET (service `aps`) to the workspace. The query API accepts IAM-signed
 * requests only: the caller needs aps:QueryMetrics (and aps:GetAlertManagerStatus for alerts).
 */
export async function prometheusGet(request: PrometheusRequest): Promise<PrometheusAnswer> {
  const url = new URL(request.path, request.endpoint.endsWith('/') ? request.endpoint : `${request.endpoint}/`);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => {
    query[key] = value;
  });
  const signer = new SignatureV4({ service: 'aps', region: request.region, credentials: request.credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { host: url.host },
  });
  const response = await fetch(url, {
    method: 'GET',
    headers: signed.headers as Record<string, string>,
    signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let body: PrometheusAnswer['body'];
  try {
    body = JSON.parse(text) as PrometheusAnswer['body'];
  } catch {
    body = { error: text.slice(0, 200) };
  }
  return { status: response.status, body };
}
