import type { Logger } from '@aws-lambda-powertools/logger';
import type { Ga4IngestConfig } from './config';
import { buildRunReportRequest, fetchAllRows, runReport, type PagedReport, type ReportQuery } from './data-api';
import { exchangeJwtForToken, parseServiceAccountKey, type ServiceAccountKey } from './google-auth';
import { computeWindow, dateRangeFor, serializeMark, type IngestWindow, type MarkState } from './high-water-mark';
import { loginEventKey, mapRow, rejectedRowRecord, type MappingContext } from './mapping';
import { TopicBatcher, type MessageSink } from './producer';
import { withRetry, type RetryHooks, type RetryPolicy } from './retry';
import { localMinuteToUtc } from './time';

/** Messages per produce request: large enough to amortise round trips, small enough to bound memory. */
export const SEND_BATCH_SIZE = 500;

export interface MarkStore {
  read(): Promise<MarkState>;
  write(value: string): Promise<void>;
}

export type IngestLogger = Pick<Logger, 'info' | 'warn'>;

export interface IngestDeps {
  /** The service-account JSON (SecretString of the credentials secret). */
  readonly readSecret: () => Promise<string | undefined>;
  readonly markStore: MarkStore;
  /** Connects the producer; called only when there is something to send. */
  readonly openSink: () => Promise<MessageSink>;
  readonly hooks: RetryHooks;
  readonly logger: IngestLogger;
  /** Epoch ms by which the run must have committed (Lambda timeout minus a margin). */
  readonly deadline: number;
}

/** Counters kept outside the result so that a failed run still reports its retries and sends. */
export class RunStats {
  apiRetries = 0;
  eventsSent = 0;
  rowsRejected = 0;
}

export interface RunSummary {
  readonly outcome: 'nothing-to-do' | 'committed';
  readonly window?: { start: string; end: string };
  readonly rowsRead: number;
  readonly rowsOutsideWindow: number;
  readonly eventsSent: number;
  readonly rowsRejected: number;
  readonly pages: number;
  readonly timeZone?: string;
}

/**
 * One scheduled run: read the mark, pull the window's login rows from GA4, send them, flush,
 * then advance the mark. Any failure before the mark write leaves the mark where it was, so the
 * next run reads the same window again.
 */
export async function runIngestion(config: Ga4IngestConfig, deps: IngestDeps, stats: RunStats): Promise<RunSummary> {
  const mark = await deps.markStore.read();
  const window = computeWindow(mark, deps.hooks.now(), config);
  if (!window) {
    deps.logger.info('No settled minutes since the high-water mark; nothing to read', { through: mark.through });
    return { outcome: 'nothing-to-do', rowsRead: 0, rowsOutsideWindow: 0, eventsSent: 0, rowsRejected: 0, pages: 0, timeZone: mark.timeZone };
  }
  const windowIso = { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() };
  const policy: RetryPolicy = { ...config.retry, deadline: deps.deadline };
  const hooks: RetryHooks = {
    ...deps.hooks,
    onRetry: (error, attempt, delayMs) => {
      stats.apiRetries++;
      deps.logger.warn('Retrying Google API call', { attempt, delayMs, error: error.message });
    },
  };

  const key = parseServiceAccountKey(await deps.readSecret(), config.credentialsSecretArn);
  const token = await withRetry('GA4 token exchange', policy, hooks, () => exchangeJwtForToken(key, deps.hooks.now(), config.retry.requestTimeoutMs));
  const report = await readWindow(config, key, token.value, window, mark.timeZone, policy, hooks, deps.logger);
  const timeZone = report.timeZone ?? mark.timeZone;
  if (!timeZone && report.rows.length > 0) {
    throw new Error('runReport returned rows without metadata.timeZone and no time zone is known yet: cannot place minutes in UTC');
  }
  for (const warning of report.warnings) deps.logger.warn(`GA4 report warning: ${warning}`, { window: windowIso });

  const sink = lazySink(deps.openSink);
  let rowsRead = 0;
  let rowsOutsideWindow = 0;
  try {
    const raw = new TopicBatcher(sink, config.rawTopic, SEND_BATCH_SIZE);
    const dlq = new TopicBatcher(sink, config.dlqTopic, SEND_BATCH_SIZE);
    const ctx: MappingContext = { propertyId: config.propertyId, timeZone: timeZone ?? 'UTC', maxEventsPerRow: config.maxEventsPerRow };
    for (const row of report.rows) {
      const start = localMinuteToUtc(row.dateHourMinute, ctx.timeZone);
      // Rows of other minutes share the queried calendar days; they belong to other runs' windows.
      if (start !== undefined && (start < window.start || start >= window.end)) {
        rowsOutsideWindow++;
        continue;
      }
      rowsRead++;
      const mapped = mapRow(row, ctx);
      if (mapped.kind === 'rejected') {
        stats.rowsRejected++;
        await dlq.add({ key: `${row.dateHourMinute}|${row.userId}`, value: JSON.stringify(rejectedRowRecord(row, mapped.reason, ctx, deps.hooks.now())) });
        continue;
      }
      for (const event of mapped.events) {
        await raw.add({ key: loginEventKey(event), value: JSON.stringify(event), headers: { event_id: event.event_id, source: 'ga4' } });
      }
      assertBeforeDeadline(deps, window, raw.sent);
      stats.eventsSent = raw.sent;
    }
    await raw.flush();
    await dlq.flush();
    stats.eventsSent = raw.sent;
  } finally {
    // Sends resolve only after acks, so a failing disconnect loses nothing; it must not mask a send error.
    await sink.close().catch((error: Error) => deps.logger.warn('Kafka producer disconnect failed', { error: error.message }));
  }

  const summary: RunSummary = {
    outcome: 'committed',
    window: windowIso,
    rowsRead,
    rowsOutsideWindow,
    eventsSent: stats.eventsSent,
    rowsRejected: stats.rowsRejected,
    pages: report.pages,
    timeZone,
  };
  try {
    await deps.markStore.write(serializeMark(window.end, timeZone, { eventsSent: stats.eventsSent, rowsRejected: stats.rowsRejected, rowsRead }, deps.hooks.now()));
  } catch (error) {
    throw new Error(
      `Sent and flushed ${stats.eventsSent} events for ${windowIso.start}..${windowIso.end} but could not advance the high-water mark ` +
        `(${(error as Error).message}); the next run re-sends this window with the same event ids`,
      { cause: error },
    );
  }
  deps.logger.info('GA4 window committed', { ...summary, quotaRemaining: report.quotaRemaining });
  return summary;
}

