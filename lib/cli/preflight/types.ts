import type { AwsClients } from '../common/aws-clients';
import type { ResolvedEnvironment } from '../../config/load-config';
import type { PreflightRequirements } from './requirements';

/**
 * pass: ready. warn: deploys, with a note worth reading. fail: the deploy would fail; the remedy
 * says what to do. error: the check could not run (access denied), so nothing is known.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'error';

/** One row of the preflight table; also the stable `--json` shape of a check. */
export interface CheckResult {
  /** Stable identifier for scripts, e.g. `bootstrap-version`. */
  readonly id: string;
  /** What was checked, for people. */
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do; null when nothing is to be done. */
  readonly remedy: string | null;
}

/** The SDK clients the checks use, made for the environment's region (tests pass mocks): all but STS, which the command uses first. */
export type PreflightClients = Omit<AwsClients, 'sts'>;

export interface PreflightContext {
  readonly config: ResolvedEnvironment;
  readonly account: string;
  readonly requirements: PreflightRequirements;
  readonly clients: PreflightClients;
}

/** A check: a title for the progress line, and the work. */
export interface PreflightCheck {
  readonly id: string;
  readonly title: string;
  run(context: PreflightContext): Promise<CheckResult>;
}
