import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const MODULE = join(__dirname, 'run-tmpdir.mjs');

describe('the test run’s temporary folder (jest.config.js globalSetup/globalTeardown)', () => {
  it('is where this worker’s temporary folders go', () => {
    const run = process.env.ML_INFERENCE_TEST_TMPDIR;
    expect(run).toBeDefined();
    expect(basename(run!)).toMatch(/^ml-inference-test-/);
    expect(tmpdir()).toBe(run);
    const made = mkdtempSync(join(tmpdir(), 'spec-'));
    expect(dirname(made)).toBe(run);
  });

  it('is removed when the process exits, should the teardown never run', () => {
    const outer = mkdtempSync(join(tmpdir(), 'outer-'));
    const script = `
      import { setup } from ${JSON.stringify(MODULE)};
      import { writeFileSync } from 'node:fs';
      import { join } from 'node:path';
      setup();
      writeFileSync(join(process.env.TMPDIR, 'file'), 'x');
    `;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: outer },
    });
    expect(readdirSync(outer)).toEqual([]);
  });

  it('is made by the setup and removed, with what was left in it, by the teardown', () => {
    const outer = mkdtempSync(join(tmpdir(), 'outer-'));
    const script = `
      import { setup, teardown } from ${JSON.stringify(MODULE)};
      import { mkdtempSync, writeFileSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      setup();
      const run = tmpdir();
      writeFileSync(join(mkdtempSync(join(run, 'left-')), 'file'), 'x');
      teardown();
      process.stdout.write(JSON.stringify({ run, named: process.env.ML_INFERENCE_TEST_TMPDIR ?? null }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: outer, ML_INFERENCE_TEST_TMPDIR: '' },
      encoding: 'utf8',
    });
    const { run, named } = JSON.parse(out) as { run: string; named: string | null };
    expect(dirname(run)).toBe(outer);
    expect(existsSync(run)).toBe(false);
    expect(readdirSync(outer)).toEqual([]);
    expect(named).toBeNull();
  });
});
