// Mutation testing (StrykerJS): `npm run test:mutation`. Not part of `npm test`: on two cores a full run takes
// tens of minutes. Incremental: a re-run after a small change tests only the mutants it touches. Scores per file and
// the surviving mutants judged equivalent are in docs/TESTING.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    // The unit project plus the in-process end-to-end specs: the specs that spawn the built service test dist/,
    // which Stryker does not mutate.
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: true,
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // The code that decides what a client gets back or what the monitoring concludes.
  mutate: [
    'libs/inference/src/feature-rows.ts',
    'apps/inference-api/src/fast-lane/body-check.ts',
    'libs/inference/src/onnx/interpret-outputs.ts',
    'libs/inference/src/runtime/batch-queue.ts',
    'apps/inference-api/src/auth/api-keys.ts',
    'apps/inference-api/src/auth/api-key.guard.ts',
    'libs/monitoring/src/psi.ts',
    'libs/monitoring/src/drift-report.ts',
    'libs/monitoring/src/count-summary.ts',
    'libs/monitoring/src/day-counts.ts',
    'libs/monitoring/src/log-files.ts',
    // The prediction log's append and repair, and what it writes (the line encoding, the arena it goes through).
    'libs/monitoring/src/prediction-log.ts',
    'libs/monitoring/src/recorded-rows.ts',
    'libs/monitoring/src/day-files.ts',
    'libs/monitoring/src/log-housekeeping.ts',
    'libs/monitoring/src/line-arena.ts',
    'libs/monitoring/src/log-record.ts',
  ],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  concurrency: 2,
  timeoutMS: 30000,
  tempDirName: '.stryker-tmp',
};
