import { isAnnotationKeyword, jsonEqual, type JsonSchema, type JsonSchemaObject, type JsonTypeName, SUPPORTED_KEYWORDS } from './json-schema';

/**
 * Breaking-change detection between two versions of a contract's JSON Schema.
 *
 * A change is breaking when a consumer written against the previous schema could break on data
 * written against the next one, or a producer's old data no longer validates:
 * - removed-field: a property the previous schema declared is gone (consumers reading it break);
 * - narrowed-type: the next schema rejects a value the previous one accepted (fewer types or enum
 *   values, tighter bounds, a new or changed pattern or format, closed additional properties);
 * - new-required-field: a property is required now that was not before;
 * - unrecognized-change: a keyword this checker does not model changed. Judged breaking so that
 *   the check fails safe instead of waving through what it cannot reason about.
 * Adding an optional field, widening a type, adding enum values and editing descriptions are not breaking.
 */
export type BreakingChangeKind = 'removed-field' | 'narrowed-type' | 'new-required-field' | 'unrecognized-change';

export interface BreakingChange {
  readonly kind: BreakingChangeKind;
  /** JSON-pointer-like path of the schema node, e.g. `/properties/record/properties/user_id`. */
  readonly path: string;
  readonly detail: string;
}

export function findBreakingChanges(previous: JsonSchema, next: JsonSchema): BreakingChange[] {
  const changes: BreakingChange[] = [];
  compare(previous, next, '', changes);
  return changes;
}

/** The contract's declared version, carried in the generated document as `x-schema-version`. */
export function schemaVersionOf(schema: JsonSchema): number {
  const version = typeof schema === 'object' ? schema['x-schema-version'] : undefined;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new Error('schema has no x-schema-version (a positive integer)');
  }
  return version;
}

/**
 * The evolution rule the contract test and the generator enforce: a breaking change needs a version
 * bump, and a version never goes down. Returns what is wrong, empty when the evolution is allowed.
 */
export function checkContractEvolution(name: string, committed: JsonSchema, generated: JsonSchema): string[] {
  const before = schemaVersionOf(committed);
  const after = schemaVersionOf(generated);
  if (after < before) return [`${name}: version went down from ${before} to ${after}`];
  if (after > before) return [];
  return findBreakingChanges(committed, generated).map(
    (change) => `${name}: ${change.kind} at ${change.path || '/'}: ${change.detail} (bump the schema version of ${name} or keep the change compatible)`,
  );
}

function compare(previous: JsonSchema, next: JsonSchema, path: string, out: BreakingChange[]): void {
  if (next === true || isEmptySchema(next)) return;
  if (previous === false) return;
  if (next === false) {
    out.push({ kind: 'narrowed-type', path, detail: 'now accepts nothing' });
    return;
  }
  const prev: JsonSchemaObject = previous === true ? {} : previous;
  const nextAlternatives = alternativesOf(next);
  const prevAlternatives = alternativesOf(prev);
  if (nextAlternatives.length > 1 || prevAlternatives.length > 1) {
    compareAlternatives(prevAlternatives, nextAlternatives, path, out);
    return;
  }
  compareSingle(prev, next, path, out);
}

/** Every alternative the previous schema accepted must be accepted by some alternative of the next one. */
function compareAlternatives(prevAlternatives: JsonSchema[], nextAlternatives: JsonSchema[], path: string, out: BreakingChange[]): void {
  prevAlternatives.forEach((prevAlternative, index) => {
    let closest: BreakingChange[] | undefined;
    for (const nextAlternative of nextAlternatives) {
      const changes: BreakingChange[] = [];
      compare(prevAlternative, nextAlternative, `${path}/anyOf/${index}`, changes);
      if (changes.length === 0) return;
      if (!closest || changes.length < closest.length) closest = changes;
    }
    out.push(...(closest ?? [{ kind: 'narrowed-type', path, detail: `alternative ${index} is no longer accepted` }]));
  });
}

