import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod';

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

/**
 * Thrown for failures a retry cannot fix (bad input, forbidden change). The message reaches the
 * CloudFormation console verbatim, so it says what was wrong and what is allowed.
 */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/**
 * CloudFormation passes every property as a string (numbers and booleans included). Parse the
 * resource properties with a zod schema that coerces them, and fail with the field names.
 */
export function parseProperties<T extends z.ZodTypeAny>(
  schema: T,
  properties: Record<string, unknown> | undefined,
  what = 'ResourceProperties',
): z.infer<T> {
  const { ServiceToken: _serviceToken, ...rest } = properties ?? {};
  const result = schema.safeParse(rest);
  if (!result.success) {
    const details = result.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new PermanentError(`Invalid ${what}: ${details}`);
  }
  return result.data;
}

/** zod helpers for CloudFormation's stringly-typed properties. */
export const cfnBoolean = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');
export const cfnInt = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v)).pipe(z.number().int());
