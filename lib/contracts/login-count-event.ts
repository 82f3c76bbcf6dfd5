import { z } from 'zod';
import { nonNegativeInt, userId, utcDateTime } from './common';
import { LOGIN_COUNT_EVENT_SCHEMA_VERSION } from './versions';

export { LOGIN_COUNT_EVENT_SCHEMA_VERSION };

export const LOGIN_COUNT_KINDS = ['running', 'window'] as const;

const WINDOW_FIELDS = ['window_start', 'window_end', 'window_login_count'] as const;

export const loginCountEventSchema = z
  .strictObject({
    user_id: userId,
    login_count: nonNegativeInt,
    kind: z.enum(LOGIN_COUNT_KINDS),
    window_start: utcDateTime.optional(),
    window_end: utcDateTime.optional(),
    window_login_count: nonNegativeInt.optional(),
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
      "A user's login count, emitted by the Flink job and keyed by user_id. kind 'running' is the all-time count; " +
      "kind 'window' also carries window_start, window_end (exclusive) and window_login_count, which are absent otherwise.",
  });

export type LoginCountEvent = z.infer<typeof loginCountEventSchema>;

export function loginCountEventKey(event: Pick<LoginCountEvent, 'user_id'>): string {
  return event.user_id;
}
