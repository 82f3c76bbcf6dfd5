import { generateKeyPairSync, createVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
          mockKafka.sent.push(structuredClone(record));
          return [];
        },
      };
    },
  })),
}));

// ---------------------------------------------------------------- fake Google

interface FakeRow {
  readonly dhm: string;
  readonly user: string;
  readonly count: string;
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

const PROPERTY_ID = '123456789';
const CLIENT_EMAIL = 'lakestream-ga4@example-project.iam.gserviceaccount.com';
const ACCESS_TOKEN = 'ya29.fake-access-token-for-tests';

class FakeGoogle {
  rows: FakeRow[] = [];
  timeZone = 'Europe/Paris';
  tokenFailures: ScriptedFailure[] = [];
  reportFailures: ScriptedFailure[] = [];
  reportFailsForever?: ScriptedFailure;
  tokenRequests: RecordedRequest[] = [];
  reportRequests: RecordedRequest[] = [];
  jwtProblems: string[] = [];
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

  /** A faithful-enough runReport: date range in the property zone, eventName filter, ordering, limit/offset, rowCount. */
  private runReport(body: Record<string, unknown>): unknown {
    const range = (body.dateRanges as Array<{ startDate: string; endDate: string }>)[0]!;
    const filter = (body.dimensionFilter as { filter: { fieldName: string; stringFilter: { matchType: string; value: string } } }).filter;
    if (filter.fieldName !== 'eventName' || filter.stringFilter.matchType !== 'EXACT' || filter.stringFilter.value !== 'login') {
      return { rowCount: 0, metadata: { timeZone: this.timeZone } };
    }
    const dims = (body.dimensions as Array<{ name: string }>).map((d) => d.name);
    const day = (dhm: string) => `${dhm.slice(0, 4)}-${dhm.slice(4, 6)}-${dhm.slice(6, 8)}`;
    const matching = this.rows
      .filter((r) => day(r.dhm) >= range.startDate && day(r.dhm) <= range.endDate)
      .sort((a, b) => (a.dhm === b.dhm ? (a.user < b.user ? -1 : 1) : a.dhm < b.dhm ? -1 : 1));
    const offset = Number(body.offset ?? 0);
    const limit = Number(body.limit ?? 10_000);
    const page = matching.slice(offset, offset + limit);
    return {
      dimensionHeaders: dims.map((name) => ({ name })),
      metricHeaders: [{ name: 'eventCount', type: 'TYPE_INTEGER' }],
      ...(page.length > 0 ? { rows: page.map((r) => ({ dimensionValues: [{ value: r.dhm }, { value: r.user }], metricValues: [{ value: r.count }] })) } : {}),
      ...(matching.length > 0 ? { rowCount: matching.length } : {}),
      metadata: { currencyCode: 'EUR', timeZone: this.timeZone },
      propertyQuota: { tokensPerDay: { consumed: 5, remaining: 199_000 }, tokensPerHour: { consumed: 5, remaining: 39_000 } },
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

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:lakestream/ga4-key-AbCdEf';
const MARK_PARAMETER = '/lakestream/dev/ga4/high-water-mark';
const BROKERS = ['b-1.msk:9098', 'b-2.msk:9098'];

let storedMark = '{"version":1}';
let failMarkWrite = false;
let stdout: string[] = [];
let handler: typeof import('../../lib/functions/ga4-ingest').handler;

const NOW = Date.parse('2024-05-01T12:00:30Z'); // 14:00:30 in Paris

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
    getRemainingTimeInMillis: () => 120_000,
  } as unknown as Context;
}

const scheduledEvent = { id: 'evt-1', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2024-05-01T12:00:00Z' } as unknown as ScheduledEvent;

const loginsSent = () => mockKafka.sent.filter((r) => r.topic === 'logins.raw').flatMap((r) => r.messages);
const dlqSent = () => mockKafka.sent.filter((r) => r.topic === 'logins.raw.dlq').flatMap((r) => r.messages);
const sentPairs = () => loginsSent().map((m) => `${String(m.key)} ${JSON.parse(String(m.value)).event_time}`);
const metricValues = () => {
  const emf = stdout.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  return emf[emf.length - 1];
};

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
    GA4_SETTLE_DELAY_MINUTES: '30',
    GA4_INITIAL_LOOKBACK_MINUTES: '180',
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
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  google.reset();
  mockKafka.sent = [];
  mockKafka.producerConfigs = [];
  mockKafka.failSends = false;
  mockKafka.connects = 0;
  mockKafka.disconnects = 0;
  storedMark = '{"version":1}';
  failMarkWrite = false;
  ssm.reset();
  ssm.on(GetParameterCommand, { Name: MARK_PARAMETER }).callsFake(async () => ({ Parameter: { Name: MARK_PARAMETER, Value: storedMark } }));
  ssm.on(PutParameterCommand, { Name: MARK_PARAMETER }).callsFake(async (input: { Value: string }) => {
    if (failMarkWrite) throw new Error('ThrottlingException: Rate exceeded');
    storedMark = input.Value;
    return { Version: 2 };
  });
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

/** Paris local minutes; 11:00..13:29 Paris is the first window (09:00Z..11:30Z). */
const FIRST_WINDOW_ROWS: FakeRow[] = [
  { dhm: '202405011030', user: 'early', count: '1' }, // 08:30Z: before the initial lookback
  { dhm: '202405011105', user: 'alice', count: '2' },
  { dhm: '202405011105', user: 'bob', count: '1' },
  { dhm: '202405011210', user: 'carol', count: '1' },
  { dhm: '202405011329', user: 'alice', count: '1' },
  { dhm: '202405011330', user: 'erin', count: '1' }, // 11:30Z: not settled yet
  { dhm: '202405011350', user: 'frank', count: '1' }, // 11:50Z
];

describe('ga4-ingest handler', () => {
  it('pages through the report with limit/offset and sends each login once, keyed by user id', async () => {
    google.rows = [...FIRST_WINDOW_ROWS];
    const summary = await handler(scheduledEvent, context());

    // 7 rows in the queried days, page size 2: offsets 0, 2, 4, 6.
    expect(google.reportRequests.map((r) => [r.body.offset, r.body.limit])).toEqual([[0, 2], [2, 2], [4, 2], [6, 2]]);
    const first = google.reportRequests[0]!.body;
    expect(first).toMatchObject({
      dimensions: [{ name: 'dateHourMinute' }, { name: 'customUser:user_id' }],
      metrics: [{ name: 'eventCount' }],
      dimensionFilter: { filter: { fieldName: 'eventName', stringFilter: { matchType: 'EXACT', value: 'login', caseSensitive: true } } },
      // Zone not known yet: a day either side of the UTC window.
      dateRanges: [{ startDate: '2024-04-30', endDate: '2024-05-02' }],
    });
    expect(google.jwtProblems).toEqual([]);
    expect(google.tokenRequests).toHaveLength(1);

    expect(sentPairs()).toEqual([
      'alice 2024-05-01T09:05:00.000Z',
      'alice 2024-05-01T09:05:00.000Z',
      'bob 2024-05-01T09:05:00.000Z',
      'carol 2024-05-01T10:10:00.000Z',
      'alice 2024-05-01T11:29:00.000Z',
    ]);
    const events = loginsSent().map((m) => JSON.parse(String(m.value)) as Record<string, unknown>);
    expect(events[0]).toEqual({
      event_id: expect.stringMatching(/^ga4:[0-9a-f]{32}$/),
      user_id: 'alice',
      event_time: '2024-05-01T09:05:00.000Z',
      source: 'ga4',
      schema_version: 1,
      attributes: { ga4_property_id: PROPERTY_ID, ga4_date_hour_minute: '202405011105', ga4_time_zone: 'Europe/Paris' },
    });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(5);
    expect(events.map((e) => describeContractViolation(loginEventSchema, e))).toEqual(Array(5).fill(undefined));
    expect(loginsSent().map((m) => m.headers)).toEqual(events.map((e) => ({ event_id: e.event_id, source: 'ga4' })));
    expect(dlqSent()).toEqual([]);
    expect(mockKafka.producerConfigs).toEqual([expect.objectContaining({ idempotent: true, maxInFlightRequests: 1 })]);
    expect(jest.requireMock<typeof import('../../lib/functions/shared/kafka')>('../../lib/functions/shared/kafka').createMskIamKafka).toHaveBeenCalledWith(expect.objectContaining({ brokers: BROKERS, region: 'eu-west-1' }));
    expect(mockKafka.sent.every((r) => r.acks === -1)).toBe(true);
    expect(mockKafka.disconnects).toBe(1);

    expect(JSON.parse(storedMark)).toMatchObject({ version: 1, through: '2024-05-01T11:30:00.000Z', timeZone: 'Europe/Paris', lastRun: { eventsSent: 5, rowsRejected: 0, rowsRead: 4 } });
    expect(summary).toMatchObject({ outcome: 'committed', eventsSent: 5, rowsRead: 4, rowsOutsideWindow: 3, pages: 4 });

    const emf = metricValues()!;
    expect(emf).toMatchObject({ Ga4EventsSent: 5, Ga4RowsRejected: 0, Ga4ApiRetries: 0, service: 'ga4-ingest', FunctionName: 'lakestream-dev-ga4-ingest' });
    expect(JSON.stringify((emf._aws as { CloudWatchMetrics: unknown }).CloudWatchMetrics)).toContain('"Namespace":"Lakestream"');
    // Neither the key nor the token reaches the logs.
    expect(stdout.join('\n')).not.toMatch(/PRIVATE KEY|fake-access-token/);
  });

  it('sends nothing on a second run, and only the new rows on a later run', async () => {
    google.rows = [...FIRST_WINDOW_ROWS];
    await handler(scheduledEvent, context());
    const firstIds = loginsSent().map((m) => JSON.parse(String(m.value)).event_id as string);
    mockKafka.sent = [];

    // Same time: no settled minute after the mark, so Google is not even asked.
    const reportCalls = google.reportRequests.length;
    expect(await handler(scheduledEvent, context())).toMatchObject({ outcome: 'nothing-to-do' });
    expect(google.reportRequests).toHaveLength(reportCalls);
    expect(mockKafka.connects).toBe(1);

    // Ten minutes later: window 11:30Z..11:40Z holds erin's 13:30 row, already in GA4 during run 1 but not settled then.
    jest.setSystemTime(NOW + 10 * 60_000);
    await handler(scheduledEvent, context());
    expect(sentPairs()).toEqual(['erin 2024-05-01T11:30:00.000Z']);
    // The zone is known now: the date range is the window's own day.
    expect(google.reportRequests[google.reportRequests.length - 1]!.body.dateRanges).toEqual([{ startDate: '2024-05-01', endDate: '2024-05-01' }]);
    mockKafka.sent = [];

    // A run that finds nothing new in its window sends nothing, and still moves the mark on.
    jest.setSystemTime(NOW + 11 * 60_000);
    await handler(scheduledEvent, context());
    expect(loginsSent()).toEqual([]);
    expect(JSON.parse(storedMark).through).toBe('2024-05-01T11:41:00.000Z');

    // New rows arrive; the next run sends exactly those. A late row for an already-read minute is not re-read.
    google.rows.push({ dhm: '202405011345', user: 'dave', count: '3' }, { dhm: '202405011200', user: 'late-for-old-window', count: '1' });
    jest.setSystemTime(NOW + 20 * 60_000);
    await handler(scheduledEvent, context());
    expect(sentPairs()).toEqual(['dave 2024-05-01T11:45:00.000Z', 'dave 2024-05-01T11:45:00.000Z', 'dave 2024-05-01T11:45:00.000Z']);
    const laterIds = loginsSent().map((m) => JSON.parse(String(m.value)).event_id as string);
    expect(laterIds.filter((id) => firstIds.includes(id))).toEqual([]);
    expect(new Set(laterIds).size).toBe(3);
    expect(JSON.parse(storedMark).through).toBe('2024-05-01T11:50:00.000Z');
  });

  it('retries a 429 RESOURCE_EXHAUSTED and then succeeds', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    google.reportFailures = [{ status: 429, body: { error: { code: 429, message: 'Exhausted property tokens per hour.', status: 'RESOURCE_EXHAUSTED' } } }];
    await handler(scheduledEvent, context());
    expect(google.reportRequests).toHaveLength(2);
    expect(sentPairs()).toEqual(['alice 2024-05-01T09:05:00.000Z']);
    expect(metricValues()).toMatchObject({ Ga4ApiRetries: 1, Ga4EventsSent: 1 });
    expect(JSON.parse(storedMark).through).toBe('2024-05-01T11:30:00.000Z');
  });

  it('retries a 503 at the token endpoint', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    google.tokenFailures = [{ status: 503, body: { error: 'temporarily_unavailable' } }];
    await handler(scheduledEvent, context());
    expect(google.tokenRequests).toHaveLength(2);
    expect(sentPairs()).toEqual(['alice 2024-05-01T09:05:00.000Z']);
  });

  it('gives up after the bounded attempts when the quota stays exhausted, without moving the mark', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    google.reportFailsForever = { status: 429, body: { error: { code: 429, message: 'Exhausted property tokens per hour.', status: 'RESOURCE_EXHAUSTED' } } };
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      'GA4 runReport still failing after 3 attempts: runReport: HTTP 429 RESOURCE_EXHAUSTED: Exhausted property tokens per hour.',
    );
    expect(google.reportRequests).toHaveLength(3);
    expect(mockKafka.sent).toEqual([]);
    expect(storedMark).toBe('{"version":1}');
    expect(metricValues()).toMatchObject({ Ga4ApiRetries: 2, Ga4EventsSent: 0 });
  });

