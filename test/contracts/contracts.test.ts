import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import {
  checkContractEvolution,
  CONTRACT_NAMES,
  CONTRACT_VERSIONS,
  CONTRACTS,
  contractJsonSchema,
  contractSchemaPath,
  fileRecordEnvelopeKey,
  fileRecordEnvelopeSchema,
  loginCountEventKey,
  loginCountEventSchema,
  loginEventKey,
  loginEventSchema,
  type FileRecordEnvelope,
  type JsonSchema,
} from '../../lib/contracts';
import { generateContracts, renderJson } from '../../lib/contracts/generate';

const ROOT = path.join(__dirname, '..', '..');
/** The login-count-event schema as published at version 1 (kept as a fixture: CI clones may be shallow). */
const LOGIN_COUNT_V1_FIXTURE = path.join(__dirname, 'fixtures', 'login-count-event.v1.schema.json');

const validLogin = {
  event_id: '3b241101-e2bb-4255-8caf-4136c566a962',
  user_id: 'user-42',
  event_time: '2024-05-01T12:34:56.789Z',
  source: 'replay',
  schema_version: 1,
  attributes: { country: 'NL' },
};

function readCommitted(name: string): JsonSchema {
  return JSON.parse(fs.readFileSync(path.join(ROOT, contractSchemaPath(name as never)), 'utf8')) as JsonSchema;
}

describe('published JSON Schemas (jobs/contracts)', () => {
  it('match the zod contracts (run `npx tsx lib/contracts/generate.ts` after changing a contract)', () => {
    const result = generateContracts(ROOT, { write: false });
    expect(result.written.map((file) => path.relative(ROOT, file))).toEqual([]);
  });

  it.each(CONTRACT_NAMES)('%s: the code has no breaking change against the committed schema without a version bump', (name) => {
    expect(checkContractEvolution(name, readCommitted(name), contractJsonSchema(name))).toEqual([]);
  });

  it.each(CONTRACT_NAMES)('%s: carries its version and Kafka key for the jobs', (name) => {
    const schema = contractJsonSchema(name);
    expect(schema['x-schema-version']).toBe(CONTRACT_VERSIONS[name]);
    expect(schema['x-kafka-key']).toBe(CONTRACTS[name].kafkaKey);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('publishes an index of every contract', () => {
    const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'jobs/contracts/contracts.json'), 'utf8'));
    expect(index).toEqual({
      'login-event': { version: 1, kafka_key: 'user_id', schema: 'login-event.schema.json' },
      'login-count-event': { version: 2, kafka_key: 'user_id[|window_start]', schema: 'login-count-event.schema.json' },
      'file-record-envelope': { version: 1, kafka_key: 'record.user_id', schema: 'file-record-envelope.schema.json' },
    });
  });
});

describe('contract evolution rule', () => {
  const committed = contractJsonSchema('login-event');
  const withoutAttributes = { ...render(loginEventSchema.omit({ attributes: true })), 'x-schema-version': 1 };

  it('fails a removed field at the same version', () => {
    const problems = checkContractEvolution('login-event', committed, withoutAttributes);
    expect(problems).toEqual([expect.stringContaining('login-event: removed-field at /properties/attributes')]);
    expect(problems[0]).toContain('bump the schema version');
  });

  it('fails a new required field and a narrowed type at the same version', () => {
    const stricter = loginEventSchema.extend({ tenant: z.string(), source: z.enum(['ga4', 'replay']) });
    const problems = checkContractEvolution('login-event', committed, { ...render(stricter), 'x-schema-version': 1 });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('new-required-field at /properties/tenant'),
        expect.stringContaining('narrowed-type at /properties/source'),
      ]),
    );
  });

  it('accepts the same breaking change once the version is bumped', () => {
    expect(checkContractEvolution('login-event', committed, { ...withoutAttributes, 'x-schema-version': 2 })).toEqual([]);
  });

  it('accepts an added optional field without a bump', () => {
    const wider = loginEventSchema.extend({ session_id: z.string().optional() });
    expect(checkContractEvolution('login-event', committed, { ...render(wider), 'x-schema-version': 1 })).toEqual([]);
  });

  it('refuses a version that goes down', () => {
    expect(checkContractEvolution('login-event', { ...committed, 'x-schema-version': 3 }, committed)).toEqual(['login-event: version went down from 3 to 1']);
  });

  it('the generator refuses to overwrite a committed schema with a breaking change', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'contracts-'));
    const file = path.join(root, contractSchemaPath('login-event'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // The committed file knows a field the code no longer has: the code removed it.
    const committedWithLegacyField = JSON.parse(JSON.stringify(committed));
    committedWithLegacyField.properties.legacy_region = { type: 'string' };
    fs.writeFileSync(file, renderJson(committedWithLegacyField));

    const result = generateContracts(root, { write: true });

    expect(result.problems).toEqual([expect.stringContaining('removed-field at /properties/legacy_region')]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).properties.legacy_region).toEqual({ type: 'string' });
    expect(fs.existsSync(path.join(root, contractSchemaPath('login-count-event')))).toBe(false);
  });

  it('the generator writes every schema when there is nothing to refuse', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'contracts-'));
    const result = generateContracts(root, { write: true });
    expect(result.problems).toEqual([]);
    for (const name of CONTRACT_NAMES) {
      expect(fs.readFileSync(path.join(root, contractSchemaPath(name)), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, contractSchemaPath(name)), 'utf8'));
    }
  });
});

