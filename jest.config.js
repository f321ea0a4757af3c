/** One Jest run covers unit specs beside the code and end-to-end specs under test/. */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(e2e-)?spec\\.ts$',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/test/'],
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
  testTimeout: 30000,
};
