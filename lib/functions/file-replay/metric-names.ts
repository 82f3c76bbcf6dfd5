import { FILE_REPLAY_METRICS } from '../../contracts/metrics';

/**
 * EMF metric names of file replay (namespace `Lakestream`, dimension `service` = the function's
 * POWERTOOLS_SERVICE_NAME), from the metric contract in lib/contracts/metrics.ts.
 */
export const METRICS_NAMESPACE = FILE_REPLAY_METRICS.namespace;

/** Per worker invocation: records acknowledged by Kafka. */
export const RECORDS_SENT_METRIC = FILE_REPLAY_METRICS.metrics.recordsSent;
/** Per worker invocation: lines quarantined. */
export const RECORDS_REJECTED_METRIC = FILE_REPLAY_METRICS.metrics.recordsRejected;
/** Per worker invocation: uncompressed content bytes consumed. */
export const BYTES_READ_METRIC = FILE_REPLAY_METRICS.metrics.bytesRead;

/** Per run (summary step). */
export const RUN_RECORDS_METRIC = FILE_REPLAY_METRICS.metrics.runRecords;
export const RUN_REJECTED_METRIC = FILE_REPLAY_METRICS.metrics.runRejected;
export const RUN_BYTES_METRIC = FILE_REPLAY_METRICS.metrics.runBytes;
export const RUN_DURATION_METRIC = FILE_REPLAY_METRICS.metrics.runDuration;
export const RUNS_METRIC = FILE_REPLAY_METRICS.metrics.runs;
export const RUNS_SKIPPED_METRIC = FILE_REPLAY_METRICS.metrics.runsSkipped;
