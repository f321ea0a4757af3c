import type { AnsweredBatch, Prediction } from '@app/inference';
import { LoggedPrediction, observedOutput, parseRecord, recordLines } from './log-record';

/** The record of each row, built the plain way: what every line must be, byte for byte, once stringified. */
function expectedLines(batch: AnsweredBatch): string {
  return batch.rows
    .map((features, i): LoggedPrediction => {
      const p = batch.predictions[i];
      const base = {
        ts: batch.at.toISOString(),
        model: batch.model,
        version: batch.version,
        request_id: batch.requestId,
        features: [...features],
      };
      return p.task === 'classification'
        ? { ...base, prediction: p.label, probability: p.probability }
        : { ...base, prediction: p.value };
    })
    .map((record) => `${JSON.stringify(record)}\n`)
    .join('');
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

describe('recordLines', () => {
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
    expect(recordLines(answered)).toBe(expectedLines(answered));
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
    const records = recordLines(answered)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => parseRecord(line)!);
    expect(records.map((record) => record.features)).toEqual(answered.rows);
    expect(recordLines(answered)).toContain('"features":[1.50, -2E-7],');
    expect(records).toEqual(
      expectedLines(answered)
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line)),
    );
  });

  it('writes lines the readers parse back', () => {
    const answered = batch([klass('a', 0.25)], [[1.5, 2.5]]);
    const [line] = recordLines(answered).split('\n');
    expect(parseRecord(line)).toEqual({
      ts: '2026-11-29T10:11:12.345Z',
      model: 'iris "v2"\\',
      version: '3',
      request_id: 'req-1\u2028x',
      features: [1.5, 2.5],
      prediction: 'a',
      probability: 0.25,
    });
  });

  it('gives the counts the label and probability of a classifier and the value of a regressor', () => {
    expect(observedOutput(klass(1, 0.75))).toEqual({ prediction: 1, probability: 0.75 });
    expect(observedOutput({ task: 'regression', value: [1, 2] })).toEqual({ prediction: [1, 2] });
  });
});
