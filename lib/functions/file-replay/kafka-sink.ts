import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { PRODUCE_ACK_TIMEOUT_MS } from '../shared/kafka';
import type { RecordBatch } from './batcher';
import type { RecordSink } from './record-sink';

/**
 * An idempotent kafkajs producer: the broker de-duplicates the producer's own retries, so a
 * request that timed out but had landed is not written twice. kafkajs requires acks=all (-1) for
 * it, and one request in flight keeps the per-partition sequence in order across retries (KIP-98).
 *
 * Idempotence lasts for one producer session. Across Lambda invocations the worker's checkpoint
 * does the de-duplication, which bounds duplicates to at most one batch (see replay-range.ts).
 * Retries are capped (kafkajs defaults to unlimited for idempotent producers and warns when
 * capped) so that a broken cluster fails the invocation and Step Functions' retry resumes
 * from the checkpoint, instead of a Lambda spinning until its timeout.
 *
 * The MSK IAM policy must allow kafka-cluster:WriteDataIdempotently on the cluster for the
 * producer id request to succeed.
 */
export function createReplayProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/**
 * Sends each batch in one produce call, GZIP-compressed by kafkajs (the only codec it ships
 * built in; snappy, lz4 and zstd need native add-ons we keep out of the Lambda bundle).
 */
export class KafkaRecordSink implements RecordSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(batch: RecordBatch): Promise<void> {
    if (batch.records.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      messages: batch.records as Message[],
      acks: -1,
      // Shorter than the client's request timeout (shared/kafka.ts): the broker answers first.
      timeout: PRODUCE_ACK_TIMEOUT_MS,
      compression: CompressionTypes.GZIP,
    });
  }

  /** kafkajs resolves `send` only after the brokers acknowledged it: nothing is left in flight. */
  async flush(): Promise<void> {}
}
