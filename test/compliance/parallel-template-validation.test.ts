import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack, Stage, Validations } from 'aws-cdk-lib';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ParallelTemplateValidation, ValidationCache, type ValidateRequest } from '../../lib/compliance/parallel-template-validation';
import { sourceFingerprint } from '../../lib/compliance/source-fingerprint';

/** Two stages of faulty stacks: a wrong property type, an unknown property, a bad enum value. */
function faultyApp(validation?: ParallelTemplateValidation): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
  validation?.installOn(app);
  for (const stageName of ['One', 'Two']) {
    const stage = new Stage(app, stageName, { env: { account: '111111111111', region: 'eu-west-1' } });
    for (const stackName of ['A', 'B', 'C']) {
      const stack = new Stack(stage, stackName);
      new CfnResource(stack, 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 'soon' } });
      new CfnResource(stack, 'Bucket', { type: 'AWS::S3::Bucket', properties: { NoSuchProperty: 1 } });
      new CfnResource(stack, 'Table', {
        type: 'AWS::DynamoDB::Table',
        properties: {
          BillingMode: 'FREE',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        },
      });
    }
  }
  return app;
}

function cfnValidateReport(app: App): unknown {
  try {
    app.synth();
  } catch {
    // A failing validation throws after writing its report.
  }
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string }> };
  const reports = report.pluginReports.filter((r) => r.pluginName === 'CloudFormation Validate');
  expect(reports).toHaveLength(1);
  // Where each construct was created differs between the two apps (a line of this file); nothing else may.
  return JSON.parse(JSON.stringify(reports[0], (key, value) => (key === 'stackTraces' ? undefined : value)));
}

