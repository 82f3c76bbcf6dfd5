import { BatchWriteItemCommand, QueryCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { IngestWindow } from './high-water-mark';
import { MINUTE_MS } from './time';

/**
 * How many logins of each (minute, user) row have been sent, so that a re-read sends only what
 * GA4 added since: a row first read with 2 logins and later with 3 sends the 3rd (index 2) only.
 * Rows GA4 lowers later cannot be unsent; they are counted (Ga4CountsRevisedDown).
 *
 * DynamoDB, one item per row: partition `<property>#<UTC hour of the minute>`, sort key
 * `<dateHourMinute>#<user id>` (dateHourMinute has a fixed width, so the key is unambiguous).
 * A pass's window is whole UTC hours, so its counts are one Query per hour. Items expire (TTL)
 * after the last pass has read their minute.
 */

export interface SentCount {
  /** Logins sent (event indexes 0..sent-1). */
  readonly sent: number;
  /** eventCount of the row when it was last sent to the DLQ instead; a repeat with the same count is not sent again. */
  readonly rejectedCount?: number;
}

export interface SentCountUpdate extends SentCount {
  /** UTC start of the row's minute. */
  readonly minuteStart: number;
  readonly dateHourMinute: string;
  readonly userId: string;
}

export interface SentCountStore {
  load(window: IngestWindow): Promise<Map<string, SentCount>>;
  save(updates: readonly SentCountUpdate[]): Promise<void>;
}

export const sentCountKey = (dateHourMinute: string, userId: string) => `${dateHourMinute}#${userId}`;

const HOUR_MS = 60 * MINUTE_MS;
/** Attempts for a batch write's unprocessed items before the run fails (the cursor then stays). */
const MAX_UNPROCESSED_ROUNDS = 5;

export class DynamoSentCountStore implements SentCountStore {
  constructor(
    private readonly dynamo: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    private readonly propertyId: string,
    /** How long after its minute an item is kept: the last pass's age plus a margin. */
    private readonly retentionMs: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  private partition(minuteStart: number): string {
    return `${this.propertyId}#${new Date(Math.floor(minuteStart / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}`;
  }

  async load(window: IngestWindow): Promise<Map<string, SentCount>> {
    const counts = new Map<string, SentCount>();
    for (let hour = Math.floor(window.start / HOUR_MS) * HOUR_MS; hour < window.end; hour += HOUR_MS) {
      let startKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
      do {
        const page = await this.dynamo.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: this.partition(hour) } },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const rejected = item.rejectedCount?.N;
          counts.set(item.sk.S as string, { sent: Number(item.sent?.N ?? '0'), ...(rejected !== undefined ? { rejectedCount: Number(rejected) } : {}) });
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return counts;
  }

  async save(updates: readonly SentCountUpdate[]): Promise<void> {
    const requests: WriteRequest[] = updates.map((u) => ({
      PutRequest: {
        Item: {
          pk: { S: this.partition(u.minuteStart) },
          sk: { S: sentCountKey(u.dateHourMinute, u.userId) },
          sent: { N: String(u.sent) },
          ...(u.rejectedCount !== undefined ? { rejectedCount: { N: String(u.rejectedCount) } } : {}),
          expiresAt: { N: String(Math.floor((u.minuteStart + this.retentionMs) / 1000)) },
        },
      },
    }));
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let round = 1; pending.length > 0; round++) {
        if (round > MAX_UNPROCESSED_ROUNDS)
          throw new Error(`DynamoDB left ${pending.length} sent-count writes unprocessed after ${MAX_UNPROCESSED_ROUNDS} attempts`);
        const out = await this.dynamo.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length > 0) await this.sleep(50 * 2 ** round);
      }
    }
  }
}
