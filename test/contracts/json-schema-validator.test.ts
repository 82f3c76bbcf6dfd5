import { z } from 'zod';
import {
  compileValidator,
  contractJsonSchema,
  fileRecordEnvelopeSchema,
  loginCountEventSchema,
  explainLoginEvent,
  isLoginEvent,
  loginEventSchema,
  type JsonSchema,
} from '../../lib/contracts';
import { FAST_PATTERNS, isZodUuid, ZOD_UUID_PATTERN } from '../../lib/contracts/fast-patterns';

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const validLogin = {
  event_id: '3b241101-e2bb-4255-8caf-4136c566a962',
  user_id: 'user-42',
  event_time: '2024-05-01T12:34:56.789Z',
  source: 'replay',
  schema_version: 1,
  attributes: { country: 'NL', device: 'ios' },
};

/** Values that break (or keep) each field in many ways: types, bounds, formats, extra and missing keys. */
const FIELD_VARIANTS: Record<string, unknown[]> = {
  event_id: [
    '3b241101-e2bb-4255-8caf-4136c566a962',
    '3B241101-E2BB-1255-8CAF-4136C566A962',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '3b241101-e2bb-9255-8caf-4136c566a962',
    '3b241101-e2bb-4255-7caf-4136c566a962',
    '3b241101e2bb-4255-8caf-4136c566a962-',
    '3b241101-e2bb-4255-8caf-4136c566a96',
    '3b241101-e2bb-4255-8caf-4136c566a962\n',
    'ga4:123:456',
    'ga4:',
    'ga4: x',
    '',
    42,
    null,
  ],
  user_id: ['u', 'u'.repeat(128), 'u'.repeat(129), '', '😀'.repeat(64), '😀'.repeat(65), 7, ['u']],
  event_time: [
    '2024-05-01T12:34:56Z',
    '2024-05-01T12:34:56.1Z',
    '2024-02-29T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2024-05-01T12:34:56.Z',
    '2024-05-01T12:34:56+00:00',
    '2024-05-01 12:34:56Z',
    '2024-05-01',
    1714566896000,
  ],
  source: ['ga4', 'replay', 'cdc', 'test', 'Replay', '', null],
  schema_version: [1, 2, '1', 1.0, 0],
  attributes: [undefined, {}, { a: 'b' }, { a: 1 }, { a: null }, [], null, 'x', { __proto__: 'x' }],
};

function loginVariants(count: number): unknown[] {
  const next = random(7);
  const fields = Object.keys(FIELD_VARIANTS);
  const variants: unknown[] = [validLogin, null, [], 'x', 1, {}];
  for (const field of fields) {
    for (const value of FIELD_VARIANTS[field]) variants.push({ ...validLogin, [field]: value });
    const { [field]: _removed, ...rest } = validLogin as Record<string, unknown>;
    variants.push(rest);
  }
  variants.push({ ...validLogin, extra: 'x' }, JSON.parse(`{"__proto__":1,"event_id":"${validLogin.event_id}"}`));
  for (let i = 0; i < count; i++) {
    const candidate: Record<string, unknown> = {};
    for (const field of fields) {
      if (next() < 0.05) continue;
      const options = FIELD_VARIANTS[field];
      const value = next() < 0.6 ? (validLogin as Record<string, unknown>)[field] : options[Math.floor(next() * options.length)];
      if (value !== undefined) candidate[field] = value;
    }
    if (next() < 0.05) candidate.extra = 'x';
    variants.push(candidate);
  }
  return variants;
}

describe('compileValidator on the contracts agrees with zod', () => {
  it('login event: same verdict as loginEventSchema on valid and broken records', () => {
    const check = isLoginEvent;
    const variants = loginVariants(3000);
    const disagreements = variants.filter((value) => check(value) !== loginEventSchema.safeParse(value).success);
    expect(disagreements).toEqual([]);
    // The explainer is silent exactly when the check passes.
    expect(variants.filter((value) => (explainLoginEvent(value) === undefined) !== check(value))).toEqual([]);
    // The corpus is not trivially one-sided.
    const accepted = variants.filter((value) => check(value)).length;
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(variants.length - 100);
  });

  it('login event: parsed JSON lines (what replay validates) get the same verdict', () => {
    const check = isLoginEvent;
    for (const value of loginVariants(500)) {
      if (value === undefined) continue;
      const parsed: unknown = JSON.parse(JSON.stringify(value));
      expect([JSON.stringify(value), check(parsed)]).toEqual([JSON.stringify(value), loginEventSchema.safeParse(parsed).success]);
    }
  });

  it('file record envelope: same verdict as zod', () => {
    const check = compileValidator(contractJsonSchema('file-record-envelope'));
    const envelopes = loginVariants(500).flatMap((record, index) => [
      {
        source_bucket: 'landing-bucket',
        source_key: 'incoming/a.jsonl',
        source_etag: 'abc',
        source_offset: index,
        record,
        replayed_at: '2024-05-02T00:00:00Z',
        schema_version: 1,
      },
      { source_bucket: 'b', source_key: 'k', source_etag: 'e', source_offset: -1, record, replayed_at: 'x', schema_version: 1 },
    ]);
    expect(envelopes.filter((value) => check(value) !== fileRecordEnvelopeSchema.safeParse(value).success)).toEqual([]);
  });

  it('login count event: accepts everything zod accepts (zod adds refinements the JSON Schema cannot state)', () => {
    const check = compileValidator(contractJsonSchema('login-count-event'));
    const running = { user_id: 'u', login_count: 1, kind: 'running', emitted_at: '2024-05-01T00:00:00Z', schema_version: 2 };
    const window = { ...running, kind: 'window', window_start: '2024-05-01T00:00:00Z', window_end: '2024-05-01T01:00:00Z' };
    expect(check(running) && check(window)).toBe(true);
    expect(check({ ...running, login_count: -1 })).toBe(false);
    expect(check({ ...running, kind: 'hourly' })).toBe(false);
    expect(loginCountEventSchema.safeParse(window).success).toBe(true);
  });
});

