import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BinCounter, ModelCounts } from './count-summary';
import { buildDriftReport, compareDistribution, DriftInputs, emptyReport, formatPsi } from './drift-report';
import { noiseFloor, psi, psiContribution, sharesOf } from './psi';
import { DistributionProfile, parseReferenceProfile, ReferenceProfile } from './reference-profile';

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

const thresholds = { warn: 0.1, alert: 0.2, min_samples: 10 };

/** A small profile written out by hand, so every number of a report can be worked out beside it. */
function numeric(name: string, edges: number[], counts: number[]): DistributionProfile {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    kind: 'numeric',
    edges,
    name,
    counts,
    shares: sharesOf(counts),
    count,
    nulls: 2,
    mean: 1.5,
    std: 0.5,
    min: -1,
    max: 4,
  };
}

function categorical(
  name: string,
  categories: Array<string | number>,
  counts: number[],
): DistributionProfile {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    kind: 'categorical',
    categories,
    name,
    counts,
    shares: sharesOf(counts),
    count,
    nulls: 0,
    mean: null,
    std: null,
    min: null,
    max: null,
  };
}

const small: ReferenceProfile = {
  format: 'ml-inference/reference-profile@1',
  model: 'small',
  version: '3',
  created_at: '2026-11-01T00:00:00.000Z',
  source: { file: 'train.csv', rows: 45, skipped_rows: 5 },
  features: [numeric('age', [0, 1], [10, 20, 10]), categorical('colour', ['red', 'blue'], [30, 10, 0])],
  prediction: {
    task: 'classification',
    labels: categorical('label', [0, 1], [20, 20, 0]),
    score: numeric('score', [0.5], [20, 20]),
  },
};

function smallCounts(n: number, features: number[][], labels: number[], score: number[]): ModelCounts {
  return { model: 'small', version: '3', bins: null, n, logged: n, features, labels, score };
}

const smallInputs: DriftInputs = { ...inputs, model: 'small', version: '3', thresholds };

describe('compareDistribution', () => {
  it('compares a numeric distribution bin by bin, with its edges, noise floor and reference statistics', () => {
    const reference = small.features[0];
    const current = [0, 5, 15];
    const ref = sharesOf(reference.counts);
    const cur = [0, 0.25, 0.75];
    expect(compareDistribution(reference, current, thresholds)).toEqual({
      name: 'age',
      method: 'psi-deciles',
      psi: psi(ref, cur),
      status: 'drift',
      noise_floor: 2 * (1 / 40 + 1 / 20),
      n_ref: 40,
      n_cur: 20,
      edges: [0, 1],
      bins: [
        { bin: '< 0', reference: 0.25, current: 0, contribution: psiContribution(0.25, 0) },
        { bin: '0 – 1', reference: 0.5, current: 0.25, contribution: psiContribution(0.5, 0.25) },
        { bin: '≥ 1', reference: 0.25, current: 0.75, contribution: psiContribution(0.25, 0.75) },
      ],
      reference_stats: { mean: 1.5, std: 0.5, min: -1, max: 4, nulls: 2 },
    });
    expect(psi(ref, cur)).toBeGreaterThan(0.2);
  });

  it('compares categories without edges, and judges each status against the thresholds', () => {
    const reference = small.features[1];
    const same = compareDistribution(reference, [3, 1, 0], thresholds);
    expect(same).toMatchObject({ method: 'psi-categories', psi: 0, status: 'stable', n_cur: 4 });
    expect(same).not.toHaveProperty('edges');
    expect(same.bins.map((b) => b.bin)).toEqual(['red', 'blue', 'other']);
    const moved = compareDistribution(reference, [60, 40, 0], thresholds);
    expect(moved.psi).toBeCloseTo(psi([0.75, 0.25, 0], [0.6, 0.4, 0]), 12);
    expect(moved.status).toBe('moderate');
  });

  it('shows the score but gives no status without enough rows, and no score without rows', () => {
    const reference = small.features[0];
    const few = compareDistribution(reference, [0, 0, 3], thresholds, false);
    expect(few.status).toBe('insufficient-data');
    expect(few.psi).toBeGreaterThan(0.2);
    const none = compareDistribution(reference, [0, 0, 0], thresholds);
    expect(none).toMatchObject({ psi: null, status: 'insufficient-data', noise_floor: null, n_cur: 0 });
    expect(none.bins.map((b) => [b.current, b.contribution])).toEqual([
      [0, null],
      [0, null],
      [0, null],
    ]);
  });
});

