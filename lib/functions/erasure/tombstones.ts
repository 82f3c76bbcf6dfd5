import type { Producer } from 'kafkajs';

export interface TombstoneConfig {
  readonly topic: string;
  /** Flink's tumbling window, minutes (windows are aligned to the epoch). */
  readonly windowMinutes: number;
  /** How far back window keys can still exist on the topic: retention + one segment + lateness + a window. */
  readonly keyHorizonHours: number;
}

/** Records per produce call: well under max.message.bytes for tombstones of 128-character keys. */
const BATCH = 5_000;

/**
 * Every key the counts topic can hold for these people: `user_id` (running count) and
 * `user_id|window_start` for each window start (ISO-8601 with milliseconds, as the Flink job writes
 * it) from the horizon before `now` up to `now`. Keys that never existed cost one small tombstone
 * each, removed by compaction after delete.retention.ms; enumerating beats reading the topic, whose
 * size has no bound the Lambda could promise to read within its timeout.
 */
export function countKeys(userIds: readonly string[], config: TombstoneConfig, now: Date): string[] {
  const windowMs = config.windowMinutes * 60_000;
  const last = Math.floor(now.getTime() / windowMs) * windowMs;
  const first = Math.floor((now.getTime() - config.keyHorizonHours * 3_600_000) / windowMs) * windowMs;
  const starts: string[] = [];
  for (let t = first; t <= last; t += windowMs) starts.push(new Date(t).toISOString());
  return userIds.flatMap((id) => [id, ...starts.map((start) => `${id}|${start}`)]);
}

/** Writes a tombstone (null value) for every key; acks from all in-sync replicas. Idempotent by nature. */
export async function writeTombstones(producer: Producer, topic: string, keys: readonly string[]): Promise<number> {
  for (let i = 0; i < keys.length; i += BATCH) {
    await producer.send({ topic, acks: -1, messages: keys.slice(i, i + BATCH).map((key) => ({ key, value: null })) });
  }
  return keys.length;
}
