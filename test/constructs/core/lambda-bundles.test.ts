import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LakestreamFunction } from '../../../lib/constructs/core/lakestream-function';
import { BUNDLE_CACHE_DIR, handlerDirs, lambdaBundleDir } from '../../../lib/constructs/core/lambda-bundles';

describe('Lambda bundles (one esbuild call, cached by content hash)', () => {
  it('bundles every handler once, as a CommonJS module exporting its handler, with a source map', () => {
    const dirs = handlerDirs();
    expect(dirs).toEqual(expect.arrayContaining(['topic-manager', 'file-replay', 'artifact-mirror']));
    const dir = lambdaBundleDir('topic-manager');
    expect(fs.readFileSync(path.join(dir, 'index.js'), 'utf8')).toMatch(/sourceMappingURL=index\.js\.map/);
    expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
    for (const name of dirs) expect(path.dirname(lambdaBundleDir(name))).toBe(path.dirname(dir));
  });

  it('records every file esbuild read, so a change to any of them selects a new cache folder', () => {
    lambdaBundleDir('topic-manager');
    const index = JSON.parse(fs.readFileSync(path.join(BUNDLE_CACHE_DIR, 'index.json'), 'utf8')) as { inputs: string[]; hash: string };
    expect(index.inputs).toEqual(expect.arrayContaining(['lib/functions/topic-manager/index.ts', 'lib/functions/shared/lambda-credential-providers.ts']));
    expect(index.inputs.some((input) => input.startsWith('node_modules/@aws-sdk/client-kafka/'))).toBe(true);
    expect(path.basename(path.dirname(lambdaBundleDir('topic-manager')))).toBe(index.hash);
  });

  /** lambda-bundles.ts loaded afresh (no bundles built in this process yet), with its cache in `cacheDir`. */
  function freshModule(cacheDir: string): typeof import('../../../lib/constructs/core/lambda-bundles') {
    const previous = process.env.LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR;
    process.env.LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR = cacheDir;
    try {
      let loaded: typeof import('../../../lib/constructs/core/lambda-bundles') | undefined;
      jest.isolateModules(() => {
        loaded = jest.requireActual<typeof import('../../../lib/constructs/core/lambda-bundles')>('../../../lib/constructs/core/lambda-bundles');
      });
      if (!loaded) throw new Error('lambda-bundles did not load');
      return loaded;
    } finally {
      if (previous === undefined) delete process.env.LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR;
      else process.env.LAKESTREAM_LAMBDA_BUNDLE_CACHE_DIR = previous;
    }
  }

  it('bundles early on a worker thread into a moved, empty cache, and publishes the same bundles from the same inputs', () => {
    const moved = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-moved-bundles-'));
    try {
      const early = freshModule(moved);
      expect(early.BUNDLE_CACHE_DIR).toBe(moved);
      expect(early.startLambdaBundling()).toBe('started');
      expect(early.startLambdaBundling()).toBe('already done or started');
      const dir = early.lambdaBundleDir('topic-manager');
      expect(path.relative(moved, dir).startsWith('..')).toBe(false);
      for (const name of handlerDirs()) {
        expect([name, fs.readFileSync(path.join(early.lambdaBundleDir(name), 'index.js'), 'utf8')]).toEqual([
          name,
          fs.readFileSync(path.join(lambdaBundleDir(name), 'index.js'), 'utf8'),
        ]);
      }
      const index = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { inputs: string[]; hash: string };
      lambdaBundleDir('topic-manager');
      expect(index(moved)).toEqual(index(BUNDLE_CACHE_DIR));
      // The next process finds them: no worker starts.
      expect(freshModule(moved).startLambdaBundling()).toBe('cached');
    } finally {
      fs.rmSync(moved, { recursive: true, force: true });
    }
  });

  it("the early build's worker answers with esbuild's error, so synth fails with it instead of waiting", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bundle-error-'));
    const answered = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(path.join(__dirname, '..', '..', '..', 'lib', 'constructs', 'core', 'lambda-bundle-worker.js'), {
      workerData: {
        options: { entryPoints: [path.join(outdir, 'missing.ts')], bundle: true, outdir, metafile: true, logLevel: 'silent' },
        answered,
        port: port2,
      },
      transferList: [port2],
    });
    const flag = new Int32Array(answered);
    const deadline = Date.now() + 60_000;
    while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) Atomics.wait(flag, 0, 0, 1000);
    const answer = receiveMessageOnPort(port1)?.message as { inputs?: string[]; error?: string };
    void worker.terminate();
    fs.rmSync(outdir, { recursive: true, force: true });
    expect(answer.inputs).toBeUndefined();
    expect(answer.error).toMatch(/Build failed with 1 error[\s\S]*missing\.ts/);
  });

  it('names an unknown handler folder and lists the real ones', () => {
    expect(() => lambdaBundleDir('no-such-handler')).toThrow(/no handler lib\/functions\/no-such-handler\/index\.ts \(handlers: .*topic-manager/);
  });

  it('stages the cached bundle as the function asset when the stack is bundled', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bundle-'));
    const stack = new Stack(new App({ outdir }), 'S');
    const fn = new LakestreamFunction(stack, 'Fn', {
      handlerDir: 'topic-manager',
      description: 'test',
      encryptionKey: new kms.Key(stack, 'Key'),
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    const staged = (fn.function.node.findChild('Code') as unknown as { assetPath: string }).assetPath;
    const stagedFile = fs.readFileSync(path.join(outdir, staged, 'index.js'));
    expect(stagedFile.equals(fs.readFileSync(path.join(lambdaBundleDir('topic-manager'), 'index.js')))).toBe(true);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});
