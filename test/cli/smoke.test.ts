import { DescribeScraperCommand, DescribeWorkspaceCommand } from '@aws-sdk/client-amp';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runCli } from '../../lib/cli/main';
import { smokeEvents, speedViewUserFilter } from '../../lib/cli/smoke/command';
import { loginEventSchema } from '../../lib/contracts/login-event';
import { deployedStacks, MAP, mockedOpsClients, NOW, opsHarness, prometheusServer, type OpsMocks } from './ops-fixtures';

let server: Awaited<ReturnType<typeof prometheusServer>>;
let upSeries = '2';
beforeAll(async () => {
  server = await prometheusServer((url) => ({
    status: 200,
    body: {
      status: 'success',
      data: { resultType: 'vector', result: upSeries === '0' ? [] : [{ metric: {}, value: [1, upSeries], query: url.searchParams.get('query') }] },
    },
  }));
});
afterAll(() => server.close());
beforeEach(() => {
  upSeries = '2';
});

/** Answers each Athena query by what it reads: raw rows, Flink's running count, the speed view. */
/** What the erasure workflow publishes in SSM (lib/constructs/gdpr/erasure-workflow.ts). */
const ERASURE_SETTINGS = {
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:lakestream-dev-erasure',
  workBucket: 'lakestream-dev-bronze',
  receiptsBucket: 'lakestream-dev-receipts',
  deadlineDays: 30,
  sweepDelayHours: 360,
};

function athenaAnswers(m: OpsMocks, answers: { raw: string; flink: string; speed: string }) {
  const sqlById = new Map<string, string>();
  let n = 0;
  m.athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    n += 1;
    sqlById.set(`q${n}`, input.QueryString);
    return { QueryExecutionId: `q${n}` };
  });
  m.athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  m.athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = sqlById.get(input.QueryExecutionId) ?? '';
    const value = sql.includes('kafka_logins_raw') ? answers.raw : sql.includes('speed_login_counts') ? answers.speed : answers.flink;
    return { ResultSet: { Rows: [{ Data: [{ VarCharValue: '_col0' }] }, { Data: [{ VarCharValue: value }] }] } };
  });
}

