import { generateKeyPairSync, createVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchWriteItemCommand, DynamoDBClient, QueryCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ProducerConfig, ProducerRecord } from 'kafkajs';
import { describeContractViolation, loginEventSchema } from '../../lib/contracts';

/**
 * End to end in process: the real handler against a local HTTP server that answers like Google's
 * OAuth token endpoint and the GA4 Data API; SSM and Secrets Manager mocked with
 * aws-sdk-client-mock; the kafkajs producer replaced at its interface.
 */

const mockKafka = {
  sent: [] as ProducerRecord[],
  producerConfigs: [] as ProducerConfig[],
  failSends: false,
  /** Sends that never settle, like a broker that stopped answering. */
  hangSends: false,
  connects: 0,
  disconnects: 0,
};

jest.mock('../../lib/functions/shared/kafka', () => ({
  ...jest.requireActual('../../lib/functions/shared/kafka'),
  createMskIamKafka: jest.fn(() => ({
    producer: (config: ProducerConfig) => {
      mockKafka.producerConfigs.push(config);
      return {
        connect: async () => void mockKafka.connects++,
        disconnect: async () => void mockKafka.disconnects++,
        send: async (record: ProducerRecord) => {
          if (mockKafka.failSends) throw new Error('KafkaJSNumberOfRetriesExceeded: broker unreachable');
          if (mockKafka.hangSends) return new Promise(() => undefined);
          mockKafka.sent.push(structuredClone(record));
          return [];
        },
      };
    },
  })),
}));

// ---------------------------------------------------------------- fake Google

/**
 * One version of a report row: GA4 shows `count` logins for (dhm, user) from `visibleFrom` on
 * (epoch ms; default always). Several versions of one row model GA4 delivering late and revising
 * counts after first delivery: the fake answers with the newest version visible at its clock.
 */
interface FakeRow {
  readonly dhm: string;
  readonly user: string;
  readonly count: string;
  readonly visibleFrom?: number;
}

interface ScriptedFailure {
  readonly status: number;
  readonly body: unknown;
}

interface RecordedRequest {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly authorization?: string;
}

type FilterExpression = {
  filter?: { fieldName: string; stringFilter: { matchType: string; value: string } };
  andGroup?: { expressions: FilterExpression[] };
  orGroup?: { expressions: FilterExpression[] };
};

const PROPERTY_ID = '123456789';
const CLIENT_EMAIL = 'lakestream-ga4@example-project.iam.gserviceaccount.com';
const ACCESS_TOKEN = 'ya29.fake-access-token-for-tests';
const USER_DIMENSION = 'customEvent:login_user_id';

class FakeGoogle {
  rows: FakeRow[] = [];
  timeZone = 'Europe/Paris';
  tokenFailures: ScriptedFailure[] = [];
  reportFailures: ScriptedFailure[] = [];
  reportFailsForever?: ScriptedFailure;
  tokenRequests: RecordedRequest[] = [];
  reportRequests: RecordedRequest[] = [];
  jwtProblems: string[] = [];
  /** Called before each report page is answered, e.g. to add rows while a client pages. */
  beforePage?: (offset: number) => void;
  tokensPerHourRemaining = 39_000;
  baseUrl = '';
  private server?: Server;

  constructor(private readonly publicKey: KeyObject) {}

