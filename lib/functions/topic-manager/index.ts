import * as z from 'zod';
import { createLogger } from '../shared/logger';
import { createMskIamKafka, resolveBootstrapBrokers } from '../shared/kafka';
import { createTopicManager } from './manager';

/**
 * Topic manager: a CloudFormation custom resource (behind the CDK Provider framework) that
 * converges the MSK cluster's topics to the declaration in its properties. Runs in the VPC and
 * speaks Kafka with IAM auth on port 9098.
 */

const environmentSchema = z.object({
  AWS_REGION: z.string({ error: 'AWS_REGION is not set (Lambda sets it; it names the region that signs MSK IAM tokens)' }).min(1),
});

function loadEnvironment(): z.infer<typeof environmentSchema> {
  const result = environmentSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(`Invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

const environment = loadEnvironment();
const logger = createLogger('topic-manager');

export const handler = createTopicManager({
  resolveBrokers: resolveBootstrapBrokers,
  createAdmin: (brokers) => createMskIamKafka({ brokers, region: environment.AWS_REGION, clientId: 'lakestream-topic-manager' }).admin(),
  log: logger,
  operationTimeoutMs: 60_000,
  brokerTimeoutMs: 30_000,
  safetyMarginMs: 20_000,
  defaultBudgetMs: 4 * 60_000,
  disconnectTimeoutMs: 5_000,
});
