import { InvalidTensorError } from './errors';
import { decodeRawTensor, encodeRawTensor, numberToHalf, rawElementSize } from './raw-tensors';

/**
 * Each datatype's bytes as numpy writes them (`np.array(values, dtype).tobytes().hex()`, numpy 2.4 on x86-64), which
 * is what tritonclient sends: the codec is held to numpy, not to itself.
 */
const NUMPY: ReadonlyArray<{ datatype: string; values: number[]; hex: string }> = [
  { datatype: 'BOOL', values: [1, 0, 1], hex: '010001' },
  { datatype: 'UINT8', values: [0, 1, 255], hex: '0001ff' },
  { datatype: 'INT8', values: [-128, -1, 127], hex: '80ff7f' },
  { datatype: 'UINT16', values: [0, 258, 65535], hex: '00000201ffff' },
  { datatype: 'INT16', values: [-32768, -2, 32767], hex: '0080feffff7f' },
  { datatype: 'UINT32', values: [0, 16909060, 4294967295], hex: '0000000004030201ffffffff' },
  { datatype: 'INT32', values: [-2147483648, -3, 2147483647], hex: '00000080fdffffffffffff7f' },
  {
    datatype: 'UINT64',
    values: [0, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER],
    hex: '00000000000000000500000000010000ffffffffffff1f00',
  },
  {
    datatype: 'INT64',
    values: [-Number.MAX_SAFE_INTEGER, -7, Number.MAX_SAFE_INTEGER],
    hex: '010000000000e0fff9ffffffffffffffffffffffffff1f00',
  },
  {
    datatype: 'FP16',
    values: [0.5, -2, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity],
    hex: '003800c0ff7b00040100007c',
  },
  {
    datatype: 'FP32',
    values: [0.10000000149011612, -1.5, 3.4028234663852886e38],
    hex: 'cdcccc3d0000c0bfffff7f7f',
  },
  {
    datatype: 'FP64',
    values: [0.1, -1e-300, 1.7976931348623157e308],
    hex: '9a9999999999b93f59f3f8c21f6ea581ffffffffffffef7f',
  },
];

/** `[b'setosa', b'', 'é☃'.encode()]` as tritonclient's serialize_byte_tensor writes it. */
const NUMPY_BYTES = { values: ['setosa', '', 'é☃'], hex: '060000007365746f73610000000005000000c3a9e29883' };

function bytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTensorError);
    return (error as InvalidTensorError).message;
  }
  throw new Error('expected an InvalidTensorError');
}

describe('decodeRawTensor', () => {
  it.each(NUMPY)('reads $datatype as numpy writes it', ({ datatype, values, hex }) => {
    expect(decodeRawTensor('x', datatype, bytes(hex))).toEqual(values);
  });

  it('reads BYTES elements after their 4-byte little-endian lengths, as UTF-8, empty ones too', () => {
    expect(decodeRawTensor('x', 'BYTES', bytes(NUMPY_BYTES.hex))).toEqual(NUMPY_BYTES.values);
  });

  it('reads BF16 as the upper half of a float32', () => {
    // 1.5f is 0x3fc00000, -2f is 0xc0000000.
    expect(decodeRawTensor('x', 'BF16', bytes('c03f00c0'))).toEqual([1.5, -2]);
  });

  it('reads a tensor that starts at an odd offset of a larger buffer, as a body cut after its JSON header does', () => {
    const body = Buffer.concat([
      Buffer.from('{"a":1}'),
      Buffer.from('0000c0bfcdcccc3d', 'hex'),
      Buffer.from('!'),
    ]);
    const tensor = body.subarray(7, 15);
    expect(decodeRawTensor('x', 'FP32', tensor)).toEqual([-1.5, Math.fround(0.1)]);
  });

  it('reads no bytes as no elements', () => {
    expect(decodeRawTensor('x', 'FP32', new Uint8Array(0))).toEqual([]);
    expect(decodeRawTensor('x', 'BYTES', new Uint8Array(0))).toEqual([]);
  });

  it.each([
    [
      'FP32',
      7,
      'input "float_input" has 7 bytes of raw data; a FP32 element takes 4, so it must be a multiple of 4',
    ],
    [
      'FP64',
      12,
      'input "float_input" has 12 bytes of raw data; a FP64 element takes 8, so it must be a multiple of 8',
    ],
    [
      'INT16',
      3,
      'input "float_input" has 3 bytes of raw data; a INT16 element takes 2, so it must be a multiple of 2',
    ],
  ])('refuses %s data of %i bytes, naming the input and the element size', (datatype, length, message) => {
    expect(refusal(() => decodeRawTensor('float_input', datatype, new Uint8Array(length)))).toBe(message);
  });

  it('refuses a datatype the protocol does not have, listing those it has', () => {
    const message = refusal(() => decodeRawTensor('x', 'FLOAT32', new Uint8Array(4)));
    expect(message).toMatch(
      /^input "x" has datatype "FLOAT32", which the protocol does not have; it has BOOL, /,
    );
    expect(message).toContain('FP32');
    expect(message).toContain('BYTES');
  });

  it('refuses a datatype named like an Object.prototype property', () => {
    expect(refusal(() => decodeRawTensor('x', 'constructor', new Uint8Array(4)))).toContain(
      'datatype "constructor", which the protocol does not have',
    );
  });

  it('refuses a BYTES element cut short, in its length and in its bytes', () => {
    expect(refusal(() => decodeRawTensor('words', 'BYTES', bytes('0100000061020000')))).toBe(
      'input "words": BYTES element 1 starts 3 bytes before the end of the raw data; each element begins with a 4-byte length',
    );
    expect(refusal(() => decodeRawTensor('words', 'BYTES', bytes('050000006162')))).toBe(
      'input "words": BYTES element 0 declares 5 bytes but only 2 remain in the raw data',
    );
  });

  it('refuses a BYTES element that is not UTF-8', () => {
    expect(refusal(() => decodeRawTensor('words', 'BYTES', bytes('02000000c328')))).toBe(
      'input "words": BYTES element 0 is not valid UTF-8',
    );
  });

  it('refuses a BOOL byte other than 0 and 1', () => {
    expect(refusal(() => decodeRawTensor('flags', 'BOOL', bytes('0102')))).toBe(
      'input "flags": BOOL element 1 is the byte 2; a BOOL is 0 (false) or 1 (true)',
    );
  });

  it('refuses 64-bit integers a number cannot hold exactly rather than rounding them', () => {
    const past = Buffer.alloc(16);
    past.writeBigInt64LE(1n, 0);
    past.writeBigInt64LE(2n ** 53n + 1n, 8);
    expect(refusal(() => decodeRawTensor('ids', 'INT64', past))).toBe(
      'input "ids": INT64 element 1 is 9007199254740993, beyond ±2^53 - 1, the integers this server holds exactly',
    );
    const negative = Buffer.alloc(8);
    negative.writeBigInt64LE(-(2n ** 63n), 0);
    expect(refusal(() => decodeRawTensor('ids', 'INT64', negative))).toContain(
      '-9223372036854775808, beyond',
    );
    const unsigned = Buffer.alloc(8);
    unsigned.writeBigUInt64LE(2n ** 64n - 1n, 0);
    expect(refusal(() => decodeRawTensor('ids', 'UINT64', unsigned))).toContain(
      'UINT64 element 0 is 18446744073709551615',
    );
  });
});

