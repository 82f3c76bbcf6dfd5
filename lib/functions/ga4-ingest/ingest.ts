import type { Logger } from '@aws-lambda-powertools/logger';
import type { Ga4IngestConfig } from './config';
import { buildRunReportRequest, fetchAllRows, runReport, type PagedReport, type RunReportResponse } from './data-api';
import { exchangeJwtForToken, parseServiceAccountKey, type ServiceAccountKey } from './google-auth';
import { initialCursor, passWindow, reportSliceFor, serializeMark, type IngestWindow, type MarkState } from './high-water-mark';
import { loginEventKey, mapRow, rejectedRowRecord, type MappingContext } from './mapping';
import { TopicBatcher, type MessageSink } from './producer';
import { withRetry, type RetryHooks, type RetryPolicy } from './retry';
import { sentCountKey, type SentCountStore, type SentCountUpdate } from './sent-counts';
import { localDate, localMinuteToUtc, MINUTE_MS } from './time';

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
  readonly sentCounts: SentCountStore;
  /** Connects the producer; called only when there is something to send. */
  readonly openSink: () => Promise<MessageSink>;
  readonly hooks: RetryHooks;
  readonly logger: IngestLogger;
  /** Epoch ms by which the run must have committed (Lambda timeout minus a margin). */
  readonly deadline: number;
}

/** Counters kept outside the result so that a failed run still reports what it did. */
export class RunStats {
  apiRetries = 0;
  eventsSent = 0;
  /** Events sent by a re-read pass: logins GA4 had not reported at an earlier pass. */
  lateEventsSent = 0;
  rowsRejected = 0;
  /** Rows GA4 reported with fewer logins than were already sent (cannot be unsent). */
  countsRevisedDown = 0;
  passesDeferred = 0;
  /** Read minutes since the newest minute with a login (or, before any, since the passes started). */
  emptyMinutes: number | undefined;
  quotaTokensPerHourRemaining: number | undefined;
}

export interface PassSummary {
  readonly ageMinutes: number;
  readonly window: { start: string; end: string };
  readonly rowsRead: number;
  readonly eventsSent: number;
  readonly rowsRejected: number;
  readonly pages: number;
}

export interface RunSummary {
  readonly outcome: 'nothing-to-do' | 'committed';
  readonly passes: PassSummary[];
  readonly eventsSent: number;
  readonly rowsRejected: number;
  readonly timeZone?: string;
}

class DeadlineError extends Error {
  constructor(what: string) {
    super(
      `Run deadline reached during ${what}; the cursors of unfinished passes are unchanged and the next run reads their windows again, ` +
        'sending only what the sent-counts table does not hold (repeats carry the same event ids). Lower GA4_MAX_WINDOW_MINUTES if this repeats.',
    );
    this.name = 'DeadlineError';
  }
}

/**
 * One scheduled run. For each pass (ascending age): read the pass's window of login rows from the
 * Data API, send the logins beyond the counts already sent, flush, record the new counts, advance
 * the pass's cursor. Any failure leaves the current pass's cursor, so the next run reads it again.
 */
