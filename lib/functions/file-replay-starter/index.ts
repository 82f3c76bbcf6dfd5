import { SFNClient } from '@aws-sdk/client-sfn';
import { createLogger } from '../shared/logger';
import { replayStartFrom, startReplay, type ObjectCreatedEvent, type StartOutcome } from './start';

/**
 * EventBridge target of the file replay: starts one state machine execution per object version
 * (see start.ts). Kept apart from the replay bundle so it carries neither kafkajs nor the S3 client.
 */
const sfn = new SFNClient({});
const logger = createLogger('file-replay-starter');

export async function handler(event: ObjectCreatedEvent): Promise<StartOutcome> {
  const stateMachineArn = process.env.STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set: it must hold the replay state machine ARN, set by the FileReplay construct');
  const start = replayStartFrom(event);
  const outcome = await startReplay(sfn, stateMachineArn, start);
  logger.info(outcome.outcome === 'started' ? 'replay started' : 'replay of this object version already started; duplicate event ignored', {
    ...start,
    ...outcome,
  });
  return outcome;
}
