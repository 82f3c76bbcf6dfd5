import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

/**
 * Kafka clients for Lakestream's Lambda glue. MSK accepts IAM-authenticated TLS connections only
 * (port 9098), so every client signs an OAUTHBEARER token with the function's own role.
 */

/** Environment variable holding the IAM bootstrap broker string (comma-separated host:port list). */
export const BOOTSTRAP_BROKERS_VARIABLE = 'BOOTSTRAP_BROKERS';

/** Splits an MSK bootstrap broker string (`host:9098,host:9098`) into its host:port entries. */
export function parseBootstrapBrokers(value: string): string[] {
  return value
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/**
 * The broker list the construct put in the function's environment. The constructs set it to the
 * bootstrap-brokers SSM parameter as a dynamic reference, which CloudFormation resolves at deploy
 * time: the function needs no SSM client (about 200 KB of bundle and its cold-start load) and no
 * ssm:GetParameter grant. Trade-off: a replaced cluster reaches the functions only when their stack
 * is deployed again, which the stage does since it deploys the streaming stack after the data stack.
 */
export function bootstrapBrokersFromEnvironment(env: { readonly [BOOTSTRAP_BROKERS_VARIABLE]?: string } = process.env): string[] {
  const value = env[BOOTSTRAP_BROKERS_VARIABLE];
  if (value === undefined) {
    throw new Error(
      `${BOOTSTRAP_BROKERS_VARIABLE} is not set: it must hold the MSK IAM bootstrap broker string (host:9098,...), set by the construct from the bootstrap-brokers parameter`,
    );
  }
  const brokers = parseBootstrapBrokers(value);
  if (brokers.length === 0) {
    throw new Error(
      `${BOOTSTRAP_BROKERS_VARIABLE} is empty: it must hold the MSK IAM bootstrap broker string (host:9098,...); has the bootstrap-brokers resource run?`,
    );
  }
  return brokers;
}

/**
 * How long a broker may wait for the in-sync replicas before answering a produce request with
 * acks=all (the produce request's `timeout`, kafkajs's default). Producers pass it explicitly.
 */
export const PRODUCE_ACK_TIMEOUT_MS = 30_000;

/**
 * Client request timeout: longer than the ack timeout, so that a broker still waiting for its
 * replicas (e.g. during a rolling patch) answers before the client gives up on the request and
 * spends a retry on a produce that may well succeed.
 */
export const KAFKA_REQUEST_TIMEOUT_MS = PRODUCE_ACK_TIMEOUT_MS + 15_000;

export interface MskIamKafkaOptions {
  /** host:port list of the IAM (9098) listener. */
  readonly brokers: string[];
  /** Region whose credentials sign the OAUTHBEARER token. */
  readonly region: string;
  /** kafkajs client id: shows in broker logs and quotas. */
  readonly clientId: string;
  /** Connection timeout; kept short so a misconfigured network fails fast, not at the Lambda timeout. */
  readonly connectionTimeoutMs?: number;
  /** Request timeout; keep it above PRODUCE_ACK_TIMEOUT_MS. @default KAFKA_REQUEST_TIMEOUT_MS */
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
    requestTimeout: options.requestTimeoutMs ?? KAFKA_REQUEST_TIMEOUT_MS,
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
  };
  return new Kafka(config);
}
