import type { AnsweredBatch, Prediction } from '@app/inference';
import { BinCounter, countsKey } from './count-summary';
import { recordLine } from './log-record';
import { RecordedRows, Segment, SEGMENT_ROWS } from './recorded-rows';
import type { ReferenceProfile } from './reference-profile';
import { answeredFeatures } from '../../../test/support/feature-values';

const klass = (label: number, probability: number): Prediction => ({
  task: 'classification',
  label,
  probability,
  probabilities: {},
});

function batch(
  requestId: string,
  rows: number[][],
  at = '2026-11-30T12:00:00.000Z',
  predictions: Prediction[] = rows.map((row) => klass(row[0] > 0 ? 1 : 0, 0.75)),
): AnsweredBatch {
  return { model: 'm', version: '1', requestId, at: new Date(at), ...answeredFeatures(rows), predictions };
}

/** `n` rows of two features, numbered from `from`. */
const rowsOf = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [from + i, -(from + i)]);

/** A segment's lines as text. */
const text = (segment: Segment) => Buffer.concat(segment.chunks.map((chunk) => chunk.bytes)).toString('utf8');

/** One feature with bins (−∞, 0), [0, ∞), a binary classifier. */
const profile: ReferenceProfile = {
  format: 'ml-inference/reference-profile@1',
  model: 'm',
  version: '1',
  created_at: '2026-11-30T00:00:00.000Z',
  source: { file: 'x.csv', rows: 2, skipped_rows: 0 },
  features: [0, 1].map((i) => ({
    name: `f${i}`,
    kind: 'numeric' as const,
    edges: [0],
    counts: [1, 1],
    shares: [0.5, 0.5],
    count: 2,
    nulls: 0,
    mean: 0,
    std: 1,
    min: -1,
    max: 1,
  })),
  prediction: {
    task: 'classification',
    score: {
      name: 'score',
      kind: 'numeric',
      edges: [0.5],
      counts: [1, 1],
      shares: [0.5, 0.5],
      count: 2,
      nulls: 0,
      mean: 0.5,
      std: 0.1,
      min: 0,
      max: 1,
    },
    positive_label: '1',
  },
};

