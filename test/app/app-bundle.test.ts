import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthApp } from '../helpers/synth';

// bin/app-bundle.js is plain JavaScript: it runs before any TypeScript hook is installed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { appBundle, bundleKey } = require('../../bin/app-bundle') as {
  appBundle(options?: { cacheDir?: string }): Promise<{ file: string; built: boolean; inputs: string[] }>;
  bundleKey(inputs: string[]): string;
};

const ROOT = path.join(__dirname, '..', '..');
const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
/** Bundles must lie inside the checkout to find node_modules: a scratch folder under .cache. */
const scratchCache = () => {
  fs.mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
  return fs.mkdtempSync(path.join(ROOT, '.cache', 'test-app-bundle-'));
};

/** The `app` command of cdk.json, split into words (it has no quoting). */
const appCommand = (): string[] => (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app.split(/\s+/);

describe('the bundled CDK app (bin/app.js)', () => {
  let cacheDir: string;
  let first: { file: string; built: boolean; inputs: string[] };

  beforeAll(async () => {
    cacheDir = scratchCache();
    // Bundles a previous checkout left behind: all but the newest four are pruned.
    for (let i = 0; i < 6; i++) {
      const old = path.join(cacheDir, `${String(i).repeat(32)}.js`);
      fs.writeFileSync(old, '');
      fs.utimesSync(old, new Date(2020, 0, i + 1), new Date(2020, 0, i + 1));
    }
    first = await appBundle({ cacheDir });
  });

  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  test('refuses a cache outside the checkout, where the bundle could not find its packages', async () => {
    await expect(appBundle({ cacheDir: tempDir('lakestream-app-outside-') })).rejects.toThrow(/must be inside the checkout .*LAKESTREAM_APP_CACHE_DIR/);
  });

  test('bundles the app entry and the repository sources it imports, not the npm packages', () => {
    expect(first.built).toBe(true);
    const relative = first.inputs.map((input) => path.relative(ROOT, input));
    expect(relative).toEqual(
      expect.arrayContaining(['bin/lakestream.ts', 'lib/app/build-app.ts', 'lib/stacks/processing-stack.ts', 'lib/app/feature-flags.json']),
    );
    expect(relative.filter((input) => input.startsWith('node_modules') || input.startsWith('..'))).toEqual([]);
  });

  test('gives every source its own __dirname, so paths to jobs/, dashboards/ and the validation worker resolve as unbundled', () => {
    const text = fs.readFileSync(first.file, 'utf8');
    expect(text).not.toMatch(/\b__dirname\b|\b__filename\b/);
    for (const dir of ['lib/stacks', 'lib/compliance', 'lib/constructs/monitoring']) expect(text).toContain(JSON.stringify(path.join(ROOT, dir)));
  });

  test('reuses the bundle while no input changed, and keeps only the newest old bundles', async () => {
    const again = await appBundle({ cacheDir });
    expect(again).toMatchObject({ file: first.file, built: false });
    const bundles = fs.readdirSync(cacheDir).filter((name) => name.endsWith('.js'));
    expect(bundles.sort()).toEqual([path.basename(first.file), ...['2', '3', '4', '5'].map((d) => `${d.repeat(32)}.js`)].sort());
  });

  test('the key changes when an input changes size or time, or disappears', () => {
    const dir = tempDir('lakestream-app-key-');
    const input = path.join(dir, 'a.ts');
    fs.writeFileSync(input, 'export const a = 1;\n');
    const key = bundleKey([input]);
    expect(bundleKey([input])).toBe(key);
    fs.utimesSync(input, new Date(2021, 0, 1), new Date(2021, 0, 1));
    const touched = bundleKey([input]);
    expect(touched).not.toBe(key);
    fs.writeFileSync(input, 'export const a = 12;\n');
    fs.utimesSync(input, new Date(2021, 0, 1), new Date(2021, 0, 1));
    expect(bundleKey([input])).not.toBe(touched);
    fs.rmSync(input);
    expect(bundleKey([input])).not.toBe(touched);
  });

  test('cdk.json runs it with node and V8 flags only, which the validation engine works under', () => {
    const [command, ...args] = appCommand();
    expect(command).toBe('node');
    expect(args.at(-1)).toBe('bin/app.js');
    // --liftoff-only and --no-concurrent-marking (why: "Synth speed" in the README); the next test
    // validates every dev template afresh under exactly these flags.
    expect(args.slice(0, -1)).toEqual(['--max-semi-space-size=32', '--liftoff-only', '--no-concurrent-marking']);
  });

  test('synthesizes the same templates as the TypeScript sources, run exactly as cdk.json runs it, with every template validated afresh', () => {
    const outdir = tempDir('lakestream-app-out-');
    const [, ...args] = appCommand();
    execFileSync(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ env: 'dev', account: '111111111111', 'aws:cdk:bundling-stacks': [] }),
        LAKESTREAM_APP_CACHE_DIR: cacheDir,
        // The engine must run under cdk.json's flags: no report may come from an earlier run.
        LAKESTREAM_VALIDATION_CACHE: '0',
      },
      stdio: 'pipe',
    });
    const reference = synthApp({ env: 'dev' });
    const assembly = path.join(outdir, 'assembly-dev');
    const templates = fs.readdirSync(assembly).filter((name) => name.endsWith('.template.json'));
    expect(templates).toHaveLength(6);
    for (const name of templates) {
      const stack = name.replace(/^dev/, '').replace(/[0-9A-F]{8}\.template\.json$/, '');
      const bundled = JSON.parse(fs.readFileSync(path.join(assembly, name), 'utf8')) as unknown;
      expect([stack, bundled]).toEqual([stack, reference.template('dev', stack).toJSON()]);
    }
  }, 60_000);
});
