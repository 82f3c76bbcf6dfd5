import { CompressionTypes } from 'kafkajs';
import { createMskIamKafka } from '../shared/kafka';
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
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async send(topic, messages) {
      await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: messages.map((m) => ({ ...m })) });
    },
    async close() {
      await producer.disconnect();
    },
  };
}
