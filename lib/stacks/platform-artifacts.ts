import type { ResolvedEnvironment } from '../config/load-config';
import { EMR_RELEASE_RUNTIMES } from '../config/emr-releases';
import { DEFAULT_ARTIFACT_LOCK_PATH, applyPins, loadArtifactLock } from '../constructs/artifacts/artifact-lock';
import {
  DEFAULT_ARTIFACT_MANIFEST_PATH,
  DEFAULT_REPOSITORIES,
  loadArtifactManifest,
  type ArtifactSpec,
  type ArtifactUse,
  type BundleSpec,
} from '../constructs/artifacts/artifact-manifest';
import { FLINK_RUNTIME } from '../constructs/flink/flink-application';

/** The artifacts and bundles one environment mirrors. */
export interface PlatformArtifacts {
  readonly artifacts: ArtifactSpec[];
  readonly bundles: BundleSpec[];
}

/** Where the manifest and lock file are read; tests point them at fixtures. */
export interface ArtifactFiles {
  readonly manifest: string;
  readonly lock: string;
}

const DEFAULT_FILES: ArtifactFiles = { manifest: DEFAULT_ARTIFACT_MANIFEST_PATH, lock: DEFAULT_ARTIFACT_LOCK_PATH };

/** The parts of the platform this environment builds that need third-party artifacts. */
export function artifactUsesOf(config: ResolvedEnvironment): Set<ArtifactUse> {
  const uses = new Set<ArtifactUse>();
  if (config.flink.enabled) uses.add('flink');
  if (config.emr.streamingJobEnabled) uses.add('spark-streaming');
  if (config.debezium) uses.add('debezium');
  return uses;
}

/**
 * The artifacts an environment mirrors: those of jobs/artifacts.json used by the parts it builds
 * (Flink, the Spark streaming job, Debezium), with their pins from jobs/artifacts.lock.json. Fails
 * at synth when the manifest's runtimes differ from the environment's (Managed Flink's runtime,
 * the Spark and Scala versions of emr.releaseLabel), and, with artifacts.requirePins, when a used
 * artifact has no pin.
 */
export function platformArtifacts(config: ResolvedEnvironment, files: ArtifactFiles = DEFAULT_FILES): PlatformArtifacts {
  const uses = artifactUsesOf(config);
  const repositories = { ...DEFAULT_REPOSITORIES, ...(config.artifacts.mavenRepositoryUrl ? { maven: config.artifacts.mavenRepositoryUrl } : {}) };
  const manifest = loadArtifactManifest(files.manifest, repositories);
  const pinned = applyPins(manifest.artifacts, loadArtifactLock(files.lock));
  const where = `environment ${config.stageName}`;

  const flinkMinor = FLINK_RUNTIME.replace(/^FLINK-/, '').replace('_', '.');
  if (uses.has('flink') && flinkMinor !== manifest.runtimes.flink) {
    throw new Error(
      `${where}: the Flink connector jars in ${files.manifest} are built for Flink ${manifest.runtimes.flink} (runtimes.flink), ` +
        `but Managed Flink runs ${FLINK_RUNTIME}; move the manifest's Flink artifacts to Flink ${flinkMinor}, or set flink.enabled to false`,
    );
  }
  if (uses.has('spark-streaming')) {
    const label = config.emr.releaseLabel;
    const runtime = EMR_RELEASE_RUNTIMES[label];
    const known = Object.entries(EMR_RELEASE_RUNTIMES)
      .map(([release, r]) => `${release} (Spark ${r.spark}, Scala ${r.scala})`)
      .join(', ');
    if (!runtime) {
      throw new Error(
        `${where}: emr.releaseLabel = "${label}" is not a release whose Spark and Scala versions the project knows (known: ${known}); ` +
          'add it to lib/config/emr-releases.ts from the EMR release guide, then match the Spark artifacts in jobs/artifacts.json',
      );
    }
    if (runtime.spark !== manifest.runtimes.spark || runtime.scala !== manifest.runtimes.scala) {
      const matching = Object.entries(EMR_RELEASE_RUNTIMES)
        .filter(([, r]) => r.spark === manifest.runtimes.spark && r.scala === manifest.runtimes.scala)
        .map(([release]) => release);
      throw new Error(
        `${where}: emr.releaseLabel = "${label}" runs Spark ${runtime.spark} with Scala ${runtime.scala}, but the Spark streaming job's ` +
          `connector jars in ${files.manifest} are for Spark ${manifest.runtimes.spark} / Scala ${manifest.runtimes.scala} ` +
          `(allowed: ${matching.join(', ') || 'no known release'}; or move runtimes and the Spark artifacts of the manifest to Spark ${runtime.spark}, ` +
          'or set emr.streamingJobEnabled to false)',
      );
    }
  }

  const used = (entry: { usedBy: readonly ArtifactUse[] }) => entry.usedBy.some((use) => uses.has(use));
  const artifacts = pinned.filter(used);
  const bundles = manifest.bundles.filter(used);
  if (config.artifacts.requirePins) {
    const unpinned = artifacts.filter((artifact) => !artifact.sha256);
    if (unpinned.length > 0) {
      throw new Error(
        `${where}: artifacts.requirePins is true, but ${files.lock} has no pin for ${unpinned.map((a) => `${a.name} (${a.source})`).join(', ')}; ` +
          'run `npm run artifacts:lock` on a machine with internet access and commit the lock file',
      );
    }
  }
  return { artifacts, bundles };
}
