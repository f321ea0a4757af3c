import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { SEED_TRAIN_CSV } from '../../../test/support/monitoring-data';
import { seededRandom } from '../../../test/support/onnx-model-builder';
import { binCount, binFinder, binIndex, binLabels, Binning, quantileEdges } from './binning';
import { ReferenceProfile, ReferenceProfileBuilder } from './reference-profile';
import { readTrainingData } from './training-data';

describe('binning', () => {
  const numeric: Binning = { kind: 'numeric', edges: [0, 1, 2] };

  it('counts values outside the reference range in the open-ended first and last bins', () => {
    expect(binCount(numeric)).toBe(4);
    expect(binIndex(numeric, -1e9)).toBe(0);
    expect(binIndex(numeric, -0.0001)).toBe(0);
    expect(binIndex(numeric, 0)).toBe(1);
    expect(binIndex(numeric, 0.5)).toBe(1);
    expect(binIndex(numeric, 1.999)).toBe(2);
    expect(binIndex(numeric, 2)).toBe(3);
    expect(binIndex(numeric, 1e9)).toBe(3);
    expect(binLabels(numeric)).toEqual(['< 0', '0 – 1', '1 – 2', '≥ 2']);
  });

  it.each([
    ['a few edges (compared one by one)', 9],
    ['the most compared one by one', 32],
    ['more edges than that (binary search)', 33],
    ['many edges', 200],
  ])('finds with %s the bin a value belongs in: the number of edges it is not below', (_, count) => {
    const random = seededRandom(count);
    // Sorted, with repeats (a feature's deciles can repeat), and values that fall on edges.
    const edges = Array.from({ length: count }, () => Math.round(random() * 40) / 4 - 5).sort(
      (a, b) => a - b,
    );
    const find = binFinder({ kind: 'numeric', edges });
    const values = [
      ...edges,
      ...Array.from({ length: 500 }, () => random() * 14 - 7),
      -Infinity,
      Infinity,
      -0,
      Number.NaN,
    ];
    for (const value of values) {
      // By definition; NaN is below no edge, so it goes in the last bin, with values that are not numbers.
      const expected = edges.filter((edge) => !(value < edge)).length;
      expect([value, find(value)]).toEqual([value, expected]);
    }
    expect(find(Number.NaN)).toBe(count);
    expect(find('not a number')).toBe(count);
  });

  it('gives categorical features one bin per reference value and an "other" bin', () => {
    const categorical: Binning = { kind: 'categorical', categories: [0, 1, 3] };
    expect(binCount(categorical)).toBe(4);
    expect(binIndex(categorical, 0)).toBe(0);
    expect(binIndex(categorical, 3)).toBe(2);
    expect(binIndex(categorical, 2)).toBe(3);
    expect(binIndex(categorical, 7.5)).toBe(3);
    expect(binLabels(categorical)).toEqual(['0', '1', '3', 'other']);
  });

  it('puts decile edges between values so each bin holds a tenth of distinct values', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i);
    const edges = quantileEdges(sorted);
    expect(edges).toEqual([9.5, 19.5, 29.5, 39.5, 49.5, 59.5, 69.5, 79.5, 89.5]);
    const counts = new Array(10).fill(0);
    sorted.forEach((v) => counts[binIndex({ kind: 'numeric', edges }, v)]++);
    expect(counts).toEqual(new Array(10).fill(10));
  });

  it('merges bins that repeated values would leave empty', () => {
    const sorted = Float64Array.from([
      ...new Array<number>(60).fill(0),
      ...Array.from({ length: 40 }, (_, i) => i + 1),
    ]);
    const edges = quantileEdges(sorted);
    expect(new Set(edges).size).toBe(edges.length);
    expect(edges[0]).toBeGreaterThan(0);
    expect(edges.length).toBeLessThan(9);
  });
});

describe('ReferenceProfileBuilder', () => {
  const build = async (path: string, features: string[]) => {
    const builder = new ReferenceProfileBuilder({
      name: 'm',
      version: '1',
      features,
      task: 'classification',
      labels: [0, 1],
    });
    for await (const row of readTrainingData(path, { features, featureCount: features.length })) {
      if (row.values.some((v) => v === null)) builder.addIncompleteRow(row.values);
      // The output profile is not what this spec is about: a stand-in score in (0, 1).
      else
        builder.addRow(row.values as number[], { prediction: row.values[0]! > 0 ? 1 : 0, probability: 0.9 });
    }
    return builder.build({ file: path });
  };

  it('profiles seed_train.csv: 10 numeric features with about 10% of the rows per decile bin', async () => {
    const features = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const profile = await build(SEED_TRAIN_CSV, features);
    expect(profile.features.map((f) => f.name)).toEqual(features);
    expect(profile.source.rows).toBe(1000);
    for (const feature of profile.features) {
      expect(feature.kind).toBe('numeric');
      expect(feature.counts).toHaveLength(10);
      expect(feature.count).toBe(1000);
      expect(feature.nulls).toBe(0);
      for (const share of feature.shares) expect(share).toBeCloseTo(0.1, 2);
      expect(feature.min).toBeLessThan(feature.mean!);
      expect(feature.max).toBeGreaterThan(feature.mean!);
      expect(feature.std).toBeGreaterThan(0.5);
    }
    // The shipped reference.json was built from this file by the CLI: same bins.
    const shipped = JSON.parse(
      readFileSync(resolve(__dirname, '../../../models/seed_gbc/1/reference.json'), 'utf8'),
    ) as ReferenceProfile;
    expect(shipped.features.map((f) => (f.kind === 'numeric' ? f.edges : []))).toEqual(
      profile.features.map((f) => (f.kind === 'numeric' ? f.edges : [])),
    );
    expect(shipped.source).toMatchObject({ file: 'seed_train.csv', rows: 1000 });
  });

  it('treats 20 or fewer distinct values as categorical and counts nulls', async () => {
    const path = resolve(mkdtempSync(resolve(tmpdir(), 'profile-')), 'data.csv');
    const lines = ['kind,size,label'];
    for (let i = 0; i < 200; i++) lines.push(`${i % 3},${i * 1.5},${i % 2}`);
    lines.push(',7,0', 'NaN,8,1');
    writeFileSync(path, lines.join('\n'));
    const profile = await build(path, ['kind', 'size']);
    const [kind, size] = profile.features;
    expect(kind).toMatchObject({ kind: 'categorical', categories: [0, 1, 2], nulls: 2, count: 200 });
    expect(kind.counts).toEqual([67, 67, 66, 0]);
    expect(size.kind).toBe('numeric');
    expect(size.counts.reduce((a, b) => a + b, 0)).toBe(202);
    expect(profile.source).toMatchObject({ rows: 202, skipped_rows: 2 });
  });
});
