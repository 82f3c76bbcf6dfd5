import type { z } from 'zod';
import { ENVIRONMENTS, expandEntry, type EnvironmentEntry } from './environments';
import { environmentConfigSchema, type EnvironmentConfig } from './schema';

/** Region used when neither the config, `-c region=` nor CDK_DEFAULT_REGION names one. */
export const FALLBACK_REGION = 'eu-west-1';

/** A config problem found at synth. The message names every bad field, its value and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A validated environment plus the names derived from it. */
export interface ResolvedEnvironment extends EnvironmentConfig {
  /** `dev`, or `dev-alice` for alice's sandbox: the CDK Stage id. */
  readonly stageName: string;
  /** `lakestream-dev` or `lakestream-dev-alice`: prefix of stack and resource names. */
  readonly qualifier: string;
}

/** What the CDK app passes in from `-c` context and the process environment. */
export interface LoadOptions {
  /** `-c owner=alice`: a personal sandbox derived from the environment. */
  readonly owner?: string;
  /** `-c account=...`, used when the entry names no account. */
  readonly account?: string;
  /** `-c region=...`, used when the entry names no region. */
  readonly region?: string;
  /** Process environment; CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION are the last resort. */
  readonly processEnv?: NodeJS.ProcessEnv;
  /** The environment table. @default ENVIRONMENTS */
  readonly environments?: Record<string, EnvironmentEntry>;
}

/** `-c env=NAME` → the names to synthesize: one, or every environment for `all`. */
export function selectEnvironmentNames(requested: string | undefined, environments: Record<string, EnvironmentEntry> = ENVIRONMENTS): string[] {
  const known = Object.keys(environments);
  const name = (requested ?? 'dev').trim();
  if (name === 'all') return known;
  if (!known.includes(name)) {
    throw new ConfigError(`Unknown environment "${name}" (from -c env=${name}). Known environments: ${known.join(', ')}, or "all".`);
  }
  return [name];
}

/** Loads, derives and validates one environment. Throws ConfigError listing every problem. */
export function loadEnvironment(name: string, options: LoadOptions = {}): ResolvedEnvironment {
  const environments = options.environments ?? ENVIRONMENTS;
  const entry = environments[name];
  if (!entry) {
    throw new ConfigError(`Unknown environment "${name}". Known environments: ${Object.keys(environments).join(', ')}.`);
  }
  const env = options.processEnv ?? process.env;
  const raw = expandEntry(name, entry);
  if (raw.account === undefined) {
    const account = options.account ?? env.CDK_DEFAULT_ACCOUNT;
    if (account !== undefined) raw.account = account;
  }
  if (raw.region === undefined) raw.region = options.region ?? env.CDK_DEFAULT_REGION ?? FALLBACK_REGION;
  if (options.owner !== undefined) raw.owner = options.owner;
  const config = validateEnvironment(raw, name);
  const stageName = config.owner ? `${config.name}-${config.owner}` : config.name;
  return { ...config, stageName, qualifier: `${config.namePrefix}-${stageName}` };
}

/** Validates a fully expanded environment against the schema. */
export function validateEnvironment(raw: unknown, label: string): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(formatIssues(label, raw, result.error.issues));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatIssues(label: string, raw: unknown, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
    if (unknownKeys) {
      const parent = issue.path.map(String).join('.');
      return unknownKeys
        .map(
          (k) =>
            `  - ${parent ? `${parent}.` : ''}${k} = ${describeValue(valueAt(raw, [...issue.path, k]))}: unknown field (check the spelling; allowed fields are in lib/config/schema.ts)`,
        )
        .join('\n');
    }
    const field = issue.path.map(String).join('.') || '(environment)';
    return `  - ${field} = ${describeValue(valueAt(raw, issue.path))}: ${issue.message}`;
  });
  return `Invalid configuration for environment "${label}" (lib/config):\n${lines.join('\n')}`;
}
