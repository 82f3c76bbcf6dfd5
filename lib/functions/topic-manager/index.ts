import * as z from 'zod/mini';
import { createLogger } from '../shared/logger';
import { createMskIamKafka } from '../shared/kafka';
import { createTopicManager } from './manager';

/**
 * Topic manager: a CloudFormation custom resource (behind the CDK Provider framework) that
 * converges the MSK cluster's topics to the declaration in its properties. Runs in the VPC and
 * speaks Kafka with IAM auth on port 9098; the broker list comes with the properties.
 */

const AWS_REGION_MISSING = 'AWS_REGION is not set (Lambda sets it; it names the region that signs MSK IAM tokens)';
const environmentSchema = z.object({
  AWS_REGION: z.string(AWS_REGION_MISSING).check(z.minLength(1, AWS_REGION_MISSING)),
});

function loadEnvironment(): z.output<typeof environmentSchema> {
  const result = z.safeParse(environmentSchema, process.env);
  if (!result.success) {
    throw new Error(`Invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

const environment = loadEnvironment();
const logger = createLogger('topic-manager');

export const handler = createTopicManager({
  createAdmin: (brokers) => createMskIamKafka({ brokers, region: environment.AWS_REGION, clientId: 'lakestream-topic-manager' }).admin(),
  log: logger,
  operationTimeoutMs: 60_000,
  brokerTimeoutMs: 30_000,
  safetyMarginMs: 20_000,
  defaultBudgetMs: 4 * 60_000,
  disconnectTimeoutMs: 5_000,
});
