export interface OutgoingMessage {
  readonly key: string;
  readonly value: string;
  readonly headers?: Record<string, string>;
}

/** Where messages go; a send resolves only once every broker ack (acks=all) is in. */
export interface MessageSink {
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Buffers messages for one topic and sends them in batches, so memory is bounded by the batch
 * and not by the number of events in the window.
 */
export class TopicBatcher {
  private buffer: OutgoingMessage[] = [];
  private sentCount = 0;

  constructor(
    private readonly sink: MessageSink,
    readonly topic: string,
    private readonly batchSize: number,
  ) {}

  get sent(): number {
    return this.sentCount;
  }

  async add(message: OutgoingMessage): Promise<void> {
    this.buffer.push(message);
    if (this.buffer.length >= this.batchSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.sink.send(this.topic, batch);
    this.sentCount += batch.length;
  }
}
