import { z } from 'zod';
import { userId, utcDateTime } from './common';
import { GA4_EVENT_ID_PREFIX, LOGIN_EVENT_SCHEMA_VERSION, loginEventKey } from './versions';

export { GA4_EVENT_ID_PREFIX, LOGIN_EVENT_SCHEMA_VERSION, loginEventKey };

export const LOGIN_EVENT_SOURCES = ['ga4', 'replay', 'cdc', 'test'] as const;
export type LoginEventSource = (typeof LOGIN_EVENT_SOURCES)[number];

const GA4_EVENT_ID = /^ga4:\S{1,250}$/;

export const loginEventSchema = z
  .strictObject({
    event_id: z.union([z.uuid(), z.string().regex(GA4_EVENT_ID, `must be a UUID or ${GA4_EVENT_ID_PREFIX}<id> without spaces`)]),
    user_id: userId,
    event_time: utcDateTime,
    source: z.enum(LOGIN_EVENT_SOURCES),
    schema_version: z.literal(LOGIN_EVENT_SCHEMA_VERSION),
    attributes: z.record(z.string(), z.string()).optional(),
  })
  .meta({
    title: 'LoginEvent',
    description: "A user logged in. Raw events on the raw login topic, keyed by user_id so that one user's logins stay in order.",
  });

export type LoginEvent = z.infer<typeof loginEventSchema>;