describe('buildDriftReport, worked out by hand', () => {
  const stableFeatures = [
    [5, 10, 5],
    [15, 5, 0],
  ];

  it('names the drifted features, highest PSI first, and says so in one sentence', () => {
    const counts = smallCounts(20, [stableFeatures[0], [0, 0, 20]], [10, 10, 0], [10, 10]);
    const report = buildDriftReport(small, counts, smallInputs);
    expect(report.features.map((f) => f.name)).toEqual(['colour', 'age']);
    expect(report.verdict).toBe('drift');
    expect(report.drifted_features).toEqual(['colour']);
    expect(report.drifted_share).toBe(0.5);
    expect(report.prediction?.status).toBe('stable');
    expect(report.summary).toBe('Drift in small v3: 1 of 2 features (colour) above PSI 0.2.');
  });

  it('reports drift of the predictions alone, the larger of the label and score PSI', () => {
    const labels = [2, 18, 0];
    const score = [12, 8];
    const report = buildDriftReport(small, smallCounts(20, stableFeatures, labels, score), smallInputs);
    const labelPsi = psi([0.5, 0.5, 0], sharesOf(labels));
    const scorePsi = psi([0.5, 0.5], sharesOf(score));
    expect(labelPsi).toBeGreaterThan(scorePsi);
    expect(report.prediction?.psi).toBe(labelPsi);
    expect(report.prediction?.labels?.psi).toBe(labelPsi);
    expect(report.prediction?.score.psi).toBe(scorePsi);
    expect(report.verdict).toBe('drift');
    expect(report.drifted_features).toEqual([]);
    expect(report.drifted_share).toBe(0);
    expect(report.summary).toBe('Drift in small v3: 0 of 2 features and the predictions above PSI 0.2.');
    const scoreOnly = buildDriftReport(
      small,
      smallCounts(20, stableFeatures, [10, 10, 0], [20, 0]),
      smallInputs,
    );
    expect(scoreOnly.prediction?.psi).toBe(psi([0.5, 0.5], [1, 0]));
    expect(scoreOnly.prediction?.status).toBe('drift');
  });

  it('says no drift when every distribution is below the alert threshold', () => {
    const report = buildDriftReport(
      small,
      smallCounts(20, stableFeatures, [10, 10, 0], [10, 10]),
      smallInputs,
    );
    expect(report.verdict).toBe('no-drift');
    expect(report.summary).toBe('No drift in small v3: every feature and the predictions are below PSI 0.2.');
    expect(report.prediction).toMatchObject({ psi: 0, status: 'stable' });
  });

  it('fills in the header, sizes, sources and logging of the report', () => {
    const counts = {
      ...smallCounts(20, stableFeatures, [10, 10, 0], [10, 10]),
      logged: 5,
      from_sample: true as const,
    };
    const report = buildDriftReport(small, counts, { ...smallInputs, sampleRate: 0.25, durationMs: 12 });
    expect(report).toMatchObject({
      format: 'ml-inference/drift-report@1',
      model: 'small',
      version: '3',
      generated_at: '2026-11-30T06:00:00.000Z',
      window: inputs.window,
      reference: { kind: 'reference.json' },
      thresholds,
      n_ref: 40,
      n_cur: 20,
      sources: inputs.sources,
      logging: { sample_rate: 0.25, rows_counted: 20, rows_logged: 5, from_sample: true },
      duration_ms: 12,
    });
    expect(report.summary).toBe(
      'No drift in small v3: every feature and the predictions are below PSI 0.2. Counted in part from a sample of the prediction log (PREDICTION_LOG_SAMPLE_RATE), not from every row.',
    );
    const full = buildDriftReport(small, smallCounts(20, stableFeatures, [10, 10, 0], [10, 10]), smallInputs);
    expect(full.logging.from_sample).toBe(false);
  });

  it('judges a regressor on its score alone', () => {
    const regressor: ReferenceProfile = {
      ...small,
      prediction: { task: 'regression', score: numeric('value', [0.5], [20, 20]) },
    };
    const report = buildDriftReport(regressor, smallCounts(20, stableFeatures, [], [0, 20]), smallInputs);
    expect(report.prediction?.labels).toBeUndefined();
    expect(report.prediction?.psi).toBe(psi([0.5, 0.5], [0, 1]));
    expect(report.verdict).toBe('drift');
  });

  it('gives no verdict for an empty window even when no minimum is set', () => {
    const report = buildDriftReport(
      small,
      smallCounts(
        0,
        [
          [0, 0, 0],
          [0, 0, 0],
        ],
        [0, 0, 0],
        [0, 0],
      ),
      { ...smallInputs, thresholds: { ...thresholds, min_samples: 0 } },
    );
    expect(report.verdict).toBe('insufficient-data');
    expect(report.prediction).toMatchObject({ psi: null, status: 'insufficient-data' });
    expect(report.summary).toBe(
      'Insufficient data: 0 predictions in the window, fewer than the 0 needed (DRIFT_MIN_SAMPLES); no verdict.',
    );
  });

  it('lists distributions without rows last, in their order', () => {
    const counts = smallCounts(20, [[0, 0, 0], stableFeatures[1]], [10, 10, 0], [10, 10]);
    expect(buildDriftReport(small, counts, smallInputs).features.map((f) => f.name)).toEqual([
      'colour',
      'age',
    ]);
    const reversed: ReferenceProfile = { ...small, features: [small.features[1], small.features[0]] };
    const both = smallCounts(20, [stableFeatures[1], [0, 0, 0]], [10, 10, 0], [10, 10]);
    expect(buildDriftReport(reversed, both, smallInputs).features.map((f) => f.name)).toEqual([
      'colour',
      'age',
    ]);
    const empty = smallCounts(
      20,
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      [10, 10, 0],
      [10, 10],
    );
    expect(buildDriftReport(small, empty, smallInputs).features.map((f) => f.name)).toEqual([
      'age',
      'colour',
    ]);
    expect(buildDriftReport(reversed, empty, smallInputs).features.map((f) => f.name)).toEqual([
      'colour',
      'age',
    ]);
  });

  it('lists every drifted feature in the summary', () => {
    const counts = smallCounts(
      20,
      [
        [0, 0, 20],
        [0, 0, 20],
      ],
      [10, 10, 0],
      [10, 10],
    );
    const report = buildDriftReport(small, counts, smallInputs);
    expect(report.drifted_features.slice().sort()).toEqual(['age', 'colour']);
    expect(report.drifted_share).toBe(1);
    expect(report.summary).toBe(
      `Drift in small v3: 2 of 2 features (${report.drifted_features.join(', ')}) above PSI 0.2.`,
    );
    expect(report.summary).toMatch(/\((age, colour|colour, age)\)/);
  });

  it('gives a drifted share of 0, not NaN, for a profile without features', () => {
    const scoreOnly: ReferenceProfile = { ...small, features: [] };
    const report = buildDriftReport(scoreOnly, smallCounts(20, [], [10, 10, 0], [20, 0]), smallInputs);
    expect(report.verdict).toBe('drift');
    expect(report.drifted_share).toBe(0);
    const few = buildDriftReport(scoreOnly, smallCounts(5, [], [5, 0, 0], [5, 0]), smallInputs);
    expect(few.verdict).toBe('insufficient-data');
    expect(few.drifted_share).toBe(0);
  });

  it('uses the noise floor of each distribution size', () => {
    const report = buildDriftReport(
      small,
      smallCounts(20, stableFeatures, [10, 10, 0], [10, 10]),
      smallInputs,
    );
    expect(report.prediction?.score.noise_floor).toBe(noiseFloor(2, 40, 20));
  });
});

