import type { RecordBatch } from './batcher';

/**
 * Where replayed records go. `send` resolves once the batch is durably acknowledged (the worker
 * checkpoints right after); `flush` waits for anything the sink still holds. Production uses
 * the Kafka sink; tests and the benchmark put their own implementation here.
 */
export interface RecordSink {
  send(batch: RecordBatch): Promise<void>;
  flush(): Promise<void>;
}
