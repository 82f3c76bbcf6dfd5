import { createVerify, generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../lib/functions/ga4-ingest/config';
import { extractRows, fetchAllRows, MAX_PAGING_RESTARTS, type RunReportResponse } from '../../lib/functions/ga4-ingest/data-api';
import { createJwtAssertion, parseServiceAccountKey } from '../../lib/functions/ga4-ingest/google-auth';
import { parseMark, passWindow, reportSliceFor } from '../../lib/functions/ga4-ingest/high-water-mark';
import { parseUserIdDimension, userIdDimensionProblems } from '../../lib/functions/ga4-ingest/user-id-dimension';
import { passAgeProblems } from '../../lib/functions/ga4-ingest/passes';
import { GA4_EVENT_ID_PREFIX as CONTRACT_GA4_PREFIX, loginEventKey as contractLoginEventKey, type LoginEvent } from '../../lib/contracts';
import { GA4_EVENT_ID_PREFIX, loginEventId, loginEventKey, mapRow } from '../../lib/functions/ga4-ingest/mapping';
import { backoffDelayMs, Ga4AuthError, HttpError, withRetry, type RetryHooks } from '../../lib/functions/ga4-ingest/retry';
import { formatLocalMinute, localMinuteToUtc } from '../../lib/functions/ga4-ingest/time';

// A stricter future contract (user ids without spaces) stands in to show the contract has the last word.
jest.mock('../../lib/contracts/login-event-validator', () => {
  const actual = jest.requireActual('../../lib/contracts/login-event-validator');
  return {
    ...actual,
    explainLoginEvent: (value: { user_id?: unknown }) =>
      typeof value.user_id === 'string' && /\s/.test(value.user_id) ? 'user_id: no spaces' : actual.explainLoginEvent(value),
  };
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const MIN = 60_000;

describe('backoff', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
  it('grows exponentially with full jitter and is capped', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelayMs(3, policy, 0)).toBe(0);
    expect(backoffDelayMs(3, policy, 0.5)).toBe(200);
  });
  it('treats Retry-After as a floor, within the cap', () => {
    expect(backoffDelayMs(1, policy, 0.1, 500)).toBe(500);
    expect(backoffDelayMs(1, policy, 0.1, 60_000)).toBe(1_000);
  });
});

describe('withRetry', () => {
  function hooks(start = 0): RetryHooks & { slept: number[]; clock: number } {
    const h = {
      slept: [] as number[],
      clock: start,
      sleep: async (ms: number) => {
        h.slept.push(ms);
        h.clock += ms;
      },
      now: () => h.clock,
      random: () => 0.5,
    };
    return h;
  }
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, deadline: 1_000_000 };

  it('retries retriable HTTP errors and network errors, then returns', async () => {
    const h = hooks();
    const failures = [new HttpError('HTTP 503', 503, true), new TypeError('fetch failed')];
    const result = await withRetry('op', policy, h, async () => {
      const next = failures.shift();
      if (next) throw next;
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(h.slept).toEqual([50, 100]);
  });

  it('does not retry auth errors or non-retriable HTTP errors', async () => {
    let calls = 0;
    await expect(
      withRetry('op', policy, hooks(), async () => {
        calls++;
        throw new Ga4AuthError('denied');
      }),
    ).rejects.toThrow('denied');
    await expect(
      withRetry('op', policy, hooks(), async () => {
        calls++;
        throw new HttpError('HTTP 400 INVALID_ARGUMENT', 400, false);
      }),
    ).rejects.toThrow('HTTP 400 INVALID_ARGUMENT');
    expect(calls).toBe(2);
  });

  it('stops before a wait that would pass the deadline', async () => {
    const h = hooks();
    let calls = 0;
    await expect(
      withRetry('GA4 runReport', { ...policy, deadline: 120 }, h, async () => {
        calls++;
        throw new HttpError('HTTP 429 RESOURCE_EXHAUSTED', 429, true);
      }),
    ).rejects.toThrow(
      'GA4 runReport gave up after 2 attempts: the next retry (in 100 ms) would pass the run deadline; last error: HTTP 429 RESOURCE_EXHAUSTED',
    );
    expect(calls).toBe(2);
  });
});

describe('service-account auth', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const json = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'service_account',
      client_email: 'sa@p.iam.gserviceaccount.com',
      private_key: pem,
      private_key_id: 'k1',
      token_uri: 'https://oauth2.googleapis.com/token',
      ...overrides,
    });
  const arn = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:ga4-AbCdEf';

  it('signs an RS256 JWT with the analytics.readonly scope, valid for an hour', () => {
    const key = parseServiceAccountKey(json(), arn);
    const jwt = createJwtAssertion(key, Date.parse('2024-05-01T12:00:00Z'));
    const [h, c, s] = jwt.split('.') as [string, string, string];
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'sa@p.iam.gserviceaccount.com',
      scope: 'https://www.googleapis.com/auth/analytics.readonly',
      aud: 'https://oauth2.googleapis.com/token',
      iat: 1714564800,
      exp: 1714568400,
    });
  });

  it('refuses a plain-http token_uri off loopback, and a key that is not a PEM, without echoing the key', () => {
    expect(() => parseServiceAccountKey(json({ token_uri: 'http://evil.example/token' }), arn)).toThrow(
      `Secret ${arn} is not a usable service-account key (token_uri: must be an https URL)`,
    );
    const bad = () => parseServiceAccountKey(json({ private_key: 'not-a-key-SECRETVALUE' }), arn);
    expect(bad).toThrow(`Secret ${arn}: private_key is not a PEM-encoded RSA private key`);
    expect(bad).not.toThrow(/SECRETVALUE/);
    expect(() => parseServiceAccountKey('{not json', arn)).toThrow(`Secret ${arn} is not JSON`);
    expect(() => parseServiceAccountKey(undefined, arn)).toThrow(Ga4AuthError);
  });
});

