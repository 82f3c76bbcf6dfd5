/**
 * Worker thread of ParallelTemplateValidation (parallel-template-validation.ts): builds the same
 * cloudformation-validate engine that aws-cdk-lib's CloudFormationValidatePlugin builds, as soon as
 * the app starts, then validates the templates it is sent. Plain JavaScript so the worker needs no
 * TypeScript loader.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

const cdkRoot = path.dirname(require.resolve('aws-cdk-lib/package.json'));
const validate = require(require.resolve('@aws/cloudformation-validate', { paths: [cdkRoot] }));
const rulesDirectory = path.join(cdkRoot, 'core', 'lib', 'validation', 'rules');

// aws-cdk-lib loads the built-in rules of the resource types present; each rule matches only its
// types, so loading all of them (there are few) finds the same for any template.
const index = JSON.parse(fs.readFileSync(path.join(rulesDirectory, 'index.generated.json'), 'utf8'));
const regoRules = index.rules
  .map((rule) => rule.file)
  .sort((a, b) => a.localeCompare(b))
  .map((file) => ({ name: file, content: fs.readFileSync(path.join(rulesDirectory, file), 'utf8') }));
const engine = new validate.CompositeEngine(regoRules.length > 0 ? { regoRules } : {});

parentPort.on('message', ({ requests, port }) => {
  const flag = new Int32Array(workerData.flag);
  let answer;
  try {
    answer = { reports: requests.map((r) => JSON.parse(JSON.stringify(engine.validateTemplate(new validate.TemplateContent(r.content, r.name), r.options)))) };
  } catch (error) {
    answer = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(answer);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
