import { HeadObjectCommand, NotFound } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runCli } from '../../lib/cli/main';
import { deployedStacks, mockedOpsClients, NOW, opsHarness, type OpsMocks } from './ops-fixtures';

const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:Replay:cli-1';

/** The execution runs for two polls (planning, then 1 of 2 ranges), then ends with `final`. */
function replaying(final: { status: string; output?: string; error?: string; cause?: string }) {
  return (m: OpsMocks) => {
    deployedStacks(m);
    m.s3.on(HeadObjectCommand).resolves({ ETag: '"abc123"', ContentLength: 10 });
    m.sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC, startDate: NOW });
    m.sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves(final as never);
    m.sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [] })
      .resolves({
        events: [
          {
            type: 'TaskStateExited',
            id: 1,
            timestamp: NOW,
            stateExitedEventDetails: { name: 'PlanRanges', output: JSON.stringify({ plan: { ranges: [{}, {}] } }) },
          },
          { type: 'MapIterationSucceeded', id: 2, timestamp: NOW },
        ],
      });
  };
}

async function run(args: string[], setup: (m: OpsMocks) => void, quiet = true) {
  const { clients, mocks } = mockedOpsClients();
  setup(mocks);
  let t = NOW.getTime();
  const h = opsHarness(clients, { now: () => new Date((t += 4000)) });
  const deps = { ...h.deps, quiet };
  const code = await runCli(args, deps);
  return { code, out: h.output(), err: h.errors(), mocks, slept: h.slept };
}

describe('lakestream replay', () => {
  it('starts the replay state machine for a landing object with its ETag and follows it to success (exit 0)', async () => {
    const output = JSON.stringify({
      bucket: 'lakestream-dev-landing',
      key: 'incoming/a.jsonl',
      records: 1000,
      rejected: 2,
      bytes: 52000,
      ranges: 2,
      durationSeconds: 14,
    });
    const { code, out, err, mocks } = await run(
      ['replay', 's3://lakestream-dev-landing/incoming/a.jsonl', '--env', 'dev'],
      replaying({ status: 'SUCCEEDED', output }),
      false,
    );
    expect(code).toBe(0);
    const start = mocks.sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.stateMachineArn).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:Replay');
    expect(JSON.parse(start.input ?? '')).toEqual({ bucket: 'lakestream-dev-landing', key: 'incoming/a.jsonl', etag: 'abc123' });
    expect(start.name).toMatch(/^cli-\d{14}-[a-z0-9]+$/);
    expect(err).toMatch(/^\[\d+s\] RUNNING: planning ranges$/m);
    expect(err).toMatch(/^\[\d+s\] RUNNING: 1\/2 ranges replayed$/m);
    expect(out).toContain('Replay of s3://lakestream-dev-landing/incoming/a.jsonl: SUCCEEDED after');
    expect(out).toContain('1000 records, 2 rejected, 52000 bytes in 2 ranges');
  });

  it('exits 1 with the error of a failed execution, in stable JSON', async () => {
    const { code, out } = await run(
      ['replay', 's3://lakestream-dev-landing/incoming/a.jsonl', '--env', 'dev', '--json'],
      replaying({ status: 'FAILED', error: 'PermanentError', cause: 'not a login event file' }),
    );
    expect(code).toBe(1);
    const json = JSON.parse(out) as { command: string; ok: boolean; result: Record<string, unknown> };
    expect(json.command).toBe('replay');
    expect(json.ok).toBe(false);
    expect(Object.keys(json.result)).toEqual(['object', 'executionArn', 'status', 'elapsedSeconds', 'summary', 'error']);
    expect(json.result).toMatchObject({ status: 'FAILED', error: 'PermanentError: not a login event file', executionArn: EXEC });
  });

  it('stops following at the deadline and exits 1, saying the replay is still running', async () => {
    const { code, out } = await run(['replay', 's3://lakestream-dev-landing/incoming/a.jsonl', '--env', 'dev', '--timeout-minutes', '0.001', '--json'], (m) => {
      replaying({ status: 'RUNNING' })(m);
    });
    expect(code).toBe(1);
    expect(JSON.parse(out).result).toMatchObject({ status: 'RUNNING', error: expect.stringMatching(/^still RUNNING after/) });
  });

  it('refuses an object outside the landing bucket, a missing object and a bad URI with exit 2', async () => {
    const other = await run(['replay', 's3://other-bucket/x.jsonl', '--env', 'dev'], replaying({ status: 'SUCCEEDED' }));
    expect(other.code).toBe(2);
    expect(other.err).toContain('replay reads the landing bucket of dev only (s3://lakestream-dev-landing/)');
    expect(other.mocks.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const missing = await run(['replay', 's3://lakestream-dev-landing/incoming/none.jsonl', '--env', 'dev'], (m) => {
      replaying({ status: 'SUCCEEDED' })(m);
      m.s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'not found', $metadata: {} }));
    });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('does not exist');
    const bad = await run(['replay', 'https://example.com/x', '--env', 'dev'], replaying({ status: 'SUCCEEDED' }));
    expect(bad.code).toBe(2);
  });

  it('exits 2 when starting the execution is denied', async () => {
    const { code, err } = await run(['replay', 's3://lakestream-dev-landing/incoming/a.jsonl', '--env', 'dev'], (m) => {
      replaying({ status: 'SUCCEEDED' })(m);
      m.sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    });
    expect(code).toBe(2);
    expect(err).toContain('states:StartExecution');
  });
});
