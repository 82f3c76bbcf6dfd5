import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
// zod/mini: every Lambda bundling this module pays for zod's classic API otherwise (~90 KB minified).
import * as z from 'zod/mini';
import type * as core from 'zod/v4/core';
import { PermanentError } from './errors';

/**
 * What an `onEvent` handler behind the CDK Provider framework returns. The framework, not the
 * handler, talks to CloudFormation: a thrown error becomes a FAILED response whose reason is the
 * error message, and the framework's total timeout guarantees the stack never hangs.
 */
export interface CustomResourceResult {
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, unknown>;
}

/** What an `isComplete` handler returns while waiting on a long-running operation. */
export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, unknown>;
}

export type CustomResourceEvent = CloudFormationCustomResourceEvent & { PhysicalResourceId?: string };

export { PermanentError };

/**
 * CloudFormation passes every property as a string (numbers and booleans included). Parse the
 * resource properties with a zod schema that coerces them, and fail with the field names. Any zod 4
 * schema is accepted, built with zod/mini (preferred: small bundles) or with zod's classic API.
 */
export function parseProperties<T extends core.$ZodType>(
  schema: T,
  properties: Record<string, unknown> | undefined,
  what = 'ResourceProperties',
): core.output<T> {
  const { ServiceToken: _serviceToken, ...rest } = properties ?? {};
  const result = z.safeParse(schema, rest, { reportInput: true });
  if (!result.success) {
    const details = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}${describeInput(issue)}`).join('; ');
    throw new PermanentError(`Invalid ${what}: ${details}`);
  }
  return result.data;
}

const MAX_QUOTED_INPUT = 120;

/** The rejected value, when it is a scalar short enough to quote; resource properties hold no secrets. */
function describeInput(issue: core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (input === undefined) return issue.code === 'invalid_type' ? ' (missing)' : '';
  if (typeof input === 'number' || typeof input === 'boolean') return ` (got ${input})`;
  if (typeof input !== 'string') return '';
  return input.length <= MAX_QUOTED_INPUT ? ` (got ${JSON.stringify(input)})` : ` (got a ${input.length}-character string)`;
}

/** zod helpers for CloudFormation's stringly-typed properties (zod/mini has no English messages built in, so each says what is allowed). */
export const cfnBoolean = z.pipe(
  z.union([z.boolean(), z.enum(['true', 'false'])], "must be true or false (or 'true'/'false')"),
  z.transform((value: boolean | 'true' | 'false') => value === true || value === 'true'),
);

const WHOLE_NUMBER = 'must be a whole number';
export const cfnInt = z.pipe(
  z.pipe(
    z.union([z.number(), z.string().check(z.regex(/^-?\d+$/, WHOLE_NUMBER))], WHOLE_NUMBER),
    z.transform((value: number | string) => Number(value)),
  ),
  // Also refuses 1.5 passed as a number and digit strings beyond the safe integer range.
  z.int(WHOLE_NUMBER),
);
