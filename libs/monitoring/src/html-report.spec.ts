import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, openReport } from '../../../test/support/monitoring-browser';
import { binCount } from './binning';
import { buildDriftReport, DriftReport } from './drift-report';
import { escapeHtml, renderHtmlReport } from './html-report';
import { DistributionProfile, PROFILE_FORMAT, ReferenceProfile } from './reference-profile';

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

function numeric(name: string): DistributionProfile {
  const edges = [-1, -0.5, 0, 0.5, 1];
  const counts = new Array<number>(edges.length + 1).fill(100);
  return {
    name,
    kind: 'numeric',
    edges,
    counts,
    shares: counts.map(() => 1 / counts.length),
    count: 600,
    nulls: 0,
    mean: 0,
    std: 1,
    min: -3,
    max: 3,
  };
}

/** `empty`: a window without a single prediction. */
function report(empty = false): DriftReport {
  const features = [
    numeric('steady'),
    numeric(HOSTILE),
    numeric('a bit off'),
    {
      ...numeric('colour'),
      kind: 'categorical' as const,
      categories: ['red', 'green'],
      counts: [300, 300, 0],
      shares: [0.5, 0.5, 0],
    },
  ];
  const score = numeric('probability of class 1');
  const profile: ReferenceProfile = {
    format: PROFILE_FORMAT,
    model: 'demo',
    version: '3',
    created_at: '2026-11-01T00:00:00.000Z',
    source: { file: 'train.csv', rows: 600, skipped_rows: 0 },
    features,
    prediction: { task: 'classification', score, positive_label: '1' },
  };
  const counts = {
    model: 'demo',
    version: '3',
    bins: 'x',
    n: 600,
    logged: 600,
    features: [
      [100, 100, 100, 100, 100, 100],
      [0, 0, 0, 100, 200, 300],
      [60, 90, 110, 110, 130, 100],
      [250, 250, 100],
    ],
    labels: [],
    score: [100, 100, 100, 100, 100, 100],
  };
  expect(counts.features.map((bins, i) => bins.length === binCount(features[i]))).toEqual([
    true,
    true,
    true,
    true,
  ]);
  const window = empty
    ? {
        ...counts,
        n: 0,
        logged: 0,
        features: counts.features.map((bins) => bins.map(() => 0)),
        score: counts.score.map(() => 0),
      }
    : counts;
  return buildDriftReport(profile, window, {
    model: 'demo',
    version: '3',
    window: { from: '2026-11-17', to: '2026-11-23', days: [] },
    reference: { kind: 'reference.json' },
    thresholds: { warn: 0.1, alert: 0.2, min_samples: 200 },
    sources: { summaries: 7, tails: 0, raw_files: 0 },
    generatedAt: new Date('2026-11-24T06:00:00Z'),
    sampleRate: 1,
    durationMs: 12,
  });
}

describe('renderHtmlReport', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('escapes everything that comes from the model', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderHtmlReport(report());
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<(link|iframe|object|embed)\b|@import|url\(/);
  });

  it('says how many rows were counted and logged, and when counts came from a sample', () => {
    const data = report();
    expect(renderHtmlReport(data)).toContain('600 rows counted, 600 of them in the log (sample rate 1).');
    const sampled = {
      ...data,
      logging: { sample_rate: 0.1, rows_counted: 600, rows_logged: 58, from_sample: true },
    };
    expect(renderHtmlReport(sampled)).toContain(
      "600 rows counted, 58 of them in the log (sample rate 0.1). Some counts were made from the log's sample",
    );
  });

  it('claims no drift anywhere when the window is empty: no score, no noise floor, "insufficient data"', () => {
    const data = report(true);
    expect(data.verdict).toBe('insufficient-data');
    const html = renderHtmlReport(data);
    expect(html).toContain('<h2>Insufficient data</h2>');
    expect(html).not.toMatch(/class="badge (drift|moderate|stable)"|Infinity|NaN/);
    expect(html.match(/class="badge insufficient-data">insufficient data</g)).toHaveLength(
      data.features.length * 2 + 2,
    );
  });

  it('renders in Chromium without errors or requests: verdict, table sorted by PSI, one histogram each', async () => {
    const data = report();
    expect(data.verdict).toBe('drift');
    const path = join(mkdtempSync(join(tmpdir(), 'report-')), 'report.html');
    writeFileSync(path, renderHtmlReport(data));
    const { page, problems, rows } = await openReport(browser, path);
    try {
      expect(problems).toEqual([]);
      // Page expressions as strings: the specs compile without the DOM library.
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.textContent('#verdict h2')).toBe('Drift detected');
      expect(rows.map((r) => r.feature)).toEqual(data.features.map((f) => f.name));
      expect(rows.map((r) => r.feature)).toContain(HOSTILE);
      const psis = rows.map((r) => r.psi);
      expect(psis).toEqual([...psis].sort((a, b) => b - a));
      expect(rows[0]).toMatchObject({ feature: HOSTILE, status: 'drift' });
      expect(rows.find((r) => r.feature === 'steady')).toMatchObject({ psi: 0, status: 'stable' });
      expect(await page.locator('figure.hist svg').count()).toBe(data.features.length + 1);
      // The drifted row is coloured differently from a stable one.
      const colour = (feature: string) =>
        page.evaluate<string>(
          `getComputedStyle(document.querySelector('#features tr[data-feature="${feature}"]')).backgroundColor`,
        );
      expect(await colour('steady')).not.toBe(await colour('colour'));
    } finally {
      await page.close();
    }
  });
});
