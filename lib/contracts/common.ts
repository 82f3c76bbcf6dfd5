import { z } from 'zod';

/**
 * Field types shared by the contracts. Timestamps are ISO-8601 in UTC with a `Z` suffix so that
 * every consumer (Flink, Spark, DuckDB, Athena) parses them the same way without a zone table.
 */
export const utcDateTime = z.iso.datetime({ message: 'must be an ISO-8601 UTC date-time ending in Z, e.g. 2024-05-01T12:34:56.789Z' });

/** The application's user identifier: the Kafka key of every per-user topic. */
export const userId = z.string().min(1).max(128);

export const nonNegativeInt = z.number().int().min(0);
