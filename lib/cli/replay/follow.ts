import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { formatAge, type OpsContext } from '../ops/rows';

/** Where a replay execution stands. */
export interface ReplayProgress {
  readonly status: string;
  /** Byte ranges planned; null until the plan step finished. */
  readonly ranges: number | null;
  readonly rangesDone: number;
}

/** The end of a replay execution: its status, the run summary (records, rejected, bytes, ranges) and its error. */
export interface ReplayOutcome {
  readonly executionArn: string;
  readonly status: string;
  readonly elapsedSeconds: number;
  readonly summary: Record<string, unknown> | null;
  readonly error: string | null;
}

/** Reads the ranges planned and replayed from the execution history (PlanRanges output, Map iterations). */
async function progressOf(context: OpsContext, executionArn: string, status: string): Promise<ReplayProgress> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await context.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  let ranges: number | null = null;
  for (const e of events) {
    if (e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'PlanRanges' && e.stateExitedEventDetails.output) {
      const output = JSON.parse(e.stateExitedEventDetails.output) as { plan?: { ranges?: unknown[] } };
      ranges = output.plan?.ranges?.length ?? 0;
    }
  }
  return { status, ranges, rangesDone: events.filter((e) => e.type === 'MapIterationSucceeded').length };
}

/**
 * Polls one replay execution until it ends or `deadlineMs` passes, reporting progress with the
 * elapsed time through `report`. A Standard workflow's history is readable while it runs.
 */
export async function followReplay(
  context: OpsContext,
  executionArn: string,
  options: { readonly deadlineMs: number; readonly pollMs?: number; readonly report: (line: string) => void },
): Promise<ReplayOutcome> {
  const started = context.now().getTime();
  const pollMs = options.pollMs ?? 5000;
  for (;;) {
    const execution = await context.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = execution.status ?? 'UNKNOWN';
    const elapsed = context.now().getTime() - started;
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      return {
        executionArn,
        status,
        elapsedSeconds: Math.round(elapsed / 1000),
        summary: execution.output ? (JSON.parse(execution.output) as Record<string, unknown>) : null,
        error: status === 'SUCCEEDED' ? null : [execution.error, execution.cause].filter(Boolean).join(': ') || status,
      };
    }
    const progress = await progressOf(context, executionArn, status);
    options.report(
      `[${formatAge(elapsed)}] ${status}: ${progress.ranges === null ? 'planning ranges' : `${progress.rangesDone}/${progress.ranges} ranges replayed`}`,
    );
    if (elapsed >= options.deadlineMs) {
      return { executionArn, status, elapsedSeconds: Math.round(elapsed / 1000), summary: null, error: `still ${status} after ${formatAge(elapsed)}` };
    }
    await context.sleep(pollMs);
  }
}
