import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

/**
 * Kafka clients for Lakestream's Lambda glue. MSK accepts IAM-authenticated TLS connections only
 * (port 9098), so every client signs an OAUTHBEARER token with the function's own role.
 */

const ssm = new SSMClient({});
let cachedBrokers: { parameterName: string; brokers: string[] } | undefined;

/**
 * Reads the IAM bootstrap broker string that the bootstrap-brokers custom resource publishes to
 * SSM Parameter Store. Cached for the life of the execution environment: brokers change only
 * when the cluster is replaced, which also redeploys every consumer.
 */
export async function resolveBootstrapBrokers(parameterName: string): Promise<string[]> {
  if (cachedBrokers?.parameterName === parameterName) return cachedBrokers.brokers;
  const out = await ssm.send(new GetParameterCommand({ Name: parameterName }));
  const value = out.Parameter?.Value;
  if (!value) throw new Error(`SSM parameter ${parameterName} has no value: has the bootstrap-brokers resource run?`);
  const brokers = value.split(',').map((b) => b.trim()).filter(Boolean);
  cachedBrokers = { parameterName, brokers };
  return brokers;
}

/** Test hook: forget the cached broker list. */
export function resetBootstrapBrokerCache(): void {
  cachedBrokers = undefined;
}

export interface MskIamKafkaOptions {
  /** host:port list of the IAM (9098) listener. */
  readonly brokers: string[];
  /** Region whose credentials sign the OAUTHBEARER token. */
  readonly region: string;
  /** kafkajs client id: shows in broker logs and quotas. */
  readonly clientId: string;
  /** Connection timeout; kept short so a misconfigured network fails fast, not at the Lambda timeout. */
  readonly connectionTimeoutMs?: number;
  /** Request timeout. */
  readonly requestTimeoutMs?: number;
}

/** A kafkajs client that authenticates to MSK with IAM over TLS. */
export function createMskIamKafka(options: MskIamKafkaOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: true,
    sasl: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const { token } = await generateAuthToken({ region: options.region });
        return { value: token };
      },
    },
    connectionTimeout: options.connectionTimeoutMs ?? 5_000,
    requestTimeout: options.requestTimeoutMs ?? 15_000,
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
  };
  return new Kafka(config);
}
