import type { AnsweredBatch } from '@app/inference';
import { LineArena } from './line-arena';
import { LoggedRequest, parseRecords, recordLine, writeRecordLine } from './log-record';
import { answeredFeatures } from '../../../test/support/feature-values';

// Rows the client sent in binary are logged as their bytes (`features_f32le`), read back as the numbers it sent.

/** Two rows of three float32 values, the second one's values not exact in decimal. */
const ROWS = [
  [0.5, -2, 1e-3],
  [0.1, 3.25, -7.75],
].map((row) => row.map(Math.fround));

function float32le(rows: number[][]): Uint8Array {
  const bytes = Buffer.alloc(rows.flat().length * 4);
  rows.flat().forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  // A view into a larger buffer, as the request's body is: only the rows' bytes may be written.
  const padded = Buffer.concat([Buffer.from('header'), bytes, Buffer.from('tail')]);
  return padded.subarray(6, 6 + bytes.length);
}

const batch: AnsweredBatch = {
  model: 'seed_gbc',
  version: '1',
  requestId: 'binary-1',
  at: new Date('2026-11-30T09:00:00.000Z'),
  ...answeredFeatures(ROWS),
  featuresFloat32: float32le(ROWS),
  predictions: [
    { task: 'classification', label: 1, probability: 0.75, probabilities: { '0': 0.25, '1': 0.75 } },
    { task: 'classification', label: 0, probability: 0.5, probabilities: { '0': 0.5, '1': 0.5 } },
  ],
};

describe('prediction-log lines of rows sent in binary', () => {
  it('writes the rows as base64 of their float32 bytes in place of formatted numbers', () => {
    const expected: LoggedRequest = {
      ts: '2026-11-30T09:00:00.000Z',
      model: 'seed_gbc',
      version: '1',
      request_id: 'binary-1',
      features_f32le: Buffer.from(float32le(ROWS)).toString('base64'),
      predictions: [1, 0],
      probabilities: [0.75, 0.5],
    };
    expect(recordLine(batch)).toBe(`${JSON.stringify(expected)}\n`);
    expect(recordLine(batch)).not.toContain('"features":');
  });

  it('writes the same line into the arena', () => {
    const arena = new LineArena(4096);
    const written = writeRecordLine(arena, batch, batch.at.toISOString(), () => undefined);
    const chunk = arena.take();
    expect(chunk?.bytes.toString('utf8')).toBe(recordLine(batch));
    expect(written).toBe(Buffer.byteLength(recordLine(batch)));
  });

  it('reads the rows back exactly, each with its prediction', () => {
    const records = parseRecords(recordLine(batch).trimEnd());
    expect(records.map((r) => r.features)).toEqual(ROWS);
    expect(records.map((r) => [r.request_id, r.prediction, r.probability])).toEqual([
      ['binary-1', 1, 0.75],
      ['binary-1', 0, 0.5],
    ]);
  });

  it.each([
    ['bytes that do not make whole rows', Buffer.alloc(10).toString('base64'), [1, 0]],
    ['no predictions', Buffer.alloc(8).toString('base64'), []],
    ['no bytes', '', [1]],
  ])('skips a line whose features_f32le has %s', (_, encoded, predictions) => {
    const line = JSON.stringify({
      ts: 't',
      model: 'm',
      version: '1',
      request_id: 'r',
      features_f32le: encoded,
      predictions,
    });
    expect(parseRecords(line)).toEqual([]);
  });
});