function assertBeforeDeadline(deps: IngestDeps, window: IngestWindow, sent: number): void {
  if (deps.hooks.now() < deps.deadline) return;
  throw new Error(
    `Run deadline reached after sending ${sent} events of window ${new Date(window.start).toISOString()}..${new Date(window.end).toISOString()}; ` +
      'the mark is unchanged and the next run re-sends this window with the same event ids. Lower GA4_MAX_WINDOW_MINUTES if this repeats.',
  );
}

/**
 * Reads the window's rows. The date range is in the property's zone; if GA4 reports a different
 * zone than the one remembered (the property's zone was changed), the range was wrong and the
 * read is repeated once with the reported zone.
 */
async function readWindow(
  config: Ga4IngestConfig,
  key: ServiceAccountKey,
  accessToken: string,
  window: IngestWindow,
  knownTimeZone: string | undefined,
  policy: RetryPolicy,
  hooks: RetryHooks,
  logger: IngestLogger,
): Promise<PagedReport> {
  const read = (timeZone: string | undefined) => {
    const query: ReportQuery = { propertyId: config.propertyId, loginEventName: config.loginEventName, userIdDimension: config.userIdDimension, ...dateRangeFor(window, timeZone) };
    return fetchAllRows(
      (offset, limit) =>
        withRetry('GA4 runReport', policy, hooks, () =>
          runReport({
            baseUrl: config.apiBaseUrl,
            accessToken,
            propertyId: config.propertyId,
            body: buildRunReportRequest(query, offset, limit),
            timeoutMs: config.retry.requestTimeoutMs,
            clientEmail: key.clientEmail,
          }),
        ),
      config.pageSize,
      config.userIdDimension,
    );
  };
  const report = await read(knownTimeZone);
  if (knownTimeZone && report.timeZone && report.timeZone !== knownTimeZone) {
    logger.warn('Property time zone changed; reading the window again with the new zone', { was: knownTimeZone, now: report.timeZone });
    return read(report.timeZone);
  }
  return report;
}

/** Defers the Kafka connection until the first message, and closes only what was opened. */
function lazySink(open: () => Promise<MessageSink>): MessageSink {
  let connected: Promise<MessageSink> | undefined;
  return {
    async send(topic, messages) {
      connected ??= open();
      await (await connected).send(topic, messages);
    },
    async close() {
      if (connected) await (await connected).close();
    },
  };
}
