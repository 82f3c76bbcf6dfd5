import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { createProgram } from '../../lib/cli/main';
import { runErase, type EraseRuntime } from '../../lib/cli/erase/command';
import type { AwsClients } from '../../lib/cli/common/aws-clients';
import { harness } from './preflight-fixtures';

/** erase builds its own clients (EraseRuntime); the shared ones must not be touched. */
const noSharedClients = new Proxy(
  {},
  {
    get: () => {
      throw new Error('erase used a shared client');
    },
  },
) as AwsClients;

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:lakestream-dev-erasure';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:lakestream-dev-erasure:R1';
const SETTINGS = {
  stateMachineArn: SM,
  workBucket: 'bronze-bucket',
  workPrefix: '_erasure/',
  receiptsBucket: 'receipts-bucket',
  deadlineDays: 30,
  sweepDelayHours: 360,
};
const RECEIPT = {
  requestId: 'R1',
  deadline: '2024-02-06T10:00:00.000Z',
  sweepAt: '2024-01-22T10:00:00.000Z',
  stores: [
    { store: 's3-lake', rowsRemoved: 7, objectsRewritten: 3, objectsDeleted: 1 },
    { store: 's3-versions', versionsDeleted: 4 },
    { store: 'kafka', topic: 'logins.counts', keysTombstoned: 11522 },
    { store: 'flink', application: 'lakestream-dev-login-counts', snapshotsDeleted: ['s1'] },
    { store: 'kafka logins.raw', maxAgeDays: 8 },
  ],
};
const exited = (name: string, output: unknown): HistoryEvent => ({
  id: 1,
  timestamp: new Date(),
  type: 'TaskStateExited',
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});

function runtime(): EraseRuntime {
  let now = Date.parse('2024-01-07T10:00:00Z');
  return {
    createClients: () => ({
      ssm: new SSMClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
      sfn: new SFNClient({ region: 'eu-west-1' }),
    }),
    now: () => new Date(now),
    sleep: async (ms) => void (now += ms),
    pollIntervalMs: 10_000,
  };
}

async function erase(args: string[]) {
  const h = harness(noSharedClients);
  let code = -1;
  const program = createProgram(h.deps, (c) => (code = c));
  program.exitOverride();
  // The registered command with a test runtime: same options, parsing and output.
  const cmd = program.commands.find((c) => c.name() === 'erase')!;
  cmd.action(async (options) => void (code = await runErase(options, h.deps, runtime())));
  await program.parseAsync(['node', 'lakestream', 'erase', ...args]);
  return { code, out: h.output() };
}

function happyPath() {
  ssm
    .on(GetParameterCommand, { Name: '/lakestream/dev/erasure' })
    .resolves({ Parameter: { Name: '/lakestream/dev/erasure', Value: JSON.stringify(SETTINGS) } });
  s3.on(PutObjectCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION, status: 'RUNNING', stateMachineArn: SM, startDate: new Date() });
  // History grows over three polls: prepared, first pass, receipt.
  sfn
    .on(GetExecutionHistoryCommand)
    .resolvesOnce({ events: [] })
    .resolvesOnce({ events: [exited('Prepare', { alreadyErased: false })] })
    .resolves({
      events: [
        exited('Prepare', { alreadyErased: false }),
        exited('FirstPass', {}),
        exited('InitialReceipt', { key: 'receipts/R1/initial.json', receipt: RECEIPT }),
      ],
    });
}

beforeEach(() => {
  ssm.reset();
  s3.reset();
  sfn.reset();
});

describe('lakestream erase', () => {
  test('records the request, starts the execution named after the request id, follows it and prints the receipt summary', async () => {
    happyPath();
    const { code, out } = await erase(['--env', 'dev', '--user-id', 'ann', '--user-id', 'bob', '--request-id', 'R1']);
    expect(code).toBe(0);
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'bronze-bucket', Key: '_erasure/R1/request.json', IfNoneMatch: '*' });
    expect(JSON.parse(put.Body as string)).toEqual({ requestId: 'R1', userIds: ['ann', 'bob'], requestedAt: '2024-01-07T10:00:00.000Z' });
    // The execution input holds the request id only: ids never enter Step Functions history.
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({ stateMachineArn: SM, name: 'R1', input: '{"requestId":"R1"}' });
    expect(out).toMatch(/^s3-lake\s+7 rows removed, 3 objects rewritten, 1 deleted$/m);
    expect(out).toMatch(/^kafka\s+11522 keys tombstoned on logins.counts$/m);
    expect(out).toMatch(/^flink\s+1 snapshots deleted; state expires by TTL$/m);
    expect(out).toMatch(/^kafka logins.raw\s+expires by retention within 8 days$/m);
    expect(out).toContain('Receipt: s3://receipts-bucket/receipts/R1/initial.json (write-once)');
    expect(out).toContain('Second pass at 2024-01-22T10:00:00.000Z');
  });

  test('--json prints the envelope with the receipt', async () => {
    happyPath();
    const { code, out } = await erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      command: 'erase',
      ok: true,
      exitCode: 0,
      result: { requestId: 'R1', executionArn: EXECUTION, status: 'first-pass-done', receiptKey: 'receipts/R1/initial.json' },
    });
    expect(json.result.receipt.stores).toHaveLength(5);
  });

  test('re-running the same request follows the existing execution; other ids under the same request id are refused', async () => {
    happyPath();
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 }, message: 'exists' }),
    );
    const existing = (ids: string[]) => ({
      Body: Object.assign(Readable.from(['x']), { transformToString: async () => JSON.stringify({ requestId: 'R1', userIds: ids }) }),
    });
    s3.on(GetObjectCommand).resolves(existing(['ann']) as never);
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const again = await erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).result.executionArn).toBe(EXECUTION);

    s3.on(GetObjectCommand).resolves(existing(['someone-else']) as never);
    await expect(erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1'])).rejects.toThrow(/request id R1 is already in use for other user ids/);
  });

  test('an already erased request says so; a failed execution exits 1 with its cause', async () => {
    happyPath();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [exited('Prepare', { alreadyErased: true })] });
    const done = await erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1']);
    expect(done.out).toContain('Already erased: the final receipt is s3://receipts-bucket/receipts/R1/final.json');

    sfn.on(GetExecutionHistoryCommand).resolves({ events: [exited('Prepare', { alreadyErased: false })] });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      status: 'FAILED',
      error: 'ErasureFailed',
      cause: 'Erasure did not complete: Spark job erase-subjects failed',
      stateMachineArn: SM,
      startDate: new Date(),
    });
    const failed = await erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1']);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('FAILED: FAILED: ErasureFailed Erasure did not complete: Spark job erase-subjects failed');
  });

  test('bad input and an environment without the workflow fail before anything is written', async () => {
    await expect(erase(['--env', 'dev', '--user-id', 'ann', '--request-id', '../etc'])).rejects.toThrow(/--request-id "..\/etc" is not allowed/);
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'nope', $metadata: {} }));
    await expect(erase(['--env', 'dev', '--user-id', 'ann', '--request-id', 'R1'])).rejects.toThrow(
      /has no erasure workflow \(SSM parameter \/lakestream\/dev\/erasure not found\)/,
    );
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('is registered in the program with its options', () => {
    const h = harness(noSharedClients);
    const cmd = createProgram(h.deps, () => undefined).commands.find((c) => c.name() === 'erase')!;
    expect(cmd.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--env', '--user-id', '--request-id', '--json']));
  });
});
