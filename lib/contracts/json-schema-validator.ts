import { isAnnotationKeyword, jsonEqual, type JsonSchema, type JsonSchemaObject, type JsonTypeName, SUPPORTED_KEYWORDS } from './json-schema';

/**
 * Compiles a contract's generated JSON Schema into a yes/no check for parsed JSON values.
 *
 * Why not zod's own `safeParse` on the hot path: the replay worker validates millions of lines and
 * zod builds an output object and issue list per record, which costs more than `JSON.parse` itself.
 * This check only answers "valid?" (no allocation), and the caller asks zod for the reasons only
 * when the answer is no. The schema it compiles is generated from the zod contract, and a test
 * compares both verdicts over valid and broken records, so the two cannot silently drift.
 *
 * Semantics follow zod, the source of truth, where they differ from JSON Schema's letter:
 * string lengths count UTF-16 code units (`str.length`), and patterns are ECMAScript regexes
 * without the `u` flag. `format` is not checked: zod emits a `pattern` next to every format it checks.
 * A keyword outside the supported subset makes compilation throw, so nothing is waved through.
 */
export type ValueCheck = (value: unknown) => boolean;

export function compileValidator(schema: JsonSchema): ValueCheck {
  return compileNode(schema, '');
}

function compileNode(schema: JsonSchema, path: string): ValueCheck {
  if (schema === true) return () => true;
  if (schema === false) return () => false;
  for (const keyword of Object.keys(schema)) {
    if (!SUPPORTED_KEYWORDS.has(keyword) && !isAnnotationKeyword(keyword)) {
      throw new Error(`compileValidator: keyword "${keyword}" at ${path || '/'} is not supported`);
    }
  }
  const checks: ValueCheck[] = [];
  const typeCheck = compileType(schema);
  if (typeCheck) checks.push(typeCheck);
  const valueCheck = compileValues(schema);
  if (valueCheck) checks.push(valueCheck);
  const stringCheck = compileString(schema);
  if (stringCheck) checks.push(stringCheck);
  const numberCheck = compileNumber(schema);
  if (numberCheck) checks.push(numberCheck);
  const objectCheck = compileObject(schema, path);
  if (objectCheck) checks.push(objectCheck);
  const arrayCheck = compileArray(schema, path);
  if (arrayCheck) checks.push(arrayCheck);
  const alternatives = compileAlternatives(schema, path);
  if (alternatives) checks.push(alternatives);
  return all(checks);
}

function all(checks: ValueCheck[]): ValueCheck {
  switch (checks.length) {
    case 0:
      return () => true;
    case 1:
      return checks[0];
    case 2: {
      const [a, b] = checks;
      return (value) => a(value) && b(value);
    }
    default:
      return (value) => {
        for (const check of checks) if (!check(value)) return false;
        return true;
      };
  }
}

const TYPE_CHECKS: Record<JsonTypeName, ValueCheck> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: (v) => Array.isArray(v),
  null: (v) => v === null,
};

function compileType(schema: JsonSchemaObject): ValueCheck | undefined {
  if (schema.type === undefined) return undefined;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const type of types) {
    if (!(type in TYPE_CHECKS)) throw new Error(`compileValidator: unknown type "${String(type)}"`);
  }
  if (types.length === 1) return TYPE_CHECKS[types[0]];
  const checks = types.map((type) => TYPE_CHECKS[type]);
  return (value) => checks.some((check) => check(value));
}

function compileValues(schema: JsonSchemaObject): ValueCheck | undefined {
  const values = 'const' in schema ? [schema.const] : schema.enum;
  if (!values) return undefined;
  if (values.every((value) => value === null || typeof value !== 'object')) {
    const allowed = new Set(values);
    return (value) => allowed.has(value);
  }
  return (value) => values.some((allowed) => jsonEqual(allowed, value));
}

function compileString(schema: JsonSchemaObject): ValueCheck | undefined {
  const { minLength, maxLength, pattern } = schema;
  if (minLength === undefined && maxLength === undefined && pattern === undefined) return undefined;
  const min = minLength ?? 0;
  const max = maxLength ?? Number.POSITIVE_INFINITY;
  const regex = pattern === undefined ? undefined : new RegExp(pattern);
  return (value) => {
    if (typeof value !== 'string') return true;
    if (value.length < min || value.length > max) return false;
    return regex === undefined || regex.test(value);
  };
}

function compileNumber(schema: JsonSchemaObject): ValueCheck | undefined {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema;
  if (minimum === undefined && maximum === undefined && exclusiveMinimum === undefined && exclusiveMaximum === undefined) return undefined;
  const low = minimum ?? Number.NEGATIVE_INFINITY;
  const high = maximum ?? Number.POSITIVE_INFINITY;
  const exclusiveLow = exclusiveMinimum ?? Number.NEGATIVE_INFINITY;
  const exclusiveHigh = exclusiveMaximum ?? Number.POSITIVE_INFINITY;
  return (value) => typeof value !== 'number' || (value >= low && value <= high && value > exclusiveLow && value < exclusiveHigh);
}

function compileObject(schema: JsonSchemaObject, path: string): ValueCheck | undefined {
  const { properties, required, additionalProperties, propertyNames } = schema;
  if (properties === undefined && required === undefined && additionalProperties === undefined && propertyNames === undefined) return undefined;
  const propertyChecks = new Map<string, ValueCheck>(
    Object.entries(properties ?? {}).map(([name, property]) => [name, compileNode(property, `${path}/properties/${name}`)]),
  );
  const requiredNames = required ?? [];
  const additional = additionalProperties === undefined ? undefined : compileNode(additionalProperties, `${path}/additionalProperties`);
  const closed = additionalProperties === false;
  const nameCheck = propertyNames === undefined ? undefined : compileNode(propertyNames, `${path}/propertyNames`);
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return true;
    const record = value as Record<string, unknown>;
    for (const name of requiredNames) if (!Object.hasOwn(record, name)) return false;
    for (const name in record) {
      if (nameCheck !== undefined && !nameCheck(name)) return false;
      const check = propertyChecks.get(name);
      if (check !== undefined) {
        if (!check(record[name])) return false;
      } else if (closed || (additional !== undefined && !additional(record[name]))) {
        return false;
      }
    }
    return true;
  };
}

function compileArray(schema: JsonSchemaObject, path: string): ValueCheck | undefined {
  const { items, minItems, maxItems } = schema;
  if (items === undefined && minItems === undefined && maxItems === undefined) return undefined;
  const itemCheck = items === undefined ? undefined : compileNode(items, `${path}/items`);
  const min = minItems ?? 0;
  const max = maxItems ?? Number.POSITIVE_INFINITY;
  return (value) => {
    if (!Array.isArray(value)) return true;
    if (value.length < min || value.length > max) return false;
    return itemCheck === undefined || value.every(itemCheck);
  };
}

function compileAlternatives(schema: JsonSchemaObject, path: string): ValueCheck | undefined {
  if (schema.anyOf) {
    const checks = schema.anyOf.map((alternative, index) => compileNode(alternative, `${path}/anyOf/${index}`));
    return (value) => checks.some((check) => check(value));
  }
  if (schema.oneOf) {
    const checks = schema.oneOf.map((alternative, index) => compileNode(alternative, `${path}/oneOf/${index}`));
    return (value) => checks.filter((check) => check(value)).length === 1;
  }
  return undefined;
}