describe('time zones', () => {
  it('places local minutes in UTC across DST changes', () => {
    expect(iso(localMinuteToUtc('202405011015', 'Europe/Paris'))).toBe('2024-05-01T08:15:00.000Z');
    expect(iso(localMinuteToUtc('202401151015', 'Europe/Paris'))).toBe('2024-01-15T09:15:00.000Z');
    expect(iso(localMinuteToUtc('202405011015', 'Asia/Kolkata'))).toBe('2024-05-01T04:45:00.000Z');
    // 01:30 happens twice in New York on 2024-11-03; GA4 merges both, we take the earlier instant.
    expect(iso(localMinuteToUtc('202411030130', 'America/New_York'))).toBe('2024-11-03T05:30:00.000Z');
    expect(iso(localMinuteToUtc('202403100330', 'America/New_York'))).toBe('2024-03-10T07:30:00.000Z');
    expect(formatLocalMinute(Date.parse('2024-05-01T08:15:00Z'), 'Europe/Paris')).toBe('202405011015');
  });
  it('rejects values that are not calendar minutes', () => {
    expect(localMinuteToUtc('202402301015', 'UTC')).toBeUndefined();
    expect(localMinuteToUtc('202405012460', 'UTC')).toBeUndefined();
    expect(localMinuteToUtc('2024050110', 'UTC')).toBeUndefined();
  });
});

describe('pass windows', () => {
  const settings = { initialLookbackMs: 24 * 60 * MIN, maxWindowMs: 6 * 60 * MIN };
  const now = Date.parse('2024-05-01T12:00:30Z');

  it('reads from the cursor to the last whole hour at least the pass age old, at most maxWindow', () => {
    const w = passWindow(Date.parse('2024-04-30T12:00:00Z'), 8 * 60 * MIN, now, settings)!;
    expect([iso(w.start), iso(w.end)]).toEqual(['2024-04-30T12:00:00.000Z', '2024-04-30T18:00:00.000Z']);
    const caughtUp = passWindow(Date.parse('2024-05-01T02:00:00Z'), 8 * 60 * MIN, now, settings)!;
    expect([iso(caughtUp.start), iso(caughtUp.end)]).toEqual(['2024-05-01T02:00:00.000Z', '2024-05-01T04:00:00.000Z']);
    expect(passWindow(Date.parse('2024-05-01T04:00:00Z'), 8 * 60 * MIN, now, settings)).toBeUndefined();
  });
  it('turns a window into the property-local days and hour prefixes, also for half-hour zones', () => {
    const w = { start: Date.parse('2024-05-01T21:00:00Z'), end: Date.parse('2024-05-01T23:00:00Z') };
    expect(reportSliceFor(w, 'Europe/Paris')).toEqual({ startDate: '2024-05-01', endDate: '2024-05-02', hourPrefixes: ['2024050123', '2024050200'] });
    // India is UTC+5:30: two UTC hours touch three local hours.
    expect(reportSliceFor(w, 'Asia/Kolkata').hourPrefixes).toEqual(['2024050202', '2024050203', '2024050204']);
  });
  it('parses v1 and v2 marks and refuses unaligned or unknown ones', () => {
    expect(parseMark('{"version":1}', 'p')).toEqual({ passes: {}, legacyThrough: undefined, timeZone: undefined });
    expect(parseMark('{"version":1,"through":"2024-05-01T10:00:00.000Z"}', 'p')).toMatchObject({ legacyThrough: '2024-05-01T10:00:00.000Z' });
    expect(parseMark('{"version":2,"passes":{"480":"2024-05-01T10:00:00.000Z"}}', 'p')).toMatchObject({ passes: { '480': '2024-05-01T10:00:00.000Z' } });
    expect(() => parseMark('{"version":1,"through":"2024-05-01T10:00:30.000Z"}', 'p')).toThrow('cursors must be on a whole minute');
    expect(() => parseMark('{"version":2,"passes":{},"timeZone":"Mars/Olympus"}', 'p')).toThrow('must be an IANA time zone');
    expect(() => parseMark('', 'p')).toThrow('High-water mark p is not JSON');
  });
  it('accepts ascending pass ages up to a week', () => {
    expect(passAgeProblems([480, 2160, 4320])).toEqual([]);
    expect(passAgeProblems([2160, 480])).toEqual(['pass ages must increase: 480 follows 2160']);
    expect(passAgeProblems([20_000])[0]).toMatch(/pass age 20000 minutes is not allowed \(allowed: whole minutes from 0 to 10080\)/);
  });
});

