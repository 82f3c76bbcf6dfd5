import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { floorToMinute, formatLocalMinute, isValidTimeZone, localDate, MINUTE_MS } from './time';

/**
 * Progress is one JSON document in SSM Parameter Store, one cursor per read pass:
 *
 *   { "version": 2, "timeZone": "Europe/Paris", "passes": { "480": "2024-05-01T02:00:00.000Z", "2160": ..., "4320": ... },
 *     "lastDataMinute": "2024-05-01T01:59:00.000Z", ... }
 *
 * A pass with age A reads each minute once, A after it ended (GA4 keeps changing data for up to
 * 48 hours and makes intraday data available hours late), so the default passes read every minute
 * three times. A cursor is an exclusive bound: every minute before it has been read by that pass,
 * and what the read found beyond the counts already sent has been sent, flushed and recorded in
 * the sent-counts table. Version 1 marks (one `through`) are taken over: every pass starts at it.
 *
 * The construct creates the parameter with `{"version":1}` (no cursor yet): the first run starts
 * every pass `initialLookback` ago. A value that does not parse fails the run rather than silently
 * starting over, because starting over would read old logins again.
 */

const HOUR_MS = 60 * MINUTE_MS;
const instant = () => z.iso.datetime('must be an ISO instant such as 2024-05-01T10:00:00.000Z');
const zone = () => z.string('must be an IANA time zone').check(z.refine(isValidTimeZone, 'must be an IANA time zone'));
const stateSchema = z.union([
  z.looseObject({ version: z.literal(1, 'must be 1 or 2'), through: z.optional(instant()), timeZone: z.optional(zone()) }),
  z.looseObject({
    version: z.literal(2, 'must be 1 or 2'),
    timeZone: z.optional(zone()),
    passes: z.record(z.string().check(z.regex(/^\d+$/, 'pass keys are ages in minutes')), instant()),
    lastDataMinute: z.optional(instant()),
  }),
]);

export interface MarkState {
  /** Cursor of each pass by its age in minutes; a pass without one has not run yet. */
  readonly passes: Readonly<Record<string, string>>;
  /** A version 1 mark's `through`: where every pass without a cursor starts. */
  readonly legacyThrough?: string;
  /** Property reporting time zone learned from a response. */
  readonly timeZone?: string;
  /** Start of the newest minute that had a login in any read, for the empty-window alarm. */
  readonly lastDataMinute?: string;
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
    throw new Error(`High-water mark ${parameterName} is not JSON; expected {"version":2,"passes":{...}}. Refusing to guess a start point.`);
  }
  const parsed = z.safeParse(stateSchema, json);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Error(`High-water mark ${parameterName} is invalid (${details}). Refusing to guess a start point.`);
  }
  const data = parsed.data;
  const cursors = data.version === 1 ? (data.through ? [data.through] : []) : Object.values(data.passes);
  for (const cursor of cursors) {
    if (Date.parse(cursor) % MINUTE_MS !== 0) throw new Error(`High-water mark ${parameterName}: cursors must be on a whole minute, got ${cursor}`);
  }
  if (data.version === 1) return { passes: {}, legacyThrough: data.through, timeZone: data.timeZone };
  return { passes: data.passes, timeZone: data.timeZone, lastDataMinute: data.lastDataMinute };
}

export function serializeMark(state: MarkState, run: CommittedRun, nowMs: number): string {
  return JSON.stringify({
    version: 2,
    timeZone: state.timeZone,
    passes: state.passes,
    lastDataMinute: state.lastDataMinute,
    updatedAt: new Date(nowMs).toISOString(),
    lastRun: run,
  });
}

export interface WindowSettings {
  readonly initialLookbackMs: number;
  readonly maxWindowMs: number;
}

/** Half-open UTC window [start, end), minute-aligned; `end` is on a whole UTC hour. */
export interface IngestWindow {
  readonly start: number;
  readonly end: number;
}

export const floorToHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Where a pass without a cursor starts: the v1 mark, or initialLookback ago (the same for every pass of a run). */
export function initialCursor(mark: MarkState, nowMs: number, settings: WindowSettings): number {
  return mark.legacyThrough ? Date.parse(mark.legacyThrough) : floorToHour(nowMs - settings.initialLookbackMs);
}

/**
 * The window a pass of age `ageMs` reads now: from its cursor to the last whole hour that ended
 * at least `ageMs` ago, at most `maxWindow` long so a long outage is caught up over several runs.
 * Whole hours keep the report filter small (hour prefixes) and the request count per pass at one
 * an hour, however often the schedule runs.
 */
export function passWindow(cursor: number, ageMs: number, nowMs: number, settings: WindowSettings): IngestWindow | undefined {
  const end = Math.min(floorToHour(nowMs - ageMs), floorToHour(cursor + Math.max(settings.maxWindowMs, HOUR_MS)));
  return end > cursor ? { start: cursor, end } : undefined;
}

/**
 * The report's date range and the local `dateHourMinute` hour prefixes (YYYYMMDDHH) that cover the
 * window in the property's zone. Zones are offset by multiples of 15 minutes, so sampling every 15
 * minutes finds every local hour the window touches; rows outside the window are dropped by the caller.
 */
export function reportSliceFor(window: IngestWindow, timeZone: string): { startDate: string; endDate: string; hourPrefixes: string[] } {
  const prefixes = new Set<string>();
  for (let t = window.start; t < window.end; t += 15 * MINUTE_MS) prefixes.add(formatLocalMinute(t, timeZone).slice(0, 10));
  prefixes.add(formatLocalMinute(window.end - MINUTE_MS, timeZone).slice(0, 10));
  return { startDate: localDate(window.start, timeZone), endDate: localDate(window.end - MINUTE_MS, timeZone), hourPrefixes: [...prefixes].sort() };
}

export { floorToMinute };

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
