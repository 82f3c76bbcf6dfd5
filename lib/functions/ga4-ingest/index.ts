import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { GA4_INGEST_METRICS, emfDefaultDimensions } from '../../contracts/metrics';
import { createLogger } from '../shared/logger';
import { loadConfig } from './config';
import { SsmMarkStore } from './high-water-mark';
import { runIngestion, RunStats, type RunSummary } from './ingest';
import { realRetryHooks } from './retry';
import { DynamoSentCountStore } from './sent-counts';

/**
 * Scheduled GA4 login ingest: for each read pass, Data API rows of the pass's window → logins
 * beyond the counts already sent → raw login events on Kafka (rejected rows to the DLQ topic) →
 * counts recorded → pass cursor advanced. See README.md in this folder.
 */

export const METRICS_NAMESPACE = GA4_INGEST_METRICS.namespace;
export const SERVICE_NAME = GA4_INGEST_METRICS.service;
/** Time kept back from the Lambda timeout for the final flush, the mark write and metrics. */
export const DEADLINE_MARGIN_MS = 20_000;

const config = loadConfig(process.env);
const logger = createLogger(SERVICE_NAME);
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
const ssm = new SSMClient({});
const secretsManager = new SecretsManagerClient({});
const markStore = new SsmMarkStore(ssm, config.highWaterMarkParameter);
/** Sent counts are kept a week past the last pass: long enough for any catch-up, then they expire. */
const SENT_COUNT_RETENTION_MS = config.passAgesMs[config.passAgesMs.length - 1] + 7 * 24 * 60 * 60_000;
const sentCounts = new DynamoSentCountStore(new DynamoDBClient({}), config.sentCountsTable, config.propertyId, SENT_COUNT_RETENTION_MS);

export async function handler(event: ScheduledEvent, context: Context): Promise<RunSummary> {
  logger.addContext(context);
  logger.appendKeys({ scheduledEventId: event.id, propertyId: config.propertyId });
  metrics.setDefaultDimensions(emfDefaultDimensions(GA4_INGEST_METRICS, { FunctionName: context.functionName }));
  const stats = new RunStats();
  try {
    return await runIngestion(
      config,
      {
        readSecret: async () => (await secretsManager.send(new GetSecretValueCommand({ SecretId: config.credentialsSecretArn }))).SecretString,
        markStore,
        sentCounts,
        openSink: async () => {
          const { connectKafkaSink } = await import('./kafka-sink');
          return connectKafkaSink({ brokers: config.bootstrapBrokers, region: config.region, clientId: `${SERVICE_NAME}-${config.propertyId}` });
        },
        hooks: realRetryHooks,
        logger,
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      },
      stats,
    );
  } catch (error) {
    logger.error('GA4 ingest run failed; the high-water mark was not advanced', error as Error);
    throw error;
  } finally {
    metrics.addMetric(GA4_INGEST_METRICS.metrics.eventsSent, MetricUnit.Count, stats.eventsSent);
    metrics.addMetric(GA4_INGEST_METRICS.metrics.rowsRejected, MetricUnit.Count, stats.rowsRejected);
    metrics.addMetric(GA4_INGEST_METRICS.metrics.apiRetries, MetricUnit.Count, stats.apiRetries);
    metrics.addMetric(GA4_INGEST_METRICS.metrics.lateEventsSent, MetricUnit.Count, stats.lateEventsSent);
    metrics.addMetric(GA4_INGEST_METRICS.metrics.countsRevisedDown, MetricUnit.Count, stats.countsRevisedDown);
    metrics.addMetric(GA4_INGEST_METRICS.metrics.passesDeferred, MetricUnit.Count, stats.passesDeferred);
    if (stats.emptyMinutes !== undefined) metrics.addMetric(GA4_INGEST_METRICS.metrics.emptyMinutes, MetricUnit.Count, stats.emptyMinutes);
    if (stats.quotaTokensPerHourRemaining !== undefined) {
      metrics.addMetric(GA4_INGEST_METRICS.metrics.quotaTokensPerHourRemaining, MetricUnit.Count, stats.quotaTokensPerHourRemaining);
    }
    metrics.publishStoredMetrics();
  }
}
