/**
 * Where the user id comes from in a GA4 report, and what GA4 does to it on the way. Dependency
 * free: the config schema, the construct and the function all check the same rules.
 *
 * GA4 has no Data API dimension for the User-ID feature's `user_id`, and `user_id` is a reserved
 * user-property name, so `customUser:user_id` cannot exist. The id reaches reports only as a
 * custom dimension registered on a parameter of another name:
 * - `customEvent:<parameter>`: an event parameter sent with each login event (values up to 100
 *   characters); it belongs to the event itself, so it is the default;
 * - `customUser:<property>`: a user property (values up to 36 characters, names up to 24).
 * GA4 truncates longer values silently, so two users whose ids share the first 36 (or 100)
 * characters would collide on one id. The deployment therefore declares the longest user id the
 * application can produce (`userIdMaxLength`); it must fit the scope's limit, and a value at the
 * limit that the declaration says cannot occur is refused at run time as a possible truncation.
 */

export const DEFAULT_USER_ID_DIMENSION = 'customEvent:login_user_id';
/** Login-event contract limit on user_id. */
export const CONTRACT_USER_ID_MAX_LENGTH = 128;

export interface DimensionScope {
  readonly prefix: 'customEvent' | 'customUser';
  /** GA4 collection limit on values: longer values are truncated to this length. */
  readonly valueLimit: number;
  /** GA4 limit on the parameter or property name. */
  readonly nameLimit: number;
  readonly what: string;
}

export const DIMENSION_SCOPES: Record<'customEvent' | 'customUser', DimensionScope> = {
  customEvent: { prefix: 'customEvent', valueLimit: 100, nameLimit: 40, what: 'event parameter' },
  customUser: { prefix: 'customUser', valueLimit: 36, nameLimit: 24, what: 'user property' },
};

/** User-property names GA4 reserves (Measurement Protocol and Firebase documentation). */
export const RESERVED_USER_PROPERTY_NAMES = ['first_open_time', 'first_visit_time', 'last_deep_link_referrer', 'user_id', 'first_open_after_install'];
/** Prefixes GA4 reserves for parameter and user-property names. */
export const RESERVED_NAME_PREFIXES = ['google_', 'ga_', 'firebase_'];

export interface UserIdDimension {
  readonly dimension: string;
  readonly scope: DimensionScope;
  readonly name: string;
  readonly maxLength: number;
}

/**
 * Every problem with a user-id dimension and its declared maximum length, each naming the value
 * and what is allowed; empty when both are usable.
 */
export function userIdDimensionProblems(dimension: string, maxLength: number): string[] {
  const match = /^(customEvent|customUser):(.*)$/.exec(dimension);
  if (!match) {
    return [
      `userIdDimension '${dimension}' is not allowed: use customEvent:<event parameter> (default ${DEFAULT_USER_ID_DIMENSION}) or customUser:<user property>`,
    ];
  }
  const scope = DIMENSION_SCOPES[match[1] as 'customEvent' | 'customUser'];
  const name = match[2];
  const problems: string[] = [];
  if (!new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,${scope.nameLimit - 1}}$`).test(name)) {
    problems.push(`userIdDimension '${dimension}': ${scope.what} names start with a letter and have up to ${scope.nameLimit} letters, digits or underscores`);
  }
  if (scope.prefix === 'customUser' && RESERVED_USER_PROPERTY_NAMES.includes(name)) {
    problems.push(
      `userIdDimension '${dimension}' cannot exist: '${name}' is a reserved user-property name (reserved: ${RESERVED_USER_PROPERTY_NAMES.join(', ')}); ` +
        `send the id as an event parameter of another name (e.g. ${DEFAULT_USER_ID_DIMENSION}) or a user property of another name, and register it as a custom dimension`,
    );
  }
  const reservedPrefix = RESERVED_NAME_PREFIXES.find((prefix) => name.startsWith(prefix));
  if (reservedPrefix)
    problems.push(`userIdDimension '${dimension}': the prefix '${reservedPrefix}' is reserved by GA4 (reserved: ${RESERVED_NAME_PREFIXES.join(', ')})`);
  const limit = Math.min(scope.valueLimit, CONTRACT_USER_ID_MAX_LENGTH);
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > limit) {
    problems.push(
      `userIdMaxLength ${maxLength} is not allowed with ${dimension}: GA4 truncates ${scope.what} values to ${scope.valueLimit} characters, ` +
        `so distinct longer ids would collide; allowed: 1 to ${limit}` +
        (scope.prefix === 'customUser' ? `, or use an event parameter (customEvent:, up to ${DIMENSION_SCOPES.customEvent.valueLimit})` : ''),
    );
  }
  return problems;
}

export function parseUserIdDimension(dimension: string, maxLength: number): UserIdDimension {
  const problems = userIdDimensionProblems(dimension, maxLength);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const [prefix, name] = dimension.split(':') as ['customEvent' | 'customUser', string];
  return { dimension, scope: DIMENSION_SCOPES[prefix], name, maxLength };
}

/**
 * Why a reported user id cannot be trusted as one user's id, or undefined. A value longer than
 * declared is either not one of the application's ids or, at GA4's truncation length, the cut-off
 * id of possibly several users: either way it must not become a Kafka key.
 */
export function userIdValueProblem(value: string, dimension: UserIdDimension): string | undefined {
  if (value.length <= dimension.maxLength) return undefined;
  const truncated =
    value.length >= dimension.scope.valueLimit
      ? `: GA4 truncates ${dimension.scope.what} values to ${dimension.scope.valueLimit} characters, so this may be several users`
      : '';
  return `user id is ${value.length} characters, above the declared userIdMaxLength ${dimension.maxLength}${truncated}`;
}
