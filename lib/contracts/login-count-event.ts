import { z } from 'zod';
import { nonNegativeInt, userId, utcDateTime } from './common';
import { LOGIN_COUNT_EVENT_SCHEMA_VERSION } from './versions';

export { LOGIN_COUNT_EVENT_SCHEMA_VERSION };

export const LOGIN_COUNT_KINDS = ['running', 'window'] as const;

const WINDOW_FIELDS = ['window_start', 'window_end'] as const;

/**
 * Kafka key of a count on the compacted counts topic: the fields joined by '|', the bracketed one
 * only when present. A running count is keyed by user_id, a window count by user_id|window_start,
 * so compaction keeps the latest running count and the latest count of every window side by side
 * (a window keyed by user_id alone would overwrite the user's running count).
 */
export const LOGIN_COUNT_EVENT_KAFKA_KEY = 'user_id[|window_start]';

/**
 * Version 2 (breaking, from 1): every record carries login_count, the logins counted in its scope
 * (all time for 'running', the window for 'window'); window_login_count is gone; window records are
 * keyed by user_id|window_start. Version 1 described records the Flink job never wrote.
 */
export const loginCountEventSchema = z
  .strictObject({
    user_id: userId,
    login_count: nonNegativeInt,
    kind: z.enum(LOGIN_COUNT_KINDS),
    window_start: utcDateTime.optional(),
    window_end: utcDateTime.optional(),
    emitted_at: utcDateTime,
    schema_version: z.literal(LOGIN_COUNT_EVENT_SCHEMA_VERSION),
  })
  // JSON Schema cannot say this without if/then, which the jobs' readers do not evaluate; the
  // description below carries the rule to them and this check enforces it at the TypeScript edge.
  .superRefine((event, ctx) => {
    const present = WINDOW_FIELDS.filter((field) => event[field] !== undefined);
    if (event.kind === 'window' && present.length !== WINDOW_FIELDS.length) {
      ctx.addIssue({ code: 'custom', message: `kind 'window' requires ${WINDOW_FIELDS.join(', ')}` });
    }
    if (event.kind === 'running' && present.length > 0) {
      ctx.addIssue({ code: 'custom', message: `kind 'running' must not carry ${present.join(', ')}` });
    }
    if (event.window_start !== undefined && event.window_end !== undefined && event.window_end <= event.window_start) {
      ctx.addIssue({ code: 'custom', path: ['window_end'], message: 'window_end must be after window_start' });
    }
  })
  .meta({
    title: 'LoginCountEvent',
    description:
      "A user's login count, emitted by the Flink job. kind 'running': login_count is the user's count of all logins the job has read, " +
      "keyed by user_id. kind 'window': login_count is the user's logins in [window_start, window_end), keyed by user_id|window_start; " +
      'window_start and window_end are absent otherwise. The Kafka record timestamp is event time (the newest counted login, or window_end).',
  });

export type LoginCountEvent = z.infer<typeof loginCountEventSchema>;

export function loginCountEventKey(event: Pick<LoginCountEvent, 'user_id' | 'window_start'>): string {
  return event.window_start === undefined ? event.user_id : `${event.user_id}|${event.window_start}`;
}
