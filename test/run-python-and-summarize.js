#!/usr/bin/env node
/**
 * Last step of `npm run test:all`: runs the Python job tests (standard-library unittest, system
 * python3) and prints one closing line over both suites, `total: N passed, N failed`, read from
 * jest's JSON report (.cache/jest-results.json) and unittest's own summary.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const jest = JSON.parse(fs.readFileSync(path.join(root, '.cache', 'jest-results.json'), 'utf8'));
const py = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'jobs', '-p', 'test_*.py', '-t', '.'], { cwd: root, encoding: 'utf8' });
process.stderr.write(py.stderr);
const ran = Number((py.stderr.match(/^Ran (\d+) tests?/m) || [])[1] || 0);
const failed = py.status === 0 ? 0 : Number((py.stderr.match(/failures=(\d+)/) || [])[1] || 0) + Number((py.stderr.match(/errors=(\d+)/) || [])[1] || 0) || 1;
if (ran === 0) {
  console.error('python: no tests ran');
  process.exit(1);
}
const passed = jest.numPassedTests + (ran - failed);
const failures = jest.numFailedTests + failed;
console.log(`jest: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed; python: ${ran - failed} passed, ${failed} failed`);
console.log(`total: ${passed} passed, ${failures} failed`);
process.exit(failures === 0 && py.status === 0 ? 0 : 1);
