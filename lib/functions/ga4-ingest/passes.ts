/** Read passes of the GA4 ingest; dependency free so the construct and the config schema share them. */

/**
 * Default read passes, as minutes after a minute ends: 8 h (GA4 documents 4-8 h for standard
 * intraday data), 36 h (the day's daily data: at most 24 h to the end of the local day plus the
 * documented 12 h), 72 h (past the documented 24-48 h in which processed data may still change,
 * counted from the end of the local day). Each pass sends only what the earlier ones did not.
 */
export const DEFAULT_PASS_AGES_MINUTES = [8 * 60, 36 * 60, 72 * 60] as const;
/** Passes may be at most a week old: the sent-counts table keeps items that long past the last pass. */
export const MAX_PASS_AGE_MINUTES = 7 * 24 * 60;

/** Every problem with a pass list (ages in minutes, strictly ascending); empty when usable. */
export function passAgeProblems(ages: readonly number[]): string[] {
  if (ages.length < 1 || ages.length > 5) return [`passes: ${ages.length} given, allowed 1 to 5`];
  const problems: string[] = [];
  ages.forEach((age, i) => {
    if (!Number.isInteger(age) || age < 0 || age > MAX_PASS_AGE_MINUTES)
      problems.push(`pass age ${age} minutes is not allowed (allowed: whole minutes from 0 to ${MAX_PASS_AGE_MINUTES})`);
    if (i > 0 && age <= ages[i - 1]) problems.push(`pass ages must increase: ${age} follows ${ages[i - 1]}`);
  });
  return problems;
}
