import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from './support/onnx-model-builder';
import { ROOT, runCli } from './support/monitoring-cli';

const SHIPPED = join(ROOT, 'models/seed_gbc/1/reference.json');

/** The file as written, less the one line that changes from run to run: when it was made. */
const withoutDate = (path: string) =>
  readFileSync(path, 'utf8').replace(/"created_at": "[^"]*"/, '"created_at"');

/** A copy of the model repository to write into. */
function repositoryCopy(): string {
  const repository = join(mkdtempSync(join(tmpdir(), 'profile-')), 'models');
  cpSync(join(ROOT, 'models'), repository, { recursive: true });
  return repository;
}

describe('ml-cli profile', () => {
  it('rebuilds the shipped reference.json of the default model byte for byte, in one pass, quietly at LOG_LEVEL=warn', () => {
    const repository = repositoryCopy();
    const result = runCli(['profile', '--model', 'seed_gbc', '--data', 'test/fixtures/seed_train.csv'], {
      MODEL_REPOSITORY: repository,
      LOG_LEVEL: 'warn',
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1000 rows/);
    expect(result.stdout).toMatch(/; 1 pass over the data/);
    expect(result.stderr).not.toMatch(/^LOG /m);
    expect(withoutDate(join(repository, 'seed_gbc/1/reference.json'))).toBe(withoutDate(SHIPPED));
  });

  it('reads a file too large for one pass again and finds the same exact deciles, leaving no temporary file', () => {
    // The seed's rows 40 times over, shuffled: 40 000 rows, more than a first pass keeps (32 768 values a
    // column), and with every value repeated. Sorted, each value fills 40 ranks in a row, so the decile cuts
    // (ranks 4 000·k − 1 and 4 000·k) fall on the same values as the 1 000-row cuts (ranks 100·k − 1 and
    // 100·k): every edge, the model's score's included, must be the shipped one and every count 40 times it.
    const [header, ...rows] = readFileSync(join(ROOT, 'test/fixtures/seed_train.csv'), 'utf8')
      .trim()
      .split('\n');
    const repeated = Array.from({ length: 40 }, () => rows).flat();
    const random = seededRandom(9);
    for (let i = repeated.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [repeated[i], repeated[j]] = [repeated[j], repeated[i]];
    }
    const work = mkdtempSync(join(tmpdir(), 'profile-large-'));
    const data = join(work, 'seed_train_x40.csv');
    writeFileSync(data, `${header}\n${repeated.join('\n')}\n`);
    const temporary = join(work, 'tmp');
    mkdirSync(temporary);
    const out = join(work, 'reference.json');

    const result = runCli(['profile', '--model', 'seed_gbc', '--data', data, '--out', out], {
      LOG_LEVEL: 'warn',
      TMPDIR: temporary,
    });
    const written = readFileSync(out, 'utf8');
    const leftBehind = readdirSync(temporary).filter((name) => name.startsWith('ml-profile-'));
    rmSync(work, { recursive: true, force: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/40000 rows .*; 2 passes over the data/);
    // The scores' spool is gone (other libraries may leave their own files in TMPDIR).
    expect(leftBehind).toEqual([]);

    type Distribution = { name: string; edges?: number[]; categories?: string[]; counts: number[] };
    type Profile = { features: Distribution[]; prediction: { labels: Distribution; score: Distribution } };
    const distributions = (profile: Profile) => [
      ...profile.features,
      profile.prediction.labels,
      profile.prediction.score,
    ];
    const shipped = distributions(JSON.parse(readFileSync(SHIPPED, 'utf8')) as Profile);
    const built = distributions(JSON.parse(written) as Profile);
    expect(built.map((d) => d.name)).toEqual(shipped.map((d) => d.name));
    built.forEach((distribution, i) => {
      expect(distribution.edges ?? distribution.categories).toEqual(
        shipped[i].edges ?? shipped[i].categories,
      );
      expect(distribution.counts).toEqual(shipped[i].counts.map((count) => 40 * count));
    });
  });
});
