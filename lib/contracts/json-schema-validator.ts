import { FAST_PATTERNS } from './fast-patterns';
import { isAnnotationKeyword, jsonEqual, type JsonSchema, type JsonSchemaObject, type JsonTypeName, SUPPORTED_KEYWORDS } from './json-schema';

/**
 * Compiles a contract's generated JSON Schema into a yes/no check for parsed JSON values.
 *
 * Why not zod's own `safeParse` on the hot path: the replay worker validates millions of lines and
 * zod builds an output object and an issue list per record, which costs more than `JSON.parse`
 * itself. This check only answers "valid?", and the caller asks zod for the reasons only when the
 * answer is no. Like ajv, it generates a JavaScript function from the schema (direct property reads,
 * reading declared properties directly), which V8 then optimises as ordinary code.
 *
 * The schema it compiles is generated from the zod contract, and a test compares both verdicts over
 * valid and broken records, so the two cannot silently drift. Semantics follow zod, the source of
 * truth, where they differ from JSON Schema's letter: string lengths count UTF-16 code units
 * (`str.length`) and patterns are ECMAScript regexes without the `u` flag (two of zod's, UUID and
 * UTC date-time, run as equivalent hand-written code: fast-patterns.ts). `format` is not checked:
 * zod emits a `pattern` next to every format it checks. Generated code embeds only identifiers,
 * numbers and JSON-quoted strings; patterns and nested checks are passed in as values. A keyword
 * outside the supported subset makes compilation throw, so nothing is waved through unchecked.
 */
export type ValueCheck = (value: unknown) => boolean;

export function compileValidator(schema: JsonSchema): ValueCheck {
  const generator = new Generator();
  const body = generator.emit(schema, 'v0', '');
  const factory = new Function('regexes', 'checks', 'hasOwn', 'jsonEqual', `"use strict"; return function check(v0) { ${body} return true; };`) as (
    regexes: RegExp[],
    checks: ValueCheck[],
    hasOwn: (o: object, k: PropertyKey) => boolean,
    equal: (a: unknown, b: unknown) => boolean,
  ) => ValueCheck;
  return factory(generator.regexes, generator.checks, Object.hasOwn, jsonEqual);
}

const TYPE_TESTS: Record<JsonTypeName, (v: string) => string> = {
  string: (v) => `typeof ${v} === "string"`,
  number: (v) => `(typeof ${v} === "number" && Number.isFinite(${v}))`,
  integer: (v) => `(typeof ${v} === "number" && Number.isInteger(${v}))`,
  boolean: (v) => `typeof ${v} === "boolean"`,
  object: (v) => `(typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v}))`,
  array: (v) => `Array.isArray(${v})`,
  null: (v) => `${v} === null`,
};

class Generator {
  readonly regexes: RegExp[] = [];
  readonly checks: ValueCheck[] = [];
  private variables = 1;

  /** Statements that `return false` when the value held in variable `v` does not match. */
  emit(schema: JsonSchema, v: string, path: string): string {
    if (schema === true) return '';
    if (schema === false) return 'return false;';
    for (const keyword of Object.keys(schema)) {
      if (!SUPPORTED_KEYWORDS.has(keyword) && !isAnnotationKeyword(keyword)) {
        throw new Error(`compileValidator: keyword "${keyword}" at ${path || '/'} is not supported`);
      }
    }
    const types = schema.type === undefined ? undefined : Array.isArray(schema.type) ? schema.type : [schema.type];
    for (const type of types ?? []) {
      if (!(type in TYPE_TESTS)) throw new Error(`compileValidator: unknown type "${String(type)}" at ${path || '/'}`);
    }
    const only = types?.length === 1 ? types[0] : undefined;
    const parts: string[] = [];
    if (types) parts.push(`if (!(${types.map((type) => TYPE_TESTS[type](v)).join(' || ')})) return false;`);
    parts.push(this.emitValues(schema, v));
    parts.push(guard(only === 'string', TYPE_TESTS.string(v), this.emitString(schema, v)));
    parts.push(guard(only === 'number' || only === 'integer', `typeof ${v} === "number"`, this.emitNumber(schema, v)));
    parts.push(guard(only === 'object', TYPE_TESTS.object(v), this.emitObject(schema, v, path)));
    parts.push(guard(only === 'array', TYPE_TESTS.array(v), this.emitArray(schema, v, path)));
    parts.push(this.emitAlternatives(schema, v, path));
    return parts.filter(Boolean).join('\n');
  }

