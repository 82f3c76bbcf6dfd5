import { CompressionTypes } from 'kafkajs';
import { createMskIamKafka, PRODUCE_ACK_TIMEOUT_MS } from '../shared/kafka';
import type { MessageSink } from './producer';

export interface KafkaSinkOptions {
  /** host:port entries of the IAM listener. */
  readonly brokers: string[];
  readonly region: string;
  readonly clientId: string;
}

/**
 * kafkajs idempotent producer over MSK IAM: the broker drops retried duplicates within the
 * producer session, and one request in flight keeps per-key order across retries. This module is
 * imported dynamically, so runs with nothing to send never load kafkajs and the IAM signer.
 */
export async function connectKafkaSink(options: KafkaSinkOptions): Promise<MessageSink> {
  const kafka = createMskIamKafka({ brokers: options.brokers, region: options.region, clientId: options.clientId });
  // Bounded retries (kafkajs retries an idempotent producer without limit by default): a broken
  // cluster fails the run, the cursor stays, and the next run sends the same events again.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
  await producer.connect();
  return {
    async send(topic, messages) {
      await producer.send({ topic, acks: -1, timeout: PRODUCE_ACK_TIMEOUT_MS, compression: CompressionTypes.GZIP, messages: messages.map((m) => ({ ...m })) });
    },
    async close() {
      await producer.disconnect();
    },
  };
}