  reset(): void {
    this.rows = [];
    this.timeZone = 'Europe/Paris';
    this.tokenFailures = [];
    this.reportFailures = [];
    this.reportFailsForever = undefined;
    this.tokenRequests = [];
    this.reportRequests = [];
    this.jwtProblems = [];
    this.beforePage = undefined;
    this.tokensPerHourRemaining = 39_000;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/token') {
      const form = Object.fromEntries(new URLSearchParams(text));
      this.tokenRequests.push({ path: req.url, body: form });
      const failure = this.tokenFailures.shift();
      if (failure) return reply(failure.status, failure.body);
      const problem = this.checkAssertion(form);
      if (problem) {
        this.jwtProblems.push(problem);
        return reply(400, { error: 'invalid_grant', error_description: problem });
      }
      return reply(200, { access_token: ACCESS_TOKEN, expires_in: 3599, token_type: 'Bearer' });
    }
    if (req.method === 'POST' && req.url === `/v1beta/properties/${PROPERTY_ID}:runReport`) {
      const body = JSON.parse(text) as Record<string, unknown>;
      this.reportRequests.push({ path: req.url, body, authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
        return reply(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
      }
      const failure = this.reportFailures.shift() ?? this.reportFailsForever;
      if (failure) return reply(failure.status, failure.body);
      const dims = (body.dimensions as Array<{ name: string }>).map((d) => d.name);
      if (dims.includes('customUser:user_id')) {
        return reply(400, { error: { code: 400, message: 'Field customUser:user_id is not a valid dimension.', status: 'INVALID_ARGUMENT' } });
      }
      return reply(200, this.runReport(body));
    }
    return reply(404, { error: { code: 404, message: `no route ${req.method} ${req.url}`, status: 'NOT_FOUND' } });
  }

  /** Verifies the RS256 JWT bearer assertion the way Google does: signature, issuer, audience, scope, lifetime. */
  private checkAssertion(form: Record<string, string>): string | undefined {
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return `grant_type ${form.grant_type}`;
    const [header, claims, signature] = (form.assertion ?? '').split('.');
    if (!header || !claims || !signature) return 'assertion is not a JWT';
    const valid = createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(this.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return 'bad signature';
    const h = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, number | string>;
    if (h.alg !== 'RS256' || h.kid !== 'key-1') return `header ${JSON.stringify(h)}`;
    if (c.iss !== CLIENT_EMAIL) return `iss ${c.iss}`;
    if (c.aud !== `${this.baseUrl}/token`) return `aud ${c.aud}`;
    if (c.scope !== 'https://www.googleapis.com/auth/analytics.readonly') return `scope ${c.scope}`;
    if (Number(c.exp) - Number(c.iat) !== 3600 || Math.abs(Number(c.iat) * 1000 - Date.now()) > 60_000) return 'bad iat/exp';
    return undefined;
  }

  /** The rows GA4 shows now: per (minute, user), the newest version already visible. */
  private visibleRows(): FakeRow[] {
    const now = Date.now();
    const newest = new Map<string, FakeRow>();
    for (const row of this.rows) {
      if ((row.visibleFrom ?? 0) > now) continue;
      const key = `${row.dhm}|${row.user}`;
      const seen = newest.get(key);
      if (!seen || (seen.visibleFrom ?? 0) <= (row.visibleFrom ?? 0)) newest.set(key, row);
    }
    return [...newest.values()];
  }

  /** A faithful-enough runReport: date range in the property zone, the filter expression, ordering, limit/offset, rowCount, quota. */
  private runReport(body: Record<string, unknown>): unknown {
    const offset = Number(body.offset ?? 0);
    this.beforePage?.(offset);
    this.tokensPerHourRemaining -= 10;
    const range = (body.dateRanges as Array<{ startDate: string; endDate: string }>)[0]!;
    const dims = (body.dimensions as Array<{ name: string }>).map((d) => d.name);
    const day = (dhm: string) => `${dhm.slice(0, 4)}-${dhm.slice(4, 6)}-${dhm.slice(6, 8)}`;
    const matches = (expression: FilterExpression, row: FakeRow): boolean => {
      if (expression.andGroup) return expression.andGroup.expressions.every((e) => matches(e, row));
      if (expression.orGroup) return expression.orGroup.expressions.some((e) => matches(e, row));
      const { fieldName, stringFilter } = expression.filter!;
      const value = fieldName === 'eventName' ? 'login' : fieldName === 'dateHourMinute' ? row.dhm : undefined;
      if (value === undefined) throw new Error(`fake GA4 cannot filter on ${fieldName}`);
      return stringFilter.matchType === 'EXACT' ? value === stringFilter.value : value.startsWith(stringFilter.value);
    };
    const matching = this.visibleRows()
      .filter((r) => day(r.dhm) >= range.startDate && day(r.dhm) <= range.endDate && matches(body.dimensionFilter as FilterExpression, r))
      .sort((a, b) => (a.dhm === b.dhm ? (a.user < b.user ? -1 : 1) : a.dhm < b.dhm ? -1 : 1));
    const limit = Number(body.limit ?? 10_000);
    const page = matching.slice(offset, offset + limit);
    return {
      dimensionHeaders: dims.map((name) => ({ name })),
      metricHeaders: [{ name: 'eventCount', type: 'TYPE_INTEGER' }],
      ...(page.length > 0 ? { rows: page.map((r) => ({ dimensionValues: [{ value: r.dhm }, { value: r.user }], metricValues: [{ value: r.count }] })) } : {}),
      ...(matching.length > 0 ? { rowCount: matching.length } : {}),
      metadata: { currencyCode: 'EUR', timeZone: this.timeZone },
      propertyQuota: { tokensPerDay: { consumed: 10, remaining: 199_000 }, tokensPerHour: { consumed: 10, remaining: this.tokensPerHourRemaining } },
      kind: 'analyticsData#runReport',
    };
  }
}

// ---------------------------------------------------------------- AWS mocks and handler

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const google = new FakeGoogle(publicKey);
const ssm = mockClient(SSMClient);
const secrets = mockClient(SecretsManagerClient);
const dynamo = mockClient(DynamoDBClient);

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:lakestream/ga4-key-AbCdEf';
const MARK_PARAMETER = '/lakestream/dev/ga4/high-water-mark';
const SENT_COUNTS_TABLE = 'lakestream-dev-ga4-sent-counts';
const BROKERS = ['b-1.msk:9098', 'b-2.msk:9098'];

let storedMark = '{"version":1}';
let failMarkWrite = false;
/** The sent-counts table: partition → sort key → item. */
let table = new Map<string, Map<string, Record<string, AttributeValue>>>();
/** The next BatchWriteItem leaves all but its first item unprocessed, as DynamoDB may under load. */
let throttleNextBatchWrite = false;
let stdout: string[] = [];
let remainingMs = 120_000;
let handler: typeof import('../../lib/functions/ga4-ingest').handler;

const NOW = Date.parse('2024-05-01T12:00:30Z'); // 14:00:30 in Paris
const HOUR = 3_600_000;

function serviceAccountJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'example-project',
    private_key_id: 'key-1',
    private_key: PRIVATE_KEY_PEM,
    client_email: CLIENT_EMAIL,
    client_id: '1234567890',
    token_uri: `${google.baseUrl}/token`,
    ...overrides,
  });
}

