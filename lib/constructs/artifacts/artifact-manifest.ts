import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';

/** jobs/artifacts.json, the one place where third-party artifacts are pinned. */
export const DEFAULT_ARTIFACT_MANIFEST_PATH = path.join(__dirname, '..', '..', '..', 'jobs', 'artifacts.json');

/** One pinned third-party artifact: where it comes from, what it must hash to and where it lands. */
export interface ArtifactSpec {
  /** Unique kebab-case name, e.g. `debezium-connector-sqlserver`. */
  readonly name: string;
  /** Upstream version, e.g. `2.7.3.Final`. */
  readonly version: string;
  /** HTTPS download URL. */
  readonly url: string;
  /** Lower-case hex SHA-256 of the file, as published by its publisher. */
  readonly sha256?: string;
  /** Lower-case hex SHA-512 of the file, as published by its publisher. */
  readonly sha512?: string;
  /** Where the pinned checksum was published, so a reviewer can check it. */
  readonly checksumSource: string;
  /** Object key in the artifacts bucket, under `artifacts/`. */
  readonly key: string;
  /** Which part of the platform uses it. */
  readonly purpose: string;
}

const NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const SHA512_PATTERN = /^[0-9a-f]{128}$/;
const KEY_PATTERN = /^artifacts\/[A-Za-z0-9._+-]+(?:\/[A-Za-z0-9._+-]+)*$/;

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** One manifest entry; also used for the artifact pins an environment adds in config. */
export const artifactSchema = z
  .strictObject({
    name: z.string().regex(NAME_PATTERN, 'must be kebab-case (a-z, 0-9, single hyphens)'),
    version: z.string().min(1, 'must not be empty'),
    url: z.string().refine(isHttpsUrl, 'must be an https:// URL'),
    // null is accepted by the schema only so that the refinement below can say what is missing.
    sha256: z.string().regex(SHA256_PATTERN, 'must be 64 lower-case hex characters').nullish(),
    sha512: z.string().regex(SHA512_PATTERN, 'must be 128 lower-case hex characters').nullish(),
    checksumSource: z.string().min(1, 'must say where the checksum was published'),
    key: z
      .string()
      .regex(KEY_PATTERN, 'must be a relative object key under artifacts/ made of [A-Za-z0-9._+-] segments')
      .refine((key) => !key.split('/').some((segment) => segment === '.' || segment === '..'), 'must not contain . or .. segments'),
    purpose: z.string().min(1, 'must say what the artifact is for'),
  })
  .refine((artifact) => Boolean(artifact.sha256 || artifact.sha512), {
    message:
      'has no sha256 or sha512: pin the checksum its publisher publishes; artifacts without a verified checksum are never mirrored',
    path: ['sha256'],
  });

const manifestSchema = z
  .strictObject({
    $comment: z.string().optional(),
    artifacts: z.array(artifactSchema),
  })
  .superRefine((manifest, ctx) => {
    const firstIndexOf = new Map<string, number>();
    manifest.artifacts.forEach((artifact, index) => {
      for (const [field, value] of [['name', artifact.name], ['key', artifact.key]] as const) {
        const seen = firstIndexOf.get(`${field}:${value}`);
        if (seen !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['artifacts', index, field], message: `duplicates artifacts[${seen}].${field} '${value}'` });
        } else {
          firstIndexOf.set(`${field}:${value}`, index);
        }
      }
    });
  });

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const [top, index] = issue.path;
  let where = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  if (top === 'artifacts' && typeof index === 'number') {
    const entry = (raw as { artifacts?: Array<{ name?: unknown }> }).artifacts?.[index];
    const name = typeof entry?.name === 'string' ? ` (${entry.name})` : '';
    where = `artifacts[${index}]${name}${issue.path.length > 2 ? '.' + issue.path.slice(2).map(String).join('.') : ''}`;
  }
  return `${where}: ${issue.message}`;
}

/** Validates a parsed manifest; throws with every problem, each naming the entry and field. */
export function parseArtifactManifest(raw: unknown, source = 'artifact manifest'): ArtifactSpec[] {
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `  - ${describeIssue(issue, raw)}`).join('\n');
    throw new Error(`Invalid ${source}:\n${details}`);
  }
  return result.data.artifacts.map((artifact) => ({
    name: artifact.name,
    version: artifact.version,
    url: artifact.url,
    ...(artifact.sha256 ? { sha256: artifact.sha256 } : {}),
    ...(artifact.sha512 ? { sha512: artifact.sha512 } : {}),
    checksumSource: artifact.checksumSource,
    key: artifact.key,
    purpose: artifact.purpose,
  }));
}

/** Reads and validates a manifest file (jobs/artifacts.json by default). */
export function loadArtifactManifest(filePath: string = DEFAULT_ARTIFACT_MANIFEST_PATH): ArtifactSpec[] {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read artifact manifest ${filePath}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`Artifact manifest ${filePath} is not valid JSON: ${(error as Error).message}`);
  }
  return parseArtifactManifest(raw, `artifact manifest ${filePath}`);
}

/** The named artifacts, in the order asked; an unknown name fails with the list of known ones. */
export function selectArtifacts(artifacts: readonly ArtifactSpec[], names: readonly string[]): ArtifactSpec[] {
  const byName = new Map(artifacts.map((artifact) => [artifact.name, artifact]));
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0) {
    const known = artifacts.map((artifact) => artifact.name).join(', ') || '(none)';
    throw new Error(`Unknown artifact(s) ${unknown.join(', ')}: the manifest pins ${known}`);
  }
  return [...new Set(names)].map((name) => byName.get(name) as ArtifactSpec);
}
