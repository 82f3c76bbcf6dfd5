/**
 * Tests are transpiled by SWC (no type checking): `npm run build` type-checks the whole
 * tree once with tsc, which is much faster than ts-jest type-checking every test file.
 * Measured on the 2-core CI machine; see README "Tests".
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
    '/node_modules/(dt-sql-parser|antlr4-c3)/.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // dt-sql-parser (and its antlr4-c3) ship ES modules only: compile just them to CommonJS for the SQL grammar tests.
  transformIgnorePatterns: ['/node_modules/(?!(dt-sql-parser|antlr4-c3)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  snapshotFormat: { escapeString: true, printBasicPrototype: false },
  cacheDirectory: '<rootDir>/.cache/jest',
  testTimeout: 120000,
  // Jest's default on a 2-core machine is one worker; test files are CPU-bound and independent.
  maxWorkers: 2,
};
