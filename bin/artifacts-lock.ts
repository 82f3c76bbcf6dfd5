/**
 * `npm run artifacts:lock`: resolves every artifact of jobs/artifacts.json, downloads it, checks it
 * against the checksum its publisher publishes (the strongest of .sha512, .sha256, .sha1, or the
 * GitHub release asset digest) and records its SHA-256 in jobs/artifacts.lock.json, like Gradle's
 * dependency verification metadata. Run it on a machine with internet access after changing the
 * manifest, review the diff and commit it; the deploy-time mirror then checks both.
 *
 * Options: --manifest <file>, --lock <file>, --maven-repository <url>, --github <url>,
 * --github-api <url> (defaults: the project's files and the public repositories), and
 * --trust-unpublished <name> (repeatable): pin an artifact whose publisher publishes no checksum
 * (e.g. a GitHub release asset uploaded before GitHub started computing digests in June 2025).
 * Such a pin records only what this machine downloaded, so it must be asked for by name, and the
 * lock file says so in `verifiedWith`; review the file's origin before committing it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { PassThrough } from 'node:stream';
import { artifactLockSchema, type ArtifactLock, type ArtifactPin } from '../lib/constructs/artifacts/artifact-lock';
import { DEFAULT_ARTIFACT_LOCK_PATH } from '../lib/constructs/artifacts/artifact-lock';
import {
  DEFAULT_ARTIFACT_MANIFEST_PATH,
  DEFAULT_REPOSITORIES,
  loadArtifactManifest,
  type ArtifactRepositories,
  type ArtifactSpec,
} from '../lib/constructs/artifacts/artifact-manifest';
import { ChecksumVerifier } from '../lib/functions/artifact-mirror/checksum';
import { openDownload, type DownloadOptions } from '../lib/functions/artifact-mirror/download';
import { publishedChecksum } from '../lib/functions/artifact-mirror/published-checksum';

export interface LockOptions {
  readonly manifestPath: string;
  readonly lockPath: string;
  readonly repositories: ArtifactRepositories;
  /**
   * Artifacts the operator accepts without a published checksum (trust on first use); each must be
   * named. Any other artifact without one still fails the run.
   * @default none
   */
  readonly trustUnpublished?: readonly string[];
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
export async function lockArtifact(artifact: ArtifactSpec, download: DownloadOptions, trustUnpublished = false): Promise<ArtifactPin> {
  const mirrored = {
    name: artifact.name,
    key: artifact.key,
    url: artifact.url,
    published: artifact.published.kind,
    ...(artifact.published.kind === 'github-release' ? { releaseUrl: artifact.published.releaseUrl, asset: artifact.published.asset } : {}),
  };
  const published = await publishedChecksum(mirrored, { download });
  if (!published && !trustUnpublished) {
    throw new Error(
      `${artifact.name}: its publisher publishes no checksum for ${artifact.url}; a pin would only record what was downloaded, so none is written ` +
        `(after checking the file's origin, re-run with --trust-unpublished ${artifact.name} to pin it anyway)`,
    );
  }
  // Without a published checksum there is nothing to verify against: the stream is only hashed.
  const verifier = published ? new ChecksumVerifier(artifact.name, [published]) : new PassThrough();
  const body = await openDownload(artifact.url, artifact.name, download);
  const sha256 = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    body.on('error', reject);
    verifier.on('error', reject);
    verifier.on('data', (chunk: Buffer) => sha256.update(chunk));
    verifier.on('end', resolve);
    body.pipe(verifier);
  });
  const verifiedWith = published
    ? `${published.algorithm} ${published.source}`
    : `trust on first use: no published checksum; downloaded from ${artifact.url} by artifacts:lock --trust-unpublished ${artifact.name}`;
  return { source: artifact.source, sha256: sha256.digest('hex'), verifiedWith };
}

/** Locks every artifact of the manifest and writes the lock file; throws without writing when any fails. */
export async function lockArtifacts(options: LockOptions): Promise<ArtifactLock> {
  const log = options.log ?? ((line: string) => console.log(line));
  const manifest = loadArtifactManifest(options.manifestPath, options.repositories);
  const download = downloadOptions(options.allowInsecureHttp ?? false);
  const trusted = new Set(options.trustUnpublished ?? []);
  const unknownTrusted = [...trusted].filter((name) => !manifest.artifacts.some((artifact) => artifact.name === name));
  if (unknownTrusted.length > 0) {
    throw new Error(
      `--trust-unpublished names no artifact of the manifest: ${unknownTrusted.join(', ')}; known: ${manifest.artifacts.map((a) => a.name).join(', ')}`,
    );
  }
  const pins: Record<string, ArtifactPin> = {};
  const failures: string[] = [];
  for (const artifact of manifest.artifacts) {
    try {
      pins[artifact.name] = await lockArtifact(artifact, download, trusted.has(artifact.name));
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
  const trustUnpublished: string[] = [];
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--manifest', '--lock', '--maven-repository', '--github', '--github-api', '--trust-unpublished'].includes(flag) || value === undefined) {
      throw new Error(
        `Unknown or incomplete option ${flag}; allowed: --manifest <file> --lock <file> --maven-repository <url> --github <url> --github-api <url> --trust-unpublished <name>`,
      );
    }
    if (flag === '--trust-unpublished') trustUnpublished.push(value);
    else values.set(flag, value);
  }
  return {
    manifestPath: values.get('--manifest') ?? DEFAULT_ARTIFACT_MANIFEST_PATH,
    lockPath: values.get('--lock') ?? DEFAULT_ARTIFACT_LOCK_PATH,
    repositories: {
      maven: values.get('--maven-repository') ?? DEFAULT_REPOSITORIES.maven,
      github: values.get('--github') ?? DEFAULT_REPOSITORIES.github,
      githubApi: values.get('--github-api') ?? DEFAULT_REPOSITORIES.githubApi,
    },
    trustUnpublished,
  };
}

if (require.main === module) {
  lockArtifacts(parseArguments(process.argv.slice(2))).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
}
