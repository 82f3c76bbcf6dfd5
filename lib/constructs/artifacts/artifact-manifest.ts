import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';

/** jobs/artifacts.json: the third-party artifacts the platform needs, by coordinates. */
export const DEFAULT_ARTIFACT_MANIFEST_PATH = path.join(__dirname, '..', '..', '..', 'jobs', 'artifacts.json');

/** The parts of the platform that need third-party artifacts; an environment mirrors only what its parts use. */
export const ARTIFACT_USES = ['flink', 'spark-streaming', 'debezium'] as const;
export type ArtifactUse = (typeof ARTIFACT_USES)[number];

/** Where artifacts are downloaded from; injectable so that tests and corporate proxies can stand in. */
export interface ArtifactRepositories {
  /** Maven repository root. @default https://repo1.maven.org/maven2 */
  readonly maven: string;
  /** GitHub web root, for release downloads. @default https://github.com */
  readonly github: string;
  /** GitHub REST API root, for release asset digests. @default https://api.github.com */
  readonly githubApi: string;
}

export const DEFAULT_REPOSITORIES: ArtifactRepositories = {
  maven: 'https://repo1.maven.org/maven2',
  github: 'https://github.com',
  githubApi: 'https://api.github.com',
};

/**
 * How the mirror finds the checksum that the artifact's publisher publishes:
 * - `sidecar`: `<url>.sha512`, `.sha256` or `.sha1` next to the file (Maven repositories), the strongest present;
 * - `github-release`: the `digest` (sha256) GitHub's REST API reports for the release asset.
 */
export type PublishedChecksumSource = { readonly kind: 'sidecar' } | { readonly kind: 'github-release'; readonly releaseUrl: string; readonly asset: string };

/** One third-party artifact, resolved to a URL and an object key. */
export interface ArtifactSpec {
  /** Unique kebab-case name, e.g. `flink-connector-kafka`. */
  readonly name: string;
  /** Upstream version, e.g. `3.4.0-1.20`. */
  readonly version: string;
  /** Stable identity of the artifact (coordinates or release asset), the key of its pin in the lock file. */
  readonly source: string;
  /** HTTPS download URL. */
  readonly url: string;
  /** Where the publisher's checksum is read. */
  readonly published: PublishedChecksumSource;
  /** SHA-256 recorded by `npm run artifacts:lock`, checked in addition to the published checksum. @default none */
  readonly sha256?: string;
  /** Object key in the artifacts bucket: `artifacts/<name>/<version>/<file>`. */
  readonly key: string;
  /** Which parts of the platform use it. */
  readonly usedBy: readonly ArtifactUse[];
  /** Why it is needed. */
  readonly purpose: string;
}

/** One part of a bundle: a mirrored artifact, unpacked or copied into a folder of the ZIP. */
export interface BundlePart {
  readonly artifact: string;
  /** Unpack a .tar.gz archive into the ZIP (its own folders kept). @default copy the file as it is */
  readonly unpack?: 'tar.gz';
  /** Folder inside the ZIP for a copied file, ending in '/'. @default the root */
  readonly directory?: string;
}

/** A ZIP assembled at deploy time from mirrored artifacts (an MSK Connect plugin, for example). */
export interface BundleSpec {
  readonly name: string;
  /** Versions of its parts, joined, e.g. `2.7.3.Final+0.4.0`. */
  readonly version: string;
  readonly key: string;
  readonly parts: readonly BundlePart[];
  readonly usedBy: readonly ArtifactUse[];
  readonly purpose: string;
}

/** The runtimes the artifact set is built for; synth checks them against the environment. */
export interface ArtifactRuntimes {
  /** Flink minor version, e.g. `1.20`. */
  readonly flink: string;
  /** Spark version, e.g. `3.5.5`. */
  readonly spark: string;
  /** Scala binary version, e.g. `2.12`. */
  readonly scala: string;
}

export interface ArtifactManifest {
  readonly runtimes: ArtifactRuntimes;
  readonly artifacts: readonly ArtifactSpec[];
  readonly bundles: readonly BundleSpec[];
}

const NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SEGMENT = /^[A-Za-z0-9._+-]+$/;
// group:artifact:version[:classifier][@extension], as Gradle and Maven's dependency plugin write them.
const MAVEN_COORDINATES = /^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+):([A-Za-z0-9_.+-]+)(?::([A-Za-z0-9_.-]+))?(?:@([A-Za-z0-9.]+))?$/;

const usedBySchema = z.array(z.enum(ARTIFACT_USES)).min(1, `must name at least one of ${ARTIFACT_USES.join(', ')}`);

const entryFields = {
  name: z.string().regex(NAME_PATTERN, 'must be kebab-case (a-z, 0-9, single hyphens)'),
  usedBy: usedBySchema,
  purpose: z.string().min(1, 'must say what the artifact is for'),
};

