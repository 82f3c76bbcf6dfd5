import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { executionNameFor, replayStartFrom, startReplay, type ObjectCreatedEvent } from '../../lib/functions/file-replay-starter/start';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:111111111111:stateMachine:Replay';

function objectCreated(overrides: Record<string, unknown> = {}): ObjectCreatedEvent {
  return {
    detail: {
      bucket: { name: 'lakestream-dev-landing' },
      object: {
        key: 'incoming/logins [2024] (1).jsonl.gz',
        etag: 'd41d8cd98f00b204e9800998ecf8427e',
        'version-id': 'v1',
        sequencer: '0055AED6DCD90281E5',
        ...overrides,
      },
    },
  };
}

/**
 * A stand-in for Step Functions' naming rule on a standard state machine: a name is unique; the
 * same name with the same input while running returns the running execution, otherwise
 * ExecutionAlreadyExists.
 */
function fakeStepFunctions() {
  const sfn = mockClient(SFNClient);
  const executions = new Map<string, string>();
  sfn.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(input.name)) throw new Error(`InvalidName: ${input.name}`);
    if (executions.has(input.name)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
    executions.set(input.name, input.input);
    return { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
  });
  return { sfn, executions };
}

describe('file replay starter', () => {
  it('starts one execution when the same S3 event arrives twice', async () => {
    const { executions } = fakeStepFunctions();
    const client = new SFNClient({});
    const first = await startReplay(client, STATE_MACHINE, replayStartFrom(objectCreated()));
    const second = await startReplay(client, STATE_MACHINE, replayStartFrom(objectCreated({ sequencer: '0055AED6DCD90281E6' })));
    expect(first.outcome).toBe('started');
    expect(second).toEqual({ outcome: 'already-started', executionName: executionNameFor(replayStartFrom(objectCreated())) });
    expect(executions.size).toBe(1);
    expect(JSON.parse([...executions.values()][0])).toEqual({
      bucket: 'lakestream-dev-landing',
      key: 'incoming/logins [2024] (1).jsonl.gz',
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      versionId: 'v1',
    });
  });

  it('starts a new execution for a new version of the same key', async () => {
    const { executions } = fakeStepFunctions();
    const client = new SFNClient({});
    await startReplay(client, STATE_MACHINE, replayStartFrom(objectCreated()));
    await startReplay(client, STATE_MACHINE, replayStartFrom(objectCreated({ etag: '0cc175b9c0f1b6a831c399e269772661', 'version-id': 'v2' })));
    expect(executions.size).toBe(2);
  });

  it('names executions within the 80 characters and the characters Step Functions allows, whatever the key', () => {
    const name = executionNameFor(replayStartFrom(objectCreated({ key: `incoming/${'ü *?[]{}'.repeat(200)}` })));
    expect(name).toMatch(/^replay-[0-9a-f]{64}$/);
  });

  it('passes other Step Functions errors on, so EventBridge and Lambda retry them', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(startReplay(new SFNClient({}), STATE_MACHINE, replayStartFrom(objectCreated()))).rejects.toThrow('Rate exceeded');
  });

  it('refuses an event without bucket, key or etag', () => {
    expect(() => replayStartFrom({ detail: { bucket: { name: 'b' }, object: { key: 'k' } } })).toThrow(/bucket, key and etag/);
  });
});
