import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { Producer } from 'kafkajs';
import { bootstrapBrokersFromEnvironment, createMskIamKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { PermanentError } from '../shared/errors';
import { S3ByteSource } from './byte-source';
import { S3CheckpointStore } from './checkpoint';
import { parseEnv, planEnvSchema, workerEnvSchema, type PlanEnv, type WorkerEnv } from './config';
import { createReplayProducer, KafkaRecordSink } from './kafka-sink';
import { replayBatchBytes } from './batch-limits';
import {
  BYTES_READ_METRIC,
  METRICS_NAMESPACE,
  RECORDS_REJECTED_METRIC,
  RECORDS_SENT_METRIC,
  RUN_BYTES_METRIC,
  RUN_DURATION_METRIC,
  RUN_RECORDS_METRIC,
  RUN_REJECTED_METRIC,
  RUNS_METRIC,
  RUNS_SKIPPED_METRIC,
} from './metric-names';
import { planReplay } from './plan';
import { S3QuarantineStore } from './quarantine';
import { replayRange } from './replay-range';
import { summarizeRun, type RunSummary, type SummaryInput } from './summary';
import { contentOf, type PlanInput, type PlanResult, type WorkerInput, type WorkerResult } from './types';
import { planStaged, S3StagingTarget, stageGzip, stagingKey } from './stage';

/**
 * File replay, three steps of one Step Functions state machine sharing this bundle:
 * - `planHandler`: HEAD the object, detect format and compression, split into ranges;
 * - `handler` (worker): replay one range until done or its time budget is spent;
 * - `summaryHandler`: add up the ranges, log the run summary and emit it as metrics.
 */
const s3 = new S3Client({});
const logger = createLogger('file-replay');
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'file-replay' });

let planEnv: PlanEnv | undefined;
let workerEnv: WorkerEnv | undefined;

export async function planHandler(event: PlanInput): Promise<PlanResult> {
  planEnv ??= parseEnv(planEnvSchema);
  assertLandingBucket(event.bucket, planEnv.LANDING_BUCKET);
  const plan = await planReplay(event, s3, { rangeSizeBytes: planEnv.RANGE_SIZE_BYTES, maxRanges: planEnv.MAX_RANGES });
  logger.info('replay planned', {
    bucket: event.bucket,
    key: event.key,
    etag: plan.object?.etag,
    size: plan.object?.size,
    format: plan.object?.format,
    compression: plan.object?.compression,
    ranges: plan.ranges.length,
    skippedReason: plan.skippedReason,
  });
  return plan;
}

export async function handler(event: WorkerInput, context: Context): Promise<WorkerResult> {
  workerEnv ??= parseEnv(workerEnvSchema);
  const env = workerEnv;
  assertLandingBucket(event.object.bucket, env.LANDING_BUCKET);
  const sink = new KafkaRecordSink(await connectedProducer(env), env.TOPIC_NAME);
  let outcome;
  try {
    outcome = await replayRange(event, {
      source: new S3ByteSource(s3, event.object.bucket, contentOf(event.object).key, contentOf(event.object).etag),
      sink,
      checkpoints: new S3CheckpointStore(s3, env.LANDING_BUCKET),
      quarantine: new S3QuarantineStore(s3, env.LANDING_BUCKET),
      settings: {
        maxBatchRecords: env.MAX_BATCH_RECORDS,
        maxBatchBytes: replayBatchBytes(env),
        maxLineBytes: env.MAX_LINE_BYTES,
        maxRejectBytes: env.MAX_REJECT_BYTES,
      },
      shouldStop: () => context.getRemainingTimeInMillis() < env.STOP_BEFORE_TIMEOUT_MS,
    });
  } catch (error) {
    // A producer that failed mid-send may be in any state; the retry gets a fresh connection.
    await discardProducer();
    logger.error('range replay failed', { key: event.object.key, range: event.range, error: error as Error });
    throw error;
  }
  logger.info('range replayed', {
    key: event.object.key,
    range: event.range,
    done: outcome.done,
    nextOffset: outcome.nextOffset,
    invocation: outcome.invocation,
    totals: outcome.totals,
  });
  metrics.addMetric(RECORDS_SENT_METRIC, MetricUnit.Count, outcome.invocation.records);
  metrics.addMetric(RECORDS_REJECTED_METRIC, MetricUnit.Count, outcome.invocation.rejected);
  metrics.addMetric(BYTES_READ_METRIC, MetricUnit.Bytes, outcome.invocation.bytes);
  metrics.publishStoredMetrics();
  return { done: outcome.done, rangeIndex: outcome.rangeIndex, nextOffset: outcome.nextOffset, totals: outcome.totals };
}

