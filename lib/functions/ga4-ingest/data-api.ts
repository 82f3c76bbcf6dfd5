import * as z from 'zod/mini';
import { isTransientStatus, retryAfterMs } from './google-auth';
import { Ga4AuthError, HttpError } from './retry';

/**
 * Google Analytics Data API v1beta `properties/{id}:runReport`. The API is aggregate: a row is
 * one (dateHourMinute, user id) pair with the number of login events in that minute. Rows are
 * ordered by both dimensions so that limit/offset pages are stable while we page.
 */

export const DATE_HOUR_MINUTE = 'dateHourMinute';
export const EVENT_COUNT = 'eventCount';

export interface ReportQuery {
  readonly propertyId: string;
  readonly loginEventName: string;
  readonly userIdDimension: string;
  readonly startDate: string;
  readonly endDate: string;
  /**
   * Local hours (YYYYMMDDHH) to read: the report is filtered to dateHourMinute values beginning
   * with one of them, so a run reads its window's hours and not whole days. Empty: whole days.
   */
  readonly hourPrefixes: readonly string[];
}

/**
 * The report request: login events only, and (with hour prefixes) only the window's hours, so
 * cost, memory and quota grow with the window and not with the time of day.
 */
export function buildRunReportRequest(query: ReportQuery, offset: number, limit: number): Record<string, unknown> {
  const eventFilter = { filter: { fieldName: 'eventName', stringFilter: { matchType: 'EXACT', value: query.loginEventName, caseSensitive: true } } };
  const hours = query.hourPrefixes.map((prefix) => ({ filter: { fieldName: DATE_HOUR_MINUTE, stringFilter: { matchType: 'BEGINS_WITH', value: prefix } } }));
  return {
    dateRanges: [{ startDate: query.startDate, endDate: query.endDate }],
    dimensions: [{ name: DATE_HOUR_MINUTE }, { name: query.userIdDimension }],
    metrics: [{ name: EVENT_COUNT }],
    dimensionFilter: hours.length === 0 ? eventFilter : { andGroup: { expressions: [eventFilter, { orGroup: { expressions: hours } }] } },
    // Both dimensions, so that limit/offset pages partition a fixed order.
    orderBys: [
      { dimension: { dimensionName: DATE_HOUR_MINUTE, orderType: 'ALPHANUMERIC' } },
      { dimension: { dimensionName: query.userIdDimension, orderType: 'ALPHANUMERIC' } },
    ],
    keepEmptyRows: false,
    returnPropertyQuota: true,
    offset,
    limit,
  };
}

const STRING = 'must be a string';
const valueSchema = z.object({ value: z.optional(z.string(STRING)) });
const rowSchema = z.object({
  dimensionValues: z._default(z.array(valueSchema, 'must be a list'), []),
  metricValues: z._default(z.array(valueSchema, 'must be a list'), []),
});
const headersSchema = z._default(z.array(z.object({ name: z.string(STRING) }), 'must be a list'), []);
const quotaSchema = z.optional(z.object({ consumed: z.optional(z.number('must be a number')), remaining: z.optional(z.number('must be a number')) }));
const responseSchema = z.object({
  dimensionHeaders: headersSchema,
  metricHeaders: headersSchema,
  rows: z._default(z.array(rowSchema, 'must be a list'), []),
  // proto3 JSON omits zero values: no rowCount means no rows.
  rowCount: z._default(z.coerce.number('must be a whole number >= 0').check(z.int('must be a whole number >= 0'), z.gte(0, 'must be a whole number >= 0')), 0),
  metadata: z._default(
    z.looseObject({
      timeZone: z.optional(z.string(STRING)),
      subjectToThresholding: z.optional(z.boolean('must be a boolean')),
      dataLossFromOtherRow: z.optional(z.boolean('must be a boolean')),
    }),
    {},
  ),
  propertyQuota: z.optional(z.looseObject({ tokensPerHour: quotaSchema, tokensPerDay: quotaSchema })),
});

export type RunReportResponse = z.output<typeof responseSchema>;

/** A report row reduced to what the mapping needs, plus the raw values for the DLQ. */
export interface ReportRow {
  readonly dateHourMinute: string;
  readonly userId: string;
  readonly eventCount: string;
}

/** Google's JSON error body: {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}. */
function describeGoogleError(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: { status?: unknown; message?: unknown } };
    const status = typeof json.error?.status === 'string' ? json.error.status : 'UNKNOWN';
    const message = typeof json.error?.message === 'string' ? `: ${json.error.message.slice(0, 300)}` : '';
    return `${status}${message}`;
  } catch {
    return 'non-JSON error body';
  }
}

export interface RunReportCall {
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly propertyId: string;
  readonly body: Record<string, unknown>;
  readonly timeoutMs: number;
  /** For the permission error message; not secret. */
  readonly clientEmail: string;
}

