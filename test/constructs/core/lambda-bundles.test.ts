import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