function compareSingle(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  compareTypes(prev, next, path, out);
  compareValues(prev, next, path, out);
  compareLowerBound(prev.minLength, next.minLength, 'minLength', path, out);
  compareUpperBound(prev.maxLength, next.maxLength, 'maxLength', path, out);
  compareLowerBound(prev.minItems, next.minItems, 'minItems', path, out);
  compareUpperBound(prev.maxItems, next.maxItems, 'maxItems', path, out);
  compareNumericRange(prev, next, path, out);
  for (const keyword of ['pattern', 'format'] as const) {
    if (next[keyword] !== undefined && next[keyword] !== prev[keyword]) {
      const was = prev[keyword] === undefined ? 'none' : JSON.stringify(prev[keyword]);
      out.push({ kind: 'narrowed-type', path, detail: `${keyword} changed from ${was} to ${JSON.stringify(next[keyword])}` });
    }
  }
  compareObject(prev, next, path, out);
  if (prev.items !== undefined || next.items !== undefined) compare(prev.items ?? true, next.items ?? true, `${path}/items`, out);
  compareUnmodelledKeywords(prev, next, path, out);
}

function compareTypes(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  const nextTypes = typesOf(next);
  if (!nextTypes) return;
  const prevTypes = typesOf(prev);
  if (!prevTypes) {
    out.push({ kind: 'narrowed-type', path, detail: `was any type, now ${[...nextTypes].join(' | ')}` });
    return;
  }
  for (const type of prevTypes) {
    const stillAccepted = nextTypes.has(type) || (type === 'integer' && nextTypes.has('number'));
    if (!stillAccepted) out.push({ kind: 'narrowed-type', path, detail: `type ${type} no longer accepted (now ${[...nextTypes].join(' | ')})` });
  }
}

function compareValues(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  const nextValues = allowedValues(next);
  if (!nextValues) return;
  const prevValues = allowedValues(prev);
  if (!prevValues) {
    out.push({ kind: 'narrowed-type', path, detail: `now limited to ${JSON.stringify(nextValues)}` });
    return;
  }
  const removed = prevValues.filter((value) => !nextValues.some((candidate) => jsonEqual(candidate, value)));
  if (removed.length > 0) out.push({ kind: 'narrowed-type', path, detail: `values no longer accepted: ${JSON.stringify(removed)}` });
}

function compareLowerBound(prev: number | undefined, next: number | undefined, keyword: string, path: string, out: BreakingChange[]): void {
  if (next !== undefined && next > (prev ?? Number.NEGATIVE_INFINITY)) {
    out.push({ kind: 'narrowed-type', path, detail: `${keyword} raised from ${prev ?? 'none'} to ${next}` });
  }
}

