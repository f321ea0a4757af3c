import type { AnsweredBatch, Prediction } from '@app/inference';
import { LineArena } from './line-arena';
import { LoggedRequest, parseRecords, recordLine, writeRecordLine } from './log-record';
import { answeredFeatures, rowsOfValues } from '../../../test/support/feature-values';

/** The request's record built the plain way: what its line must be, byte for byte, once stringified. */
function expectedLine(batch: AnsweredBatch): string {
  const { predictions } = batch;
  const record: LoggedRequest = {
    ts: batch.at.toISOString(),
    model: batch.model,
    version: batch.version,
    request_id: batch.requestId,
    features: rowsOfValues(batch.features, batch.featureCount),
    predictions: predictions.map((p) => (p.task === 'classification' ? p.label : p.value)),
  };
  if (predictions.every((p) => p.task === 'classification')) {
    record.probabilities = predictions.map((p) => (p.task === 'classification' ? p.probability : 0));
  }
  return `${JSON.stringify(record)}\n`;
}

/** What writeRecordLine puts in an arena, as text. */
function arenaLine(batch: AnsweredBatch, slabBytes = 1024): string {
  const arena = new LineArena(slabBytes);
  const chunks: Buffer[] = [];
  const take = () => {
    const chunk = arena.take();
    if (chunk) chunks.push(chunk.bytes);
  };
  const written = writeRecordLine(arena, batch, batch.at.toISOString(), take);
  take();
  const text = Buffer.concat(chunks).toString('utf8');
  expect(Buffer.byteLength(text)).toBe(written);
  return text;
}

const batch = (predictions: Prediction[], rows: number[][]): AnsweredBatch => ({
  model: 'iris "v2"\\',
  version: '3',
  requestId: 'req-1\u2028x',
  at: new Date('2026-11-29T10:11:12.345Z'),
  ...answeredFeatures(rows),
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

  it('copies the rows the client wrote from the request bytes, which parse to the same numbers', () => {
    const body = Buffer.from('{"instances": [[1.50, -2E-7],  [3e2,0.0]]}');
    const rows = [
      [1.5, -2e-7],
      [300, 0],
    ];
    const answered: AnsweredBatch = {
      ...batch([klass(1, 0.5), klass(0, 0.25)], rows),
      featuresJson: { body, start: 14, end: body.length - 1, oneRow: false },
    };
    const line = arenaLine(answered);
    expect(line).toContain('"features":[[1.50, -2E-7],  [3e2,0.0]],"predictions":[1,0],');
    expect(JSON.parse(line)).toEqual(JSON.parse(expectedLine(answered)));
    expect(parseRecords(line).map((record) => record.features)).toEqual(rows);
  });

  it("wraps the one row of a /predict body in the features' array", () => {
    const body = Buffer.from('{"features":[5.1, 3.5]}');
    const answered: AnsweredBatch = {
      ...batch([klass('setosa', 1)], [[5.1, 3.5]]),
      featuresJson: { body, start: 12, end: body.length - 1, oneRow: true },
    };
    expect(arenaLine(answered)).toContain('"features":[[5.1, 3.5]],');
    expect(JSON.parse(arenaLine(answered))).toEqual(JSON.parse(expectedLine(answered)));
  });

  it('writes the line whole into a fresh slab when the current one cannot hold it', () => {
    const answered = batch([klass(1, 0.5)], [[1, 2]]);
    expect(arenaLine(answered, 16)).toBe(expectedLine(answered));
  });

  describe('the room it reserves for a line with copied rows', () => {
    /**
     * The most the line can take: its text around the client's bytes (the request's fields, the answers, and the
     * brackets around one row) at 3 bytes a UTF-16 unit, the copied bytes as they are.
     */
    function worstCase(answered: AnsweredBatch): number {
      const line = expectedLine(answered);
      const head = line.slice(0, line.indexOf('"features":') + '"features":'.length);
      const tail = line.slice(line.indexOf(',"predictions":'));
      const { start, end, oneRow } = answered.featuresJson!;
      const brackets = oneRow ? 1 : 0;
      return 3 * (head.length + brackets) + (end - start) + 3 * (tail.length + brackets);
    }

    const verbatim = (answered: AnsweredBatch, features: string, oneRow = false): AnsweredBatch => {
      const body = Buffer.from(`{"instances": ${features}}`);
      return { ...answered, featuresJson: { body, start: 14, end: body.length - 1, oneRow } };
    };
    const many = Array.from({ length: 80 }, (_, i) => i + 0.5);

    it.each([
      [
        'a classifier with labels of 3-byte characters',
        verbatim(batch([klass('€'.repeat(60), 0.5), klass('€', 1)], [[1.5], [2]]), '[[1.5], [2.0]]'),
      ],
      [
        'one row of a regressor named in 3-byte characters',
        {
          ...verbatim(batch([{ task: 'regression', value: 3 }], [[1, 2]]), '[1, 2]', true),
          model: '€'.repeat(40),
        },
      ],
      [
        'many copied bytes and a short tail',
        verbatim(batch([{ task: 'regression', value: 1 }], [many]), `[[${many.join(', ')}]]`),
      ],
    ])('is the worst case exactly, for %s', (_, answered) => {
      const room = worstCase(answered);
      const expected = JSON.parse(expectedLine(answered)) as unknown;
      // A slab of exactly that room takes the line without a switch; one byte less cannot.
      const exact = new LineArena(room);
      const written = writeRecordLine(exact, answered, answered.at.toISOString(), () => {
        throw new Error('unexpected: the slab was full');
      });
      const line = exact.take()!.bytes.toString('utf8');
      expect(Buffer.byteLength(line)).toBe(written);
      expect(JSON.parse(line)).toEqual(expected);
      let full = 0;
      const short = new LineArena(room - 1);
      writeRecordLine(short, answered, answered.at.toISOString(), () => full++);
      expect(full).toBe(1);
      expect(JSON.parse(short.take()!.bytes.toString('utf8'))).toEqual(expected);
    });
  });
});

