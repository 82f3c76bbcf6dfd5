import { z } from 'zod';
import { FILE_RECORD_ENVELOPE_SCHEMA_VERSION, fileRecordEnvelopeSchema } from './file-record-envelope';
import type { JsonSchemaObject } from './json-schema';
import { LOGIN_COUNT_EVENT_KAFKA_KEY, LOGIN_COUNT_EVENT_SCHEMA_VERSION, loginCountEventSchema } from './login-count-event';
import { LOGIN_EVENT_SCHEMA_VERSION, loginEventSchema } from './login-event';

export * from './file-record-envelope';
export * from './login-count-event';
export * from './login-event';
export { findBreakingChanges, checkContractEvolution, type BreakingChange, type BreakingChangeKind } from './compatibility';
export type { JsonSchema, JsonSchemaObject } from './json-schema';
export { compileExplainer, compileValidator, type ValueCheck, type ValueExplainer } from './json-schema-validator';
export { explainLoginEvent, isLoginEvent } from './login-event-validator';

/**
 * Every event contract, by the name of its published schema file (jobs/contracts/<name>.schema.json).
 * `kafkaKey` is the field (dotted path) whose value keys the Kafka record: all three are per-user
 * streams, so a user's events land on one partition, in order. Fields joined by '|' key the record
 * by their values joined with '|'; a bracketed part applies only when its field is present.
 */
export const CONTRACTS = {
  'login-event': { version: LOGIN_EVENT_SCHEMA_VERSION, schema: loginEventSchema, kafkaKey: 'user_id' },
  'login-count-event': { version: LOGIN_COUNT_EVENT_SCHEMA_VERSION, schema: loginCountEventSchema, kafkaKey: LOGIN_COUNT_EVENT_KAFKA_KEY },
  'file-record-envelope': { version: FILE_RECORD_ENVELOPE_SCHEMA_VERSION, schema: fileRecordEnvelopeSchema, kafkaKey: 'record.user_id' },
} as const;

export type ContractName = keyof typeof CONTRACTS;
export const CONTRACT_NAMES = Object.keys(CONTRACTS) as ContractName[];

export const CONTRACT_VERSIONS: Readonly<Record<ContractName, number>> = Object.fromEntries(
  CONTRACT_NAMES.map((name) => [name, CONTRACTS[name].version]),
) as Record<ContractName, number>;

/** Where the Python jobs find a contract, relative to the repository root. */
export function contractSchemaPath(name: ContractName): string {
  return `jobs/contracts/${name}.schema.json`;
}

/**
 * The JSON Schema (draft 2020-12) published for the jobs: zod's rendering plus the version and
 * the Kafka key as `x-` annotations, which validators ignore and the jobs read.
 */
export function contractJsonSchema(name: ContractName): JsonSchemaObject {
  const contract = CONTRACTS[name];
  const rendered = z.toJSONSchema(contract.schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'throw' }) as Record<string, unknown>;
  const { $schema, ...body } = rendered;
  return {
    $schema,
    $id: `https://lakestream.dev/contracts/${name}.schema.json`,
    ...body,
    'x-schema-version': contract.version,
    'x-kafka-key': contract.kafkaKey,
  };
}

/** Index of the published contracts (jobs/contracts/contracts.json) so jobs need not hard-code file names. */
export function contractIndex(): Record<ContractName, { version: number; kafka_key: string; schema: string }> {
  return Object.fromEntries(
    CONTRACT_NAMES.map((name) => [name, { version: CONTRACTS[name].version, kafka_key: CONTRACTS[name].kafkaKey, schema: `${name}.schema.json` }]),
  ) as Record<ContractName, { version: number; kafka_key: string; schema: string }>;
}

/** The first few problems zod reports, in one line for a quarantine entry or an error message. */
export function describeContractViolation(schema: z.ZodType, value: unknown, maxIssues = 3): string | undefined {
  const result = schema.safeParse(value);
  if (result.success) return undefined;
  const issues = result.error.issues.slice(0, maxIssues).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = result.error.issues.length > maxIssues ? ` (+${result.error.issues.length - maxIssues} more)` : '';
  return issues.join('; ') + more;
}