/** Decompresses a gzip object once into its staging object and plans plain ranges over that copy. */
export async function stageHandler(event: PlanResult, context: Context): Promise<PlanResult> {
  planEnv ??= parseEnv(planEnvSchema);
  const env = planEnv;
  const object = event.object;
  if (!event.needsStaging || !object) return event;
  assertLandingBucket(object.bucket, env.LANDING_BUCKET);
  const key = stagingKey(object);
  const started = Date.now();
  const staged = await stageGzip(new S3ByteSource(s3, object.bucket, object.key, object.etag), object, new S3StagingTarget(s3, env.LANDING_BUCKET, key), {
    partBytes: 64 * 1024 * 1024,
    // Completing the upload and returning must fit in what is left.
    shouldStop: () => context.getRemainingTimeInMillis() < 60_000,
  });
  const plan = planStaged(event, staged, key, { rangeSizeBytes: env.RANGE_SIZE_BYTES, maxRanges: env.MAX_RANGES });
  logger.info('gzip staged', {
    key: object.key,
    stagingKey: key,
    size: staged.size,
    parts: staged.parts,
    seconds: (Date.now() - started) / 1000,
    ranges: plan.ranges.length,
  });
  return plan;
}

export async function summaryHandler(event: SummaryInput): Promise<RunSummary> {
  const summary = summarizeRun(event, new Date());
  logger.info('replay run summary', { ...summary });
  if (summary.skippedReason) {
    metrics.addMetric(RUNS_SKIPPED_METRIC, MetricUnit.Count, 1);
  } else {
    metrics.addMetric(RUNS_METRIC, MetricUnit.Count, 1);
    metrics.addMetric(RUN_RECORDS_METRIC, MetricUnit.Count, summary.records);
    metrics.addMetric(RUN_REJECTED_METRIC, MetricUnit.Count, summary.rejected);
    metrics.addMetric(RUN_BYTES_METRIC, MetricUnit.Bytes, summary.bytes);
    metrics.addMetric(RUN_DURATION_METRIC, MetricUnit.Seconds, summary.durationSeconds);
  }
  metrics.publishStoredMetrics();
  return summary;
}

/** The functions' role may read only the landing bucket; say so plainly instead of an AccessDenied. */
function assertLandingBucket(bucket: string, landingBucket: string): void {
  if (bucket !== landingBucket) throw new PermanentError(`bucket ${bucket} is not the landing bucket ${landingBucket}`);
}

let producer: Promise<Producer> | undefined;

/** One producer per execution environment, reused across invocations (connection and producer id). */
function connectedProducer(env: WorkerEnv): Promise<Producer> {
  producer ??= (async () => {
    const brokers = bootstrapBrokersFromEnvironment(env);
    const created = createReplayProducer(createMskIamKafka({ brokers, region: env.AWS_REGION, clientId: 'lakestream-file-replay' }));
    await created.connect();
    return created;
  })();
  producer.catch(() => {
    producer = undefined;
  });
  return producer;
}

async function discardProducer(): Promise<void> {
  const current = producer;
  producer = undefined;
  if (!current) return;
  try {
    await (await current).disconnect();
  } catch {
    // Already broken; nothing to close.
  }
}