function context(): Context {
  return {
    functionName: 'lakestream-dev-ga4-ingest',
    awsRequestId: 'req-1',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:lakestream-dev-ga4-ingest',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

const scheduledEvent = { id: 'evt-1', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2024-05-01T12:00:00Z' } as unknown as ScheduledEvent;

const loginsSent = () => mockKafka.sent.filter((r) => r.topic === 'logins.raw').flatMap((r) => r.messages);
const dlqSent = () => mockKafka.sent.filter((r) => r.topic === 'logins.raw.dlq').flatMap((r) => r.messages);
const sentPairs = () => loginsSent().map((m) => `${String(m.key)} ${JSON.parse(String(m.value)).event_time}`);
const sentIds = () => loginsSent().map((m) => JSON.parse(String(m.value)).event_id as string);
const emfRecords = () => stdout.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
const metricValues = () => emfRecords()[emfRecords().length - 1];

function serveSentCountsTable(): void {
  dynamo.reset();
  dynamo
    .on(QueryCommand)
    .callsFake(
      async (input: { TableName: string; ExpressionAttributeValues: Record<string, AttributeValue>; ExclusiveStartKey?: Record<string, AttributeValue> }) => {
        expect(input.TableName).toBe(SENT_COUNTS_TABLE);
        const items = [...(table.get(input.ExpressionAttributeValues[':pk']!.S!)?.values() ?? [])].sort((a, b) => (a.sk!.S! < b.sk!.S! ? -1 : 1));
        const after = input.ExclusiveStartKey?.sk?.S;
        const rest = after === undefined ? items : items.filter((item) => item.sk!.S! > after);
        // Pages of three: the store must follow LastEvaluatedKey.
        const page = rest.slice(0, 3);
        return { Items: page, ...(rest.length > 3 ? { LastEvaluatedKey: { pk: page[2]!.pk!, sk: page[2]!.sk! } } : {}) };
      },
    );
  dynamo.on(BatchWriteItemCommand).callsFake(async (input: { RequestItems: Record<string, WriteRequest[]> }) => {
    const requests = input.RequestItems[SENT_COUNTS_TABLE]!;
    expect(requests.length).toBeLessThanOrEqual(25);
    const processed = throttleNextBatchWrite ? requests.slice(0, 1) : requests;
    const unprocessed = throttleNextBatchWrite ? requests.slice(1) : [];
    throttleNextBatchWrite = false;
    for (const request of processed) {
      const item = request.PutRequest!.Item!;
      const partition = table.get(item.pk!.S!) ?? new Map();
      partition.set(item.sk!.S!, item);
      table.set(item.pk!.S!, partition);
    }
    return unprocessed.length > 0 ? { UnprocessedItems: { [SENT_COUNTS_TABLE]: unprocessed } } : {};
  });
}

beforeAll(async () => {
  await google.start();
  Object.assign(process.env, {
    LOG_LEVEL: 'INFO',
    AWS_REGION: 'eu-west-1',
    GA4_PROPERTY_ID: PROPERTY_ID,
    GA4_CREDENTIALS_SECRET_ARN: SECRET_ARN,
    GA4_API_BASE_URL: google.baseUrl,
    GA4_PAGE_SIZE: '2',
    GA4_MAX_ATTEMPTS: '3',
    GA4_RETRY_BASE_MS: '5',
    GA4_RETRY_MAX_MS: '20',
    GA4_MAX_EVENTS_PER_ROW: '50',
    GA4_USER_ID_MAX_LENGTH: '40',
    GA4_INITIAL_LOOKBACK_MINUTES: '1440',
    GA4_MAX_WINDOW_MINUTES: '1440',
    GA4_SENT_COUNTS_TABLE: SENT_COUNTS_TABLE,
    HIGH_WATER_MARK_PARAMETER: MARK_PARAMETER,
    BOOTSTRAP_BROKERS: BROKERS.join(','),
    RAW_TOPIC: 'logins.raw',
    DLQ_TOPIC: 'logins.raw.dlq',
  });
  // Loaded after the environment is set: configuration is parsed at module scope (cold start).
  handler = (require('../../lib/functions/ga4-ingest') as typeof import('../../lib/functions/ga4-ingest')).handler;
});

afterAll(async () => {
  await google.stop();
});

beforeEach(() => {
  jest.useFakeTimers({
    now: NOW,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  google.reset();
  mockKafka.sent = [];
  mockKafka.producerConfigs = [];
  mockKafka.failSends = false;
  mockKafka.hangSends = false;
  mockKafka.connects = 0;
  mockKafka.disconnects = 0;
  storedMark = '{"version":1}';
  failMarkWrite = false;
  table = new Map();
  throttleNextBatchWrite = false;
  remainingMs = 120_000;
  ssm.reset();
  ssm.on(GetParameterCommand, { Name: MARK_PARAMETER }).callsFake(async () => ({ Parameter: { Name: MARK_PARAMETER, Value: storedMark } }));
  ssm.on(PutParameterCommand, { Name: MARK_PARAMETER }).callsFake(async (input: { Value: string }) => {
    if (failMarkWrite) throw new Error('ThrottlingException: Rate exceeded');
    storedMark = input.Value;
    return { Version: 2 };
  });
  serveSentCountsTable();
  secrets.reset();
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).callsFake(async () => ({ SecretString: serviceAccountJson() }));
  stdout = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/**
 * Paris local minutes. The first run (12:00:30Z) starts every pass 24 h back, at 2024-04-30T12:00Z
 * (14:00 Paris); the 8 h pass reads up to 2024-05-01T04:00Z (06:00 Paris).
 */
const FIRST_WINDOW_ROWS: FakeRow[] = [
  { dhm: '202404301330', user: 'early', count: '1' }, // 11:30Z: before the initial lookback
  { dhm: '202404301405', user: 'alice', count: '2' },
  { dhm: '202404301405', user: 'bob', count: '1' },
  { dhm: '202405010210', user: 'carol', count: '1' },
  { dhm: '202405010559', user: 'alice', count: '1' },
  { dhm: '202405010600', user: 'erin', count: '1' }, // 04:00Z: younger than 8 h
];

describe('ga4-ingest handler', () => {
  it("reads only the window's local hours, pages them in a fixed order, and sends each login once, keyed by user id", async () => {
    google.rows = [...FIRST_WINDOW_ROWS];
    const summary = await handler(scheduledEvent, context());

    // A one-row probe learns the zone, then 4 rows in the window's hours, page size 2: offsets 0, 2.
    expect(google.reportRequests.map((r) => [r.body.offset, r.body.limit])).toEqual([
      [0, 1],
      [0, 2],
      [2, 2],
    ]);
    const first = google.reportRequests[1]!.body;
    const hourPrefixes = Array.from({ length: 16 }, (_, i) => {
      const local = new Date(Date.parse('2024-04-30T14:00:00Z') + i * HOUR).toISOString();
      return local.slice(0, 13).replace(/[-T]/g, '');
    });
    expect(first).toMatchObject({
      dimensions: [{ name: 'dateHourMinute' }, { name: USER_DIMENSION }],
      metrics: [{ name: 'eventCount' }],
      dimensionFilter: {
        andGroup: {
          expressions: [
            { filter: { fieldName: 'eventName', stringFilter: { matchType: 'EXACT', value: 'login', caseSensitive: true } } },
            {
              orGroup: {
                expressions: hourPrefixes.map((value) => ({ filter: { fieldName: 'dateHourMinute', stringFilter: { matchType: 'BEGINS_WITH', value } } })),
              },
            },
          ],
        },
      },
      orderBys: [{ dimension: { dimensionName: 'dateHourMinute' } }, { dimension: { dimensionName: USER_DIMENSION } }],
      dateRanges: [{ startDate: '2024-04-30', endDate: '2024-05-01' }],
      returnPropertyQuota: true,
    });
    expect(google.jwtProblems).toEqual([]);
    expect(google.tokenRequests).toHaveLength(1);

    expect(sentPairs()).toEqual([
      'alice 2024-04-30T12:05:00.000Z',
      'alice 2024-04-30T12:05:00.000Z',
      'bob 2024-04-30T12:05:00.000Z',
      'carol 2024-05-01T00:10:00.000Z',
      'alice 2024-05-01T03:59:00.000Z',
    ]);
    const events = loginsSent().map((m) => JSON.parse(String(m.value)) as Record<string, unknown>);
    expect(events[0]).toEqual({
      event_id: expect.stringMatching(/^ga4:[0-9a-f]{32}$/),
      user_id: 'alice',
      event_time: '2024-04-30T12:05:00.000Z',
      source: 'ga4',
      schema_version: 1,
      attributes: { ga4_property_id: PROPERTY_ID, ga4_date_hour_minute: '202404301405', ga4_time_zone: 'Europe/Paris' },
    });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(5);
    expect(events.map((e) => describeContractViolation(loginEventSchema, e))).toEqual(Array(5).fill(undefined));
    expect(loginsSent().map((m) => m.headers)).toEqual(events.map((e) => ({ event_id: e.event_id, source: 'ga4' })));
    expect(dlqSent()).toEqual([]);
    expect(mockKafka.producerConfigs).toEqual([
      expect.objectContaining({ idempotent: true, maxInFlightRequests: 1, retry: expect.objectContaining({ retries: expect.any(Number) }) }),
    ]);
    expect(mockKafka.sent.every((r) => r.acks === -1)).toBe(true);
    expect(mockKafka.disconnects).toBe(1);

    expect(JSON.parse(storedMark)).toMatchObject({
      version: 2,
      timeZone: 'Europe/Paris',
      passes: { '480': '2024-05-01T04:00:00.000Z' },
      lastDataMinute: '2024-05-01T03:59:00.000Z',
    });
    expect(summary).toMatchObject({ outcome: 'committed', eventsSent: 5, passes: [{ ageMinutes: 480, rowsRead: 4, eventsSent: 5, pages: 2 }] });

    const emf = metricValues()!;
    expect(emf).toMatchObject({
      Ga4EventsSent: 5,
      Ga4RowsRejected: 0,
      Ga4ApiRetries: 0,
      Ga4EmptyMinutes: 0,
      service: 'ga4-ingest',
      FunctionName: 'lakestream-dev-ga4-ingest',
    });
    expect(emf.Ga4QuotaTokensPerHourRemaining).toBe(38_970);
    expect(JSON.stringify((emf._aws as { CloudWatchMetrics: unknown }).CloudWatchMetrics)).toContain('"Namespace":"Lakestream"');
    // Neither the key nor the token reaches the logs.
    expect(stdout.join('\n')).not.toMatch(/PRIVATE KEY|fake-access-token/);
  });

  it('delivers every login to Kafka exactly once while GA4 delivers late and revises counts, over four days of hourly runs', async () => {
    // Ground truth: logins per (Paris minute, user). GA4 shows each row some hours after the minute,
    // and shows some of them first with a lower count that it revises upwards later.
    const truth = new Map<string, number>();
    const rows: FakeRow[] = [];
    const minuteUtc = (dhm: string) => Date.parse(`${dhm.slice(0, 4)}-${dhm.slice(4, 6)}-${dhm.slice(6, 8)}T${dhm.slice(8, 10)}:${dhm.slice(10, 12)}:00+02:00`);
    for (let i = 0; i < 60; i++) {
      const utc = Date.parse('2024-04-30T12:00:00Z') + i * 37 * 60_000; // every 37 minutes for ~37 h
      const paris = new Date(utc + 2 * HOUR).toISOString();
      const dhm = paris.slice(0, 16).replace(/[-T:]/g, '');
      const user = `user-${i % 7}`;
      const final = 1 + (i % 4);
      truth.set(`${dhm}|${user}`, final);
      const firstSeen = minuteUtc(dhm) + (i % 5 === 0 ? 20 * HOUR : (2 + (i % 6)) * HOUR); // some only after the 8 h pass
      if (i % 3 === 0 && final > 1) {
        rows.push({ dhm, user, count: '1', visibleFrom: firstSeen });
        rows.push({ dhm, user, count: String(final), visibleFrom: minuteUtc(dhm) + 30 * HOUR }); // revised after first delivery
      } else {
        rows.push({ dhm, user, count: String(final), visibleFrom: firstSeen });
      }
    }
    google.rows = rows;
    for (let run = 0; run < 4 * 24; run++) {
      jest.setSystemTime(NOW + run * HOUR);
      await handler(scheduledEvent, context());
    }
    // Every minute is now older than the last pass (72 h): everything is final and must be in Kafka once.
    const ids = sentIds();
    expect(new Set(ids).size).toBe(ids.length);
    const perRow = new Map<string, number>();
    for (const m of loginsSent()) {
      const event = JSON.parse(String(m.value)) as { user_id: string; attributes: { ga4_date_hour_minute: string } };
      const key = `${event.attributes.ga4_date_hour_minute}|${event.user_id}`;
      perRow.set(key, (perRow.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries([...perRow].sort())).toEqual(Object.fromEntries([...truth].sort()));
    const late = emfRecords().reduce((sum, record) => sum + Number(record.Ga4LateEventsSent ?? 0), 0);
    expect(late).toBeGreaterThan(0);
    expect(JSON.parse(storedMark).passes).toEqual({ '480': expect.any(String), '2160': expect.any(String), '4320': expect.any(String) });
  });

  it('raises the empty-window metric above the alarm threshold when read minutes stay empty longer than the quiet period', async () => {
    google.rows = [{ dhm: '202404301405', user: 'alice', count: '1' }];
    await handler(scheduledEvent, context());
    // Read through 04:00Z, last login at 12:05Z the day before: 15 h 54 min read without a login.
    expect(metricValues()).toMatchObject({ Ga4EmptyMinutes: 15 * 60 + 54 });
    // Logins start again: the metric drops below any threshold.
    google.rows.push({ dhm: '202405010659', user: 'bob', count: '1' });
    jest.setSystemTime(NOW + HOUR);
    await handler(scheduledEvent, context());
    expect(metricValues()).toMatchObject({ Ga4EmptyMinutes: 0 });
  });

  it('restarts paging when GA4 adds rows between pages, so no row is skipped or sent twice', async () => {
    google.rows = [...FIRST_WINDOW_ROWS];
    let added = false;
    google.beforePage = (offset) => {
      if (offset === 2 && !added) {
        added = true;
        google.rows.push({ dhm: '202404301400', user: 'aaron', count: '1' });
      }
    };
    await handler(scheduledEvent, context());
    expect(sentPairs().sort()).toEqual([
      'aaron 2024-04-30T12:00:00.000Z',
      'alice 2024-04-30T12:05:00.000Z',
      'alice 2024-04-30T12:05:00.000Z',
      'alice 2024-05-01T03:59:00.000Z',
      'bob 2024-04-30T12:05:00.000Z',
      'carol 2024-05-01T00:10:00.000Z',
    ]);
  });

  it('sends nothing on a second run within the hour, and only what is new afterwards', async () => {
    google.rows = [...FIRST_WINDOW_ROWS];
    await handler(scheduledEvent, context());
    const firstIds = sentIds();
    mockKafka.sent = [];
    const reportCalls = google.reportRequests.length;
    jest.setSystemTime(NOW + 20 * 60_000);
    expect(await handler(scheduledEvent, context())).toMatchObject({ outcome: 'nothing-to-do' });
    expect(google.reportRequests).toHaveLength(reportCalls);
    expect(mockKafka.connects).toBe(1);

    jest.setSystemTime(NOW + HOUR);
    await handler(scheduledEvent, context());
    expect(sentPairs()).toEqual(['erin 2024-05-01T04:00:00.000Z']);
    expect(sentIds().filter((id) => firstIds.includes(id))).toEqual([]);
    expect(JSON.parse(storedMark).passes['480']).toBe('2024-05-01T05:00:00.000Z');
  });

  it('retries a 429 RESOURCE_EXHAUSTED and then succeeds', async () => {
    google.rows = [{ dhm: '202404301405', user: 'alice', count: '1' }];
    google.reportFailures = [{ status: 429, body: { error: { code: 429, message: 'Exhausted property tokens per hour.', status: 'RESOURCE_EXHAUSTED' } } }];
    await handler(scheduledEvent, context());
    expect(sentPairs()).toEqual(['alice 2024-04-30T12:05:00.000Z']);
    expect(metricValues()).toMatchObject({ Ga4ApiRetries: 1, Ga4EventsSent: 1 });
  });

  it('leaves later passes for the next run when the hourly tokens run low', async () => {
    storedMark = JSON.stringify({
      version: 2,
      timeZone: 'Europe/Paris',
      passes: { '480': '2024-05-01T03:00:00.000Z', '2160': '2024-04-29T23:00:00.000Z', '4320': '2024-04-28T11:00:00.000Z' },
    });
    google.tokensPerHourRemaining = 1_500;
    await handler(scheduledEvent, context());
    expect(google.reportRequests).toHaveLength(1);
    expect(JSON.parse(storedMark).passes).toEqual({
      '480': '2024-05-01T04:00:00.000Z',
      '2160': '2024-04-29T23:00:00.000Z',
      '4320': '2024-04-28T11:00:00.000Z',
    });
    expect(metricValues()).toMatchObject({ Ga4PassesDeferred: 2 });
  });

  it('gives up after the bounded attempts when the quota stays exhausted, without moving any cursor', async () => {
    google.rows = [{ dhm: '202404301405', user: 'alice', count: '1' }];
    google.reportFailsForever = { status: 429, body: { error: { code: 429, message: 'Exhausted property tokens per hour.', status: 'RESOURCE_EXHAUSTED' } } };
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      'GA4 runReport still failing after 3 attempts: runReport: HTTP 429 RESOURCE_EXHAUSTED: Exhausted property tokens per hour.',
    );
    expect(mockKafka.sent).toEqual([]);
    expect(storedMark).toBe('{"version":1}');
  });

  it('fails at once with a clear message when the token endpoint answers 401', async () => {
    google.tokenFailures = [{ status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } }];
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      `GA4 authentication failed: the token endpoint rejected service account ${CLIENT_EMAIL} (HTTP 401 invalid_client: The OAuth client was not found.)`,
    );
    expect(google.reportRequests).toHaveLength(0);
    expect(mockKafka.connects).toBe(0);
  });

  it('fails at once with a clear message when runReport answers 403', async () => {
    google.reportFailures = [
      { status: 403, body: { error: { code: 403, message: 'User does not have sufficient permissions for this property.', status: 'PERMISSION_DENIED' } } },
    ];
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      `GA4 Data API refused property ${PROPERTY_ID} (HTTP 403 PERMISSION_DENIED: User does not have sufficient permissions for this property.); grant service account ${CLIENT_EMAIL} the Viewer role`,
    );
    expect(google.reportRequests).toHaveLength(1);
    expect(stdout.join('\n')).not.toMatch(/PRIVATE KEY|fake-access-token/);
  });

  it('sends rows that cannot become login events to the DLQ topic once, with the reason, whatever the passes re-read', async () => {
    google.rows = [
      { dhm: '202404301405', user: 'alice', count: '1' },
      { dhm: '202404301406', user: '(not set)', count: '7' },
      { dhm: '202404301407', user: '(other)', count: '12' },
      { dhm: '202404301408', user: 'u'.repeat(41), count: '1' },
      { dhm: '202404301409', user: 'bot', count: '51' },
      { dhm: '202404301410', user: 'bob', count: '50' },
    ];
    const summary = await handler(scheduledEvent, context());
    expect(loginsSent().map((m) => String(m.key))).toEqual(['alice', ...Array(50).fill('bob')]);
    const rejected = dlqSent().map((m) => ({ key: String(m.key), ...(JSON.parse(String(m.value)) as { reason: string }) }));
    expect(rejected.map((r) => [r.key, r.reason])).toEqual([
      ['202404301406|(not set)', 'user id dimension is (not set): the login event was sent without the user id parameter'],
      ['202404301407|(other)', 'row aggregated into (other): the user id dimension exceeded GA4 cardinality limits'],
      [`202404301408|${'u'.repeat(41)}`, 'user id is 41 characters, above the declared userIdMaxLength 40'],
      ['202404301409|bot', 'eventCount 51 exceeds 50 logins per user per minute: likely a bot or a shared id'],
    ]);
    expect(rejected[0]).toMatchObject({
      kind: 'ga4-rejected-row',
      version: 1,
      property_id: PROPERTY_ID,
      time_zone: 'Europe/Paris',
      row: { dateHourMinute: '202404301406', userId: '(not set)', eventCount: '7' },
    });
    expect(summary).toMatchObject({ rowsRejected: 4, eventsSent: 51 });
    expect(metricValues()).toMatchObject({ Ga4RowsRejected: 4, Ga4EventsSent: 51 });

    // Over the next 36 h the second pass reads the same rows: nothing is sent or dead-lettered again.
    mockKafka.sent = [];
    for (let hour = 1; hour <= 36; hour++) {
      jest.setSystemTime(NOW + hour * HOUR);
      await handler(scheduledEvent, context());
    }
    expect(JSON.parse(storedMark).passes['2160']).toBe('2024-05-01T12:00:00.000Z');
    expect(mockKafka.sent).toEqual([]);
  });

  it('keeps the cursor when the producer cannot flush, and sends the same event ids on the next run', async () => {
    google.rows = [{ dhm: '202404301405', user: 'alice', count: '2' }];
    mockKafka.failSends = true;
    await expect(handler(scheduledEvent, context())).rejects.toThrow('broker unreachable');
    expect(JSON.parse(storedMark).passes?.['480']).toBeUndefined();
    expect(mockKafka.disconnects).toBe(1);
    mockKafka.failSends = false;
    await handler(scheduledEvent, context());
    const ids = sentIds();
    expect(ids).toHaveLength(2);
    // A crash between the flush and the sent-counts write re-sends the same ids (what downstream de-duplicates on).
    mockKafka.sent = [];
    storedMark = '{"version":1}';
    table = new Map();
    await handler(scheduledEvent, context());
    expect(sentIds()).toEqual(ids);
  });

  it('records counts through unprocessed batch writes, so a re-read after a lost cursor write sends nothing', async () => {
    google.rows = [
      { dhm: '202404301405', user: 'alice', count: '2' },
      { dhm: '202404301406', user: 'bob', count: '1' },
    ];
    throttleNextBatchWrite = true;
    failMarkWrite = true;
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      'Sent, flushed and recorded the pass of age 480 min for 2024-04-30T12:00:00.000Z..2024-05-01T04:00:00.000Z but could not advance its cursor (ThrottlingException: Rate exceeded)',
    );
    expect(sentIds()).toHaveLength(3);
    mockKafka.sent = [];
    failMarkWrite = false;
    await handler(scheduledEvent, context());
    expect(mockKafka.sent).toEqual([]);
  });

  it('stops waiting for a send that does not return at the run deadline, leaving the cursor', async () => {
    google.rows = [{ dhm: '202404301405', user: 'alice', count: '1' }];
    mockKafka.hangSends = true;
    remainingMs = 20_300; // 300 ms before the deadline (20 s margin)
    const started = Date.now();
    await expect(handler(scheduledEvent, context())).rejects.toThrow(/Run deadline reached during a Kafka send/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(JSON.parse(storedMark).passes?.['480']).toBeUndefined();
  });

  it('refuses a corrupt mark instead of starting over', async () => {
    storedMark = '{"version":2,"passes":{"480":"yesterday"}}';
    await expect(handler(scheduledEvent, context())).rejects.toThrow(`High-water mark ${MARK_PARAMETER} is invalid`);
    expect(google.tokenRequests).toHaveLength(0);
  });

  it('continues a version 1 mark: every pass starts at its through', async () => {
    storedMark = JSON.stringify({ version: 1, through: '2024-05-01T02:00:00.000Z', timeZone: 'Europe/Paris' });
    google.rows = [...FIRST_WINDOW_ROWS];
    await handler(scheduledEvent, context());
    expect(sentPairs()).toEqual(['alice 2024-05-01T03:59:00.000Z']);
    expect(JSON.parse(storedMark).passes).toEqual({
      '480': '2024-05-01T04:00:00.000Z',
      '2160': '2024-05-01T02:00:00.000Z',
      '4320': '2024-05-01T02:00:00.000Z',
    });
  });

  it('rejects a secret that is not a service-account key without echoing it', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ type: 'authorized_user', refresh_token: 'rt-secret' }) });
    const error = await handler(scheduledEvent, context()).catch((e: Error) => e);
    expect((error as Error).message).toMatch(`Secret ${SECRET_ARN} is not a usable service-account key (type:`);
    expect((error as Error).message).not.toContain('rt-secret');
  });

  it('re-reads the window when the property time zone changed since the last run', async () => {
    storedMark = JSON.stringify({ version: 2, timeZone: 'Pacific/Kiritimati', passes: { '480': '2024-05-01T03:00:00.000Z' } });
    google.rows = [{ dhm: '202405010535', user: 'alice', count: '1' }];
    await handler(scheduledEvent, context());
    // 03:00Z..04:00Z is 17:00 on 2024-05-01 on Kiritimati (UTC+14) but 05:00 in Paris: the first read
    // asks for the wrong hour, the second (in the zone GA4 reported) finds the row.
    expect(google.reportRequests.map((r) => JSON.stringify(r.body.dimensionFilter).match(/"value":"(\d{10})"/)?.[1])).toEqual(['2024050117', '2024050105']);
    expect(sentPairs()).toEqual(['alice 2024-05-01T03:35:00.000Z']);
    expect(JSON.parse(storedMark).timeZone).toBe('Europe/Paris');
  });
});