describe('user id dimension', () => {
  it('refuses customUser:user_id, which GA4 reserves, naming what works instead', () => {
    expect(userIdDimensionProblems('customUser:user_id', 36)).toEqual([
      expect.stringMatching(
        /^userIdDimension 'customUser:user_id' cannot exist: 'user_id' is a reserved user-property name .* \(e\.g\. customEvent:login_user_id\)/,
      ),
    ]);
    expect(userIdDimensionProblems('customUser:ga_uid', 36)[0]).toMatch(/the prefix 'ga_' is reserved/);
    expect(userIdDimensionProblems('userId', 36)[0]).toMatch(/use customEvent:<event parameter>/);
  });
  it('refuses a declared id length above what GA4 keeps of the scope, so truncated ids cannot collide', () => {
    expect(userIdDimensionProblems('customUser:app_user_id', 40)).toEqual([
      expect.stringMatching(
        /userIdMaxLength 40 is not allowed with customUser:app_user_id: GA4 truncates user property values to 36 characters.*allowed: 1 to 36/,
      ),
    ]);
    expect(userIdDimensionProblems('customUser:app_user_id', 36)).toEqual([]);
    expect(userIdDimensionProblems('customEvent:login_user_id', 100)).toEqual([]);
    expect(userIdDimensionProblems('customEvent:login_user_id', 101)[0]).toMatch(/allowed: 1 to 100/);
  });
});

