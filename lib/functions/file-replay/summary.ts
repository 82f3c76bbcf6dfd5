import type { RangeTotals, ReplayObject } from './types';
import { ZERO_TOTALS, addTotals } from './types';

export interface SummaryInput {
  readonly object: ReplayObject | null;
  readonly skippedReason: string | null;
  /** Each range's cumulative totals, from its last worker result. */
  readonly results: ReadonlyArray<{ readonly rangeIndex: number; readonly totals: RangeTotals }>;
  /** Execution start ($$.Execution.StartTime). */
  readonly startedAt: string;
}

export interface RunSummary extends RangeTotals {
  readonly bucket?: string;
  readonly key?: string;
  readonly etag?: string;
  readonly ranges: number;
  readonly durationSeconds: number;
  readonly skippedReason?: string;
}

export function summarizeRun(input: SummaryInput, now: Date): RunSummary {
  const totals = input.results.reduce((sum, result) => addTotals(sum, result.totals), ZERO_TOTALS);
  const started = Date.parse(input.startedAt);
  const durationSeconds = Number.isFinite(started) ? Math.max(0, (now.getTime() - started) / 1000) : 0;
  return {
    ...(input.object ? { bucket: input.object.bucket, key: input.object.key, etag: input.object.etag } : {}),
    ranges: input.results.length,
    ...totals,
    durationSeconds,
    ...(input.skippedReason ? { skippedReason: input.skippedReason } : {}),
  };
}
