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

/**
 * Scheduled GA4 login ingest: Data API rows since the high-water mark → raw login events on
 * Kafka (rejected rows to the DLQ topic) → mark advanced. See README.md in this folder.
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
    metrics.publishStoredMetrics();
  }
}
