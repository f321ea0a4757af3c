import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BinCounter, ModelCounts } from './count-summary';
import { buildDriftReport, DriftInputs } from './drift-report';
import { parseReferenceProfile } from './reference-profile';

const PATH = resolve(__dirname, '../../../models/seed_gbc/1/reference.json');
const profile = parseReferenceProfile(readFileSync(PATH, 'utf8'), PATH);
const counter = new BinCounter(profile);

const inputs: DriftInputs = {
  model: 'seed_gbc',
  version: '1',
  window: { from: '2026-11-23', to: '2026-11-29', days: [] },
  reference: { kind: 'reference.json' },
  thresholds: { warn: 0.1, alert: 0.2, min_samples: 200 },
  sources: { summaries: 7, tails: 0, raw_files: 0 },
  sampleRate: 1,
  generatedAt: new Date('2026-11-30T06:00:00Z'),
  durationMs: 1,
};

/** `n` rows that all fall in the first bin of every feature and of the score: as far from the reference as can be. */
function driftedCounts(n: number): ModelCounts {
  const counts = counter.empty('seed_gbc', '1');
  counts.n = n;
  counts.logged = n;
  for (const bins of [...counts.features, counts.score]) bins[0] = n;
  if (counts.labels.length > 0) counts.labels[0] = n;
  return counts;
}

describe('buildDriftReport', () => {
  it('gives no verdict below DRIFT_MIN_SAMPLES however far the window is from the reference', () => {
    const report = buildDriftReport(profile, driftedCounts(199), inputs);
    expect(report.verdict).toBe('insufficient-data');
    expect(report.drifted_features).toEqual([]);
    expect(report.drifted_share).toBe(0);
    expect(report.features.every((f) => f.status === 'insufficient-data')).toBe(true);
    expect(report.prediction?.status).toBe('insufficient-data');
    // The scores are still shown, so the reader sees what the window looks like.
    expect(report.features.every((f) => f.psi !== null && f.psi > 0.2)).toBe(true);
    expect(report.summary).toMatch(/199 predictions in the window, fewer than the 200 needed/);
  });

  it('judges from DRIFT_MIN_SAMPLES rows on', () => {
    const report = buildDriftReport(profile, driftedCounts(200), inputs);
    expect(report.verdict).toBe('drift');
    expect(report.drifted_features).toHaveLength(profile.features.length);
    expect(report.prediction?.status).toBe('drift');
  });

  it('gives no verdict for an empty window, and no scores', () => {
    const report = buildDriftReport(profile, counter.empty('seed_gbc', '1'), inputs);
    expect(report.verdict).toBe('insufficient-data');
    expect(report.features.every((f) => f.psi === null && f.noise_floor === null)).toBe(true);
  });
});
