import { describeOffset, syntaxErrorOffset } from './json-syntax';

describe('syntaxErrorOffset', () => {
  it.each(['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\"\\u00e9"], "b": {}} ', '"s"', '0'])(
    'accepts %s like JSON.parse does',
    (text) => {
      expect(() => void JSON.parse(text)).not.toThrow();
      expect(syntaxErrorOffset(text)).toBeUndefined();
    },
  );

  it.each([
    ['[1, 2,]', 6],
    ['{"a" 1}', 5],
    ['{"a": 1,}', 8],
    ['{a: 1}', 1],
    ['[01]', 2],
    ['[1] x', 4],
    ['', 0],
    ['["\u0001"]', 1],
    ['[NaN]', 1],
  ])('finds the error in %j at %d', (text, offset) => {
    expect(() => void JSON.parse(text)).toThrow();
    expect(syntaxErrorOffset(text)).toBe(offset);
  });

  it('describes an offset with 1-based line and column', () => {
    expect(describeOffset('{\n  "a": 1,\n  x', 14)).toBe('position 14 (line 3, column 3)');
  });
});
