import * as path from 'node:path';
import * as z from 'zod';
import { readJsonFile, type ArtifactSpec } from './artifact-manifest';

/** jobs/artifacts.lock.json: SHA-256 pins written by `npm run artifacts:lock`, committed with the project. */
export const DEFAULT_ARTIFACT_LOCK_PATH = path.join(__dirname, '..', '..', '..', 'jobs', 'artifacts.lock.json');

/** One pin: the SHA-256 of an artifact, recorded after it matched the checksum its publisher publishes. */
export interface ArtifactPin {
  /** The artifact's identity when it was locked (`ArtifactSpec.source`); a pin for another version is stale. */
  readonly source: string;
  readonly sha256: string;
  /** Which published checksum the file matched when it was locked, e.g. `sha512 <url>.sha512`. */
  readonly verifiedWith: string;
}

export const artifactLockSchema = z.strictObject({
  $comment: z.string().optional(),
  pins: z.record(
    z.string(),
    z.strictObject({
      source: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters'),
      verifiedWith: z.string().min(1, 'must say which published checksum the file matched'),
    }),
  ),
});

export type ArtifactLock = z.infer<typeof artifactLockSchema>;

export function parseArtifactLock(raw: unknown, source = 'artifact lock file'): ArtifactLock {
  const result = artifactLockSchema.safeParse(raw);
  if (!result.success) {
    const details = result.error.issues.map((issue) => `  - ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('\n');
    throw new Error(`Invalid ${source}:\n${details}`);
  }
  return result.data;
}

export function loadArtifactLock(filePath: string = DEFAULT_ARTIFACT_LOCK_PATH): ArtifactLock {
  return parseArtifactLock(readJsonFile(filePath, 'artifact lock file'), `artifact lock file ${filePath}`);
}

/**
 * The artifacts with their pins. A pin recorded for another source (the manifest moved to a new
 * version since the last lock) or for an artifact the manifest no longer has fails: a stale lock
 * file would otherwise silently stop protecting the artifact.
 */
export function applyPins(artifacts: readonly ArtifactSpec[], lock: ArtifactLock, lockLabel = 'jobs/artifacts.lock.json'): ArtifactSpec[] {
  const names = new Set(artifacts.map((artifact) => artifact.name));
  const problems: string[] = [];
  for (const name of Object.keys(lock.pins)) {
    if (!names.has(name)) problems.push(`pins.${name}: the manifest has no artifact '${name}'`);
  }
  const pinned = artifacts.map((artifact) => {
    const pin = lock.pins[artifact.name];
    if (!pin) return artifact;
    if (pin.source !== artifact.source) {
      problems.push(`pins.${artifact.name}: recorded for ${pin.source}, but the manifest now says ${artifact.source}`);
      return artifact;
    }
    return { ...artifact, sha256: pin.sha256 };
  });
  if (problems.length > 0) {
    throw new Error(
      `Stale ${lockLabel}:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRun \`npm run artifacts:lock\` (needs internet access) and commit the result.`,
    );
  }
  return pinned;
}
