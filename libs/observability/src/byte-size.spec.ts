import { parseByteSize } from './byte-size';

describe('parseByteSize', () => {
  it.each([
    ['100000', 100000],
    ['512b', 512],
    ['512kb', 524288],
    ['1mb', 1048576],
    ['1.5MB', 1572864],
    [' 2 kb ', 2048],
    ['20gb', 20 * 1024 ** 3],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it('rejects anything else', () => {
    expect(() => parseByteSize('1tb')).toThrow('not a byte size: "1tb"');
    expect(() => parseByteSize('-1')).toThrow('not a byte size');
  });
});
