import type { ClassPrediction, Prediction } from '@app/inference';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addCounts,
  BinCounter,
  cloneCounts,
  COUNTS_FORMAT,
  countsKey,
  readCountSummary,
  writeCountSummary,
} from './count-summary';
import type { DistributionProfile, ReferenceProfile } from './reference-profile';

const numeric = (name: string, edges: number[]): DistributionProfile => ({
  name,
  kind: 'numeric',
  edges,
  counts: new Array<number>(edges.length + 1).fill(1),
  shares: new Array<number>(edges.length + 1).fill(1 / (edges.length + 1)),
  count: edges.length + 1,
  nulls: 0,
  mean: 0,
  std: 1,
  min: -1,
  max: 1,
});

/** Two features with known edges, a binary classifier whose positive label is "1". */
const profile: ReferenceProfile = {
  format: 'ml-inference/reference-profile@1',
  model: 'm',
  version: '1',
  created_at: '2026-11-30T00:00:00.000Z',
  source: { file: 'x.csv', rows: 3, skipped_rows: 0 },
  features: [numeric('a', [0, 10]), numeric('b', [5])],
  prediction: {
    task: 'classification',
    labels: { ...numeric('label', []), kind: 'categorical', categories: ['0', '1'], counts: [1, 1, 0] },
    score: numeric('score', [0.5]),
    positive_label: '1',
  },
};

describe('BinCounter', () => {
  const counter = new BinCounter(profile);

  it('counts each row into the bin of every feature, of the label and of the positive class’s probability', () => {
    const counts = counter.empty('m', '1');
    counter.add(counts, [-1, 7], { prediction: 1, probability: 0.9 });
    counter.add(counts, [0, 5], { prediction: 0, probability: 0.8 }, false);
    counter.add(counts, [10, 4.99], { prediction: 1, probability: 0.6 });
    expect(counts).toMatchObject({ n: 3, logged: 2 });
    // Edges belong to the bin above them: 0 is in [0, 10), 10 in [10, ∞), 5 in [5, ∞).
    expect(counts.features).toEqual([
      [1, 1, 1],
      [1, 2],
    ]);
    expect(counts.labels).toEqual([1, 2, 0]);
    // The score is the positive class's probability: 0.9, 1 − 0.8 = 0.2 and 0.6.
    expect(counts.score).toEqual([1, 2]);
  });

  it('counts a prediction of several values under the label "" (not as its text)', () => {
    // A profile whose labels hold "": an array answer goes there, not to the "other" bin.
    const withEmpty = new BinCounter({
      ...profile,
      prediction: {
        ...profile.prediction,
        labels: { ...numeric('label', []), kind: 'categorical', categories: ['', '1'], counts: [1, 1, 0] },
      },
    });
    const counts = withEmpty.empty('m', '1');
    withEmpty.add(counts, [1, 1], { prediction: [1, 2] });
    withEmpty.add(counts, [1, 1], { prediction: 'x' });
    expect(counts.labels).toEqual([1, 0, 1]);
  });

  it('leaves out a row with another number of features, and says so', () => {
    const counts = counter.empty('m', '1');
    expect(counter.add(counts, [1, 2, 3], { prediction: 1, probability: 0.9 })).toBe(false);
    expect(counter.add(counts, [1, 2], { prediction: 1, probability: 0.9 })).toBe(true);
    expect(counts.n).toBe(1);
  });

  describe('addRows: a request’s rows at once', () => {
    const klass = (label: number, probability: number): ClassPrediction => ({
      task: 'classification',
      label,
      probability,
      probabilities: {},
    });
    // Edges, both sides of them, NaN (no bin but the last), and both labels.
    const rows = [
      [-1, 7],
      [0, 5],
      [10, 4.99],
      [Number.NaN, -3],
      [9.99, 5.01],
    ];
    const predictions = [klass(1, 0.9), klass(0, 0.8), klass(1, 0.6), klass(0, 0.51), klass(1, 0.5)];

    it.each([
      ['doubles', (values: number[]) => Float64Array.from(values)],
      ['float32 values', (values: number[]) => Float32Array.from(values)],
      [
        'a view into a larger array',
        (values: number[]) => Float64Array.from([99, ...values, 99]).subarray(1, -1),
      ],
    ])('counts %s exactly as add counts each row', (_, flat) => {
      const byRow = counter.empty('m', '1');
      rows.forEach((row, i) =>
        counter.add(
          byRow,
          Float32Array.from(row),
          { prediction: predictions[i].label, probability: 0.9 },
          i !== 1,
        ),
      );
      const byRequest = counter.empty('m', '1');
      expect(counter.addRows(byRequest, flat(rows.flat()), 2, predictions, true)).toBe(true);
      expect(byRequest.features).toEqual(byRow.features);
      expect(byRequest.labels).toEqual(byRow.labels);
      expect(byRequest).toMatchObject({ n: 5, logged: 5 });
    });

    it('counts the scores and the logged rows as add does', () => {
      const byRow = counter.empty('m', '1');
      rows.forEach((row, i) =>
        counter.add(
          byRow,
          row,
          { prediction: predictions[i].label, probability: predictions[i].probability },
          false,
        ),
      );
      const byRequest = counter.empty('m', '1');
      counter.addRows(byRequest, Float64Array.from(rows.flat()), 2, predictions, false);
      expect(byRequest).toEqual(byRow);
      expect(byRequest).toMatchObject({ n: 5, logged: 0 });
    });

    it('counts a regressor’s values as its score', () => {
      const regressor = new BinCounter({
        ...profile,
        prediction: { task: 'regression', score: numeric('score', [0.5]) },
      });
      const values: Prediction[] = [
        { task: 'regression', value: 0.2 },
        { task: 'regression', value: [0.7, 1] },
      ];
      const byRow = regressor.empty('m', '1');
      regressor.add(byRow, [1, 1], { prediction: 0.2 });
      regressor.add(byRow, [1, 1], { prediction: [0.7, 1] });
      const byRequest = regressor.empty('m', '1');
      regressor.addRows(byRequest, Float64Array.from([1, 1, 1, 1]), 2, values);
      expect(byRequest).toEqual(byRow);
      expect(byRequest.score).toEqual([1, 1]);
    });

    it('leaves out a request whose rows have another number of features', () => {
      const counts = counter.empty('m', '1');
      expect(counter.addRows(counts, Float64Array.from([1, 2, 3]), 3, [klass(1, 0.9)])).toBe(false);
      expect(counts).toEqual(counter.empty('m', '1'));
    });
  });
});