describe('paging', () => {
  const page = (rows: Array<[string, string, string]>, rowCount: number): RunReportResponse => ({
    dimensionHeaders: [{ name: 'dateHourMinute' }, { name: 'customUser:user_id' }],
    metricHeaders: [{ name: 'eventCount' }],
    rows: rows.map(([d, u, c]) => ({ dimensionValues: [{ value: d }, { value: u }], metricValues: [{ value: c }] })),
    rowCount,
    metadata: { timeZone: 'UTC' },
  });

  it('restarts from offset 0 when rowCount changes between pages, so no row is skipped or repeated', async () => {
    const before = [
      ['202405010900', 'a', '1'],
      ['202405010900', 'c', '1'],
      ['202405010901', 'd', '1'],
    ] as Array<[string, string, string]>;
    const after = [
      ['202405010900', 'a', '1'],
      ['202405010900', 'b', '1'],
      ['202405010900', 'c', '1'],
      ['202405010901', 'd', '1'],
    ] as Array<[string, string, string]>;
    const calls: number[] = [];
    const fetcher = async (offset: number, limit: number) => {
      calls.push(offset);
      const data = calls.length === 1 ? before : after; // a late row for 'b' lands after the first page
      return page(data.slice(offset, offset + limit), data.length);
    };
    const report = await fetchAllRows(fetcher, 2, 'customUser:user_id');
    expect(calls).toEqual([0, 2, 0, 2]);
    expect(report.rows.map((r) => r.userId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats overlapping pages as a changed report', async () => {
    let call = 0;
    const fetcher = async () => {
      call++;
      return page(
        [
          ['202405010900', 'a', '1'],
          ['202405010900', 'b', '1'],
        ],
        4,
      );
    };
    await expect(fetchAllRows(fetcher, 2, 'customUser:user_id')).rejects.toThrow(`GA4 report kept changing while paging (${MAX_PAGING_RESTARTS + 1} reads)`);
    expect(call).toBe(2 * (MAX_PAGING_RESTARTS + 1));
  });

  it('fails loudly when the response columns are not the requested ones', () => {
    expect(() =>
      extractRows({ ...page([['202405010900', 'a', '1']], 1), dimensionHeaders: [{ name: 'dateHourMinute' }, { name: 'userId' }] }, 'customUser:user_id'),
    ).toThrow('runReport returned headers [dateHourMinute, userId] / [eventCount], expected dateHourMinute, customUser:user_id and eventCount');
  });
});

describe('mapping', () => {
  const ctx = { propertyId: '42', timeZone: 'UTC', maxEventsPerRow: 10, userId: parseUserIdDimension('customEvent:login_user_id', 100) };
  it('gives each login of a row its own stable id', () => {
    const first = mapRow({ dateHourMinute: '202405010900', userId: 'u1', eventCount: '3' }, ctx);
    const again = mapRow({ dateHourMinute: '202405010900', userId: 'u1', eventCount: '3' }, ctx);
    expect(first.kind).toBe('events');
    const ids = first.kind === 'events' ? first.events.map((e) => e.event_id) : [];
    expect(new Set(ids).size).toBe(3);
    expect(again.kind === 'events' && again.events.map((e) => e.event_id)).toEqual(ids);
    expect(ids[2]).toBe(loginEventId('42', '202405010900', 'u1', 2));
    expect(ids[2]).toMatch(/^ga4:[0-9a-f]{32}$/);
    expect(loginEventId('43', '202405010900', 'u1', 2)).not.toBe(ids[2]);
  });
  it('rejects counts and minutes that are not numbers', () => {
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'u1', eventCount: '1.5' }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'eventCount "1.5" is not a whole number',
    });
    expect(mapRow({ dateHourMinute: '2024050109', userId: 'u1', eventCount: '1' }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'dateHourMinute "2024050109" is not a YYYYMMDDHHmm minute',
    });
    expect(mapRow({ dateHourMinute: '202405010900', userId: '  ', eventCount: '1' }, ctx)).toEqual({ kind: 'rejected', reason: 'user id is empty' });
  });
  it('rejects events the login-event contract refuses, with its reason', () => {
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'jane doe', eventCount: '2' }, ctx)).toEqual({
      kind: 'rejected',
      reason: 'not a valid login event: user_id: no spaces',
    });
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'jane', eventCount: '0' }, ctx)).toEqual({ kind: 'events', events: [] });
  });
  it("accepts user ids up to the declared length and rejects longer ones, calling values at GA4's cut-off possibly truncated", () => {
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'x'.repeat(100), eventCount: '1' }, ctx).kind).toBe('events');
    const userScoped = { ...ctx, userId: parseUserIdDimension('customUser:app_user_id', 20) };
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'x'.repeat(21), eventCount: '1' }, userScoped)).toEqual({
      kind: 'rejected',
      reason: 'user id is 21 characters, above the declared userIdMaxLength 20',
    });
    expect(mapRow({ dateHourMinute: '202405010900', userId: 'x'.repeat(36), eventCount: '1' }, userScoped)).toEqual({
      kind: 'rejected',
      reason:
        'user id is 36 characters, above the declared userIdMaxLength 20: GA4 truncates user property values to 36 characters, so this may be several users',
    });
  });
  it('keeps the zod-free copies of the contract constants equal to the contract', () => {
    expect(GA4_EVENT_ID_PREFIX).toBe(CONTRACT_GA4_PREFIX);
    const event = { user_id: 'user-42' } as LoginEvent;
    expect(loginEventKey(event)).toBe(contractLoginEventKey(event));
  });
});

describe('configuration', () => {
  it('names each invalid variable', () => {
    expect(() => loadConfig({ GA4_PROPERTY_ID: 'G-XYZ', GA4_API_BASE_URL: 'http://analyticsdata.googleapis.com' })).toThrow(
      /GA4_PROPERTY_ID: must be the numeric GA4 property id.*GA4_CREDENTIALS_SECRET_ARN.*GA4_API_BASE_URL: must be an https URL/,
    );
  });
  it('refuses a reserved user-id dimension and unordered passes', () => {
    const valid = {
      GA4_PROPERTY_ID: '123456789',
      GA4_CREDENTIALS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:k-AbCdEf',
      HIGH_WATER_MARK_PARAMETER: '/m',
      GA4_SENT_COUNTS_TABLE: 't',
      BOOTSTRAP_BROKERS: 'b-1:9098',
      RAW_TOPIC: 'logins.raw',
      DLQ_TOPIC: 'logins.raw.dlq',
      AWS_REGION: 'eu-west-1',
    };
    expect(loadConfig(valid).userIdDimension).toBe('customEvent:login_user_id');
    expect(() => loadConfig({ ...valid, GA4_USER_ID_DIMENSION: 'customUser:user_id', GA4_USER_ID_MAX_LENGTH: '36', GA4_PASS_AGES_MINUTES: '60,30' })).toThrow(
      /'user_id' is a reserved user-property name.*GA4_PASS_AGES_MINUTES: pass ages must increase: 30 follows 60/,
    );
  });
});
