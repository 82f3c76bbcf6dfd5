import { findBreakingChanges, type JsonSchema } from '../../lib/contracts';

const base: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    count: { type: 'integer', minimum: 0 },
    kind: { type: 'string', enum: ['a', 'b'] },
    note: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    attributes: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' } },
  },
  required: ['id', 'count'],
  additionalProperties: false,
};

function change(mutate: (schema: Record<string, any>) => void): JsonSchema {
  const copy = JSON.parse(JSON.stringify(base));
  mutate(copy);
  return copy;
}

describe('findBreakingChanges', () => {
  it('finds nothing between identical schemas', () => {
    expect(findBreakingChanges(base, base)).toEqual([]);
  });

  describe('breaking', () => {
    it.each<[string, (s: Record<string, any>) => void, string, string]>([
      ['a removed field', (s) => delete s.properties.note, 'removed-field', '/properties/note'],
      ['a new required field', (s) => s.required.push('note'), 'new-required-field', '/properties/note'],
      [
        'a new field that is required at once',
        (s) => ((s.properties.tenant = { type: 'string' }), s.required.push('tenant')),
        'new-required-field',
        '/properties/tenant',
      ],
      ['a changed type', (s) => (s.properties.id.type = 'integer'), 'narrowed-type', '/properties/id'],
      ['an enum value removed', (s) => (s.properties.kind.enum = ['a']), 'narrowed-type', '/properties/kind'],
      ['an enum where there was none', (s) => (s.properties.note.enum = ['x']), 'narrowed-type', '/properties/note'],
      ['a shorter maximum length', (s) => (s.properties.id.maxLength = 32), 'narrowed-type', '/properties/id'],
      ['a longer minimum length', (s) => (s.properties.id.minLength = 2), 'narrowed-type', '/properties/id'],
      ['a higher minimum', (s) => (s.properties.count.minimum = 1), 'narrowed-type', '/properties/count'],
      [
        'an exclusive minimum at the old inclusive one',
        (s) => (delete s.properties.count.minimum, (s.properties.count.exclusiveMinimum = 0)),
        'narrowed-type',
        '/properties/count',
      ],
      ['a new pattern', (s) => (s.properties.note.pattern = '^[a-z]+$'), 'narrowed-type', '/properties/note'],
      ['a new format', (s) => (s.properties.note.format = 'uuid'), 'narrowed-type', '/properties/note'],
      ['a narrowed array item', (s) => (s.properties.tags.items = { type: 'string', maxLength: 3 }), 'narrowed-type', '/properties/tags/items'],
      [
        'a narrowed map value',
        (s) => (s.properties.attributes.additionalProperties = { type: 'string', maxLength: 3 }),
        'narrowed-type',
        '/properties/attributes/additionalProperties',
      ],
      ['a closed open object', (s) => (s.properties.attributes = { type: 'object', additionalProperties: false }), 'narrowed-type', '/properties/attributes'],
      ['an unmodelled keyword change', (s) => (s.properties.note.contentEncoding = 'base64'), 'unrecognized-change', '/properties/note'],
    ])('%s', (_what, mutate, kind, path) => {
      const changes = findBreakingChanges(base, change(mutate));
      expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ kind, path })]));
    });

    it('number narrowed to integer', () => {
      expect(findBreakingChanges({ type: 'number' }, { type: 'integer' })).toEqual([
        expect.objectContaining({ kind: 'narrowed-type', detail: expect.stringContaining('type number') }),
      ]);
    });

    it('a changed pattern (regex inclusion is not decided, so any change counts)', () => {
      expect(findBreakingChanges({ type: 'string', pattern: '^a' }, { type: 'string', pattern: '^[ab]' })).toEqual([
        expect.objectContaining({ kind: 'narrowed-type' }),
      ]);
    });

    it('a union alternative dropped', () => {
      const previous: JsonSchema = {
        anyOf: [
          { type: 'string', format: 'uuid' },
          { type: 'string', pattern: '^ga4:' },
        ],
      };
      const next: JsonSchema = { anyOf: [{ type: 'string', format: 'uuid' }] };
      expect(findBreakingChanges(previous, next)).toEqual([expect.objectContaining({ kind: 'narrowed-type', path: '/anyOf/1' })]);
    });

    it('a field that was open before gets a type', () => {
      const open: JsonSchema = { type: 'object', properties: { id: { type: 'string' } } };
      const typed: JsonSchema = { type: 'object', properties: { id: { type: 'string' }, extra: { type: 'string' } } };
      // Old data may carry `extra` with any value, so typing it narrows what was accepted.
      expect(findBreakingChanges(open, typed)).toEqual([expect.objectContaining({ kind: 'narrowed-type', path: '/properties/extra' })]);
    });
  });

  describe('not breaking', () => {
    it.each<[string, (s: Record<string, any>) => void]>([
      ['an added optional field', (s) => (s.properties.session = { type: 'string' })],
      ['a required field made optional', (s) => (s.required = ['id'])],
      ['an added enum value', (s) => (s.properties.kind.enum = ['a', 'b', 'c'])],
      ['integer widened to number', (s) => (s.properties.count.type = 'number')],
      ['a longer maximum length', (s) => (s.properties.id.maxLength = 128)],
      ['a lower minimum', (s) => (s.properties.count.minimum = -1)],
      ['a removed length limit', (s) => delete s.properties.id.maxLength],
      ['a description, title or x- annotation', (s) => ((s.description = 'x'), (s.properties.id.title = 'Id'), (s['x-schema-version'] = 9))],
      ['a type widened to a union', (s) => (s.properties.note.type = ['string', 'null'])],
    ])('%s', (_what, mutate) => {
      expect(findBreakingChanges(base, change(mutate))).toEqual([]);
    });

    it('a new union alternative', () => {
      const previous: JsonSchema = { type: 'string', format: 'uuid' };
      const next: JsonSchema = {
        anyOf: [
          { type: 'string', format: 'uuid' },
          { type: 'string', pattern: '^ga4:' },
        ],
      };
      expect(findBreakingChanges(previous, next)).toEqual([]);
    });

    it('an enum value turned into a const of the same value', () => {
      expect(findBreakingChanges({ type: 'number', enum: [1] }, { type: 'number', const: 1 })).toEqual([]);
    });
  });
});