describe('RecordedRows', () => {
  it('encodes each request’s line at once, and counts rows, logged rows and bytes per segment', () => {
    const recorded = new RecordedRows();
    const first = batch('a', rowsOf(3));
    const second = batch('b', rowsOf(2, 3));
    recorded.record(first);
    recorded.record(second);
    expect(recorded.rows).toBe(5);
    expect(recorded.days).toEqual(new Set(['2026-11-30']));
    const [segment, ...others] = recorded.takeAll();
    expect(others).toEqual([]);
    const lines = recordLine(first) + recordLine(second);
    expect(text(segment)).toBe(lines);
    expect(segment).toMatchObject({ day: '2026-11-30', bytes: Buffer.byteLength(lines), rows: 5, logged: 5 });
    expect(recorded.rows).toBe(0);
    expect(recorded.days).toEqual(new Set());
    expect(recorded.takeAll()).toEqual([]);
  });

  it('starts a segment for another day, and after SEGMENT_ROWS rows', () => {
    const recorded = new RecordedRows();
    const half = SEGMENT_ROWS / 2;
    recorded.record(batch('a', rowsOf(half)));
    recorded.record(batch('b', rowsOf(half)));
    // The current segment holds SEGMENT_ROWS rows: full.
    recorded.record(batch('c', rowsOf(1)));
    recorded.record(batch('d', rowsOf(1), '2026-12-01T00:00:00.000Z'));
    recorded.record(batch('e', rowsOf(1), '2026-12-01T00:00:01.000Z'));
    expect(recorded.days).toEqual(new Set(['2026-11-30', '2026-12-01']));
    const segments = recorded.takeAll();
    expect(segments.map(({ day, rows }) => [day, rows])).toEqual([
      ['2026-11-30', SEGMENT_ROWS],
      ['2026-11-30', 1],
      ['2026-12-01', 2],
    ]);
    expect(segments.map((segment) => text(segment).match(/"request_id":"\w"/g))).toEqual([
      ['"request_id":"a"', '"request_id":"b"'],
      ['"request_id":"c"'],
      ['"request_id":"d"', '"request_id":"e"'],
    ]);
  });

  it('logs the requests the draw keeps, below the rate, and counts every row', () => {
    const draws = [0.1, 0.5, 0.49];
    const recorded = new RecordedRows(0.5, () => draws.shift()!);
    recorded.record(batch('kept', rowsOf(2)));
    recorded.record(batch('left out', rowsOf(3)));
    recorded.record(batch('kept too', rowsOf(4)));
    const [segment] = recorded.takeAll();
    expect(segment).toMatchObject({ rows: 9, logged: 6 });
    expect(text(segment)).toBe(
      recordLine(batch('kept', rowsOf(2))) + recordLine(batch('kept too', rowsOf(4))),
    );
    expect(segment.bytes).toBe(Buffer.byteLength(text(segment)));
  });

  it('logs every request at rate 1 without a draw', () => {
    const recorded = new RecordedRows(1, () => {
      throw new Error('no draw at rate 1');
    });
    recorded.record(batch('a', rowsOf(2)));
    expect(recorded.takeAll()[0]).toMatchObject({ rows: 2, logged: 2 });
  });

  it('puts segments back in front of those recorded since, and counts what waits', () => {
    const recorded = new RecordedRows();
    recorded.record(batch('a', rowsOf(2)));
    const taken = recorded.takeAll();
    recorded.record(batch('b', rowsOf(3)));
    recorded.putBack(taken);
    expect(recorded.rows).toBe(5);
    recorded.record(batch('c', rowsOf(4)));
    expect(recorded.rows).toBe(9);
    const segments = recorded.takeAll();
    expect(segments.map((segment) => segment.rows)).toEqual([2, 7]);
    expect(text(segments[0])).toBe(recordLine(batch('a', rowsOf(2))));
    expect(text(segments[1])).toBe(recordLine(batch('b', rowsOf(3))) + recordLine(batch('c', rowsOf(4))));
  });

  it('drops the oldest waiting segments down to the limit, never the one being filled, and says how many rows', () => {
    const recorded = new RecordedRows();
    for (let i = 0; i < 3; i++) recorded.record(batch(`r${i}`, rowsOf(SEGMENT_ROWS)));
    recorded.record(batch('last', rowsOf(5)));
    // Closed: r0, r1, r2; being filled: last.
    expect(recorded.dropOldest(2 * SEGMENT_ROWS + 5)).toBe(SEGMENT_ROWS);
    expect(recorded.rows).toBe(2 * SEGMENT_ROWS + 5);
    expect(recorded.dropOldest(2 * SEGMENT_ROWS + 5)).toBe(0);
    expect(recorded.dropOldest(0)).toBe(2 * SEGMENT_ROWS);
    expect(recorded.rows).toBe(5);
    const segments = recorded.takeAll();
    expect(segments.map((segment) => segment.rows)).toEqual([5]);
    expect(text(segments[0])).toBe(recordLine(batch('last', rowsOf(5))));
  });

  it('keeps copies of the rows recorded before the bins are known, with what counting needs', () => {
    const recorded = new RecordedRows(0.5, () => 0.9);
    const rows = rowsOf(2);
    const predictions: Prediction[] = [
      { task: 'regression', value: 1.5 },
      { task: 'regression', value: [2, 3] },
    ];
    const answered = batch('a', rows, undefined, predictions);
    recorded.record(answered);
    const entry = recorded.takeAll()[0].counts.get(countsKey('m', '1'))!;
    expect(entry.counts).toBeUndefined();
    expect(entry.uncounted).toEqual([
      { features: Float64Array.from(rows[0]), output: { prediction: 1.5 }, logged: false },
      { features: Float64Array.from(rows[1]), output: { prediction: [2, 3] }, logged: false },
    ]);
    expect(entry.uncounted![1].output.prediction).not.toBe((predictions[1] as { value: number[] }).value);
    // Copies of the values, not views into the request's own array.
    for (const row of entry.uncounted!) expect(row.features.buffer).not.toBe(answered.features.buffer);

    recorded.record(batch('b', [[1, 2]], undefined, [klass(1, 0.25)]));
    expect(recorded.takeAll()[0].counts.get(countsKey('m', '1'))!.uncounted).toEqual([
      { features: Float64Array.from([1, 2]), output: { prediction: 1, probability: 0.25 }, logged: false },
    ]);
  });

  it('counts rows as they are recorded once the last flush found their bins, or found none', () => {
    const counter = new BinCounter(profile);
    const recorded = new RecordedRows(0.5, () => 0.9);
    recorded.countOn('m', '1', counter);
    recorded.record(
      batch('a', [
        [-1, 1],
        [1, -1],
        [2, 3],
      ]),
    );
    const binned = recorded.takeAll()[0].counts.get(countsKey('m', '1'))!;
    expect(binned.counter).toBe(counter);
    expect(binned.uncounted).toBeUndefined();
    expect(binned.counts).toMatchObject({
      bins: counter.hash,
      n: 3,
      logged: 0,
      features: [
        [1, 2],
        [1, 2],
      ],
      // Probability 0.75 of label 0 is 0.25 for the positive class.
      score: [1, 2],
    });

    recorded.countOn('m', '1', null);
    recorded.record(batch('b', rowsOf(2)));
    const unbinned = recorded.takeAll()[0].counts.get(countsKey('m', '1'))!;
    expect(unbinned.counter).toBeUndefined();
    expect(unbinned.counts).toEqual({
      model: 'm',
      version: '1',
      bins: null,
      n: 2,
      logged: 0,
      features: [],
      labels: [],
      score: [],
    });
  });

  it('reuses the memory of lines once they are written, and only then', () => {
    const recorded = new RecordedRows();
    // Lines of some 150 KB each, 20 of them: several 1 MiB slabs' worth.
    const wide = (i: number) =>
      Array.from({ length: 1000 }, (_, r) => Array.from({ length: 10 }, (_, f) => i + r / 7 + f / 3));
    const record = (prefix: string) => {
      for (let i = 0; i < 20; i++) recorded.record(batch(`${prefix}${i}`, wide(i)));
      return recorded.takeAll();
    };
    const slabsOf = (segments: Segment[]) => new Set(segments.flatMap((s) => s.chunks.map((c) => c.slab)));
    const first = record('a');
    const firstSlabs = slabsOf(first);
    expect(firstSlabs.size).toBeGreaterThan(1);
    const firstText = first.map(text).join('');

    const reusing = (segments: Segment[]) =>
      [...slabsOf(segments)].filter((slab) => firstSlabs.has(slab)).length;
    // Not written yet (a failing disk): new lines may share the last slab, but no slab starts over under the
    // waiting lines.
    const second = record('b');
    expect(reusing(second)).toBeLessThanOrEqual(1);
    expect(first.map(text).join('') === firstText).toBe(true);

    recorded.written(first);
    const third = record('c');
    expect(reusing(third)).toBeGreaterThan(1);
    const expected = Array.from({ length: 20 }, (_, i) => recordLine(batch(`c${i}`, wide(i)))).join('');
    expect(third.map(text).join('') === expected).toBe(true);
    expect(
      second
        .map(text)
        .join('')
        .startsWith(recordLine(batch('b0', wide(0)))),
    ).toBe(true);
  });
});