describe('explainLoginEvent', () => {
  it.each<[string, unknown, string]>([
    ['a non-object', [], 'expected object'],
    ['a missing field', { ...validLogin, user_id: undefined }, 'missing field user_id'],
    ['an unknown field', { ...validLogin, tenant: 'x' }, 'unknown field tenant'],
    ['a too long user id', { ...validLogin, user_id: 'u'.repeat(129) }, 'user_id: must be at most 128 characters'],
    ['a bad time', { ...validLogin, event_time: 'yesterday' }, 'event_time: must be a valid date-time'],
    ['a bad id', { ...validLogin, event_id: 'x' }, 'event_id: matches none of the allowed forms'],
    ['an unknown source', { ...validLogin, source: 'fax' }, 'source: must be one of ["ga4","replay","cdc","test"]'],
    ['a non-string attribute', { ...validLogin, attributes: { country: 1 } }, 'attributes.country: expected string'],
  ])('names %s', (_what, value, message) => {
    expect(explainLoginEvent(JSON.parse(JSON.stringify(value)))).toBe(message);
  });
});

describe('compileValidator on hand-written schemas', () => {
  it.each<[string, JsonSchema, unknown, boolean]>([
    ['true accepts anything', true, { a: 1 }, true],
    ['false accepts nothing', false, 1, false],
    ['type unions', { type: ['string', 'null'] }, null, true],
    ['type unions reject others', { type: ['string', 'null'] }, 1, false],
    ['integers are not fractions', { type: 'integer' }, 1.5, false],
    ['keywords of another type do not apply', { minLength: 3 }, 12, true],
    ['exclusive bounds', { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, 1, false],
    ['array items and size', { type: 'array', items: { type: 'string' }, maxItems: 2 }, ['a', 'b'], true],
    ['array items rejected', { type: 'array', items: { type: 'string' } }, ['a', 2], false],
    ['array too long', { type: 'array', maxItems: 1 }, [1, 2], false],
    ['open objects allow extra keys', { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { a: 'x', b: 1 }, true],
    ['open objects still check required', { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { b: 1 }, false],
    ['required without a declared schema', { type: 'object', required: ['z'] }, { z: undefined }, true],
    ['property names', { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }, { Ab: 1 }, false],
    ['oneOf exactly one', { oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1, false],
    ['oneOf exactly one (fraction)', { oneOf: [{ type: 'number' }, { type: 'integer' }] }, 1.5, true],
    ['object consts', { const: { a: [1] } }, { a: [1] }, true],
    ['object consts differ', { enum: [{ a: [1] }] }, { a: [2] }, false],
    [
      'closed object counts an own undefined property as a key',
      { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
      { a: undefined },
      true,
    ],
  ])('%s', (_what, schema, value, expected) => {
    expect(compileValidator(schema)(value)).toBe(expected);
  });

  it('refuses keywords it does not understand instead of ignoring them', () => {
    expect(() => compileValidator({ type: 'object', properties: { a: { if: { type: 'string' } } } })).toThrow('keyword "if" at /properties/a is not supported');
  });

  it('embeds property names safely', () => {
    const check = compileValidator({ type: 'object', properties: { 'a"); throw new Error("x': { type: 'string' } }, additionalProperties: false });
    expect(check({ 'a"); throw new Error("x': 's' })).toBe(true);
  });
});

describe('fast patterns', () => {
  it('the UUID fast path is keyed by the pattern zod emits today (else the regex runs: slower, still right)', () => {
    const emitted = (z.toJSONSchema(z.uuid()) as { pattern: string }).pattern;
    expect(emitted).toBe(ZOD_UUID_PATTERN);
    expect(FAST_PATTERNS.get(emitted)).toBe(isZodUuid);
  });

  it('isZodUuid agrees with the regex on generated, mutated and edge inputs', () => {
    const regex = new RegExp(ZOD_UUID_PATTERN);
    const next = random(11);
    const alphabet = '0123456789abcdefABCDEFgG-_ xZ\n\u00e9\u0660\uff10';
    const inputs = new Set<string>([
      '',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    ]);
    for (let i = 0; i < 2000; i++) {
      const uuid = crypto.randomUUID();
      inputs.add(uuid);
      inputs.add(uuid.toUpperCase());
      // Every single-character substitution at a random position, drawn from a hostile alphabet.
      const position = Math.floor(next() * 36);
      for (const c of alphabet) inputs.add(uuid.slice(0, position) + c + uuid.slice(position + 1));
      inputs.add(uuid.slice(1));
      inputs.add(`${uuid}0`);
      inputs.add(`${uuid}\n`);
    }
    for (const version of '0123456789abcdef') {
      for (const variant of '0123456789abcdefABCDEF') inputs.add(`3b241101-e2bb-${version}255-${variant}caf-4136c566a962`);
    }
    const disagreements = [...inputs].filter((input) => isZodUuid(input) !== regex.test(input));
    expect(disagreements).toEqual([]);
  });
});
