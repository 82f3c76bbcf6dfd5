import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/**
 * One replay execution per object version. EventBridge delivers at least once, and its target
 * retries re-deliver an event whose first delivery did start an execution; with a name chosen by
 * Step Functions each delivery would start a replay of its own and send the file again. The name
 * is derived from what identifies the object version instead, so a repeat is refused by Step
 * Functions itself (names of a standard state machine stay unique for 90 days after the execution
 * closes, and StartExecution with the same name and input while it runs returns the running one).
 */

/** The part of an S3 "Object Created" EventBridge event the replay needs. */
export interface ObjectCreatedEvent {
  readonly detail?: {
    readonly bucket?: { readonly name?: string };
    readonly object?: { readonly key?: string; readonly etag?: string; readonly 'version-id'?: string; readonly sequencer?: string };
  };
}

/** The execution input the state machine's plan step reads. */
export interface ReplayStart {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly versionId: string | null;
}

export function replayStartFrom(event: ObjectCreatedEvent): ReplayStart {
  const bucket = event.detail?.bucket?.name;
  const key = event.detail?.object?.key;
  const etag = event.detail?.object?.etag;
  if (!bucket || !key || !etag) {
    throw new Error(`not an S3 Object Created event with bucket, key and etag: ${JSON.stringify(event.detail ?? null).slice(0, 500)}`);
  }
  return { bucket, key, etag, versionId: event.detail?.object?.['version-id'] ?? null };
}

/**
 * `replay-` + 64 hex digits of SHA-256 over bucket, key, ETag and version id: 71 characters,
 * within the 80 allowed, and only characters Step Functions accepts. The key itself cannot be
 * the name (length, and characters such as spaces and brackets that names refuse).
 */
export function executionNameFor(start: ReplayStart): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([start.bucket, start.key, start.etag, start.versionId]))
    .digest('hex');
  return `replay-${digest}`;
}

export type StartOutcome =
  | { readonly outcome: 'started'; readonly executionArn: string }
  | { readonly outcome: 'already-started'; readonly executionName: string };

/** Starts the replay, treating "this version already has its execution" as success. */
export async function startReplay(sfn: Pick<SFNClient, 'send'>, stateMachineArn: string, start: ReplayStart): Promise<StartOutcome> {
  const name = executionNameFor(start);
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(start) }));
    return { outcome: 'started', executionArn: out.executionArn ?? `${stateMachineArn}:${name}` };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists || (error as { name?: string }).name === 'ExecutionAlreadyExists') {
      return { outcome: 'already-started', executionName: name };
    }
    throw error;
  }
}