export async function runIngestion(config: Ga4IngestConfig, deps: IngestDeps, stats: RunStats): Promise<RunSummary> {
  const read = await deps.markStore.read();
  const now = deps.hooks.now();
  // Every pass starts where the first run started (or at a v1 mark): fixed once, so later passes
  // read exactly the minutes the first one did, however long they wait.
  const start = initialCursor(read, now, config);
  const initialized = Object.fromEntries(
    config.passAgesMs.map((ageMs) => [String(ageMs / MINUTE_MS), read.passes[String(ageMs / MINUTE_MS)] ?? new Date(start).toISOString()]),
  );
  const mark: MarkState = { ...read, legacyThrough: undefined, passes: initialized };
  const due = config.passAgesMs.filter((ageMs) => passWindow(cursorOf(mark, ageMs), ageMs, now, config));
  stats.emptyMinutes = emptyMinutes(mark, config);
  if (due.length === 0) {
    if (Object.keys(read.passes).length !== config.passAgesMs.length)
      await deps.markStore.write(serializeMark(mark, { eventsSent: 0, rowsRejected: 0, rowsRead: 0 }, now));
    deps.logger.info('No pass has a whole hour to read yet; nothing to do', { passes: mark.passes });
    return { outcome: 'nothing-to-do', passes: [], eventsSent: 0, rowsRejected: 0, timeZone: mark.timeZone };
  }
  const policy: RetryPolicy = { ...config.retry, deadline: deps.deadline };
  const hooks: RetryHooks = {
    ...deps.hooks,
    onRetry: (error, attempt, delayMs) => {
      stats.apiRetries++;
      deps.logger.warn('Retrying Google API call', { attempt, delayMs, error: error.message });
    },
  };
  const key = parseServiceAccountKey(await deps.readSecret(), config.credentialsSecretArn);
  const token = await withRetry('GA4 token exchange', policy, hooks, () =>
    exchangeJwtForToken(key, deps.hooks.now(), requestTimeout(config, deps, 'the token exchange')),
  );
  const api: ApiAccess = { config, key, accessToken: token.value, policy, hooks, deps, stats };

  let state: MarkState = { ...mark, passes: { ...mark.passes } };
  if (!state.timeZone) state = { ...state, timeZone: await probeTimeZone(api, now) };
  const sink = deadlineSink(lazySink(deps.openSink), deps);
  const passes: PassSummary[] = [];
  try {
    for (const ageMs of due) {
      const remaining = stats.quotaTokensPerHourRemaining;
      if (remaining !== undefined && remaining < config.minHourlyQuotaTokens) {
        stats.passesDeferred += due.length - passes.length;
        deps.logger.warn('Hourly Data API tokens are nearly spent; later passes wait for the next run', { remaining, reserve: config.minHourlyQuotaTokens });
        break;
      }
      const window = passWindow(cursorOf(state, ageMs), ageMs, now, config)!;
      const { summary, next } = await runPass(api, state, ageMs, window, sink, ageMs !== config.passAgesMs[0]);
      passes.push(summary);
      state = next;
      await writeMark(deps, state, stats, summary);
      stats.emptyMinutes = emptyMinutes(state, config);
    }
  } finally {
    // Sends resolve only after acks, so a failing disconnect loses nothing; it must not mask a send error.
    await sink.close().catch((error: Error) => deps.logger.warn('Kafka producer disconnect failed', { error: error.message }));
  }
  return { outcome: 'committed', passes, eventsSent: stats.eventsSent, rowsRejected: stats.rowsRejected, timeZone: state.timeZone };
}

interface ApiAccess {
  readonly config: Ga4IngestConfig;
  readonly key: ServiceAccountKey;
  readonly accessToken: string;
  readonly policy: RetryPolicy;
  readonly hooks: RetryHooks;
  readonly deps: IngestDeps;
  readonly stats: RunStats;
}

const cursorOf = (mark: MarkState, ageMs: number) => Date.parse(mark.passes[String(ageMs / MINUTE_MS)]!);

/**
 * How long the newest read minutes have been empty: from the newest minute with a login to the
 * first pass's cursor (the newest minute read). The first pass reads a minute only after GA4's
 * documented intraday delay, so a large value is a window still empty after that delay.
 */
function emptyMinutes(state: MarkState, config: Ga4IngestConfig): number | undefined {
  const firstPass = String(config.passAgesMs[0] / MINUTE_MS);
  const readThrough = Date.parse(state.passes[firstPass]!);
  // Never a login yet: empty since the oldest cursor, which every pass started from.
  const since = state.lastDataMinute ? Date.parse(state.lastDataMinute) + MINUTE_MS : Math.min(...Object.values(state.passes).map(Date.parse));
  return Math.max(0, (readThrough - since) / MINUTE_MS);
}