describe('template validation on worker threads', () => {
  // No cache in these: they compare fresh validations.
  it('reports exactly what aws-cdk-lib built-in validation reports, for every stack of every stage', () => {
    const stock = cfnValidateReport(faultyApp()) as { violations: Array<{ violatingConstructs: unknown[] }> };
    const validation = new ParallelTemplateValidation({ workerCount: 2, cache: undefined });
    const parallel = cfnValidateReport(faultyApp(validation));
    expect(stock.violations.length).toBe(4);
    expect(stock.violations.flatMap((v) => v.violatingConstructs).length).toBe(24);
    expect(parallel).toEqual(stock);
    // Each stage's three templates went to the workers when the stage was synthesized, and every
    // final request (same path, text and options) took its report from there.
    expect(validation.validatedAhead).toEqual({ sent: 6, served: 6 });
  });

  it('sends nothing ahead for a stage synthesized on its own (no validation follows), and validates it when the app synthesizes', () => {
    const validation = new ParallelTemplateValidation({ workerCount: 1, cache: undefined });
    const app = faultyApp(validation);
    (app.node.findChild('One') as Stage).synth();
    expect(validation.validatedAhead).toEqual({ sent: 0, served: 0 });
    expect((cfnValidateReport(app) as { violations: unknown[] }).violations.length).toBe(4);
    expect(validation.validatedAhead).toEqual({ sent: 6, served: 6 });
  });

  it('sends nothing ahead for templates the cache holds, and reports them as a fresh validation did', () => {
    const cache = new ValidationCache(fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-cache-')));
    const first = new ParallelTemplateValidation({ workerCount: 1, cache });
    const fresh = cfnValidateReport(faultyApp(first));
    expect(first.validatedAhead).toEqual({ sent: 6, served: 6 });
    const second = new ParallelTemplateValidation({ workerCount: 1, cache });
    expect(cfnValidateReport(faultyApp(second))).toEqual(fresh);
    expect(second.validatedAhead).toEqual({ sent: 0, served: 0 });
  });

  it('validates a template again when it changed after it was sent ahead', () => {
    const validation = new ParallelTemplateValidation({ workerCount: 1, cache: undefined });
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
    validation.installOn(app);
    const stage = new Stage(app, 'One', { env: { account: '111111111111', region: 'eu-west-1' } });
    new CfnResource(new Stack(stage, 'A'), 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 5 } });
    // What the stage sent ahead is clean; the template validate() reads has the fault.
    const { synth } = stage;
    stage.synth = (options) => {
      const assembly = synth.call(stage, options);
      const file = assembly.stacks[0].templateFullPath;
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"DelaySeconds": 5', '"DelaySeconds": "soon"'));
      return assembly;
    };
    expect((cfnValidateReport(app) as { violations: unknown[] }).violations.length).toBe(1);
    expect(validation.validatedAhead).toEqual({ sent: 1, served: 0 });
  });

  it('passes a clean app', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
    Validations.of(app).addPlugins(new ParallelTemplateValidation({ workerCount: 1 }));
    new CfnResource(new Stack(app, 'S'), 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: 5 } });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('validation report cache', () => {
  const tmpCache = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-cache-'));
  const queueApp = (cache: ValidationCache, delaySeconds: unknown, sourceFingerprint?: string): App => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-cfn-validate-')) });
    Validations.of(app).addPlugins(new ParallelTemplateValidation({ workerCount: 1, cache, sourceFingerprint }));
    new CfnResource(new Stack(app, 'S'), 'Queue', { type: 'AWS::SQS::Queue', properties: { DelaySeconds: delaySeconds } });
    return app;
  };

  /** Violations CloudFormation Validate reported for the app (synth writes them whether or not it throws). */
  const violations = (app: App): number => {
    try {
      app.synth();
    } catch {
      // reported below
    }
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    return report.pluginReports.find((r) => r.pluginName === 'CloudFormation Validate')?.violations.length ?? 0;
  };
  const reports = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('a violation introduced after a warm cache is reported: the key is the template text', () => {
    const dir = tmpCache();
    const cache = new ValidationCache(dir);
    expect(violations(queueApp(cache, 5))).toBe(0);
    expect(reports(dir)).toHaveLength(1);
    // Same template again (in another output folder): served from the cache, still clean.
    expect(violations(queueApp(cache, 5))).toBe(0);
    expect(reports(dir)).toHaveLength(1);
    // A changed template is validated afresh and its violation is reported.
    expect(violations(queueApp(cache, 'soon'))).toBe(1);
    expect(reports(dir)).toHaveLength(2);
    // ...and a cached violation is reported again, not forgotten.
    expect(violations(queueApp(cache, 'soon'))).toBe(1);
    expect(reports(dir)).toHaveLength(2);
  });

  it('serves a stored report for exactly the same request, and nothing for any other', () => {
    const cache = new ValidationCache(tmpCache(), 'engine-1');
    const request: ValidateRequest = { content: '{"Resources":{}}', name: 'S.template.json', options: { a: 1 } };
    const stored = { diagnostics: [{ message: 'planted' }] };
    cache.put(request, stored);
    expect(cache.get(request)).toEqual(stored);
    expect(cache.get({ ...request, content: '{"Resources": {}}' })).toBeUndefined();
    expect(cache.get({ ...request, name: 'T.template.json' })).toBeUndefined();
    // The folder is not part of the key, and a stored path is given back as the asking run's path.
    const inFolder = { ...request, name: '/out/one/S.template.json' };
    cache.put(inFolder, { diagnostics: [{ file: '/out/one/S.template.json' }] });
    expect(cache.get({ ...request, name: '/out/two/S.template.json' })).toEqual({ diagnostics: [{ file: '/out/two/S.template.json' }] });
    expect(cache.get({ ...request, options: { a: 2 } })).toBeUndefined();
    // Another engine (aws-cdk-lib or engine upgrade, changed rule files) never reads this report.
    expect(new ValidationCache((cache as unknown as { dir: string }).dir, 'engine-2').get(request)).toBeUndefined();
  });

  it('the engine digest covers the installed aws-cdk-lib, engine and rule files', () => {
    const digest = ValidationCache.currentEngineDigest();
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(ValidationCache.currentEngineDigest()).toBe(digest);
  });

  it('a cache directory that cannot be written only loses the speed-up', () => {
    const file = path.join(tmpCache(), 'not-a-directory');
    fs.writeFileSync(file, '');
    const cache = new ValidationCache(path.join(file, 'sub'));
    expect(violations(queueApp(cache, 5))).toBe(0);
    expect(violations(queueApp(cache, 'soon'))).toBe(1);
  });

  it('starts no engine for sources validated before, and still validates a template that misses', () => {
    const dir = tmpCache();
    const cache = new ValidationCache(dir);
    expect(cache.hasValidated('sources-1')).toBe(false);
    const fresh = new ParallelTemplateValidation({ workerCount: 1, cache, sourceFingerprint: 'sources-1' });
    expect(fresh.workersStarted).toBe(true);
    fresh._dispose();
    expect(violations(queueApp(cache, 5, 'sources-1'))).toBe(0);
    expect(cache.hasValidated('sources-1')).toBe(true);

    const predicted = new ParallelTemplateValidation({ workerCount: 1, cache, sourceFingerprint: 'sources-1' });
    expect(predicted.workersStarted).toBe(false);
    // Without a fingerprint (tests, other callers) the engine always starts.
    const unpredicted = new ParallelTemplateValidation({ workerCount: 1, cache });
    expect(unpredicted.workersStarted).toBe(true);
    unpredicted._dispose();
    // A wrong prediction (same fingerprint, different template) costs time, never the finding.
    expect(violations(queueApp(cache, 'soon', 'sources-1'))).toBe(1);
  });

  it('drops reports and markers unused for a week, and keeps a report still served', () => {
    const dir = tmpCache();
    const cache = new ValidationCache(dir);
    cache.recordValidated('old');
    const unused = { content: '{}', name: 'Old.template.json', options: {} };
    const served = { content: '{"Resources":{}}', name: 'Served.template.json', options: {} };
    cache.put(unused, { diagnostics: [] });
    cache.put(served, { diagnostics: [{ message: 'kept' }] });
    const weekAgo = new Date(Date.now() - 8 * 24 * 3_600_000);
    fs.utimesSync(path.join(dir, 'validated-sources', 'old'), weekAgo, weekAgo);
    for (const report of reports(dir)) fs.utimesSync(path.join(dir, report), weekAgo, weekAgo);
    expect(cache.get(served)).toEqual({ diagnostics: [{ message: 'kept' }] });
    cache.recordValidated('new');
    expect(cache.hasValidated('old')).toBe(false);
    expect(cache.hasValidated('new')).toBe(true);
    expect(reports(dir)).toHaveLength(1);
    expect(cache.get(unused)).toBeUndefined();
    expect(cache.get(served)).toEqual({ diagnostics: [{ message: 'kept' }] });
  });
});