function compareUpperBound(prev: number | undefined, next: number | undefined, keyword: string, path: string, out: BreakingChange[]): void {
  if (next !== undefined && next < (prev ?? Number.POSITIVE_INFINITY)) {
    out.push({ kind: 'narrowed-type', path, detail: `${keyword} lowered from ${prev ?? 'none'} to ${next}` });
  }
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

function compareNumericRange(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  const prevLow = lowerBound(prev);
  const nextLow = lowerBound(next);
  if (nextLow && (!prevLow || nextLow.value > prevLow.value || (nextLow.value === prevLow.value && nextLow.exclusive && !prevLow.exclusive))) {
    out.push({ kind: 'narrowed-type', path, detail: `lower bound raised from ${describeBound(prevLow)} to ${describeBound(nextLow)}` });
  }
  const prevHigh = upperBound(prev);
  const nextHigh = upperBound(next);
  if (nextHigh && (!prevHigh || nextHigh.value < prevHigh.value || (nextHigh.value === prevHigh.value && nextHigh.exclusive && !prevHigh.exclusive))) {
    out.push({ kind: 'narrowed-type', path, detail: `upper bound lowered from ${describeBound(prevHigh)} to ${describeBound(nextHigh)}` });
  }
}

function lowerBound(schema: JsonSchemaObject): Bound | undefined {
  return tighterBound(schema.minimum, schema.exclusiveMinimum, (a, b) => a > b);
}

function upperBound(schema: JsonSchemaObject): Bound | undefined {
  return tighterBound(schema.maximum, schema.exclusiveMaximum, (a, b) => a < b);
}

function tighterBound(inclusive: number | undefined, exclusive: number | undefined, tighter: (a: number, b: number) => boolean): Bound | undefined {
  if (inclusive === undefined) return exclusive === undefined ? undefined : { value: exclusive, exclusive: true };
  if (exclusive === undefined) return { value: inclusive, exclusive: false };
  return tighter(exclusive, inclusive) || exclusive === inclusive ? { value: exclusive, exclusive: true } : { value: inclusive, exclusive: false };
}

function describeBound(bound: Bound | undefined): string {
  if (!bound) return 'none';
  return `${bound.value}${bound.exclusive ? ' (exclusive)' : ''}`;
}

function compareObject(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  const prevProperties = prev.properties ?? {};
  const nextProperties = next.properties ?? {};
  const prevAdditional = prev.additionalProperties ?? true;
  for (const [name, prevProperty] of Object.entries(prevProperties)) {
    const nextProperty = nextProperties[name];
    if (nextProperty === undefined) {
      out.push({ kind: 'removed-field', path: `${path}/properties/${name}`, detail: `field ${name} was removed` });
      continue;
    }
    compare(prevProperty, nextProperty, `${path}/properties/${name}`, out);
  }
  for (const [name, nextProperty] of Object.entries(nextProperties)) {
    // A new property was, before, an "additional" one: old data may hold it with whatever the previous schema allowed there.
    if (!(name in prevProperties)) compare(prevAdditional, nextProperty, `${path}/properties/${name}`, out);
  }
  const prevRequired = new Set(prev.required ?? []);
  for (const name of next.required ?? []) {
    if (!prevRequired.has(name)) out.push({ kind: 'new-required-field', path: `${path}/properties/${name}`, detail: `field ${name} is now required` });
  }
  const nextAdditional = next.additionalProperties ?? true;
  if (nextAdditional === false && prevAdditional !== false) {
    out.push({ kind: 'narrowed-type', path, detail: 'additional properties are no longer allowed' });
  } else if (prevAdditional !== false) {
    compare(prevAdditional, nextAdditional, `${path}/additionalProperties`, out);
  }
  if (prev.propertyNames !== undefined || next.propertyNames !== undefined) {
    compare(prev.propertyNames ?? true, next.propertyNames ?? true, `${path}/propertyNames`, out);
  }
}

function compareUnmodelledKeywords(prev: JsonSchemaObject, next: JsonSchemaObject, path: string, out: BreakingChange[]): void {
  const keywords = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const keyword of keywords) {
    if (SUPPORTED_KEYWORDS.has(keyword) || isAnnotationKeyword(keyword)) continue;
    if (!jsonEqual(prev[keyword], next[keyword])) {
      out.push({ kind: 'unrecognized-change', path, detail: `keyword ${keyword} changed and is not modelled by the checker` });
    }
  }
}

function alternativesOf(schema: JsonSchema): JsonSchema[] {
  if (typeof schema === 'boolean') return [schema];
  const alternatives = schema.anyOf ?? schema.oneOf;
  return alternatives && alternatives.length > 0 ? alternatives : [schema];
}

function typesOf(schema: JsonSchemaObject): Set<JsonTypeName> | undefined {
  if (schema.type !== undefined) return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
  const values = allowedValues(schema);
  return values ? new Set(values.map(jsonTypeOf)) : undefined;
}

function allowedValues(schema: JsonSchemaObject): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return schema.enum;
}

function jsonTypeOf(value: unknown): JsonTypeName {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonTypeName;
}

function isEmptySchema(schema: JsonSchema): boolean {
  return typeof schema === 'object' && Object.keys(schema).every(isAnnotationKeyword);
}
