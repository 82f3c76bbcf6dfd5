#!/usr/bin/env node
'use strict';
/**
 * The `app` of cdk.json: runs bin/lakestream.ts from a cached esbuild bundle (bin/app-bundle.js).
 * LAKESTREAM_APP_BUNDLE=0 runs the TypeScript sources through tsx instead, with stack traces that
 * point into them; so does a bundle that cannot be built (the build error is printed first).
 */
function runSources() {
  require('tsx/cjs');
  require('./lakestream.ts');
}

if (process.env.LAKESTREAM_APP_BUNDLE === '0') {
  runSources();
} else {
  require('./app-bundle')
    .appBundle()
    .then(
      ({ file }) => file,
      (error) => {
        console.error(`Could not bundle the app (${error instanceof Error ? error.message : String(error)}); running the TypeScript sources instead.`);
        return undefined;
      },
    )
    .then((file) => (file ? require(file) : runSources()))
    .catch((error) => {
      // As an uncaught exception would: the error, then exit code 1 (a failed synth).
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    });
}