const mavenEntrySchema = z.strictObject({
  ...entryFields,
  maven: z.string().regex(MAVEN_COORDINATES, 'must be Maven coordinates group:artifact:version[:classifier][@extension]'),
});

const githubEntrySchema = z.strictObject({
  ...entryFields,
  version: z.string().regex(SEGMENT, 'must be a version made of [A-Za-z0-9._+-]'),
  githubRelease: z.strictObject({
    repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name'),
    tag: z.string().regex(SEGMENT, 'must be a release tag made of [A-Za-z0-9._+-]'),
    asset: z.string().regex(SEGMENT, 'must be an asset file name made of [A-Za-z0-9._+-]'),
  }),
});

const bundleSchema = z.strictObject({
  ...entryFields,
  purpose: z.string().min(1, 'must say what the bundle is for'),
  parts: z
    .array(
      z.strictObject({
        artifact: z.string().min(1),
        unpack: z.literal('tar.gz').optional(),
        directory: z
          .string()
          .regex(/^(?:[A-Za-z0-9._+-]+\/)+$/, "must be a relative folder ending in '/'")
          .refine((d) => !d.split('/').includes('..'), 'must not contain ..')
          .optional(),
      }),
    )
    .min(1),
});

const manifestSchema = z.strictObject({
  $comment: z.string().optional(),
  runtimes: z.strictObject({
    flink: z.string().regex(/^\d+\.\d+$/, 'must be a Flink minor version such as 1.20'),
    spark: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a Spark version such as 3.5.5'),
    scala: z.string().regex(/^\d+\.\d+$/, 'must be a Scala binary version such as 2.12'),
  }),
  // Each entry is checked by the schema of its kind (below), so that errors name the field at fault.
  artifacts: z.array(
    z.unknown().transform((entry, ctx) => {
      const schema = typeof entry === 'object' && entry !== null && 'githubRelease' in entry ? githubEntrySchema : mavenEntrySchema;
      const result = schema.safeParse(entry);
      if (result.success) return result.data;
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }),
  ),
  bundles: z.array(bundleSchema).default([]),
});

type RawManifest = z.infer<typeof manifestSchema>;
type RawEntry = RawManifest['artifacts'][number];

/** Parsed Maven coordinates. */
export interface MavenCoordinates {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
  readonly classifier?: string;
  readonly extension: string;
}

export function parseMavenCoordinates(coordinates: string): MavenCoordinates {
  const match = MAVEN_COORDINATES.exec(coordinates);
  if (!match) throw new Error(`'${coordinates}' are not Maven coordinates group:artifact:version[:classifier][@extension]`);
  return { groupId: match[1], artifactId: match[2], version: match[3], ...(match[4] ? { classifier: match[4] } : {}), extension: match[5] ?? 'jar' };
}

/** The file name and repository URL of a Maven artifact (the repository layout of Maven 2). */
export function mavenUrl(repository: string, coordinates: MavenCoordinates): { fileName: string; url: string } {
  const { groupId, artifactId, version, classifier, extension } = coordinates;
  const fileName = `${artifactId}-${version}${classifier ? `-${classifier}` : ''}.${extension}`;
  return { fileName, url: `${repository.replace(/\/+$/, '')}/${groupId.replace(/\./g, '/')}/${artifactId}/${version}/${fileName}` };
}

function resolveEntry(entry: RawEntry, repositories: ArtifactRepositories): ArtifactSpec {
  if ('maven' in entry) {
    const coordinates = parseMavenCoordinates(entry.maven);
    const { fileName, url } = mavenUrl(repositories.maven, coordinates);
    return {
      name: entry.name,
      version: coordinates.version,
      source: `maven:${entry.maven}`,
      url,
      published: { kind: 'sidecar' },
      key: `artifacts/${entry.name}/${coordinates.version}/${fileName}`,
      usedBy: entry.usedBy,
      purpose: entry.purpose,
    };
  }
  const { repository, tag, asset } = entry.githubRelease;
  return {
    name: entry.name,
    version: entry.version,
    source: `github:${repository}@${tag}/${asset}`,
    url: `${repositories.github.replace(/\/+$/, '')}/${repository}/releases/download/${tag}/${asset}`,
    published: { kind: 'github-release', releaseUrl: `${repositories.githubApi.replace(/\/+$/, '')}/repos/${repository}/releases/tags/${tag}`, asset },
    key: `artifacts/${entry.name}/${entry.version}/${asset}`,
    usedBy: entry.usedBy,
    purpose: entry.purpose,
  };
}