describe('emptyReport', () => {
  it('reports the verdict and summary it is given, with no distributions', () => {
    expect(emptyReport(smallInputs, 'no-reference', 'No reference.json for small v3.', 7)).toEqual({
      format: 'ml-inference/drift-report@1',
      model: 'small',
      version: '3',
      generated_at: '2026-11-30T06:00:00.000Z',
      window: inputs.window,
      reference: { kind: 'reference.json' },
      thresholds,
      n_ref: 0,
      n_cur: 7,
      verdict: 'no-reference',
      summary: 'No reference.json for small v3.',
      drifted_features: [],
      drifted_share: 0,
      features: [],
      sources: inputs.sources,
      logging: { sample_rate: 1, rows_counted: 7, rows_logged: 7, from_sample: false },
      duration_ms: 1,
    });
    expect(emptyReport(smallInputs, 'insufficient-data', 'Collecting a baseline.').n_cur).toBe(0);
  });
});

describe('formatPsi', () => {
  it('rounds a score for a person and shows a dash where there is none', () => {
    expect(formatPsi(0.123456)).toBe('0.1235');
    expect(formatPsi(0.123456, 2)).toBe('0.12');
    expect(formatPsi(0)).toBe('0.0000');
    expect(formatPsi(null)).toBe('—');
    expect(formatPsi(Number.POSITIVE_INFINITY)).toBe('—');
  });
});