  private emitValues(schema: JsonSchemaObject, v: string): string {
    const values = 'const' in schema ? [schema.const] : schema.enum;
    if (!values) return '';
    if (values.length === 0) return 'return false;';
    if (values.every((value) => value === null || ['string', 'number', 'boolean'].includes(typeof value))) {
      return `if (${values.map((value) => `${v} !== ${JSON.stringify(value)}`).join(' && ')}) return false;`;
    }
    const index = this.checks.push((value) => values.some((allowed) => jsonEqual(allowed, value))) - 1;
    return `if (!checks[${index}](${v})) return false;`;
  }

  private emitString(schema: JsonSchemaObject, v: string): string {
    const parts: string[] = [];
    if (schema.minLength !== undefined) parts.push(`if (${v}.length < ${number(schema.minLength)}) return false;`);
    if (schema.maxLength !== undefined) parts.push(`if (${v}.length > ${number(schema.maxLength)}) return false;`);
    if (schema.pattern !== undefined) {
      const fast = FAST_PATTERNS.get(schema.pattern);
      if (fast) {
        const index = this.checks.push(fast as ValueCheck) - 1;
        parts.push(`if (!checks[${index}](${v})) return false;`);
      } else {
        const index = this.regexes.push(new RegExp(schema.pattern)) - 1;
        parts.push(`if (!regexes[${index}].test(${v})) return false;`);
      }
    }
    return parts.join('\n');
  }

  private emitNumber(schema: JsonSchemaObject, v: string): string {
    const parts: string[] = [];
    if (schema.minimum !== undefined) parts.push(`if (${v} < ${number(schema.minimum)}) return false;`);
    if (schema.maximum !== undefined) parts.push(`if (${v} > ${number(schema.maximum)}) return false;`);
    if (schema.exclusiveMinimum !== undefined) parts.push(`if (${v} <= ${number(schema.exclusiveMinimum)}) return false;`);
    if (schema.exclusiveMaximum !== undefined) parts.push(`if (${v} >= ${number(schema.exclusiveMaximum)}) return false;`);
    return parts.join('\n');
  }

  private emitObject(schema: JsonSchemaObject, v: string, path: string): string {
    const { properties, required, additionalProperties, propertyNames } = schema;
    if (properties === undefined && required === undefined && additionalProperties === undefined && propertyNames === undefined) return '';
    const requiredNames = new Set(required ?? []);
    const declared = Object.entries(properties ?? {});
    const parts: string[] = [];
    // Required names without a schema of their own are checked directly.
    for (const name of requiredNames) {
      if (!(properties && name in properties)) parts.push(`if (!hasOwn(${v}, ${JSON.stringify(name)})) return false;`);
    }
    if (additionalProperties === false && propertyNames === undefined) parts.push(this.emitClosedObject(declared, requiredNames, v, path));
    else parts.push(this.emitOpenObject(declared, requiredNames, additionalProperties, propertyNames, v, path));
    return parts.join('\n');
  }

  /**
   * No property beyond the declared ones: read each declared property directly (V8 inline caches
   * make that nearly free for objects of one shape), then count the object's keys once. Any key
   * beyond the declared ones present makes the counts differ.
   */
  private emitClosedObject(declared: Array<[string, JsonSchema]>, requiredNames: Set<string>, v: string, path: string): string {
    const present = this.variable();
    const key = this.variable();
    const parts = [`let ${present} = 0;`];
    for (const [name, property] of declared) {
      const value = this.variable();
      const quoted = JSON.stringify(name);
      parts.push(`const ${value} = ${v}[${quoted}];`);
      // JSON never yields undefined; an own property holding undefined still counts as a key.
      const has = `(${value} !== undefined || hasOwn(${v}, ${quoted}))`;
      const checks = this.emit(property, value, `${path}/properties/${name}`);
      if (requiredNames.has(name)) {
        parts.push(`if (!${has}) return false;`, `${present}++;`, checks);
      } else {
        parts.push(`if (${has}) { ${present}++;`, `if (${value} !== undefined) {`, checks, '} }');
      }
    }
    parts.push(`for (const ${key} in ${v}) { if (--${present} < 0) return false; }`);
    parts.push(`if (${present} !== 0) return false;`);
    return parts.join('\n');
  }