/** One runReport attempt; retry decisions are the caller's. */
export async function runReport(call: RunReportCall): Promise<RunReportResponse> {
  const url = `${call.baseUrl}/v1beta/properties/${call.propertyId}:runReport`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${call.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(call.body),
    signal: AbortSignal.timeout(call.timeoutMs),
  });
  const text = await response.text();
  if (response.status === 401 || response.status === 403) {
    throw new Ga4AuthError(
      `GA4 Data API refused property ${call.propertyId} (HTTP ${response.status} ${describeGoogleError(text)}); ` +
        `grant service account ${call.clientEmail} the Viewer role on the property and enable the Analytics Data API`,
    );
  }
  if (!response.ok) {
    const message = `runReport: HTTP ${response.status} ${describeGoogleError(text)}`;
    throw new HttpError(message, response.status, isTransientStatus(response.status), retryAfterMs(response.headers.get('retry-after')));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError('runReport: response is not JSON', response.status, true);
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) throw new HttpError(`runReport: unexpected response shape (${parsed.error.issues[0]?.message})`, response.status, false);
  return parsed.data;
}

/**
 * Rows of a page in the requested column order. Headers are checked rather than assumed, so a
 * misnamed dimension fails loudly instead of producing wrong user ids.
 */
export function extractRows(response: RunReportResponse, userIdDimension: string): ReportRow[] {
  const dims = response.dimensionHeaders.map((h) => h.name);
  const metrics = response.metricHeaders.map((h) => h.name);
  if (response.rows.length === 0) return [];
  const dhmIndex = dims.indexOf(DATE_HOUR_MINUTE);
  const userIndex = dims.indexOf(userIdDimension);
  const countIndex = metrics.indexOf(EVENT_COUNT);
  if (dhmIndex < 0 || userIndex < 0 || countIndex < 0) {
    throw new Error(
      `runReport returned headers [${dims.join(', ')}] / [${metrics.join(', ')}], expected ${DATE_HOUR_MINUTE}, ${userIdDimension} and ${EVENT_COUNT}`,
    );
  }
  return response.rows.map((row) => ({
    dateHourMinute: row.dimensionValues[dhmIndex]?.value ?? '',
    userId: row.dimensionValues[userIndex]?.value ?? '',
    eventCount: row.metricValues[countIndex]?.value ?? '',
  }));
}

export const rowKey = (row: ReportRow) => `${row.dateHourMinute}\u0000${row.userId}`;

/** Adds keys to `seen`; false as soon as one was already there. */
function addAllNew(seen: Set<string>, keys: string[]): boolean {
  for (const key of keys) {
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

export interface PagedReport {
  readonly rows: ReportRow[];
  readonly timeZone?: string;
  readonly pages: number;
  readonly warnings: string[];
  readonly quotaRemaining?: { perHour?: number; perDay?: number };
}

export type PageFetcher = (offset: number, limit: number) => Promise<RunReportResponse>;

/** How often the whole read restarts when the row set changes under us before giving up. */
export const MAX_PAGING_RESTARTS = 3;

/**
 * Reads every page: offset advances by the rows received until it reaches rowCount. If rowCount
 * changes between pages, GA4 has added late rows and offsets no longer line up, so the read
 * restarts from offset 0 (bounded) instead of skipping or repeating rows.
 */
export async function fetchAllRows(fetchPage: PageFetcher, pageSize: number, userIdDimension: string): Promise<PagedReport> {
  for (let restart = 0; restart <= MAX_PAGING_RESTARTS; restart++) {
    const rows: ReportRow[] = [];
    const warnings = new Set<string>();
    let expected: number | undefined;
    let timeZone: string | undefined;
    let pages = 0;
    let quotaRemaining: PagedReport['quotaRemaining'];
    let consistent = true;
    const seen = new Set<string>();
    for (let offset = 0; expected === undefined || offset < expected; ) {
      const page = await fetchPage(offset, pageSize);
      pages++;
      if (expected !== undefined && page.rowCount !== expected) {
        consistent = false;
        break;
      }
      expected = page.rowCount;
      timeZone ??= page.metadata.timeZone;
      if (page.metadata.subjectToThresholding) warnings.add('report is subject to thresholding: GA4 may withhold rows for privacy');
      if (page.metadata.dataLossFromOtherRow) warnings.add('some rows were folded into (other): the user id dimension exceeds GA4 cardinality limits');
      quotaRemaining = { perHour: page.propertyQuota?.tokensPerHour?.remaining, perDay: page.propertyQuota?.tokensPerDay?.remaining };
      const pageRows = extractRows(page, userIdDimension);
      if (pageRows.length === 0) {
        if (offset < expected) consistent = false;
        break;
      }
      // A (minute, user) pair seen twice means the pages overlapped: its events would be sent twice.
      if (!addAllNew(seen, pageRows.map(rowKey))) {
        consistent = false;
        break;
      }
      rows.push(...pageRows);
      offset += pageRows.length;
    }
    if (consistent) return { rows, timeZone, pages, warnings: [...warnings], quotaRemaining };
  }
  throw new Error(`GA4 report kept changing while paging (${MAX_PAGING_RESTARTS + 1} reads): try a longer settle delay`);
}
