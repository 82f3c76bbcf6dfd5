/**
 * The speed view's latency budget: from a login's event time to the moment its count can be read
 * through Athena (the `speed_login_counts` view, jobs/serving). Worst case under steady traffic,
 * for a login at the very start of its Flink window. The schema checks it against
 * `serving.maxLatencySeconds` at synth.
 */

/** Flink's bounded out-of-orderness (jobs/flink/login_counts/job_config.py `watermark.seconds`, not overridden by the stack). */
export const FLINK_WATERMARK_SECONDS = 10;
/** Flink's upsert-kafka sink flushes buffered counts at least this often (login_sql.py `sink.buffer-flush.interval`). */
export const FLINK_SINK_FLUSH_SECONDS = 1;
/**
 * Time one Spark micro-batch takes to read the new records, write Parquet and commit, with a warm
 * executor (an allowance, not a measurement: no AWS account is reachable from the tests).
 */
export const SPARK_MICRO_BATCH_ALLOWANCE_SECONDS = 15;
/**
 * Athena lists S3 when a query runs (S3 is strongly consistent for new objects) and computes the
 * dt/hr partitions from the table's projection, so a committed file is readable at once.
 */
export const ATHENA_VISIBILITY_SECONDS = 0;

export interface SpeedLatencyInputs {
  /** flink.windowMinutes: a window's count is emitted when the watermark passes its end. */
  readonly windowMinutes: number;
  /** emr.streamingTriggerSeconds: a record waits at most this long for the next micro-batch. */
  readonly streamingTriggerSeconds: number;
}

export interface SpeedLatencyBudget {
  /** Each stage and its worst-case seconds, in pipeline order. */
  readonly stages: ReadonlyArray<{ readonly stage: string; readonly seconds: number }>;
  readonly totalSeconds: number;
}

export function speedLatencyBudget(inputs: SpeedLatencyInputs): SpeedLatencyBudget {
  const stages = [
    { stage: 'Flink window closes (flink.windowMinutes)', seconds: inputs.windowMinutes * 60 },
    { stage: 'Flink watermark delay', seconds: FLINK_WATERMARK_SECONDS },
    { stage: 'Flink upsert-kafka flush', seconds: FLINK_SINK_FLUSH_SECONDS },
    { stage: 'Spark trigger wait (emr.streamingTriggerSeconds)', seconds: inputs.streamingTriggerSeconds },
    { stage: 'Spark micro-batch write and commit', seconds: SPARK_MICRO_BATCH_ALLOWANCE_SECONDS },
    { stage: 'Athena sees the new Parquet files', seconds: ATHENA_VISIBILITY_SECONDS },
  ];
  return { stages, totalSeconds: stages.reduce((sum, s) => sum + s.seconds, 0) };
}

/** One line for messages and notes: `60 + 10 + ... = 116 s`. */
export function describeBudget(budget: SpeedLatencyBudget): string {
  return `${budget.stages.map((s) => `${s.seconds} (${s.stage})`).join(' + ')} = ${budget.totalSeconds} s`;
}
