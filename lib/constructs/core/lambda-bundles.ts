import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLE_ALIASES } from '../../functions/shared/lambda-bundle-aliases';

/** Folder holding every TypeScript handler: lib/functions/<handler>/index.ts. */
export const FUNCTIONS_ROOT = path.join(__dirname, '..', '..', 'functions');

const PROJECT_ROOT = path.join(FUNCTIONS_ROOT, '..', '..');

/** Where bundles are kept between runs (gitignored). */
export const BUNDLE_CACHE_DIR = path.join(PROJECT_ROOT, '.cache', 'lambda-bundles');

/**
 * How every Lambda handler is bundled. LakestreamFunction deploys these bundles and
 * bench/bundles.ts measures them, so both read this one definition.
 */
export const LAMBDA_BUNDLE_OPTIONS: Readonly<BuildOptions> = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // Prefer ES module builds: the AWS SDK's are tree-shakable, its CommonJS builds are not.
  mainFields: ['module', 'main'],
  // Lambda passes credentials as environment variables: bundle only the env provider, and none of
  // the profile, SSO, STS and role-assumption code (~90 KB less per SDK client).
  alias: { ...LAMBDA_BUNDLE_ALIASES },
  logLevel: 'silent',
};

/** Every handler folder: lib/functions/<name>/index.ts. */
export function handlerDirs(): string[] {
  return fs
    .readdirSync(FUNCTIONS_ROOT)
    .filter((name) => fs.existsSync(path.join(FUNCTIONS_ROOT, name, 'index.ts')))
    .sort();
}

interface CacheIndex {
  /** Hash of esbuild's version, the options, the entry points and the lock file. */
  readonly key: string;
  /** Every file esbuild read for the last build, relative to the project root. */
  readonly inputs: string[];
  /** Hash of `key` and the contents of `inputs`: the folder holding that build's bundles. */
  readonly hash: string;
}

let built: { readonly dir: string } | undefined;

function sha256(parts: Iterable<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

function buildKey(entries: string[]): string {
  const lockFile = path.join(PROJECT_ROOT, 'package-lock.json');
  return sha256([esbuildVersion, JSON.stringify(LAMBDA_BUNDLE_OPTIONS), ...entries, fs.existsSync(lockFile) ? fs.readFileSync(lockFile) : '']);
}

/** Hash of the key and every input's contents; undefined when an input is gone (the build would differ). */
function contentHash(key: string, inputs: string[]): string | undefined {
  const parts: Array<string | Buffer> = [key];
  for (const input of inputs) {
    const file = path.join(PROJECT_ROOT, input);
    if (!fs.existsSync(file)) return undefined;
    parts.push(input, fs.readFileSync(file));
  }
  return sha256(parts);
}

function readIndex(file: string): CacheIndex | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CacheIndex;
  } catch {
    return undefined;
  }
}

/** Writes by rename, so parallel processes (jest workers, cdk watch) never read half a file or folder. */
function publish(temporary: string, final: string): void {
  try {
    fs.renameSync(temporary, final);
  } catch {
    // Another process published the same content first.
    fs.rmSync(temporary, { recursive: true, force: true });
  }
}

/**
 * Bundles all handlers in one esbuild call (esbuild's in-process API: no process per function,
 * modules shared between handlers parsed once) and keeps the result in .cache/lambda-bundles,
 * keyed by the contents of every file esbuild read. A synth with unchanged sources reads the
 * cached bundles after hashing those files (~2,000 files, well under a second) instead of bundling.
 */
function buildAll(): { readonly dir: string } {
  const entries = handlerDirs();
  const key = buildKey(entries);
  const indexFile = path.join(BUNDLE_CACHE_DIR, 'index.json');
  const index = readIndex(indexFile);
  if (index?.key === key && contentHash(key, index.inputs) === index.hash) {
    const dir = path.join(BUNDLE_CACHE_DIR, index.hash);
    if (entries.every((entry) => fs.existsSync(path.join(dir, entry, 'index.js')))) return { dir };
  }

  fs.mkdirSync(BUNDLE_CACHE_DIR, { recursive: true });
  const temporary = fs.mkdtempSync(path.join(BUNDLE_CACHE_DIR, 'building-'));
  const result = buildSync({
    ...LAMBDA_BUNDLE_OPTIONS,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: Object.fromEntries(entries.map((entry) => [path.join(entry, 'index'), path.join(FUNCTIONS_ROOT, entry, 'index.ts')])),
    outdir: temporary,
    metafile: true,
  });
  const inputs = Object.keys(result.metafile?.inputs ?? {}).sort();
  const hash = contentHash(key, inputs);
  if (!hash) throw new Error(`Lambda bundling: an input changed while bundling (${inputs.length} inputs); run synth again`);
  const dir = path.join(BUNDLE_CACHE_DIR, hash);
  publish(temporary, dir);
  const indexTemporary = `${indexFile}.${process.pid}`;
  fs.writeFileSync(indexTemporary, JSON.stringify({ key, inputs, hash } satisfies CacheIndex));
  fs.renameSync(indexTemporary, indexFile);
  pruneExcept(hash);
  return { dir };
}

/** Drops bundles of older sources that no process has touched for an hour. */
function pruneExcept(current: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of fs.readdirSync(BUNDLE_CACHE_DIR)) {
    const dir = path.join(BUNDLE_CACHE_DIR, name);
    if (name === current || name === 'index.json' || name.startsWith('index.json.')) continue;
    if (fs.statSync(dir).mtimeMs < hourAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The folder holding `index.js` and `index.js.map` of one handler, bundled with
 * LAMBDA_BUNDLE_OPTIONS. The first call in a process bundles (or finds in the cache) every handler.
 */
export function lambdaBundleDir(handlerDir: string): string {
  built ??= buildAll();
  const dir = path.join(built.dir, handlerDir);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`Lambda bundling: no handler lib/functions/${handlerDir}/index.ts (handlers: ${handlerDirs().join(', ')})`);
  }
  return dir;
}
