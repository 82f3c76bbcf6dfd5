import { createHash } from 'node:crypto';

/** States in which a run holds (or is about to hold, or is releasing) the job's checkpoint. */
export const ACTIVE_STATES = ['SUBMITTED', 'PENDING', 'SCHEDULED', 'RUNNING', 'QUEUED', 'CANCELLING'] as const;
export type ActiveState = (typeof ACTIVE_STATES)[number];

/** Tags every run started by the supervisor carries. */
export const JOB_TAG = 'lakestream:streaming-job';
export const CONFIG_HASH_TAG = 'lakestream:config-hash';

/** Without a previous run to anchor the idempotency token, tokens rotate on this period. */
export const TOKEN_BUCKET_MS = 60 * 60 * 1000;

export interface RunSummary {
  readonly id: string;
  readonly state: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the current attempt started (EMR retries attempts inside one streaming run). */
  readonly attemptCreatedAt?: Date;
}

export interface RunHistory {
  /** The run that owns the checkpoint now, if any (the oldest active one). */
  readonly active?: RunSummary;
  /** Further active runs of the same job: duplicates that would fight over the checkpoint. */
  readonly duplicates: readonly RunSummary[];
  /** Failed runs in a row, newest first, ending at a run that did not fail or stayed up long enough. */
  readonly consecutiveFailures: number;
  /** When the newest failed run ended. */
  readonly lastFailureAt?: Date;
  /** Newest run of the job in any state. */
  readonly latestRunId?: string;
}

export type Decision =
  | { readonly kind: 'KEEP'; readonly run: RunSummary }
  | { readonly kind: 'START'; readonly restart: boolean }
  | { readonly kind: 'BACK_OFF'; readonly retryAt: Date };

const isActive = (run: RunSummary) => (ACTIVE_STATES as readonly string[]).includes(run.state);
const newestFirst = (a: RunSummary, b: RunSummary) => b.createdAt.getTime() - a.createdAt.getTime();

/**
 * Reads the job's situation from its runs. `active` comes from a listing filtered on ACTIVE_STATES
 * (a streaming run may be weeks old), `recent` from the newest runs in any state.
 */
export function summarizeRuns(active: readonly RunSummary[], recent: readonly RunSummary[], now: Date, stableRunMs: number): RunHistory {
  const activeOldestFirst = [...active].filter(isActive).sort((a, b) => -newestFirst(a, b));
  const current = activeOldestFirst[0];
  const terminal = recent.filter((run) => !isActive(run)).sort(newestFirst);

  let consecutiveFailures = 0;
  let lastFailureAt: Date | undefined;
  for (const run of terminal) {
    if (run.state !== 'FAILED') break;
    consecutiveFailures += 1;
    lastFailureAt ??= run.updatedAt;
    if (run.updatedAt.getTime() - run.createdAt.getTime() >= stableRunMs) break;
  }
  // A run that has been up long enough ends the streak; a young one has not proved anything yet.
  if (current && current.state === 'RUNNING' && now.getTime() - (current.attemptCreatedAt ?? current.createdAt).getTime() >= stableRunMs) {
    consecutiveFailures = 0;
  }
  const latest = [...active, ...recent].sort(newestFirst)[0];
  return {
    active: current,
    duplicates: activeOldestFirst.slice(1),
    consecutiveFailures,
    lastFailureAt,
    latestRunId: latest?.id,
  };
}

/** Wait before restarting after `consecutiveFailures` failures: base, 2x, 4x, ... capped at max. */
export function backoffMs(consecutiveFailures: number, baseMs: number, maxMs: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(consecutiveFailures - 1, 30));
}

export interface DecisionSettings {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** A deploy is an operator's decision to try again now (usually with fixed code). */
  readonly ignoreBackoff: boolean;
}

/** Keep the active run, start one, or wait out the backoff after recent failures. */
export function decide(history: RunHistory, now: Date, settings: DecisionSettings): Decision {
  if (history.active) return { kind: 'KEEP', run: history.active };
  const restart = history.latestRunId !== undefined;
  if (history.consecutiveFailures === 0 || settings.ignoreBackoff || !history.lastFailureAt) return { kind: 'START', restart };
  const retryAt = new Date(history.lastFailureAt.getTime() + backoffMs(history.consecutiveFailures, settings.backoffBaseMs, settings.backoffMaxMs));
  return now.getTime() >= retryAt.getTime() ? { kind: 'START', restart } : { kind: 'BACK_OFF', retryAt };
}

/**
 * Idempotency token of a start: the same for every invocation that sees the same predecessor run
 * and configuration (a scheduled run racing the post-deploy run starts one job, not two), and new
 * once the predecessor changes. With no predecessor in sight the token rotates hourly, so a token
 * EMR still remembers from long ago cannot silently swallow a start.
 */
export function clientToken(jobName: string, configurationHash: string, latestRunId: string | undefined, now: Date): string {
  const anchor = latestRunId ?? `none@${Math.floor(now.getTime() / TOKEN_BUCKET_MS)}`;
  return createHash('sha256').update(`${jobName}|${configurationHash}|${anchor}`).digest('hex');
}
