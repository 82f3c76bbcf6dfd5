import { ZipEntry, ZipFormatError, directoryEntry, entryContent, newEntry, readZip, renamed, writeZip } from '../shared/zip-archive';

/**
 * Builds the code package a Managed Flink Python application runs from. The service reads exactly
 * one zip; inside it the `kinesis.analytics.flink.run.options` property group names the Python
 * entry point, the Python folder to ship to UDF workers and ONE jar for the JVM classpath. The
 * connector jars therefore become one jar here, merged the way build tools shade an uber jar.
 */

export interface JarInput {
  /** Where the jar came from, for messages (e.g. its S3 key). */
  readonly label: string;
  readonly archive: Buffer;
}

export interface JarMergeReport {
  readonly entryCount: number;
  /** Paths present in more than one jar where the first jar's copy was kept. */
  readonly duplicatesKept: string[];
  /** META-INF/services files whose provider lists were concatenated. */
  readonly servicesMerged: string[];
  /** Signature and index files dropped because they describe the original jar, not the merged one. */
  readonly dropped: string[];
}

const MANIFEST = 'META-INF/MANIFEST.MF';
const SERVICES_PREFIX = 'META-INF/services/';
// A merged jar carrying another jar's signature fails verification; an INDEX.LIST would hide the merged classes.
const DROPPED_PATHS = /^META-INF\/(?:[^/]+\.(?:SF|DSA|RSA|EC)|SIG-[^/]*|INDEX\.LIST)$/i;
const MANIFEST_CONTENT = 'Manifest-Version: 1.0\r\nCreated-By: Lakestream Flink application packager\r\n\r\n';

function isSafePath(name: string): boolean {
  return name.length > 0 && !name.startsWith('/') && !name.includes('\\') && !name.split('/').includes('..');
}

/**
 * Merges jars into one. The first jar wins a path conflict (so order the connector before its
 * dependencies); service-loader files are concatenated so every jar's factories stay discoverable
 * (Flink finds its table connectors, including `kafka` and `upsert-kafka`, this way).
 */
export function mergeJars(jars: readonly JarInput[]): { jar: Buffer; report: JarMergeReport } {
  if (jars.length === 0) throw new ZipFormatError('no connector jars to merge');
  const entries = new Map<string, ZipEntry>();
  const services = new Map<string, string[]>();
  const duplicatesKept: string[] = [];
  const dropped: string[] = [];

  for (const jar of jars) {
    for (const entry of readZip(jar.archive, jar.label)) {
      if (!isSafePath(entry.name)) throw new ZipFormatError(`${jar.label}: unsafe entry path ${JSON.stringify(entry.name)}`);
      if (entry.name === MANIFEST) continue;
      if (DROPPED_PATHS.test(entry.name)) {
        dropped.push(`${jar.label}:${entry.name}`);
        continue;
      }
      if (entry.name.startsWith(SERVICES_PREFIX) && !entry.name.endsWith('/')) {
        const providers = services.get(entry.name) ?? [];
        for (const line of entryContent(entry, jar.label).toString('utf8').split(/\r?\n/)) {
          const provider = line.replace(/#.*/, '').trim();
          if (provider && !providers.includes(provider)) providers.push(provider);
        }
        services.set(entry.name, providers);
        continue;
      }
      if (entries.has(entry.name)) {
        if (!entry.name.endsWith('/')) duplicatesKept.push(entry.name);
        continue;
      }
      entries.set(entry.name, entry);
    }
  }

  const merged: ZipEntry[] = [directoryEntry('META-INF/'), newEntry(MANIFEST, Buffer.from(MANIFEST_CONTENT, 'utf8'))];
  entries.delete('META-INF/');
  merged.push(...entries.values());
  if (services.size > 0 && !entries.has(SERVICES_PREFIX)) merged.push(directoryEntry(SERVICES_PREFIX));
  for (const [name, providers] of services) {
    merged.push(newEntry(name, Buffer.from(`${providers.join('\n')}\n`, 'utf8')));
  }
  return {
    jar: writeZip(merged),
    report: { entryCount: merged.length, duplicatesKept, servicesMerged: [...services.keys()], dropped },
  };
}

export interface ApplicationZipInput {
  /** The CDK asset zip of the job folder (Python files at its root). */
  readonly code: Buffer;
  readonly codeLabel: string;
  /** Folder the job's files go to inside the application zip, e.g. `job`. */
  readonly codeFolder: string;
  /** Entry script relative to the job folder, e.g. `main.py`; must exist. */
  readonly entryPoint: string;
  /** Path of the merged jar inside the application zip, e.g. `lib/lakestream-connectors.jar`. */
  readonly jarPath: string;
  readonly jar: Buffer;
}

/** Bytecode caches are interpreter-specific and only bloat the package. */
function isBuildLeftover(name: string): boolean {
  return name.split('/').includes('__pycache__') || name.endsWith('.pyc');
}

/** The application zip: `<codeFolder>/...` from the code asset and the merged jar at `jarPath`. */
export function buildApplicationZip(input: ApplicationZipInput): Buffer {
  const codeEntries = readZip(input.code, input.codeLabel).filter((entry) => !isBuildLeftover(entry.name));
  for (const entry of codeEntries) {
    if (!isSafePath(entry.name)) throw new ZipFormatError(`${input.codeLabel}: unsafe entry path ${JSON.stringify(entry.name)}`);
  }
  if (!codeEntries.some((entry) => entry.name === input.entryPoint)) {
    const listing =
      codeEntries
        .slice(0, 20)
        .map((entry) => entry.name)
        .join(', ') || 'none';
    throw new ZipFormatError(`${input.codeLabel} has no entry point ${input.entryPoint} at its root (entries: ${listing})`);
  }
  const jarDirectory = input.jarPath.includes('/') ? input.jarPath.slice(0, input.jarPath.lastIndexOf('/') + 1) : undefined;
  const entries: ZipEntry[] = [
    directoryEntry(input.codeFolder),
    ...codeEntries.map((entry) => renamed(entry, `${input.codeFolder}/${entry.name}`)),
    ...(jarDirectory ? [directoryEntry(jarDirectory)] : []),
    // A jar is already compressed member by member; deflating it again costs time and saves nothing.
    newEntry(input.jarPath, input.jar, { compress: false }),
  ];
  return writeZip(entries);
}
