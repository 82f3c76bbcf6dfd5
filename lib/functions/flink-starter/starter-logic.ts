import type { ApplicationRestoreType, ApplicationStatus, SnapshotStatus } from '@aws-sdk/client-kinesis-analytics-v2';

/**
 * Decisions of the Flink starter, kept free of SDK calls. Application states
 * (DescribeApplication's ApplicationStatus):
 *   READY           stopped; can be started
 *   STARTING        start in progress
 *   RUNNING         running
 *   UPDATING        an UpdateApplication (e.g. CloudFormation's) is restarting it from a snapshot
 *   AUTOSCALING     running while the service changes its parallelism
 *   MAINTENANCE     running while AWS patches it
 *   STOPPING / FORCE_STOPPING  stop in progress
 *   ROLLING_BACK / ROLLED_BACK system rollback after a failed update
 *   DELETING        being deleted
 */

export type StartPlan =
  | { readonly kind: 'start'; readonly restoreType: ApplicationRestoreType }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/**
 * What onEvent does for Create and Update. A stopped application resumes from its latest snapshot
 * whenever it has one, on Create as well (a replaced starter resource must not throw away the
 * running counts of an application that still exists). Without a snapshot (a new or re-created
 * application: snapshots are deleted with their application) it starts fresh, and the job then
 * reads its input from the earliest retained offset (login_sql.STARTUP_MODE), so the running
 * counts are rebuilt from everything retained instead of restarting at 0 from the consumer
 * group's last position and overwriting the compacted counts topic with lower totals.
 */
export function planStart(applicationName: string, status: ApplicationStatus | undefined, readySnapshots: number): StartPlan {
  switch (status) {
    case 'READY':
      return { kind: 'start', restoreType: readySnapshots > 0 ? 'RESTORE_FROM_LATEST_SNAPSHOT' : 'SKIP_RESTORE_FROM_SNAPSHOT' };
    case 'RUNNING':
    case 'AUTOSCALING':
      return { kind: 'none', reason: `${applicationName} is already ${status}` };
    case 'STARTING':
    case 'UPDATING':
    case 'MAINTENANCE':
      // CloudFormation's UpdateApplication snapshots and restarts a running application itself.
      return { kind: 'none', reason: `${applicationName} is ${status}; waiting for RUNNING` };
    case 'ROLLING_BACK':
    case 'ROLLED_BACK':
      return { kind: 'fail', reason: `${applicationName} is ${status}: its last update failed and the service rolled it back` };
    default:
      return { kind: 'fail', reason: `${applicationName} cannot be started from status ${status ?? 'unknown'}` };
  }
}

export type StartProgress =
  | { readonly kind: 'complete' }
  | { readonly kind: 'wait' }
  /** Stopped although a start was requested: look up why before failing. */
  | { readonly kind: 'diagnose' }
  | { readonly kind: 'fail'; readonly reason: string };

/** What isComplete makes of the status while waiting for RUNNING after Create or Update. */
export function startProgress(applicationName: string, status: ApplicationStatus | undefined): StartProgress {
  switch (status) {
    case 'RUNNING':
      return { kind: 'complete' };
    case 'STARTING':
    case 'UPDATING':
    case 'AUTOSCALING':
    case 'MAINTENANCE':
      return { kind: 'wait' };
    case 'READY':
    case 'ROLLING_BACK':
    case 'ROLLED_BACK':
      return { kind: 'diagnose' };
    default:
      return { kind: 'fail', reason: `${applicationName} went to status ${status ?? 'unknown'} while waiting for RUNNING` };
  }
}

export type StopPlan = { readonly kind: 'complete' } | { readonly kind: 'wait' } | { readonly kind: 'stop'; readonly force: boolean };

/**
 * What Delete does: stop gracefully (the service takes a snapshot), and force the stop once the
 * graceful stop has taken longer than `gracefulMillis`, so deleting a stack never waits on a job
 * that cannot finish its final snapshot.
 */
export function planStop(status: ApplicationStatus | undefined, elapsedMillis: number, gracefulMillis: number): StopPlan {
  const overdue = elapsedMillis >= gracefulMillis;
  switch (status) {
    case undefined:
    case 'READY':
    case 'DELETING':
      return { kind: 'complete' };
    case 'FORCE_STOPPING':
      return { kind: 'wait' };
    case 'STOPPING':
      return overdue ? { kind: 'stop', force: true } : { kind: 'wait' };
    default:
      return { kind: 'stop', force: overdue };
  }
}

export function countReadySnapshots(statuses: ReadonlyArray<SnapshotStatus | undefined>): number {
  return statuses.filter((status) => status === 'READY').length;
}

/** Milliseconds since an ISO timestamp recorded by onEvent; 0 when it is missing or unreadable. */
export function elapsedSince(isoTimestamp: unknown, now: Date): number {
  if (typeof isoTimestamp !== 'string') return 0;
  const started = Date.parse(isoTimestamp);
  return Number.isNaN(started) ? 0 : Math.max(0, now.getTime() - started);
}