describe('encodeRawTensor', () => {
  it.each(NUMPY)('writes $datatype as numpy does', ({ datatype, values, hex }) => {
    expect(encodeRawTensor(datatype, values).toString('hex')).toBe(hex);
  });

  it('writes BOOL from booleans', () => {
    expect(encodeRawTensor('BOOL', [true, false, true]).toString('hex')).toBe('010001');
  });

  it('writes BYTES as tritonclient does, each element after its length', () => {
    expect(encodeRawTensor('BYTES', NUMPY_BYTES.values).toString('hex')).toBe(NUMPY_BYTES.hex);
  });

  it.each([
    ...NUMPY.map(({ datatype, values }) => ({ datatype, values })),
    { datatype: 'BYTES', values: NUMPY_BYTES.values },
  ])('round-trips $datatype', ({ datatype, values }) => {
    expect(decodeRawTensor('x', datatype, encodeRawTensor(datatype, values))).toEqual(values);
  });

  it('round-trips BF16 values it holds exactly', () => {
    const values = [1.5, -2, 0.15625, 3.3895313892515355e38];
    expect(decodeRawTensor('x', 'BF16', encodeRawTensor('BF16', values))).toEqual(values);
  });

  it('rounds FP32 values to float32, as the tensor holds them', () => {
    expect(decodeRawTensor('x', 'FP32', encodeRawTensor('FP32', [0.1, 1 / 3]))).toEqual([
      Math.fround(0.1),
      Math.fround(1 / 3),
    ]);
  });

  it.each([
    ['UINT8', 256, "UINT8 element 0 is 256, outside UINT8's range [0, 256)"],
    ['INT8', -129, "INT8 element 0 is -129, outside INT8's range [-128, 128)"],
    ['INT64', 2 ** 63, "INT64 element 0 is 9223372036854776000, outside INT64's range"],
    ['UINT64', -1, "UINT64 element 0 is -1, outside UINT64's range"],
  ])('refuses a %s value out of range', (datatype, value, message) => {
    expect(() => encodeRawTensor(datatype, [value])).toThrow(RangeError);
    expect(() => encodeRawTensor(datatype, [value])).toThrow(message);
  });

  it('refuses values of the wrong kind', () => {
    expect(() => encodeRawTensor('INT32', [1.5])).toThrow('INT32 element 0 is 1.5, not an integer');
    expect(() => encodeRawTensor('FP32', [1, 'a'])).toThrow('FP32 element 1 is "a", not a number');
    expect(() => encodeRawTensor('BYTES', ['a', 2])).toThrow('BYTES element 1 is number 2, not a string');
    expect(() => encodeRawTensor('BOOL', [2])).toThrow('BOOL element 0 is 2, not a boolean');
    expect(() => encodeRawTensor('STRING', ['a'])).toThrow('datatype "STRING" has no raw form');
  });
});

describe('numberToHalf', () => {
  // numpy: np.array([x], dtype=np.float16).view(np.uint16)[0]
  it.each([
    [0.1, 11878],
    [1 / 3, 13653],
    [65519, 31743],
    [65520, 31744],
    [1e-8, 0],
    [2 ** -25, 0],
    [3 * 2 ** -25, 2],
    [1.00146484375, 15362],
    [-0, 0x8000],
    [-Infinity, 0xfc00],
  ])('rounds %p to the bits numpy gives (%i)', (value, bits) => {
    expect(numberToHalf(value)).toBe(bits);
  });

  it('writes NaN as a NaN', () => {
    expect(Number.isNaN(decodeRawTensor('x', 'FP16', encodeRawTensor('FP16', [NaN]))[0])).toBe(true);
  });
});

describe('rawElementSize', () => {
  it('gives fixed sizes and nothing for BYTES or unknown names', () => {
    expect([rawElementSize('FP32'), rawElementSize('INT64'), rawElementSize('BOOL')]).toEqual([4, 8, 1]);
    expect(rawElementSize('BYTES')).toBeUndefined();
    expect(rawElementSize('toString')).toBeUndefined();
  });
});
