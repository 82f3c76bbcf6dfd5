import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface DownloadOptions {
  /** Aborts the request and the body stream (the invocation's deadline). */
  readonly signal: AbortSignal;
  readonly allowInsecureHttp: boolean;
  readonly maxRedirects: number;
  /** Bound on the wait for response headers of each hop. */
  readonly responseTimeoutMs: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function assertAllowedUrl(url: string, artifactName: string, allowInsecureHttp: boolean): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error(`download of ${artifactName} failed: '${url}' is not a URL`);
  }
  if (protocol === 'https:' || (protocol === 'http:' && allowInsecureHttp)) return;
  throw new Error(`refusing to download ${artifactName} from ${url}: only https:// is allowed`);
}

async function fetchHop(url: string, artifactName: string, options: DownloadOptions, headers: Record<string, string>): Promise<Response> {
  const controller = new AbortController();
  const forwardDeadline = () => controller.abort(options.signal.reason);
  if (options.signal.aborted) forwardDeadline();
  // The request keeps listening to the deadline after the headers arrive, because the body is read later.
  options.signal.addEventListener('abort', forwardDeadline, { once: true });
  const timer = setTimeout(
    () => controller.abort(new Error(`download of ${artifactName} timed out: no response from ${url} within ${options.responseTimeoutMs} ms`)),
    options.responseTimeoutMs,
  );
  try {
    return await fetch(url, { redirect: 'manual', signal: controller.signal, headers });
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`download of ${artifactName} failed: ${(error as Error).message}${cause ? ` (${cause})` : ''} from ${url}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Requests a URL, following a bounded number of redirects and checking every hop's scheme, so
 * that a redirect cannot downgrade the download to plain http. Returns the final response with
 * its body unread, whatever its status.
 */
async function request(
  url: string,
  artifactName: string,
  options: DownloadOptions,
  headers: Record<string, string>,
): Promise<{ response: Response; url: string }> {
  let current = url;
  for (let hops = 0; ; hops++) {
    assertAllowedUrl(current, artifactName, options.allowInsecureHttp);
    const response = await fetchHop(current, artifactName, options, headers);
    if (!REDIRECT_STATUSES.has(response.status)) return { response, url: current };
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (!location) {
      throw new Error(`download of ${artifactName} failed: HTTP ${response.status} redirect without a Location header from ${current}`);
    }
    if (hops >= options.maxRedirects) {
      throw new Error(`download of ${artifactName} failed: more than ${options.maxRedirects} redirects starting at ${url}`);
    }
    current = new URL(location, current).toString();
  }
}

/** Opens an artifact URL as a byte stream; anything but HTTP 200 fails naming the status and URL. */
export async function openDownload(url: string, artifactName: string, options: DownloadOptions): Promise<Readable> {
  const { response, url: finalUrl } = await request(url, artifactName, options, {});
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new Error(`download of ${artifactName} failed: HTTP ${response.status} ${response.statusText} from ${finalUrl}`.trimEnd());
  }
  return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
}

/** An answer other than 200 or 404 to a text request, with what a caller needs to tell rate limits apart. */
export class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/** Checksum files and release descriptions are small; a larger answer is not what was asked for. */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * Reads a small text resource (a checksum file, a release description). Returns undefined on
 * HTTP 404, so that the caller can try the next checksum file; any other failure throws.
 */
export async function fetchText(
  url: string,
  artifactName: string,
  options: DownloadOptions,
  headers: Record<string, string> = {},
): Promise<string | undefined> {
  const { response, url: finalUrl } = await request(url, artifactName, options, headers);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new HttpStatusError(
      `reading ${url} for ${artifactName} failed: HTTP ${response.status} ${response.statusText} from ${finalUrl}`.trimEnd(),
      response.status,
      response.headers,
    );
  }
  const text = await response.text();
  if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw new Error(`reading ${url} for ${artifactName} failed: more than ${MAX_TEXT_BYTES} bytes`);
  return text;
}