async function runPass(
  api: ApiAccess,
  state: MarkState,
  ageMs: number,
  window: IngestWindow,
  sink: MessageSink,
  rereading: boolean,
): Promise<{ summary: PassSummary; next: MarkState }> {
  const { config, deps, stats } = api;
  let timeZone = state.timeZone!;
  let report = await readWindow(api, window, timeZone);
  if (report.timeZone && report.timeZone !== timeZone) {
    deps.logger.warn('Property time zone changed; reading the window again with the new zone', { was: timeZone, now: report.timeZone });
    timeZone = report.timeZone;
    report = await readWindow(api, window, timeZone);
  }
  for (const warning of report.warnings) deps.logger.warn(`GA4 report warning: ${warning}`, { ageMinutes: ageMs / MINUTE_MS });
  const counts = await deps.sentCounts.load(window);
  const ctx: MappingContext = { propertyId: config.propertyId, timeZone, maxEventsPerRow: config.maxEventsPerRow, userId: config.userId };
  const raw = new TopicBatcher(sink, config.rawTopic, SEND_BATCH_SIZE);
  const dlq = new TopicBatcher(sink, config.dlqTopic, SEND_BATCH_SIZE);
  const updates: SentCountUpdate[] = [];
  let lastData = state.lastDataMinute ? Date.parse(state.lastDataMinute) : undefined;
  let rowsRead = 0;
  let rejected = 0;
  for (const row of report.rows) {
    const minuteStart = localMinuteToUtc(row.dateHourMinute, timeZone);
    // Local hours of a half-hour zone straddle UTC hours: rows of the neighbouring window belong to it.
    if (minuteStart !== undefined && (minuteStart < window.start || minuteStart >= window.end)) continue;
    rowsRead++;
    const previous = counts.get(sentCountKey(row.dateHourMinute, row.userId));
    const sent = previous?.sent ?? 0;
    const mapped = mapRow(row, ctx);
    if (mapped.kind === 'rejected') {
      // A rejected row is reported again by every pass; it goes to the DLQ again only if its count changed.
      if (minuteStart !== undefined && previous?.rejectedCount === Number(row.eventCount)) continue;
      rejected++;
      stats.rowsRejected++;
      await dlq.add({ key: `${row.dateHourMinute}|${row.userId}`, value: JSON.stringify(rejectedRowRecord(row, mapped.reason, ctx, deps.hooks.now())) });
      if (minuteStart !== undefined)
        updates.push({ minuteStart, dateHourMinute: row.dateHourMinute, userId: row.userId, sent, rejectedCount: Number(row.eventCount) || 0 });
      continue;
    }
    const count = mapped.events.length;
    if (count > 0) lastData = Math.max(lastData ?? 0, minuteStart!);
    if (count < sent) {
      stats.countsRevisedDown++;
      deps.logger.warn('GA4 now reports fewer logins than were sent for a row; sent events cannot be withdrawn', { row, sent });
      continue;
    }
    if (count === sent) continue;
    for (const event of mapped.events.slice(sent)) {
      await raw.add({ key: loginEventKey(event), value: JSON.stringify(event), headers: { event_id: event.event_id, source: 'ga4' } });
    }
    if (rereading) stats.lateEventsSent += count - sent;
    updates.push({ minuteStart: minuteStart!, dateHourMinute: row.dateHourMinute, userId: row.userId, sent: count });
    if (deps.hooks.now() >= deps.deadline) throw new DeadlineError('sending');
  }
  await raw.flush();
  await dlq.flush();
  stats.eventsSent += raw.sent;
  // Counts are recorded only after the flush: a crash in between re-sends identical events, never loses one.
  await deps.sentCounts.save(updates);
  const next: MarkState = {
    ...state,
    timeZone,
    passes: { ...state.passes, [String(ageMs / MINUTE_MS)]: new Date(window.end).toISOString() },
    lastDataMinute: lastData === undefined ? state.lastDataMinute : new Date(lastData).toISOString(),
  };
  return {
    summary: {
      ageMinutes: ageMs / MINUTE_MS,
      window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      rowsRead,
      eventsSent: raw.sent,
      rowsRejected: rejected,
      pages: report.pages,
    },
    next,
  };
}