describe('addCounts', () => {
  const counter = new BinCounter(profile);

  it('adds bin by bin, logged rows and the sample mark included', () => {
    const into = counter.empty('m', '1');
    counter.add(into, [1, 1], { prediction: 0, probability: 0.7 });
    const from = counter.empty('m', '1');
    counter.add(from, [20, 9], { prediction: 1, probability: 0.7 }, false);
    from.from_sample = true;
    addCounts(into, from);
    expect(into).toMatchObject({ n: 2, logged: 1, from_sample: true, labels: [1, 1, 0], score: [1, 1] });
    expect(into.features).toEqual([
      [0, 1, 1],
      [1, 1],
    ]);
  });

  it('refuses counts made on other bins', () => {
    const other = new BinCounter({ ...profile, features: [numeric('a', [1]), numeric('b', [5])] });
    expect(() => addCounts(counter.empty('m', '1'), other.empty('m', '1'))).toThrow(/different bins/);
  });
});

describe('cloneCounts', () => {
  it('copies every bin, so adding to the copy leaves the original as it was', () => {
    const counter = new BinCounter(profile);
    const original = counter.empty('m', '1');
    counter.add(original, [1, 7], { prediction: 1, probability: 0.9 });
    const before = JSON.parse(JSON.stringify(original)) as unknown;
    const copy = cloneCounts(original);
    expect(copy).toEqual(original);
    counter.add(copy, [1, 7], { prediction: 1, probability: 0.9 });
    expect(original).toEqual(before);
    expect(copy).toMatchObject({
      n: 2,
      features: [
        [0, 2, 0],
        [0, 2],
      ],
      labels: [0, 2, 0],
      score: [0, 2],
    });
  });
});

describe('count summary files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'counts-'));
  const counter = new BinCounter(profile);

  it('reads back what it wrote, and takes a summary from before sampling as fully logged', async () => {
    const counts = counter.empty('m', '1');
    counter.add(counts, [1, 1], { prediction: 0, probability: 0.7 });
    const path = join(dir, 'a.counts.json');
    const summary = {
      format: COUNTS_FORMAT as typeof COUNTS_FORMAT,
      day: '2026-11-30',
      host: 'h',
      log_bytes: 10,
      updated_at: 'now',
    };
    await writeCountSummary(path, { ...summary, models: [counts] });
    expect(await readCountSummary(path)).toEqual({ ...summary, models: [counts] });

    const old: Partial<typeof counts> = { ...counts, n: 5 };
    delete old.logged;
    writeFileSync(path, JSON.stringify({ ...summary, models: [old] }));
    expect((await readCountSummary(path))?.models[0]).toMatchObject({ n: 5, logged: 5 });
  });

  it.each([
    ['another format', { format: 'ml-inference/prediction-counts@0', log_bytes: 1, models: [] }],
    ['a log size that is not a whole number', { format: COUNTS_FORMAT, log_bytes: 1.5, models: [] }],
    ['no models', { format: COUNTS_FORMAT, log_bytes: 1 }],
  ])('ignores a summary with %s (the raw log is read instead)', async (_, content) => {
    const path = join(dir, 'bad.counts.json');
    writeFileSync(path, JSON.stringify(content));
    expect(await readCountSummary(path)).toBeUndefined();
    writeFileSync(path, '{"format":');
    expect(await readCountSummary(path)).toBeUndefined();
  });

  it('leaves no temporary file behind when the summary cannot be put in place, and says why', async () => {
    const folder = mkdtempSync(join(dir, 'blocked-'));
    // A directory where the summary should go: the temporary file is written, the rename over it fails.
    const path = join(folder, 'b.counts.json');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');
    const summary = {
      format: COUNTS_FORMAT as typeof COUNTS_FORMAT,
      day: '2026-11-30',
      host: 'h',
      log_bytes: 0,
      updated_at: 'now',
      models: [],
    };
    await expect(writeCountSummary(path, summary)).rejects.toMatchObject({ syscall: 'rename' });
    expect(readdirSync(folder)).toEqual(['b.counts.json']);
    // A folder that does not exist: the temporary file is never created, and the write's own error comes out.
    await expect(writeCountSummary(join(folder, 'missing', 'c.counts.json'), summary)).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
  });

  it('keys model versions so that no two names collide', () => {
    expect(countsKey('a', 'b.c')).not.toBe(countsKey('a.b', 'c'));
    expect(countsKey('m', '1')).not.toBe(countsKey('m', '2'));
  });
});
