import { createHash } from 'node:crypto';

/**
 * Deterministic login-event JSON lines of about 200 bytes for the replay benchmark: a fixed seed
 * gives the same file on every run, so runs compare.
 */
const COUNTRIES = ['NL', 'DE', 'FR', 'GB', 'US', 'BR', 'IN', 'JP'];
const DEVICES = ['ios', 'android', 'web', 'desktop'];
const BASE_TIME = Date.UTC(2024, 4, 1);

export function loginLine(index: number): string {
  const digest = createHash('md5').update(String(index)).digest('hex');
  const eventId = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-4${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  const userId = `user-${(index * 7919) % 250_000}`;
  const eventTime = new Date(BASE_TIME + index * 37).toISOString();
  const country = COUNTRIES[index % COUNTRIES.length];
  const device = DEVICES[(index >> 3) % DEVICES.length];
  return (
    `{"event_id":"${eventId}","user_id":"${userId}","event_time":"${eventTime}","source":"replay","schema_version":1,` +
    `"attributes":{"country":"${country}","device":"${device}","app":"3.${index % 10}"}}`
  );
}