/** Checks that the versions in the manifest agree with the runtimes it declares. */
function runtimeProblems(manifest: RawManifest): string[] {
  const problems: string[] = [];
  manifest.artifacts.forEach((entry, index) => {
    if (!('maven' in entry)) return;
    const { groupId, artifactId, version } = parseMavenCoordinates(entry.maven);
    const where = `artifacts[${index}] (${entry.name}).maven`;
    if (groupId === 'org.apache.spark') {
      if (version !== manifest.runtimes.spark) problems.push(`${where}: version ${version} differs from runtimes.spark ${manifest.runtimes.spark}`);
      const scala = /_(\d+\.\d+)$/.exec(artifactId)?.[1];
      if (scala !== manifest.runtimes.scala) problems.push(`${where}: ${artifactId} is not built for Scala ${manifest.runtimes.scala} (runtimes.scala)`);
    }
    if (groupId === 'org.apache.flink' && artifactId.startsWith('flink-connector-') && !version.endsWith(`-${manifest.runtimes.flink}`)) {
      problems.push(
        `${where}: version ${version} is not built for Flink ${manifest.runtimes.flink} (runtimes.flink; connector versions end in -<flink minor>)`,
      );
    }
  });
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const [top, index] = issue.path;
  let where = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  if ((top === 'artifacts' || top === 'bundles') && typeof index === 'number') {
    const entry = (raw as Record<string, Array<{ name?: unknown }> | undefined>)[top]?.[index];
    const name = typeof entry?.name === 'string' ? ` (${entry.name})` : '';
    where = `${top}[${index}]${name}${issue.path.length > 2 ? `.${issue.path.slice(2).map(String).join('.')}` : ''}`;
  }
  return `${where}: ${issue.message}`;
}

/**
 * Validates a parsed manifest and resolves every entry to a URL, a published-checksum source and
 * an object key. Throws with every problem, each naming the entry and field.
 */
export function parseArtifactManifest(raw: unknown, source = 'artifact manifest', repositories: ArtifactRepositories = DEFAULT_REPOSITORIES): ArtifactManifest {
  const result = manifestSchema.safeParse(raw);
  const fail = (details: string[]) => {
    throw new Error(`Invalid ${source}:\n${details.map((line) => `  - ${line}`).join('\n')}`);
  };
  if (!result.success) fail(result.error.issues.map((issue) => describeIssue(issue, raw)));
  const manifest = result.data as RawManifest;
  const problems = runtimeProblems(manifest);
  const artifacts = manifest.artifacts.map((entry) => resolveEntry(entry, repositories));
  const byName = new Map<string, ArtifactSpec>();
  const keys = new Set<string>();
  for (const [index, artifact] of artifacts.entries()) {
    if (byName.has(artifact.name)) problems.push(`artifacts[${index}].name: duplicates '${artifact.name}'`);
    if (keys.has(artifact.key)) problems.push(`artifacts[${index}] (${artifact.name}): object key ${artifact.key} is used twice`);
    byName.set(artifact.name, artifact);
    keys.add(artifact.key);
  }
  const bundles = manifest.bundles.map((bundle, index): BundleSpec => {
    const parts = bundle.parts.map((part, partIndex) => {
      const artifact = byName.get(part.artifact);
      if (!artifact) {
        problems.push(`bundles[${index}] (${bundle.name}).parts[${partIndex}].artifact: '${part.artifact}' is not an artifact of the manifest`);
      } else if (!bundle.usedBy.every((use) => artifact.usedBy.includes(use))) {
        problems.push(`bundles[${index}] (${bundle.name}): artifact ${artifact.name} must be used by ${bundle.usedBy.join(', ')} too (usedBy)`);
      } else if (part.unpack === 'tar.gz' && !/\.(tar\.gz|tgz)$/.test(artifact.key)) {
        problems.push(`bundles[${index}] (${bundle.name}).parts[${partIndex}]: ${artifact.name} is not a .tar.gz archive`);
      }
      return { artifact: part.artifact, ...(part.unpack ? { unpack: part.unpack } : {}), ...(part.directory ? { directory: part.directory } : {}) };
    });
    const version = parts.map((part) => byName.get(part.artifact)?.version ?? '?').join('+');
    const key = `artifacts/${bundle.name}/${version}/${bundle.name}-${version}.zip`;
    if (byName.has(bundle.name)) problems.push(`bundles[${index}].name: '${bundle.name}' is also the name of an artifact`);
    if (keys.has(key)) problems.push(`bundles[${index}] (${bundle.name}): object key ${key} is used twice`);
    keys.add(key);
    return { name: bundle.name, version, key, parts, usedBy: bundle.usedBy, purpose: bundle.purpose };
  });
  if (problems.length > 0) fail(problems);
  return { runtimes: manifest.runtimes, artifacts, bundles };
}

/** Reads and parses a JSON file, failing with its path. */
export function readJsonFile(filePath: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${what} ${filePath}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what[0].toUpperCase()}${what.slice(1)} ${filePath} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads and validates a manifest file (jobs/artifacts.json by default). */
export function loadArtifactManifest(
  filePath: string = DEFAULT_ARTIFACT_MANIFEST_PATH,
  repositories: ArtifactRepositories = DEFAULT_REPOSITORIES,
): ArtifactManifest {
  return parseArtifactManifest(readJsonFile(filePath, 'artifact manifest'), `artifact manifest ${filePath}`, repositories);
}
