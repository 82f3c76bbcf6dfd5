import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { LAMBDA_BUNDLE_ALIASES } from '../../functions/shared/lambda-bundle-aliases';

/** Folder holding every TypeScript handler: lib/functions/<handler>/index.ts. */
export const FUNCTIONS_ROOT = path.join(__dirname, '..', '..', 'functions');

const PROJECT_ROOT = path.join(FUNCTIONS_ROOT, '..', '..');

/**
 * Where bundles are kept between runs (gitignored). LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR moves it (a CI
 * cache, or the benchmark's empty folder for a clean clone's synth).
 */
export const BUNDLE_CACHE_DIR = process.env.LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR || path.join(PROJECT_ROOT, '.cache', 'lambda-bundles');

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

/** The bundles of these sources in the cache, if a finished build left them there. */
function cachedBuild(entries: string[], key: string): { readonly dir: string } | undefined {
  const index = readIndex(path.join(BUNDLE_CACHE_DIR, 'index.json'));
  if (index?.key === key && contentHash(key, index.inputs) === index.hash) {
    const dir = path.join(BUNDLE_CACHE_DIR, index.hash);
    if (entries.every((entry) => fs.existsSync(path.join(dir, entry, 'index.js')))) return { dir };
  }
  return undefined;
}

/** LAMBDA_BUNDLE_OPTIONS for every handler, written to `outdir`: the same whichever thread bundles. */
function buildOptions(entries: string[], outdir: string): BuildOptions {
  return {
    ...LAMBDA_BUNDLE_OPTIONS,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: Object.fromEntries(entries.map((entry) => [path.join(entry, 'index'), path.join(FUNCTIONS_ROOT, entry, 'index.ts')])),
    outdir,
    metafile: true,
  };
}

function newBuildFolder(): string {
  fs.mkdirSync(BUNDLE_CACHE_DIR, { recursive: true });
  return fs.mkdtempSync(path.join(BUNDLE_CACHE_DIR, 'building-'));
}

/** A build of every handler running on a worker thread (startLambdaBundling). */
interface EarlyBuild {
  readonly key: string;
  readonly temporary: string;
  /** Set to 1 by the worker once its answer is on `port`. */
  readonly answered: Int32Array;
  readonly port: MessagePort;
}

let early: EarlyBuild | undefined;

/** How long the first lambdaBundleDir waits for the early build (a crashed worker never answers). */
const EARLY_BUILD_TIMEOUT_MS = 300_000;

/** What startLambdaBundling found: the bundles in the cache, or a build now running on a worker thread. */
export type LambdaBundlingStart = 'cached' | 'started' | 'already done or started';

/**
 * Starts bundling every handler now, on a worker thread, unless the cache holds these sources'
 * bundles. bin/lakestream.ts calls it before it loads aws-cdk-lib (start-lambda-bundling.ts is its
 * first import), so esbuild (~2 s of CPU over ~2,200 files, on two cores) runs while Node loads and
 * compiles aws-cdk-lib and cdk-nag and constructs the first stacks, instead of blocking the first
 * LakestreamFunction. In paired cold synths of dev on a 2-core machine the app finished ~0.35 s
 * sooner. The worker bundles with the same options into a fresh folder; lambdaBundleDir then hashes
 * and publishes its output exactly as it does its own build's, and rethrows esbuild's error if the
 * build failed.
 */
export function startLambdaBundling(): LambdaBundlingStart {
  if (built || early) return 'already done or started';
  const entries = handlerDirs();
  const key = buildKey(entries);
  const cached = cachedBuild(entries, key);
  if (cached) {
    built = cached;
    return 'cached';
  }
  const temporary = newBuildFolder();
  const answered = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(path.join(__dirname, 'lambda-bundle-worker.js'), {
    workerData: { options: buildOptions(entries, temporary), answered, port: port2 },
    transferList: [port2],
  });
  // Never keeps a process alive that did not need its bundles after all.
  worker.unref();
  early = { key, temporary, answered: new Int32Array(answered), port: port1 };
  return 'started';
}

/** Blocks until the early build answers (construction is synchronous); its inputs, or esbuild's error. */
function awaitEarlyBuild(build: EarlyBuild): string[] {
  const deadline = Date.now() + EARLY_BUILD_TIMEOUT_MS;
  while (Atomics.load(build.answered, 0) === 0) {
    if (Date.now() > deadline) throw new Error(`Lambda bundling: no answer from its worker thread within ${EARLY_BUILD_TIMEOUT_MS / 1000} s`);
    Atomics.wait(build.answered, 0, 0, 1000);
  }
  const answer = receiveMessageOnPort(build.port)?.message as { inputs?: string[]; error?: string } | undefined;
  build.port.close();
  if (!answer?.inputs) {
    fs.rmSync(build.temporary, { recursive: true, force: true });
    throw new Error(answer?.error ?? 'Lambda bundling: its worker thread answered nothing');
  }
  return answer.inputs;
}

/**
 * Bundles all handlers in one esbuild call (esbuild's in-process API: no process per function,
 * modules shared between handlers parsed once) and keeps the result in .cache/lambda-bundles,
 * keyed by the contents of every file esbuild read. A synth with unchanged sources reads the
 * cached bundles after hashing those files (~2,000 files, well under a second) instead of bundling.
 * A build started early (startLambdaBundling) is awaited and published instead.
 */
function buildAll(): { readonly dir: string } {
  const pending = early;
  early = undefined;
  if (pending) return publishBuild(pending.key, pending.temporary, awaitEarlyBuild(pending));
  const entries = handlerDirs();
  const key = buildKey(entries);
  const cached = cachedBuild(entries, key);
  if (cached) return cached;
  const temporary = newBuildFolder();
  const result = buildSync(buildOptions(entries, temporary));
  return publishBuild(key, temporary, Object.keys(result.metafile?.inputs ?? {}));
}

/** Moves a finished build to the folder named by its content hash and points the index at it. */
function publishBuild(key: string, temporary: string, builtFrom: string[]): { readonly dir: string } {
  const inputs = [...builtFrom].sort();
  const hash = contentHash(key, inputs);
  if (!hash) throw new Error(`Lambda bundling: an input changed while bundling (${inputs.length} inputs); run synth again`);
  const dir = path.join(BUNDLE_CACHE_DIR, hash);
  publish(temporary, dir);
  const indexFile = path.join(BUNDLE_CACHE_DIR, 'index.json');
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
