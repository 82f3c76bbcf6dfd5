'use strict';
/**
 * The CDK app (bin/lakestream.ts and everything it imports from the repository) compiled into one
 * CommonJS file with esbuild, cached until one of its inputs changes.
 *
 * Why: loading ~150 TypeScript modules through a require hook (tsx) transforms and resolves each one
 * on every `cdk synth`, `cdk diff` and `cdk watch` run. One esbuild build takes ~0.1 s, and loading
 * one file is cheaper than resolving and transforming many. Measured on a 2-core machine: ~1 s less
 * per synth (bench/run.ts, "Synth speed" in the README).
 *
 * Correctness:
 * - npm packages stay external (resolved from node_modules as before);
 * - `__dirname` and `__filename` in a source are replaced by that source's own directory and path,
 *   so paths to jobs/, dashboards/ and the validation worker resolve as they do unbundled;
 * - the cache key covers the size and mtime of every input esbuild reported (the metafile), the
 *   esbuild version, the installed packages (node_modules/.package-lock.json), this file and the
 *   checkout path. An edit to any input rebuilds; a new import is an edit to an input.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'bin', 'lakestream.ts');
const DEFAULT_CACHE_DIR = path.join(ROOT, '.cache', 'app');
/** Bundles kept besides the current one (other branches, a revert): older ones are deleted. */
const KEEP = 4;

/** size:mtime of a file, or `missing`: an input that disappears invalidates the bundle. */
function stamp(file) {
  try {
    const s = fs.statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The key of a bundle built from `inputs` (absolute paths) in this checkout, with this esbuild. */
function bundleKey(inputs) {
  const hash = crypto.createHash('sha256');
  hash.update(`${ROOT}\n${require('esbuild/package.json').version}\n${stamp(__filename)}\n`);
  hash.update(`${stamp(path.join(ROOT, 'node_modules', '.package-lock.json'))}\n`);
  for (const input of [...inputs].sort()) hash.update(`${input}=${stamp(input)}\n`);
  return hash.digest('hex').slice(0, 32);
}

/** Replaces `__dirname` / `__filename` by the source's own location (a bundle has one of each). */
const sourceLocationPlugin = {
  name: 'lakestream-source-location',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      return {
        contents: text.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))).replace(/\b__filename\b/g, JSON.stringify(args.path)),
        loader: 'ts',
      };
    });
  },
};

/**
 * Path of an up-to-date bundle of the app, building it when an input changed. `built` says which.
 * @param {{ cacheDir?: string }} [options]
 * @returns {Promise<{ file: string, built: boolean, inputs: string[] }>}
 */
async function appBundle(options = {}) {
  const cacheDir = path.resolve(options.cacheDir || process.env.LAKESTREAM_APP_CACHE_DIR || DEFAULT_CACHE_DIR);
  // The bundle requires its npm packages from where it lies: it must lie inside the checkout.
  if (path.relative(ROOT, cacheDir).startsWith('..')) {
    throw new Error(`the app bundle cache ${cacheDir} must be inside the checkout ${ROOT} (LAKESTREAM_APP_CACHE_DIR), so the bundle finds node_modules`);
  }
  const manifestPath = path.join(cacheDir, 'manifest.json');
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const file = path.join(cacheDir, `${manifest.key}.js`);
    if (bundleKey(manifest.inputs) === manifest.key && fs.existsSync(file)) return { file, built: false, inputs: manifest.inputs };
  } catch {
    // No manifest yet, or an unreadable one: build.
  }
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    write: false,
    metafile: true,
    plugins: [sourceLocationPlugin],
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(process.cwd(), input));
  const key = bundleKey(inputs);
  const file = path.join(cacheDir, `${key}.js`);
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written whole, then renamed: a concurrent synth never loads half a bundle.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, result.outputFiles[0].contents);
  fs.renameSync(temporary, file);
  const manifestTemporary = `${manifestPath}.${process.pid}.tmp`;
  fs.writeFileSync(manifestTemporary, JSON.stringify({ key, inputs }));
  fs.renameSync(manifestTemporary, manifestPath);
  pruneOldBundles(cacheDir, file);
  return { file, built: true, inputs };
}

function pruneOldBundles(cacheDir, current) {
  const bundles = fs
    .readdirSync(cacheDir)
    .filter((name) => /^[0-9a-f]{32}\.js$/.test(name))
    .map((name) => path.join(cacheDir, name))
    .filter((file) => file !== current)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const old of bundles.slice(KEEP)) fs.rmSync(old, { force: true });
}

module.exports = { appBundle, bundleKey, DEFAULT_CACHE_DIR };
