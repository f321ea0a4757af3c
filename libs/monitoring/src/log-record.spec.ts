import type { AnsweredBatch, Prediction } from '@app/inference';
import { LoggedRequest, LoggedRow, observedOutput, parseRecords, recordLine } from './log-record';

/** The request's record built the plain way: what its line must be, byte for byte, once stringified. */
function expectedLine(batch: AnsweredBatch): string {
  const rows = batch.rows.map((features, i): LoggedRow => {
    const p = batch.predictions[i];
    return p.task === 'classification'
      ? { features: [...features], prediction: p.label, probability: p.probability }
      : { features: [...features], prediction: p.value };
  });
  const record: LoggedRequest = {
    ts: batch.at.toISOString(),
    model: batch.model,
    version: batch.version,
    request_id: batch.requestId,
    rows,
  };
  return `${JSON.stringify(record)}\n`;
}

const batch = (predictions: Prediction[], rows: number[][]): AnsweredBatch => ({
  model: 'iris "v2"\\',
  version: '3',
  requestId: 'req-1\u2028x',
  at: new Date('2026-11-29T10:11:12.345Z'),
  rows,
  predictions,
});

const klass = (label: number | string, probability: number): Prediction => ({
  task: 'classification',
  label,
  probability,
  probabilities: {},
});

const request = {
  ts: '2026-11-29T10:11:12.345Z',
  model: 'iris "v2"\\',
  version: '3',
  request_id: 'req-1\u2028x',
};

describe('recordLine', () => {
  it.each([
    [
      'integer labels',
      batch(
        [klass(1, 0.9447246789932251), klass(0, 1)],
        [
          [0.1, -2e-30, 3],
          [1e21, 0, -0],
        ],
      ),
    ],
    ['string labels with quotes', batch([klass('set"osa', 0.5)], [[5.1, 3.5, 1.4, 0.2]])],
    ['a regressor', batch([{ task: 'regression', value: 101.25 }], [[1, 2]])],
    ['a multi-output regressor', batch([{ task: 'regression', value: [1.5, -2.25e-7] }], [[1, 2]])],
    [
      'non-finite model outputs',
      batch([klass(1, Number.NaN), { task: 'regression', value: [Infinity] }], [[1], [2]]),
    ],
  ])('writes what JSON.stringify writes for %s', (_, answered) => {
    expect(recordLine(answered)).toBe(expectedLine(answered));
  });

  it('is one line per request, whatever its rows', () => {
    const answered = batch([klass(1, 0.5), klass(0, 0.25), klass(1, 1)], [[1], [2], [3]]);
    const text = recordLine(answered);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
  });

  it('copies rows the client wrote, which parse to the same numbers', () => {
    const answered = {
      ...batch(
        [klass(1, 0.5), klass(0, 0.25)],
        [
          [1.5, -2e-7],
          [300, 0],
        ],
      ),
      rowsText: ['[1.50, -2E-7]', '[3e2,0.0]'],
    };
    const line = recordLine(answered);
    expect(line).toContain('{"features":[1.50, -2E-7],');
    expect(JSON.parse(line)).toEqual(JSON.parse(expectedLine(answered)));
    expect(parseRecords(line).map((record) => record.features)).toEqual(answered.rows);
  });

  it('gives the counts the label and probability of a classifier and the value of a regressor', () => {
    expect(observedOutput(klass(1, 0.75))).toEqual({ prediction: 1, probability: 0.75 });
    expect(observedOutput({ task: 'regression', value: [1, 2] })).toEqual({ prediction: [1, 2] });
  });
});

describe('parseRecords', () => {
  it('gives every row of a line with its request fields, in order', () => {
    const line = recordLine(
      batch([klass('a', 0.25), { task: 'regression', value: [1, 2] }], [[1.5, 2.5], [3]]),
    );
    expect(parseRecords(line)).toEqual([
      { ...request, features: [1.5, 2.5], prediction: 'a', probability: 0.25 },
      { ...request, features: [3], prediction: [1, 2] },
    ]);
  });

  it('reads the one-row-per-line form of logs written before request lines', () => {
    const old = JSON.stringify({ ...request, features: [1, 2], prediction: 1, probability: 0.5 });
    expect(parseRecords(old)).toEqual([{ ...request, features: [1, 2], prediction: 1, probability: 0.5 }]);
  });

  it('skips a row that is not one and keeps its neighbours', () => {
    const line = JSON.stringify({
      ...request,
      rows: [
        { features: [1], prediction: 1 },
        { features: ['x'], prediction: 1 },
        { features: [2], prediction: 0, probability: 'high' },
        { features: [3], prediction: null },
        null,
        { features: [4], prediction: 'b', probability: 0.5 },
      ],
    });
    expect(parseRecords(line).map((record) => record.features)).toEqual([[1], [4]]);
  });

  it.each([
    ['a torn line', recordLine(batch([klass(1, 0.5)], [[1, 2]])).slice(0, 40)],
    ['not an object', '[1,2]'],
    ['an empty line', ''],
    ['no model', JSON.stringify({ version: '1', rows: [{ features: [1], prediction: 1 }] })],
    ['no version', JSON.stringify({ model: 'm', rows: [{ features: [1], prediction: 1 }] })],
    ['neither rows nor features', JSON.stringify({ model: 'm', version: '1', prediction: 1 })],
  ])('gives no rows for %s', (_, line) => {
    expect(parseRecords(line)).toEqual([]);
  });
});