async function writeMark(deps: IngestDeps, state: MarkState, stats: RunStats, pass: PassSummary): Promise<void> {
  try {
    await deps.markStore.write(
      serializeMark(state, { eventsSent: stats.eventsSent, rowsRejected: stats.rowsRejected, rowsRead: pass.rowsRead }, deps.hooks.now()),
    );
  } catch (error) {
    throw new Error(
      `Sent, flushed and recorded the pass of age ${pass.ageMinutes} min for ${pass.window.start}..${pass.window.end} but could not advance its cursor ` +
        `(${(error as Error).message}); the next run reads this window again and sends nothing the sent-counts table holds`,
      { cause: error },
    );
  }
  deps.logger.info('GA4 pass committed', { ...pass });
}

/** Per-request timeout: the configured one, cut to what is left before the run deadline. */
function requestTimeout(config: Ga4IngestConfig, deps: IngestDeps, what: string): number {
  const left = deps.deadline - deps.hooks.now();
  if (left <= 0) throw new DeadlineError(what);
  return Math.min(config.retry.requestTimeoutMs, left);
}

function fetchPage(api: ApiAccess, body: Record<string, unknown>): Promise<RunReportResponse> {
  return withRetry('GA4 runReport', api.policy, api.hooks, async () => {
    const page = await runReport({
      baseUrl: api.config.apiBaseUrl,
      accessToken: api.accessToken,
      propertyId: api.config.propertyId,
      body,
      timeoutMs: requestTimeout(api.config, api.deps, 'a runReport request'),
      clientEmail: api.key.clientEmail,
    });
    const remaining = page.propertyQuota?.tokensPerHour?.remaining;
    if (remaining !== undefined) api.stats.quotaTokensPerHourRemaining = remaining;
    return page;
  });
}

/** The window's rows: its local hours only (hour-prefix filter), paged in a fixed order. */
function readWindow(api: ApiAccess, window: IngestWindow, timeZone: string): Promise<PagedReport> {
  const slice = reportSliceFor(window, timeZone);
  const query = { propertyId: api.config.propertyId, loginEventName: api.config.loginEventName, userIdDimension: api.config.userIdDimension, ...slice };
  return fetchAllRows((offset, limit) => fetchPage(api, buildRunReportRequest(query, offset, limit)), api.config.pageSize, api.config.userIdDimension);
}

/** The property's reporting zone, from the metadata of a one-row report (dateHourMinute is local). */
async function probeTimeZone(api: ApiAccess, now: number): Promise<string> {
  const today = localDate(now, 'UTC');
  const query = {
    propertyId: api.config.propertyId,
    loginEventName: api.config.loginEventName,
    userIdDimension: api.config.userIdDimension,
    startDate: today,
    endDate: today,
    hourPrefixes: [],
  };
  const page = await fetchPage(api, buildRunReportRequest(query, 0, 1));
  if (!page.metadata.timeZone) throw new Error("runReport returned no metadata.timeZone: cannot place the property's local minutes in UTC");
  return page.metadata.timeZone;
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

/**
 * Enforces the run deadline inside a send: kafkajs cannot cancel one, so the run stops waiting and
 * fails at the deadline, leaving the cursor. If that send still lands, the next run sends the
 * same events (same ids and bytes) again.
 */
function deadlineSink(inner: MessageSink, deps: IngestDeps): MessageSink {
  return {
    async send(topic, messages) {
      const left = deps.deadline - deps.hooks.now();
      if (left <= 0) throw new DeadlineError('a Kafka send');
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError('a Kafka send')), left);
      });
      try {
        await Promise.race([inner.send(topic, messages), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => inner.close(),
  };
}
