#!/usr/bin/env node
'use strict';
// The operator CLI is TypeScript under lib/cli; tsx (a devDependency, present after `npm ci`)
// compiles it on load, so a fresh clone needs no build step. `npx lakestream --help`.
require('tsx/cjs/api').register();
const { runCli } = require('../lib/cli/main.ts');

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`lakestream: ${error?.stack ? error.stack : String(error)}\n`);
    process.exitCode = 2;
  },
);
