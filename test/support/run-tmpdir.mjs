// Jest's globalSetup and globalTeardown (jest.config.js): every temporary folder the run makes goes inside one
// folder of its own, removed when the run ends. Specs, the apps they start and the server processes they spawn all
// call os.tmpdir(), which reads TMPDIR; each npm test used to leave a few thousand folders in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the run's folder is named, for the teardown and for specs that check they are inside it. */
export const RUN_TMPDIR = 'ML_INFERENCE_TEST_TMPDIR';

/**
 * Makes the run's folder and points TMPDIR at it; Jest starts its workers after this, so they inherit it. Removed
 * at the process's exit too: StrykerJS runs this in each of its test-runner processes and never the teardown.
 */
export function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'ml-inference-test-'));
  process.env[RUN_TMPDIR] = dir;
  process.env.TMPDIR = dir;
  process.once('exit', teardown);
}

/** Removes the run's folder and whatever the specs left in it. */
export function teardown() {
  const dir = process.env[RUN_TMPDIR];
  if (dir === undefined) return;
  rmSync(dir, { recursive: true, force: true });
  delete process.env[RUN_TMPDIR];
}
