/**
 * The specs Stryker runs against each mutant: the unit project, and the end-to-end specs that build the app in this
 * process from the sources (those that start the built service as a process test dist/, which is not mutated).
 */
const base = require('./jest.config.js');
const [unit, e2e] = base.projects;

module.exports = {
  testTimeout: base.testTimeout,
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
  projects: [
    unit,
    {
      ...e2e,
      testPathIgnorePatterns: [
        ...e2e.testPathIgnorePatterns,
        // Processes of the built service.
        'cluster',
        'drain',
        'fuzz',
        'monitoring-process',
        'process',
        'metrics-aggregation',
        'monitoring-cli',
      ],
    },
  ],
};
