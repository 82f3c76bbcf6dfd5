/**
 * EMF metric names (namespace `Lakestream`, dimension `service` = the function's
 * POWERTOOLS_SERVICE_NAME). Shared with the construct, whose alarms watch them.
 */
export const METRICS_NAMESPACE = 'Lakestream';

/** Per worker invocation: records acknowledged by Kafka. */
export const RECORDS_SENT_METRIC = 'ReplayRecordsSent';
/** Per worker invocation: lines quarantined. */
export const RECORDS_REJECTED_METRIC = 'ReplayRecordsRejected';
/** Per worker invocation: uncompressed content bytes consumed. */
export const BYTES_READ_METRIC = 'ReplayBytesRead';

/** Per run (summary step). */
export const RUN_RECORDS_METRIC = 'ReplayRunRecords';
export const RUN_REJECTED_METRIC = 'ReplayRunRejected';
export const RUN_BYTES_METRIC = 'ReplayRunBytes';
export const RUN_DURATION_METRIC = 'ReplayRunDuration';
export const RUNS_METRIC = 'ReplayRuns';
export const RUNS_SKIPPED_METRIC = 'ReplayRunsSkipped';