  it('fails at once with a clear message when the token endpoint answers 401', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    google.tokenFailures = [{ status: 401, body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } }];
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      `GA4 authentication failed: the token endpoint rejected service account ${CLIENT_EMAIL} (HTTP 401 invalid_client: The OAuth client was not found.)`,
    );
    expect(google.tokenRequests).toHaveLength(1);
    expect(google.reportRequests).toHaveLength(0);
    expect(storedMark).toBe('{"version":1}');
    expect(mockKafka.connects).toBe(0);
  });

  it('fails at once with a clear message when runReport answers 403', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    google.reportFailures = [{ status: 403, body: { error: { code: 403, message: 'User does not have sufficient permissions for this property.', status: 'PERMISSION_DENIED' } } }];
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      `GA4 Data API refused property ${PROPERTY_ID} (HTTP 403 PERMISSION_DENIED: User does not have sufficient permissions for this property.); grant service account ${CLIENT_EMAIL} the Viewer role`,
    );
    expect(google.reportRequests).toHaveLength(1);
    expect(storedMark).toBe('{"version":1}');
    expect(mockKafka.sent).toEqual([]);
    expect(stdout.join('\n')).not.toMatch(/PRIVATE KEY|fake-access-token/);
  });

  it('sends rows that cannot become login events to the DLQ topic with the reason', async () => {
    google.rows = [
      { dhm: '202405011105', user: 'alice', count: '1' },
      { dhm: '202405011106', user: '(not set)', count: '7' },
      { dhm: '202405011107', user: '(other)', count: '12' },
      { dhm: '202405011108', user: 'u'.repeat(129), count: '1' },
      { dhm: '202405011109', user: 'bot', count: '51' },
      { dhm: '202405011110', user: 'bob', count: '50' },
    ];
    const summary = await handler(scheduledEvent, context());
    expect(loginsSent().map((m) => String(m.key))).toEqual(['alice', ...Array(50).fill('bob')]);
    const rejected = dlqSent().map((m) => ({ key: String(m.key), ...(JSON.parse(String(m.value)) as { reason: string }) }));
    expect(rejected.map((r) => [r.key, r.reason])).toEqual([
      ['202405011106|(not set)', 'user id dimension is (not set): the login event was sent without the user id parameter'],
      ['202405011107|(other)', 'row aggregated into (other): the user id dimension exceeded GA4 cardinality limits'],
      [`202405011108|${'u'.repeat(129)}`, 'user id is 129 characters, the contract allows 128'],
      ['202405011109|bot', 'eventCount 51 exceeds 50 logins per user per minute: likely a bot or a shared id'],
    ]);
    expect(rejected[0]).toMatchObject({
      kind: 'ga4-rejected-row',
      version: 1,
      property_id: PROPERTY_ID,
      time_zone: 'Europe/Paris',
      row: { dateHourMinute: '202405011106', userId: '(not set)', eventCount: '7' },
    });
    expect(summary).toMatchObject({ rowsRejected: 4, eventsSent: 51 });
    expect(metricValues()).toMatchObject({ Ga4RowsRejected: 4, Ga4EventsSent: 51 });
    // Rejected rows are handled (they are in the DLQ), so the mark moves past them.
    expect(JSON.parse(storedMark).through).toBe('2024-05-01T11:30:00.000Z');
  });

  it('keeps the mark when the producer cannot flush, and re-sends the same event ids on the next run', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '2' }];
    mockKafka.failSends = true;
    await expect(handler(scheduledEvent, context())).rejects.toThrow('broker unreachable');
    expect(storedMark).toBe('{"version":1}');
    expect(mockKafka.disconnects).toBe(1);

    mockKafka.failSends = false;
    await handler(scheduledEvent, context());
    const ids = loginsSent().map((m) => JSON.parse(String(m.value)).event_id as string);
    expect(ids).toHaveLength(2);
    mockKafka.sent = [];
    // Re-reading the same minute gives the same ids: what an idempotent consumer needs.
    storedMark = '{"version":1}';
    await handler(scheduledEvent, context());
    expect(loginsSent().map((m) => JSON.parse(String(m.value)).event_id)).toEqual(ids);
  });

  it('reports a mark write failure after a flush as such', async () => {
    google.rows = [{ dhm: '202405011105', user: 'alice', count: '1' }];
    failMarkWrite = true;
    await expect(handler(scheduledEvent, context())).rejects.toThrow(
      'Sent and flushed 1 events for 2024-05-01T09:00:00.000Z..2024-05-01T11:30:00.000Z but could not advance the high-water mark (ThrottlingException: Rate exceeded); the next run re-sends this window with the same event ids',
    );
  });

  it('refuses a corrupt mark instead of starting over', async () => {
    storedMark = '{"version":1,"through":"yesterday"}';
    await expect(handler(scheduledEvent, context())).rejects.toThrow(`High-water mark ${MARK_PARAMETER} is invalid (through:`);
    expect(google.tokenRequests).toHaveLength(0);
  });

  it('rejects a secret that is not a service-account key without echoing it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify({ type: 'authorized_user', refresh_token: 'rt-secret' }) });
    const error = await handler(scheduledEvent, context()).catch((e: Error) => e);
    expect((error as Error).message).toMatch(`Secret ${SECRET_ARN} is not a usable service-account key (type:`);
    expect((error as Error).message).not.toContain('rt-secret');
  });

  it('re-reads the window when the property time zone changed since the last run', async () => {
    storedMark = JSON.stringify({ version: 1, through: '2024-05-01T10:30:00.000Z', timeZone: 'Pacific/Kiritimati' });
    google.rows = [{ dhm: '202405011235', user: 'alice', count: '1' }];
    await handler(scheduledEvent, context());
    // The window 10:30Z..11:30Z is 2024-05-02 on Kiritimati (UTC+14) but 2024-05-01 in Paris: the
    // first read misses the row, the second (in the zone GA4 reported) finds it.
    expect(google.reportRequests.map((r) => r.body.dateRanges)).toEqual([
      [{ startDate: '2024-05-02', endDate: '2024-05-02' }],
      [{ startDate: '2024-05-01', endDate: '2024-05-01' }],
    ]);
    expect(sentPairs()).toEqual(['alice 2024-05-01T10:35:00.000Z']);
    expect(JSON.parse(storedMark).timeZone).toBe('Europe/Paris');
  });
});