describe('login event', () => {
  it('accepts a UUID or a GA4 id', () => {
    expect(loginEventSchema.safeParse(validLogin).success).toBe(true);
    expect(loginEventSchema.safeParse({ ...validLogin, event_id: 'ga4:123456789:202405011234:user-42:1', source: 'ga4' }).success).toBe(true);
  });

  it.each([
    ['an id that is neither UUID nor GA4', { event_id: 'abc' }],
    ['a GA4 id with spaces', { event_id: 'ga4:has space' }],
    ['an empty user id', { user_id: '' }],
    ['a user id over 128 characters', { user_id: 'u'.repeat(129) }],
    ['a time with an offset instead of Z', { event_time: '2024-05-01T12:34:56+02:00' }],
    ['a date without time', { event_time: '2024-05-01' }],
    ['an impossible date', { event_time: '2023-02-29T00:00:00Z' }],
    ['an unknown source', { source: 'email' }],
    ['another schema version', { schema_version: 2 }],
    ['a non-string attribute', { attributes: { country: 1 } }],
    ['an unknown field', { tenant: 'x' }],
  ])('rejects %s', (_what, change) => {
    expect(loginEventSchema.safeParse({ ...validLogin, ...change }).success).toBe(false);
  });

  it('rejects a missing required field', () => {
    const { user_id: _dropped, ...rest } = validLogin;
    expect(loginEventSchema.safeParse(rest).success).toBe(false);
  });

  it('is keyed by user id', () => {
    expect(loginEventKey(validLogin)).toBe('user-42');
  });
});

describe('login count event', () => {
  const running = { user_id: 'user-42', login_count: 7, kind: 'running', emitted_at: '2024-05-01T12:35:00Z', schema_version: 2 };
  const window = { ...running, login_count: 3, kind: 'window', window_start: '2024-05-01T12:00:00Z', window_end: '2024-05-01T13:00:00Z' };

  it('accepts running and window counts', () => {
    expect(loginCountEventSchema.safeParse(running).success).toBe(true);
    expect(loginCountEventSchema.safeParse(window).success).toBe(true);
  });

  it('requires the window fields exactly for windows', () => {
    expect(loginCountEventSchema.safeParse({ ...window, window_end: undefined }).error?.issues[0].message).toContain("kind 'window' requires");
    expect(loginCountEventSchema.safeParse({ ...running, window_start: '2024-05-01T12:00:00Z' }).error?.issues[0].message).toContain(
      "kind 'running' must not carry window_start",
    );
  });

  it('version 2: every kind carries login_count, window_login_count is gone, a v1 record is refused', () => {
    expect(loginCountEventSchema.safeParse({ ...window, login_count: undefined }).success).toBe(false);
    expect(loginCountEventSchema.safeParse({ ...window, window_login_count: 3 }).success).toBe(false);
    expect(loginCountEventSchema.safeParse({ ...running, schema_version: 1 }).success).toBe(false);
  });

  it('keys running counts by user and window counts by user and window start', () => {
    expect(loginCountEventKey(running)).toBe('user-42');
    expect(loginCountEventKey(window)).toBe('user-42|2024-05-01T12:00:00Z');
  });

  it('the change from version 1 is breaking and therefore needed the bump', () => {
    const version1 = JSON.parse(fs.readFileSync(LOGIN_COUNT_V1_FIXTURE, 'utf8')) as JsonSchema;
    expect(checkContractEvolution('login-count-event', version1, { ...contractJsonSchema('login-count-event'), 'x-schema-version': 1 })).toEqual(
      expect.arrayContaining([expect.stringContaining('removed-field at /properties/window_login_count')]),
    );
    expect(checkContractEvolution('login-count-event', version1, contractJsonSchema('login-count-event'))).toEqual([]);
  });

  it('rejects a window that ends before it starts, and negative or fractional counts', () => {
    expect(loginCountEventSchema.safeParse({ ...window, window_end: '2024-05-01T11:00:00Z' }).success).toBe(false);
    expect(loginCountEventSchema.safeParse({ ...running, login_count: -1 }).success).toBe(false);
    expect(loginCountEventSchema.safeParse({ ...running, login_count: 1.5 }).success).toBe(false);
  });
});

describe('file record envelope', () => {
  const envelope = {
    source_bucket: 'landing-bucket',
    source_key: 'incoming/logins.jsonl',
    source_etag: 'abc123',
    source_offset: 0,
    record: validLogin,
    replayed_at: '2024-05-02T00:00:00.000Z',
    schema_version: 1,
  };

  it('accepts an envelope around a valid login event and is keyed by its user', () => {
    expect(fileRecordEnvelopeSchema.safeParse(envelope).success).toBe(true);
    expect(fileRecordEnvelopeKey(envelope as FileRecordEnvelope)).toBe('user-42');
  });

  it('rejects an envelope around an invalid record or with a negative offset', () => {
    expect(fileRecordEnvelopeSchema.safeParse({ ...envelope, record: { ...validLogin, user_id: '' } }).success).toBe(false);
    expect(fileRecordEnvelopeSchema.safeParse({ ...envelope, source_offset: -1 }).success).toBe(false);
  });
});

function render(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
}