function healthy(m: OpsMocks): void {
  deployedStacks(m);
  m.s3.on(PutObjectCommand).resolves({});
  m.s3.on(DeleteObjectCommand).resolves({});
  m.sfn
    .on(ListExecutionsCommand)
    .resolves({ executions: [{ executionArn: 'arn:exec:smoke', stateMachineArn: 'arn:sm', name: 'x', status: 'RUNNING', startDate: NOW }] });
  m.sfn.on(DescribeExecutionCommand).callsFake(() => {
    const key = (m.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key ?? '') as string;
    return {
      status: 'SUCCEEDED',
      input: JSON.stringify({ bucket: 'lakestream-dev-landing', key }),
      output: JSON.stringify({ records: 3, rejected: 0, bytes: 400, ranges: 1 }),
    };
  });
  m.sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
  athenaAnswers(m, { raw: '3', flink: '3', speed: '2' });
  m.ssm.on(GetParameterCommand, { Name: '/lakestream/dev/erasure' }).resolves({ Parameter: { Value: JSON.stringify(ERASURE_SETTINGS) } });
  m.sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: `${ERASURE_SETTINGS.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
  m.amp.on(DescribeScraperCommand).resolves({ scraper: { scraperId: 's-1', status: { statusCode: 'ACTIVE' } } as never });
  m.amp.on(DescribeWorkspaceCommand).resolves({
    workspace: {
      workspaceId: 'ws-1',
      arn: 'a',
      status: { statusCode: 'ACTIVE' },
      createdAt: NOW,
      prometheusEndpoint: server.endpoint,
      kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
    },
  });
  m.cloudWatch.on(ListMetricsCommand).resolves({ Metrics: [{ Namespace: 'AWS/KinesisAnalytics', MetricName: 'records_lag_max' }] });
}

async function run(args: string[], setup: (m: OpsMocks) => void = healthy) {
  const { clients, mocks } = mockedOpsClients();
  setup(mocks);
  let t = NOW.getTime();
  // Every clock read advances 10 s, so polling reaches the deadline in a bounded number of steps.
  const h = opsHarness(clients, { now: () => new Date((t += 10_000)) });
  const code = await runCli(args, h.deps);
  const out = h.output();
  return {
    code,
    out,
    mocks,
    json: args.includes('--json')
      ? (JSON.parse(out) as { ok: boolean; result: { userId: string; rows: Array<{ id: string; status: string; detail: string; remedy: string | null }> } })
      : undefined,
  };
}

describe('smoke events', () => {
  it('are valid login events of one synthetic user, two in one window and one that closes it within the future-skew bound', () => {
    const now = new Date('2025-06-02T12:00:30.250Z');
    const { events, windowLogins, windowStart } = smokeEvents('smoke-1', now, 1);
    expect(events).toHaveLength(3);
    for (const e of events) expect(loginEventSchema.parse(e)).toEqual(e);
    expect(new Set(events.map((e) => e.user_id))).toEqual(new Set(['smoke-1']));
    expect(windowStart).toBe('2025-06-02T12:00:00.000Z');
    expect(events.slice(0, windowLogins).every((e) => e.event_time.startsWith('2025-06-02T12:00:'))).toBe(true);
    expect(events[2].event_time).toBe('2025-06-02T12:01:20Z');
    expect(smokeEvents('smoke-1', now, 10).events).toHaveLength(2);
  });
});

describe('lakestream smoke', () => {
  it('passes every hop on a working environment, settles the two facts, cleans up and exits 0', async () => {
    const { code, json, mocks } = await run(['smoke', '--env', 'dev', '--json']);
    expect(code).toBe(0);
    expect(json?.result.rows.map((r) => [r.id, r.status])).toEqual([
      ['landing', 'pass'],
      ['replay', 'pass'],
      ['bronze', 'pass'],
      ['flink', 'pass'],
      ['speed-view', 'pass'],
      ['scraper-writes', 'pass'],
      ['flink-lag-metric', 'pass'],
      ['cleanup', 'pass'],
    ]);
    const put = mocks.s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Bucket).toBe('lakestream-dev-landing');
    expect(put.Key).toMatch(/^incoming\/smoke\/\d{14}-[0-9a-f]{8}\.jsonl$/);
    const lines = String(put.Body)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user_id: string; source: string });
    expect(lines.every((l) => l.user_id === json?.result.userId && l.source === 'test')).toBe(true);
    expect(mocks.s3.commandCalls(DeleteObjectCommand)[0].args[0].input).toEqual({ Bucket: 'lakestream-dev-landing', Key: put.Key });
    // The synthetic user is erased through the GDPR workflow: its request (the only place the id is written), then the execution.
    const userId = json?.result.userId as string;
    const request = mocks.s3.commandCalls(PutObjectCommand)[1].args[0].input;
    expect(request.Bucket).toBe(ERASURE_SETTINGS.workBucket);
    expect(JSON.parse(String(request.Body)).userIds).toEqual([userId]);
    expect(mocks.sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: ERASURE_SETTINGS.stateMachineArn,
      name: userId,
      input: JSON.stringify({ requestId: userId }),
    });
    expect(json?.result.rows.find((r) => r.id === 'cleanup')?.detail).toContain(`erasure of ${userId} started as request ${userId}`);
    const queries = mocks.athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(queries.every((q) => q.WorkGroup === 'lakestream-dev-analytics')).toBe(true);
    expect(queries.map((q) => q.QueryExecutionContext?.Database)).toEqual(['lakestream_dev_bronze', 'lakestream_dev_silver', 'lakestream_dev_gold']);
    expect(mocks.cloudWatch.commandCalls(ListMetricsCommand)[0].args[0].input).toEqual({
      Namespace: 'AWS/KinesisAnalytics',
      MetricName: 'records_lag_max',
      Dimensions: [{ Name: 'Application', Value: 'lakestream-dev-login-counts' }],
    });
    const scraperRow = json?.result.rows.find((r) => r.id === 'scraper-writes');
    expect(scraperRow?.detail).toMatch(/^scraper ACTIVE, 2 up\{job="msk-jmx"\} series in the workspace \(customer-managed key\) \(\d+s\)$/);
    expect(server.requests.at(-1)?.url.searchParams.get('query')).toBe('count(up{job="msk-jmx"})');
  });

  it('prints the time of each hop in the table', async () => {
    const { out } = await run(['smoke', '--env', 'dev']);
    expect(out).toMatch(/^OK\s+Replay into Kafka\s+3 records to logins\.raw \(\d+s\)$/m);
    expect(out).toMatch(/^Smoke test of dev in account 123456789012, region eu-west-1: user smoke-\S+, total \d+/m);
  });

  it('fails at the first broken hop, skips the hops after it, still checks the facts, and exits 1', async () => {
    const { code, json } = await run(['smoke', '--env', 'dev', '--json', '--timeout-minutes', '2'], (m) => {
      healthy(m);
      athenaAnswers(m, { raw: '0', flink: '0', speed: '0' });
    });
    expect(code).toBe(1);
    const status = Object.fromEntries(json?.result.rows.map((r) => [r.id, r.status]) ?? []);
    expect(status).toMatchObject({ replay: 'pass', bronze: 'fail', flink: 'fail', 'speed-view': 'fail', 'scraper-writes': 'pass', cleanup: 'pass' });
    expect(json?.result.rows.find((r) => r.id === 'flink')?.detail).toBe('skipped: an earlier step failed');
  });

  it('fails the scraper fact when no msk-jmx series reach the CMK workspace, naming the fix', async () => {
    upSeries = '0';
    const { json } = await run(['smoke', '--env', 'dev', '--json']);
    expect(json?.result.rows.find((r) => r.id === 'scraper-writes')).toMatchObject({
      status: 'fail',
      remedy: expect.stringContaining('drop kmsKeyArn from the workspace'),
    });
  });

  it('fails the Flink fact when records_lag_max is not published', async () => {
    const { code, json } = await run(['smoke', '--env', 'dev', '--json'], (m) => {
      healthy(m);
      m.cloudWatch.on(ListMetricsCommand).resolves({ Metrics: [] });
    });
    expect(code).toBe(1);
    expect(json?.result.rows.find((r) => r.id === 'flink-lag-metric')?.status).toBe('fail');
  });

  it('exits 2 when writing to landing is denied', async () => {
    const { code, json } = await run(['smoke', '--env', 'dev', '--json'], (m) => {
      healthy(m);
      m.s3.on(PutObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    });
    expect(code).toBe(2);
    expect(json?.result.rows[0]).toMatchObject({ id: 'landing', status: 'error', remedy: expect.stringContaining('s3:PutObject') });
    expect(json?.result.rows.find((r) => r.id === 'cleanup')).toBeUndefined();
  });
});

describe('speed-view check with pseudonymous views', () => {
  test('pseudonymous: finds the smoke user through the user_ref the streaming job wrote beside its silver counts', () => {
    const filter = speedViewUserFilter(MAP, 'smoke-user', '2025-03-01', '2025-03-02');
    expect(filter).toBe(
      `user_ref IN (SELECT user_ref FROM "lakestream_dev_silver"."kafka_logins_counts" WHERE dt IN ('2025-03-01', '2025-03-02') AND json_extract_scalar(value, '$.user_id') = 'smoke-user' AND user_ref IS NOT NULL)`,
    );
  });

  test('plain: filters the view on user_id, quoting the id', () => {
    expect(speedViewUserFilter({ athena: { ...MAP.athena, userColumn: 'user_id' } }, "o'brien", '2025-03-01', '2025-03-02')).toBe("user_id = 'o''brien'");
  });
});
