import { createHash } from 'node:crypto';
// The contract's zod-free modules only: lib/contracts/index.ts and login-event.ts load the full zod
// (~450 KB of bundle). The published-schema validator is kept in step with the zod contract by its tests.
import type { LoginEvent } from '../../contracts/login-event';
import { explainLoginEvent } from '../../contracts/login-event-validator';
import { GA4_EVENT_ID_PREFIX, LOGIN_EVENT_SCHEMA_VERSION, loginEventKey } from '../../contracts/versions';
import type { ReportRow } from './data-api';
import { localMinuteToUtc } from './time';
import { userIdValueProblem, type UserIdDimension } from './user-id-dimension';

export interface MappingContext {
  readonly propertyId: string;
  readonly timeZone: string;
  readonly maxEventsPerRow: number;
  readonly userId: UserIdDimension;
}

export type RowMapping = { readonly kind: 'events'; readonly events: LoginEvent[] } | { readonly kind: 'rejected'; readonly reason: string };

// Re-exported from the contract's zod-free module (login-event.ts itself would bring zod into the bundle).
export { GA4_EVENT_ID_PREFIX, loginEventKey };

/** GA4 placeholders that are not user ids. */
const PLACEHOLDER_USER_IDS = new Map([
  ['(not set)', 'user id dimension is (not set): the login event was sent without the user id parameter'],
  ['(other)', 'row aggregated into (other): the user id dimension exceeded GA4 cardinality limits'],
]);

/**
 * A stable id for the index-th login of a user in a minute. Re-reading the same minute yields
 * the same ids, so any repeat that does reach Kafka is recognisable downstream.
 */
export function loginEventId(propertyId: string, dateHourMinute: string, userId: string, index: number): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['ga4', propertyId, dateHourMinute, userId, index]))
    .digest('hex');
  return `${GA4_EVENT_ID_PREFIX}${digest.slice(0, 32)}`;
}

/**
 * One aggregate row becomes eventCount login events stamped with the start of their minute
 * (GA4 does not report finer times), indexes 0..eventCount-1; the caller sends those beyond the
 * count already sent. Rows that cannot become valid events are rejected with a reason, never
 * dropped silently.
 */
export function mapRow(row: ReportRow, ctx: MappingContext): RowMapping {
  const placeholder = PLACEHOLDER_USER_IDS.get(row.userId);
  if (placeholder) return { kind: 'rejected', reason: placeholder };
  if (row.userId.trim() === '') return { kind: 'rejected', reason: 'user id is empty' };
  const userIdProblem = userIdValueProblem(row.userId, ctx.userId);
  if (userIdProblem) return { kind: 'rejected', reason: userIdProblem };
  if (!/^\d+$/.test(row.eventCount)) return { kind: 'rejected', reason: `eventCount ${JSON.stringify(row.eventCount)} is not a whole number` };
  const count = Number(row.eventCount);
  if (count > ctx.maxEventsPerRow) {
    return { kind: 'rejected', reason: `eventCount ${count} exceeds ${ctx.maxEventsPerRow} logins per user per minute: likely a bot or a shared id` };
  }
  const startUtc = localMinuteToUtc(row.dateHourMinute, ctx.timeZone);
  if (startUtc === undefined) return { kind: 'rejected', reason: `dateHourMinute ${JSON.stringify(row.dateHourMinute)} is not a YYYYMMDDHHmm minute` };
  const eventTime = new Date(startUtc).toISOString();
  const attributes = { ga4_property_id: ctx.propertyId, ga4_date_hour_minute: row.dateHourMinute, ga4_time_zone: ctx.timeZone };
  const events: LoginEvent[] = [];
  for (let index = 0; index < count; index++) {
    events.push({
      event_id: loginEventId(ctx.propertyId, row.dateHourMinute, row.userId, index),
      user_id: row.userId,
      event_time: eventTime,
      source: 'ga4',
      schema_version: LOGIN_EVENT_SCHEMA_VERSION,
      attributes,
    });
  }
  // The contract has the last word: an event it refuses never reaches the raw topic.
  const violation = events.map((event) => explainLoginEvent(event)).find(Boolean);
  if (violation) return { kind: 'rejected', reason: `not a valid login event: ${violation}` };
  return { kind: 'events', events };
}

/** What goes to the DLQ topic for a rejected row: enough to find and fix it at the source. */
export interface RejectedRowRecord {
  readonly kind: 'ga4-rejected-row';
  readonly version: 1;
  readonly reason: string;
  readonly property_id: string;
  readonly time_zone: string;
  readonly row: ReportRow;
  readonly rejected_at: string;
}

export function rejectedRowRecord(row: ReportRow, reason: string, ctx: MappingContext, nowMs: number): RejectedRowRecord {
  return {
    kind: 'ga4-rejected-row',
    version: 1,
    reason,
    property_id: ctx.propertyId,
    time_zone: ctx.timeZone,
    row,
    rejected_at: new Date(nowMs).toISOString(),
  };
}
