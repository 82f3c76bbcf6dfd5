/**
 * Worker thread of ParallelTemplateValidation (parallel-template-validation.ts): builds the same
 * cloudformation-validate engine that aws-cdk-lib's CloudFormationValidatePlugin builds, as soon as
 * the app starts, then validates the templates it is sent. Plain JavaScript so the worker needs no
 * TypeScript loader.
 */
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

/**
 * The engine, or why it could not be built. A failure is answered to every request (never left
 * unanswered: the main thread blocks until an answer arrives).
 */
function buildEngine() {
  const cdkRoot = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const validate = require(require.resolve('@aws/cloudformation-validate', { paths: [cdkRoot] }));
  const rulesDirectory = workerData?.rulesDirectory ?? path.join(cdkRoot, 'core', 'lib', 'validation', 'rules');
  // aws-cdk-lib loads the built-in rules of the resource types present; each rule matches only its
  // types, so loading all of them (there are few) finds the same for any template.
  const index = JSON.parse(fs.readFileSync(path.join(rulesDirectory, 'index.generated.json'), 'utf8'));
  const regoRules = index.rules
    .map((rule) => rule.file)
    .sort((a, b) => a.localeCompare(b))
    .map((file) => ({ name: file, content: fs.readFileSync(path.join(rulesDirectory, file), 'utf8') }));
  return { validate, engine: new validate.CompositeEngine(regoRules.length > 0 ? { regoRules } : {}) };
}

let built;
let buildError;
try {
  built = buildEngine();
} catch (error) {
  // cdk.json runs node with --liftoff-only (less CPU for the engine's WebAssembly): a platform whose
  // baseline compiler cannot compile it ends up here, and the message says what to change.
  buildError = `could not build the validation engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${
    process.execArgv.includes('--liftoff-only') ? ' (if this is a WebAssembly CompileError, remove --liftoff-only from the app command in cdk.json)' : ''
  }`;
}

parentPort.on('message', ({ requests, port, answered }) => {
  const flag = new Int32Array(answered);
  let answer;
  try {
    if (!built) throw new Error(buildError);
    const { validate, engine } = built;
    answer = { reports: requests.map((r) => JSON.parse(JSON.stringify(engine.validateTemplate(new validate.TemplateContent(r.content, r.name), r.options)))) };
  } catch (error) {
    answer = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(answer);
  port.close();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
