/**
 * GA4 reports time dimensions (dateHourMinute = YYYYMMDDHHmm) in the property's reporting time
 * zone, while login events carry UTC instants. These helpers convert with the runtime's IANA
 * database (Intl), so no time-zone library is bundled.
 */

export const MINUTE_MS = 60_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when the runtime knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function localParts(instantMs: number, timeZone: string): LocalParts {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(new Date(instantMs))
      .map((p) => [p.type, p.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute) };
}

/** Offset of `timeZone` from UTC at an instant, in ms (local = utc + offset). */
function offsetMs(instantMs: number, timeZone: string): number {
  const p = localParts(Math.floor(instantMs / MINUTE_MS) * MINUTE_MS, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(instantMs / MINUTE_MS) * MINUTE_MS;
}

/**
 * The UTC instant at which a local dateHourMinute began, or undefined when the value is not a
 * real calendar minute. In the hour repeated when clocks go back, GA4 has already merged both
 * occurrences into one row, so either instant is as right as the other; the earlier one is used.
 */
export function localMinuteToUtc(dateHourMinute: string, timeZone: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(dateHourMinute);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(asUtc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59) {
    return undefined;
  }
  // Two fixed-point steps settle the offset across a DST transition.
  const first = asUtc - offsetMs(asUtc, timeZone);
  const second = asUtc - offsetMs(first, timeZone);
  const earlier = asUtc - offsetMs(second - 60 * MINUTE_MS, timeZone);
  return formatLocalMinute(earlier, timeZone) === dateHourMinute ? Math.min(earlier, second) : second;
}

/** YYYYMMDDHHmm of an instant in a zone (the form GA4 uses for dateHourMinute). */
export function formatLocalMinute(instantMs: number, timeZone: string): string {
  const p = localParts(instantMs, timeZone);
  return `${p.year}${pad(p.month)}${pad(p.day)}${pad(p.hour)}${pad(p.minute)}`;
}

/** YYYY-MM-DD of an instant in a zone (the form DateRange uses). */
export function localDate(instantMs: number, timeZone: string): string {
  const p = localParts(instantMs, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

export function floorToMinute(instantMs: number): number {
  return Math.floor(instantMs / MINUTE_MS) * MINUTE_MS;
}

const pad = (n: number) => String(n).padStart(2, '0');
