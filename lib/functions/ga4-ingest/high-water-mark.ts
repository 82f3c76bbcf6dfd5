import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { floorToMinute, isValidTimeZone, localDate, MINUTE_MS } from './time';

/**
 * The high-water mark is one JSON document in SSM Parameter Store:
 *
 *   { "version": 1, "through": "2024-05-01T10:15:00.000Z", "timeZone": "Europe/Paris", ... }
 *
 * `through` is an exclusive bound: every GA4 minute that began before it has been read, sent and
 * flushed. Each run reads the half-open window [through, end) and, only after the producer has
 * flushed, writes `through = end`. Windows of successive runs are therefore disjoint, so a row is
 * read by exactly one successful run (see README.md for the argument and its limits).
 *
 * The construct creates the parameter with `{"version":1}` (no mark yet): the first run starts
 * `initialLookback` ago. A value that does not parse fails the run rather than silently starting
 * over, because starting over would send old logins again.
 */

const stateSchema = z.looseObject({
  version: z.literal(1, 'must be 1'),
  through: z.optional(z.iso.datetime('must be an ISO instant such as 2024-05-01T10:15:00.000Z')),
  timeZone: z.optional(z.string('must be an IANA time zone').check(z.refine(isValidTimeZone, 'must be an IANA time zone'))),
});

export interface MarkState {
  /** Exclusive upper bound (UTC, minute-aligned) of what has been sent; undefined before the first run. */
  readonly through?: string;
  /** Property reporting time zone learned from the last response. */
  readonly timeZone?: string;
}

export interface CommittedRun {
  readonly eventsSent: number;
  readonly rowsRejected: number;
  readonly rowsRead: number;
}

export function parseMark(value: string | undefined, parameterName: string): MarkState {
  let json: unknown;
  try {
    json = JSON.parse(value ?? '');
  } catch {
    throw new Error(`High-water mark ${parameterName} is not JSON; expected {"version":1,"through":"<ISO instant>"}. Refusing to guess a start point.`);
  }
  const parsed = z.safeParse(stateSchema, json);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Error(`High-water mark ${parameterName} is invalid (${details}). Refusing to guess a start point.`);
  }
  if (parsed.data.through && new Date(parsed.data.through).getTime() % MINUTE_MS !== 0) {
    throw new Error(`High-water mark ${parameterName}: through must be on a whole minute, got ${parsed.data.through}`);
  }
  return { through: parsed.data.through, timeZone: parsed.data.timeZone };
}

export function serializeMark(through: number, timeZone: string | undefined, run: CommittedRun, nowMs: number): string {
  return JSON.stringify({ version: 1, through: new Date(through).toISOString(), timeZone, updatedAt: new Date(nowMs).toISOString(), lastRun: run });
}

export interface WindowSettings {
  readonly settleDelayMs: number;
  readonly initialLookbackMs: number;
  readonly maxWindowMs: number;
}

/** Half-open UTC window [start, end), both minute-aligned. */
export interface IngestWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * The window this run owns. It ends `settleDelay` before now, because GA4 keeps adding late hits
 * to recent minutes and a minute is read once; and it is at most `maxWindow` long, so a long
 * outage is caught up over several runs that each fit in the Lambda timeout.
 */
export function computeWindow(mark: MarkState, nowMs: number, settings: WindowSettings): IngestWindow | undefined {
  const start = mark.through ? Date.parse(mark.through) : floorToMinute(nowMs - settings.initialLookbackMs);
  const settled = floorToMinute(nowMs - settings.settleDelayMs);
  const end = Math.min(settled, start + floorToMinute(settings.maxWindowMs));
  return end > start ? { start, end } : undefined;
}

/**
 * DateRange (property-local calendar dates, inclusive) covering the window. Until the property's
 * zone is known, the range is widened by a day each side (zones span UTC-12..UTC+14); rows outside
 * the window are dropped by the caller either way.
 */
export function dateRangeFor(window: IngestWindow, timeZone: string | undefined): { startDate: string; endDate: string } {
  const lastMinute = window.end - MINUTE_MS;
  if (timeZone) return { startDate: localDate(window.start, timeZone), endDate: localDate(lastMinute, timeZone) };
  const day = 24 * 60 * MINUTE_MS;
  return { startDate: localDate(window.start - day, 'UTC'), endDate: localDate(lastMinute + day, 'UTC') };
}

/** Reads and writes the mark parameter. */
export class SsmMarkStore {
  constructor(
    private readonly ssm: SSMClient,
    readonly parameterName: string,
  ) {}

  async read(): Promise<MarkState> {
    const out = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName }));
    return parseMark(out.Parameter?.Value, this.parameterName);
  }

  async write(value: string): Promise<void> {
    await this.ssm.send(new PutParameterCommand({ Name: this.parameterName, Value: value, Type: 'String', Overwrite: true }));
  }
}
