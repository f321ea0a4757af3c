/**
 * Three audiences, one `jest` (what `npm test` runs) covering them all:
 * - unit: specs beside the code and the test helpers' own specs; no server process, no network (`npm run test:unit`,
 *   the inner loop). Two of them use a real tool where users have one: promtool for the metrics, Chromium for the
 *   HTML drift report;
 * - e2e: `test/*.e2e-spec.ts`, the real app over HTTP, and the built service as a process (`npm run test:e2e`, which
 *   builds first);
 * - deploy: `test/deploy/`, compose, the Helm chart and the workflows (`npm run test:deploy`; the image itself is
 *   built and run by `npm run test:image`).
 */
const shared = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    // Type checking is done once by `tsc --noEmit` in `npm test`; transpiling per file keeps Jest fast.
    '^.+\\.ts$': 'ts-jest',
  },
  testEnvironment: 'node',
  // onnxruntime-node returns typed arrays from Node's main realm; see the file for why this is needed.
  setupFiles: ['<rootDir>/test/support/cross-realm-typed-arrays.ts'],
  moduleNameMapper: {
    '^@app/(config|inference|observability|monitoring)(|/.*)$': '<rootDir>/libs/$1/src$2',
  },
};

module.exports = {
  testTimeout: 30000,
  // One temporary folder for the whole run, removed at its end (see the file).
  globalSetup: '<rootDir>/test/support/run-tmpdir-setup.mjs',
  globalTeardown: '<rootDir>/test/support/run-tmpdir-teardown.mjs',
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/test/support/'],
      testRegex: '.*\\.spec\\.ts$',
    },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test/'],
      testRegex: '.*\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/test/deploy/'],
    },
    { ...shared, displayName: 'deploy', roots: ['<rootDir>/test/deploy/'], testRegex: '.*\\.spec\\.ts$' },
  ],
};
