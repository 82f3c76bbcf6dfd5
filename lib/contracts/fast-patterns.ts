/**
 * Hand-written equivalents of the two regexes zod emits for the login contract's hottest fields,
 * keyed by the exact pattern text. V8 spends ~150 ns matching zod's UUID regex (quantified
 * character classes with alternation), more than the rest of the record's validation together;
 * a character loop does it in a fraction of that.
 *
 * Only an exact pattern match selects a function here, so a zod upgrade that changes a regex falls
 * back to the regex itself: slower, never wrong. Tests compare each function with its regex on
 * generated, mutated and exhaustive inputs, and check that the contracts still hit this table.
 */

/** `z.uuid()` (zod 4): RFC 9562 versions 1-8 with the RFC variant, or the nil and max UUIDs. */
export const ZOD_UUID_PATTERN =
  '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$';

/** `z.iso.datetime()` (zod 4, defaults): calendar-valid date, `T`, hh:mm:ss, optional fraction, `Z`. */
export const ZOD_UTC_DATETIME_PATTERN =
  '^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z))$';

/** 1 for the characters [0-9a-fA-F], indexed by UTF-16 code unit: one load per character, no range check. */
const HEX = new Uint8Array(65536);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const DASH = 0x2d;

export function isZodUuid(s: string): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== DASH || s.charCodeAt(13) !== DASH || s.charCodeAt(18) !== DASH || s.charCodeAt(23) !== DASH) return false;
  // Unrolled and branch-free: V8 runs this several times faster than the loop or the regex.
  const hex =
    HEX[s.charCodeAt(0)] & HEX[s.charCodeAt(1)] & HEX[s.charCodeAt(2)] & HEX[s.charCodeAt(3)] &
    HEX[s.charCodeAt(4)] & HEX[s.charCodeAt(5)] & HEX[s.charCodeAt(6)] & HEX[s.charCodeAt(7)] &
    HEX[s.charCodeAt(9)] & HEX[s.charCodeAt(10)] & HEX[s.charCodeAt(11)] & HEX[s.charCodeAt(12)] &
    HEX[s.charCodeAt(14)] & HEX[s.charCodeAt(15)] & HEX[s.charCodeAt(16)] & HEX[s.charCodeAt(17)] &
    HEX[s.charCodeAt(19)] & HEX[s.charCodeAt(20)] & HEX[s.charCodeAt(21)] & HEX[s.charCodeAt(22)] &
    HEX[s.charCodeAt(24)] & HEX[s.charCodeAt(25)] & HEX[s.charCodeAt(26)] & HEX[s.charCodeAt(27)] &
    HEX[s.charCodeAt(28)] & HEX[s.charCodeAt(29)] & HEX[s.charCodeAt(30)] & HEX[s.charCodeAt(31)] &
    HEX[s.charCodeAt(32)] & HEX[s.charCodeAt(33)] & HEX[s.charCodeAt(34)] & HEX[s.charCodeAt(35)];
  if (hex !== 1) return false;
  const version = s.charCodeAt(14);
  const variant = s.charCodeAt(19);
  const versioned = version >= 0x31 && version <= 0x38 && (variant === 0x38 || variant === 0x39 || variant === 0x61 || variant === 0x62 || variant === 0x41 || variant === 0x42);
  return versioned || s === '00000000-0000-0000-0000-000000000000' || s === 'ffffffff-ffff-ffff-ffff-ffffffffffff';
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isZodUtcDateTime(value: string): boolean {
  const length = value.length;
  if (length < 20) return false;
  if (value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || value.charCodeAt(10) !== 0x54) return false;
  if (value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a) return false;
  const century = twoDigits(value, 0);
  const yearOfCentury = twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  if (century < 0 || yearOfCentury < 0 || month < 1 || month > 12 || day < 1) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = yearOfCentury === 0 ? century % 4 === 0 : yearOfCentury % 4 === 0;
  const maxDay = month === 2 && leap ? 29 : DAYS_IN_MONTH[month];
  if (day > maxDay) return false;
  // Then "Z", or "." + at least one digit + "Z".
  if (value.charCodeAt(length - 1) !== 0x5a) return false;
  if (length === 20) return true;
  if (value.charCodeAt(19) !== 0x2e || length < 22) return false;
  for (let i = 20; i < length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Two ASCII digits as a number, or -1. */
function twoDigits(value: string, at: number): number {
  const tens = value.charCodeAt(at) - 0x30;
  const ones = value.charCodeAt(at + 1) - 0x30;
  if (tens < 0 || tens > 9 || ones < 0 || ones > 9) return -1;
  return tens * 10 + ones;
}

/** Pattern text → equivalent test. */
export const FAST_PATTERNS: ReadonlyMap<string, (value: string) => boolean> = new Map([
  [ZOD_UUID_PATTERN, isZodUuid],
  [ZOD_UTC_DATETIME_PATTERN, isZodUtcDateTime],
]);