describe('source fingerprint', () => {
  const project = (): string => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-fingerprint-'));
    for (const file of ['bin/app.ts', 'lib/a/b.ts', 'jobs/x.sql', 'dashboards/d.json', 'cdk.json', 'package-lock.json']) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), 'x');
    }
    return root;
  };
  const env = { CDK_CONTEXT_JSON: '{"env":"dev"}', CDK_OUTDIR: '/out/1', HOME: '/root' };
  const argv = ['node', 'bin/lakestream.ts'];

  it('is stable for unchanged sources, command and context, whatever the output folder or unrelated variables', () => {
    const root = project();
    const first = sourceFingerprint(argv, env, root);
    expect(sourceFingerprint(argv, { ...env, CDK_OUTDIR: '/out/2', HOME: '/home/x' }, root)).toBe(first);
  });

  it('changes with any source file, the context, Lakestream switches and the command line', () => {
    const root = project();
    const first = sourceFingerprint(argv, env, root);
    expect(sourceFingerprint(argv, { ...env, CDK_CONTEXT_JSON: '{"env":"all"}' }, root)).not.toBe(first);
    expect(sourceFingerprint(argv, { ...env, LAKESTREAM_VALIDATION_WORKERS: '2' }, root)).not.toBe(first);
    expect(sourceFingerprint([...argv, '--extra'], env, root)).not.toBe(first);
    fs.writeFileSync(path.join(root, 'lib/a/b.ts'), 'xy');
    const edited = sourceFingerprint(argv, env, root);
    expect(edited).not.toBe(first);
    fs.writeFileSync(path.join(root, 'lib/a/new.ts'), '');
    expect(sourceFingerprint(argv, env, root)).not.toBe(edited);
    const touched = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(root, 'jobs/x.sql'), touched, touched);
    expect(sourceFingerprint(argv, env, root)).not.toBe(edited);
  });
});

describe('validation worker', () => {
  /** Sends one template to a worker built on `rulesDirectory` and waits for its answer, as the synth thread does. */
  function askWorker(rulesDirectory: string): { reports?: unknown[]; error?: string } {
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(path.join(__dirname, '..', '..', 'lib', 'compliance', 'template-validation-worker.js'), {
      workerData: { rulesDirectory },
    });
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ requests: [{ content: '{"Resources":{}}', name: 'Empty.template.json', options: {} }], port: port2, answered: flag }, [port2]);
    const waiting = new Int32Array(flag);
    const deadline = Date.now() + 60_000;
    while (Atomics.load(waiting, 0) === 0 && Date.now() < deadline) Atomics.wait(waiting, 0, 0, 1000);
    const answer = receiveMessageOnPort(port1)?.message as { reports?: unknown[]; error?: string };
    void worker.terminate();
    return answer;
  }

  test('answers every request with the reason when its engine cannot be built, instead of leaving synth waiting', () => {
    const rules = fs.mkdtempSync(path.join(os.tmpdir(), 'lakestream-bad-rules-'));
    fs.writeFileSync(path.join(rules, 'index.generated.json'), JSON.stringify({ rules: [{ file: 'broken.rego' }] }));
    fs.writeFileSync(path.join(rules, 'broken.rego'), 'package broken\nthis is not rego {\n');
    const answer = askWorker(rules);
    expect(answer.reports).toBeUndefined();
    expect(answer.error).toMatch(/could not build the validation engine: [\s\S]*broken\.rego/);
  });
});