describe('parseRecords', () => {
  it('gives every row of a line with its request fields, in order', () => {
    const classifier = recordLine(batch([klass('a', 0.25), klass('b', 1)], [[1.5, 2.5], [3]]));
    expect(parseRecords(classifier)).toEqual([
      { ...request, features: [1.5, 2.5], prediction: 'a', probability: 0.25 },
      { ...request, features: [3], prediction: 'b', probability: 1 },
    ]);
    const regressor = recordLine(
      batch(
        [
          { task: 'regression', value: [1, 2] },
          { task: 'regression', value: [3, 4] },
        ],
        [[1], [2]],
      ),
    );
    expect(parseRecords(regressor)).toEqual([
      { ...request, features: [1], prediction: [1, 2] },
      { ...request, features: [2], prediction: [3, 4] },
    ]);
    // A regressor's rows have no probability at all, not an undefined one.
    expect(parseRecords(regressor).map((record) => Object.keys(record))).toEqual([
      ['ts', 'model', 'version', 'request_id', 'features', 'prediction'],
      ['ts', 'model', 'version', 'request_id', 'features', 'prediction'],
    ]);
  });

  it('reads the rows form of the first request lines', () => {
    const line = JSON.stringify({
      ...request,
      rows: [
        { features: [1, 2], prediction: 1, probability: 0.5 },
        { features: [3, 4], prediction: 0, probability: 0.75 },
      ],
    });
    expect(parseRecords(line)).toEqual([
      { ...request, features: [1, 2], prediction: 1, probability: 0.5 },
      { ...request, features: [3, 4], prediction: 0, probability: 0.75 },
    ]);
  });

  it('reads the one-row-per-line form of logs written before request lines', () => {
    const old = JSON.stringify({ ...request, features: [1, 2], prediction: 1, probability: 0.5 });
    expect(parseRecords(old)).toEqual([{ ...request, features: [1, 2], prediction: 1, probability: 0.5 }]);
  });

  it('skips a row of columns that is not one and keeps its neighbours', () => {
    const line = JSON.stringify({
      ...request,
      features: [[1], ['x'], [2], [3], [4], [5]],
      predictions: [1, 1, 0, null, 'b', 1],
      probabilities: [0.5, 0.5, 'high', 0.5, 0.5],
    });
    expect(parseRecords(line).map((record) => record.features)).toEqual([[1], [4]]);
  });

  it('skips a row with any feature or value that is not a number', () => {
    const line = JSON.stringify({
      ...request,
      features: [[1, 'x'], [2], [3]],
      predictions: [[1, 2], [1, 'y'], [5]],
    });
    expect(parseRecords(line).map((record) => record.features)).toEqual([[3]]);
  });

  it('skips a row of the rows form that is not one and keeps its neighbours', () => {
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
    // The log writes every line from its first byte: one that starts otherwise is not one of its lines.
    ['a line that does not start with its object', ` ${recordLine(batch([klass(1, 0.5)], [[1, 2]]))}`],
    ['no model', JSON.stringify({ version: '1', rows: [{ features: [1], prediction: 1 }] })],
    ['no version', JSON.stringify({ model: 'm', rows: [{ features: [1], prediction: 1 }] })],
    ['neither rows nor features', JSON.stringify({ model: 'm', version: '1', prediction: 1 })],
  ])('gives no rows for %s', (_, line) => {
    expect(parseRecords(line)).toEqual([]);
  });
});
