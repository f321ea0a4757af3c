import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from './support/monitoring-cli';

/** What changes from run to run: when and from which path the profile was made. */
function comparable(path: string): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return JSON.stringify({ ...profile, created_at: undefined, source: undefined });
}

describe('ml-cli profile', () => {
  it('rebuilds the shipped reference.json of the default model from its training data, quietly at LOG_LEVEL=warn', () => {
    const repository = join(mkdtempSync(join(tmpdir(), 'profile-')), 'models');
    cpSync(join(ROOT, 'models'), repository, { recursive: true });
    const result = runCli(['profile', '--model', 'seed_gbc', '--data', 'test/fixtures/seed_train.csv'], {
      MODEL_REPOSITORY: repository,
      LOG_LEVEL: 'warn',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1000 rows/);
    expect(result.stderr).not.toMatch(/^LOG /m);
    expect(comparable(join(repository, 'seed_gbc/1/reference.json'))).toBe(
      comparable(join(ROOT, 'models/seed_gbc/1/reference.json')),
    );
  });
});
