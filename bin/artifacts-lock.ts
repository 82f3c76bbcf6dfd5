/**
 * `npm run artifacts:lock`: resolves every artifact of jobs/artifacts.json, downloads it, checks it
 * against the checksum its publisher publishes (the strongest of .sha512, .sha256, .sha1, or the
 * GitHub release asset digest) and records its SHA-256 in jobs/artifacts.lock.json, like Gradle's
 * dependency verification metadata. Run it on a machine with internet access after changing the
 * manifest, review the diff and commit it; the deploy-time mirror then checks both.
 *
 * Options: --manifest <file>, --lock <file>, --maven-repository <url>, --github <url>,
 * --github-api <url> (defaults: the project's files and the public repositories).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { artifactLockSchema, type ArtifactLock, type ArtifactPin } from '../lib/constructs/artifacts/artifact-lock';
import { DEFAULT_ARTIFACT_LOCK_PATH } from '../lib/constructs/artifacts/artifact-lock';
import { DEFAULT_ARTIFACT_MANIFEST_PATH, DEFAULT_REPOSITORIES, loadArtifactManifest, type ArtifactRepositories, type ArtifactSpec } from '../lib/constructs/artifacts/artifact-manifest';
import { ChecksumVerifier } from '../lib/functions/artifact-mirror/checksum';
import { openDownload, type DownloadOptions } from '../lib/functions/artifact-mirror/download';
import { publishedChecksum } from '../lib/functions/artifact-mirror/published-checksum';

export interface LockOptions {
  readonly manifestPath: string;
  readonly lockPath: string;
  readonly repositories: ArtifactRepositories;
  /** Only for tests against a local server. @default false */
  readonly allowInsecureHttp?: boolean;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

const LOCK_COMMENT =
  'SHA-256 pins of the artifacts in jobs/artifacts.json, written by `npm run artifacts:lock` after each file matched the checksum its publisher publishes. The deploy-time mirror checks both. Re-run and commit after changing the manifest.';

function downloadOptions(allowInsecureHttp: boolean): DownloadOptions {
  return { signal: new AbortController().signal, allowInsecureHttp, maxRedirects: 5, responseTimeoutMs: 60_000 };
}

/** Downloads one artifact, checks its published checksum and returns its pin. */
export async function lockArtifact(artifact: ArtifactSpec, download: DownloadOptions): Promise<ArtifactPin> {
  const mirrored = {
    name: artifact.name,
    key: artifact.key,
    url: artifact.url,
    published: artifact.published.kind,
    ...(artifact.published.kind === 'github-release' ? { releaseUrl: artifact.published.releaseUrl, asset: artifact.published.asset } : {}),
  };
  const published = await publishedChecksum(mirrored, { download });
  if (!published) {
    throw new Error(`${artifact.name}: its publisher publishes no checksum for ${artifact.url}; a pin would only record what was downloaded, so none is written`);
  }
  const verifier = new ChecksumVerifier(artifact.name, [published]);
  const body = await openDownload(artifact.url, artifact.name, download);
  const sha256 = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    body.on('error', reject);
    verifier.on('error', reject);
    verifier.on('data', (chunk: Buffer) => sha256.update(chunk));
    verifier.on('end', resolve);
    body.pipe(verifier);
  });
  return { source: artifact.source, sha256: sha256.digest('hex'), verifiedWith: `${published.algorithm} ${published.source}` };
}

/** Locks every artifact of the manifest and writes the lock file; throws without writing when any fails. */
export async function lockArtifacts(options: LockOptions): Promise<ArtifactLock> {
  const log = options.log ?? ((line: string) => console.log(line));
  const manifest = loadArtifactManifest(options.manifestPath, options.repositories);
  const download = downloadOptions(options.allowInsecureHttp ?? false);
  const pins: Record<string, ArtifactPin> = {};
  const failures: string[] = [];
  for (const artifact of manifest.artifacts) {
    try {
      pins[artifact.name] = await lockArtifact(artifact, download);
      log(`locked ${artifact.name} ${pins[artifact.name].sha256} (${pins[artifact.name].verifiedWith})`);
    } catch (error) {
      failures.push(`${artifact.name}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(`Not written: ${options.lockPath} would be incomplete.\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  }
  const lock = artifactLockSchema.parse({ $comment: LOCK_COMMENT, pins });
  fs.writeFileSync(options.lockPath, `${JSON.stringify(lock, null, 2)}\n`);
  log(`wrote ${Object.keys(pins).length} pins to ${options.lockPath}`);
  return lock;
}

export function parseArguments(argv: readonly string[]): LockOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--manifest', '--lock', '--maven-repository', '--github', '--github-api'].includes(flag) || value === undefined) {
      throw new Error(`Unknown or incomplete option ${flag}; allowed: --manifest <file> --lock <file> --maven-repository <url> --github <url> --github-api <url>`);
    }
    values.set(flag, value);
  }
  return {
    manifestPath: values.get('--manifest') ?? DEFAULT_ARTIFACT_MANIFEST_PATH,
    lockPath: values.get('--lock') ?? DEFAULT_ARTIFACT_LOCK_PATH,
    repositories: {
      maven: values.get('--maven-repository') ?? DEFAULT_REPOSITORIES.maven,
      github: values.get('--github') ?? DEFAULT_REPOSITORIES.github,
      githubApi: values.get('--github-api') ?? DEFAULT_REPOSITORIES.githubApi,
    },
  };
}

if (require.main === module) {
  lockArtifacts(parseArguments(process.argv.slice(2))).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}
