#!/usr/bin/env node
/**
 * Last step of `npm run test:all`: runs the Python job tests (standard-library unittest, system
 * python3) and prints the closing lines over both suites: every skipped test with the reason its
 * title or unittest gives, then `total: N passed, N failed, N skipped`, read from jest's JSON
 * report (.cache/jest-results.json) and unittest's verbose output.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const jest = JSON.parse(fs.readFileSync(path.join(root, '.cache', 'jest-results.json'), 'utf8'));
const py = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'jobs', '-p', 'test_*.py', '-t', '.'], { cwd: root, encoding: 'utf8' });
// Verbose mode names every test; print only what is not a plain pass.
process.stderr.write(
  py.stderr
    .split('\n')
    .filter((line) => !/ \.\.\. ok$/.test(line))
    .join('\n'),
);
const ran = Number((py.stderr.match(/^Ran (\d+) tests?/m) || [])[1] || 0);
const failed = py.status === 0 ? 0 : Number((py.stderr.match(/failures=(\d+)/) || [])[1] || 0) + Number((py.stderr.match(/errors=(\d+)/) || [])[1] || 0) || 1;
if (ran === 0) {
  console.error('python: no tests ran');
  process.exit(1);
}

// Skipped jest tests, grouped by file and outer describe: the title of a skipped block says why.
const jestSkipped = new Map();
for (const file of jest.testResults) {
  for (const test of file.assertionResults) {
    if (test.status !== 'pending' && test.status !== 'skipped' && test.status !== 'todo') continue;
    const group = `${path.relative(root, file.name)}: ${test.ancestorTitles[0] ?? test.title}`;
    jestSkipped.set(group, (jestSkipped.get(group) ?? 0) + 1);
  }
}
const pySkipped = [...py.stderr.matchAll(/^(\S+) \((\S+)\)[^\n]*? \.\.\. skipped '(.*)'$/gm)].map((m) => `${m[2]}: ${m[3]}`);
const skipped = [...jestSkipped.values()].reduce((a, b) => a + b, 0) + pySkipped.length;

const passed = jest.numPassedTests + (ran - failed - pySkipped.length);
const failures = jest.numFailedTests + failed;
console.log(`jest: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed; python: ${ran - failed - pySkipped.length} passed, ${failed} failed`);
if (skipped === 0) {
  console.log('skipped: none');
} else {
  console.log(`skipped: ${skipped} tests`);
  for (const [group, count] of jestSkipped) console.log(`  ${count} in ${group}`);
  for (const line of pySkipped) console.log(`  1 in ${line}`);
}
console.log(`total: ${passed} passed, ${failures} failed, ${skipped} skipped`);
process.exit(failures === 0 && py.status === 0 ? 0 : 1);
