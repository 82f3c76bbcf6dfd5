/**
 * Worker thread of startLambdaBundling (lambda-bundles.ts): bundles every handler with esbuild's
 * asynchronous API while the app's main thread loads and constructs, then answers with the files
 * esbuild read, or with esbuild's error. It always answers: the main thread blocks until it does.
 * Plain JavaScript so the worker needs no TypeScript loader.
 */
const { workerData } = require('node:worker_threads');

const answered = new Int32Array(workerData.answered);

function answer(message) {
  workerData.port.postMessage(message);
  workerData.port.close();
  Atomics.store(answered, 0, 1);
  Atomics.notify(answered, 0);
}

const describe = (error) => (error instanceof Error ? error.message : String(error));

let esbuild;
try {
  esbuild = require('esbuild');
} catch (error) {
  answer({ error: `Lambda bundling: could not load esbuild: ${describe(error)}` });
}
if (esbuild) {
  esbuild
    .build(workerData.options)
    .then(
      (result) => answer({ inputs: Object.keys(result.metafile.inputs) }),
      (error) => answer({ error: describe(error) }),
    )
    // The esbuild service would otherwise keep this thread alive after its answer.
    .finally(() => esbuild.stop());
}
