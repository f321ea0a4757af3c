import { expect } from '@jest/globals';
import { fuzzCase, FuzzTarget, LANDMARK_COUNT, showBody } from './fuzz-requests';

const TARGET: FuzzTarget = {
  model: 'seed_gbc',
  features: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9'],
  bodyLimitBytes: 4096,
  maxBatchSize: 4,
  jsonMaxDepth: 8,
};

describe('fuzz requests', () => {
  it('are the same bytes for the same seed and index, and others for another seed', () => {
    for (const index of [0, LANDMARK_COUNT, 500]) {
      expect(fuzzCase(7, index, TARGET)).toEqual(fuzzCase(7, index, TARGET));
    }
    const bodies = (seed: number) =>
      Array.from({ length: 50 }, (_, i) => fuzzCase(seed, LANDMARK_COUNT + i, TARGET).body.toString('hex'));
    expect(bodies(7)).not.toEqual(bodies(8));
  });

  it('sit exactly at and one past BODY_LIMIT, and a valid padded request still parses', () => {
    const landmarks = Array.from({ length: LANDMARK_COUNT }, (_, i) => fuzzCase(1, i, TARGET));
    const sized = landmarks.filter((c) => c.kind.includes('BODY_LIMIT'));
    expect(sized.map((c) => [c.body.length, c.status, c.chunked])).toEqual([
      [4096, 200, false],
      [4097, 413, false],
      [4096, 200, true],
      [4097, 413, true],
    ]);
    expect(JSON.parse(sized[0].body.toString())).toEqual({ features: expect.any(Array) });
  });

  it('expect a 200 only for bodies that are JSON with finite numbers', () => {
    const finite = (value: unknown): boolean =>
      typeof value === 'number'
        ? Number.isFinite(value)
        : typeof value !== 'object' || value === null || Object.values(value).every(finite);
    let valid = 0;
    for (let i = 0; i < 2000; i++) {
      const c = fuzzCase(3, i, TARGET);
      if (c.status !== 200) continue;
      valid++;
      expect({ i, finite: finite(JSON.parse(c.body.toString())) }).toEqual({ i, finite: true });
    }
    expect(valid).toBeGreaterThan(100);
  });

  it('show a body as text when it is printable UTF-8, else as hex', () => {
    expect(showBody(Buffer.from('{"a":"é"}'))).toBe('"{\\"a\\":\\"é\\"}"');
    expect(showBody(Buffer.from([0x7b, 0xff]))).toBe('hex 7bff');
    expect(showBody(Buffer.from('ééé'), 2)).toBe('"éé" … (6 bytes in all)');
  });
});