  /** Additional properties allowed (or judged by a schema): one pass over the keys, switching on the declared names. */
  private emitOpenObject(
    declared: Array<[string, JsonSchema]>,
    requiredNames: Set<string>,
    additionalProperties: JsonSchema | undefined,
    propertyNames: JsonSchema | undefined,
    v: string,
    path: string,
  ): string {
    const key = this.variable();
    const seen = this.variable();
    const countedRequired = declared.filter(([name]) => requiredNames.has(name)).length;
    const parts: string[] = [`let ${seen} = 0;`, `for (const ${key} in ${v}) {`];
    if (propertyNames !== undefined) parts.push(this.emit(propertyNames, key, `${path}/propertyNames`));
    parts.push(`switch (${key}) {`);
    for (const [name, property] of declared) {
      const value = this.variable();
      parts.push(`case ${JSON.stringify(name)}: {`, `const ${value} = ${v}[${key}];`, this.emit(property, value, `${path}/properties/${name}`));
      if (requiredNames.has(name)) parts.push(`${seen}++;`);
      parts.push('break; }');
    }
    parts.push('default: {');
    if (additionalProperties === false) {
      parts.push('return false;');
    } else if (additionalProperties !== undefined) {
      const value = this.variable();
      parts.push(`const ${value} = ${v}[${key}];`, this.emit(additionalProperties, value, `${path}/additionalProperties`));
    }
    parts.push('} } }');
    if (countedRequired > 0) parts.push(`if (${seen} !== ${countedRequired}) return false;`);
    return parts.join('\n');
  }

  private emitArray(schema: JsonSchemaObject, v: string, path: string): string {
    const parts: string[] = [];
    if (schema.minItems !== undefined) parts.push(`if (${v}.length < ${number(schema.minItems)}) return false;`);
    if (schema.maxItems !== undefined) parts.push(`if (${v}.length > ${number(schema.maxItems)}) return false;`);
    if (schema.items !== undefined) {
      const item = this.variable();
      parts.push(`for (const ${item} of ${v}) { ${this.emit(schema.items, item, `${path}/items`)} }`);
    }
    return parts.join('\n');
  }

  private emitAlternatives(schema: JsonSchemaObject, v: string, path: string): string {
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (!alternatives) return '';
    const keyword = schema.anyOf ? 'anyOf' : 'oneOf';
    const indexes = alternatives.map((alternative, index) => {
      const check = compileAlternative(alternative, `${path}/${keyword}/${index}`);
      return this.checks.push(check) - 1;
    });
    if (keyword === 'anyOf') return `if (!(${indexes.map((index) => `checks[${index}](${v})`).join(' || ')})) return false;`;
    return `if ((${indexes.map((index) => `(checks[${index}](${v}) ? 1 : 0)`).join(' + ')}) !== 1) return false;`;
  }

  private variable(): string {
    return `v${this.variables++}`;
  }
}

function compileAlternative(schema: JsonSchema, path: string): ValueCheck {
  try {
    return compileValidator(schema);
  } catch (error) {
    throw new Error(`${(error as Error).message} (in ${path})`);
  }
}

/** Code that applies only to values of one type: unconditional when the type is already asserted. */
function guard(typeAsserted: boolean, typeTest: string, code: string): string {
  if (!code) return '';
  return typeAsserted ? code : `if (${typeTest}) {\n${code}\n}`;
}

function number(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`compileValidator: expected a number, got ${JSON.stringify(value)}`);
  return String(value);
}
