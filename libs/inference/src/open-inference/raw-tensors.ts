// The raw-tensor codec: every datatype of the protocol, in both directions, with the checks that name a bad input.
// Longer than 300 lines because there are fourteen datatypes, not several jobs.
import { InvalidTensorError } from './errors';
import { halfToNumber } from './model-outputs';

/**
 * Tensors as raw bytes, the form of Triton's binary tensor data extension over REST and of the gRPC
 * `raw_input_contents`/`raw_output_contents`: elements row-major, little-endian, without padding, each in its
 * datatype's native size; BOOL one byte (0 or 1); BYTES each element a 4-byte little-endian unsigned length and then
 * its bytes.
 */

/** Bytes an element takes, by datatype; BYTES elements have no fixed size. */
const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  BF16: 2,
  FP32: 4,
  FP64: 8,
};

const BYTES = 'BYTES';
const KNOWN_DATATYPES = [...Object.keys(ELEMENT_BYTES), BYTES].join(', ');

/** The size of one element of a fixed-size datatype; undefined for BYTES and for names the protocol does not have. */
export function rawElementSize(datatype: string): number | undefined {
  return Object.hasOwn(ELEMENT_BYTES, datatype) ? ELEMENT_BYTES[datatype] : undefined;
}

/**
 * The values of one tensor's raw bytes: numbers for the numeric datatypes (BOOL as 0 and 1), strings (UTF-8) for
 * BYTES. Throws InvalidTensorError naming the input when the bytes cannot be this datatype's elements.
 */
export function decodeRawTensor(name: string, datatype: string, bytes: Uint8Array): number[] | string[] {
  if (datatype === BYTES) return decodeByteElements(name, bytes);
  const size = rawElementSize(datatype);
  if (size === undefined) {
    throw new InvalidTensorError(
      `input "${name}" has datatype ${JSON.stringify(datatype)}, which the protocol does not have; it has ${KNOWN_DATATYPES}`,
    );
  }
  if (bytes.byteLength % size !== 0) {
    throw new InvalidTensorError(
      `input "${name}" has ${bytes.byteLength} bytes of raw data; a ${datatype} element takes ${size}, so it must be a multiple of ${size}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / size;
  const values = new Array<number>(count);
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < count; i++) {
        const byte = view.getUint8(i);
        if (byte > 1) {
          throw new InvalidTensorError(
            `input "${name}": BOOL element ${i} is the byte ${byte}; a BOOL is 0 (false) or 1 (true)`,
          );
        }
        values[i] = byte;
      }
      break;
    case 'UINT8':
      for (let i = 0; i < count; i++) values[i] = view.getUint8(i);
      break;
    case 'INT8':
      for (let i = 0; i < count; i++) values[i] = view.getInt8(i);
      break;
    case 'UINT16':
      for (let i = 0; i < count; i++) values[i] = view.getUint16(i * 2, true);
      break;
    case 'INT16':
      for (let i = 0; i < count; i++) values[i] = view.getInt16(i * 2, true);
      break;
    case 'UINT32':
      for (let i = 0; i < count; i++) values[i] = view.getUint32(i * 4, true);
      break;
    case 'INT32':
      for (let i = 0; i < count; i++) values[i] = view.getInt32(i * 4, true);
      break;
    case 'UINT64':
      for (let i = 0; i < count; i++)
        values[i] = exactInteger(name, datatype, i, view.getBigUint64(i * 8, true));
      break;
    case 'INT64':
      for (let i = 0; i < count; i++)
        values[i] = exactInteger(name, datatype, i, view.getBigInt64(i * 8, true));
      break;
    case 'FP16':
      for (let i = 0; i < count; i++) values[i] = halfToNumber(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      // bfloat16 is the upper half of a float32.
      for (let i = 0; i < count; i++) values[i] = bfloat16ToNumber(view.getUint16(i * 2, true));
      break;
    case 'FP32':
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
      break;
    case 'FP64':
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(i * 8, true);
      break;
  }
  return values;
}

/**
 * A 64-bit integer as a number, when a number holds it exactly: past 2^53 the nearest double is another integer,
 * and feeding the model a value the client did not send is worse than refusing it.
 */
function exactInteger(name: string, datatype: string, index: number, value: bigint): number {
  if (value > MAX_EXACT || value < -MAX_EXACT) {
    throw new InvalidTensorError(
      `input "${name}": ${datatype} element ${index} is ${value}, beyond ±2^53 - 1, the integers this server holds exactly`,
    );
  }
  return Number(value);
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Fatal: a BYTES element that is not UTF-8 cannot become the string the model would be fed. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeByteElements(name: string, bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: string[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const index = values.length;
    if (offset + 4 > bytes.byteLength) {
      throw new InvalidTensorError(
        `input "${name}": BYTES element ${index} starts ${bytes.byteLength - offset} bytes before the end of the raw data; each element begins with a 4-byte length`,
      );
    }
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw new InvalidTensorError(
        `input "${name}": BYTES element ${index} declares ${length} bytes but only ${bytes.byteLength - offset} remain in the raw data`,
      );
    }
    try {
      values.push(utf8.decode(bytes.subarray(offset, offset + length)));
    } catch {
      throw new InvalidTensorError(`input "${name}": BYTES element ${index} is not valid UTF-8`);
    }
    offset += length;
  }
  return values;
}

/** A tensor element the encoder takes: what JSON carries. */
type RawValue = number | string | boolean;

/**
 * Values as raw bytes of this datatype, the inverse of decodeRawTensor, for output tensors. A value the datatype
 * cannot hold (a string in FP32, 1.5 or 300 in UINT8) is a bug in whoever built the tensor, so it throws a plain
 * TypeError/RangeError rather than a client error.
 */
export function encodeRawTensor(datatype: string, data: readonly RawValue[]): Buffer {
  if (datatype === BYTES) return encodeByteElements(data);
  const size = rawElementSize(datatype);
  if (size === undefined) throw new RangeError(`datatype ${JSON.stringify(datatype)} has no raw form`);
  const buffer = Buffer.alloc(data.length * size);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < data.length; i++) view.setUint8(i, booleanByte(data[i], i));
      break;
    case 'UINT8':
      for (let i = 0; i < data.length; i++) view.setUint8(i, integer(datatype, data[i], i, 0, 2 ** 8));
      break;
    case 'INT8':
      for (let i = 0; i < data.length; i++) view.setInt8(i, integer(datatype, data[i], i, -(2 ** 7), 2 ** 7));
      break;
    case 'UINT16':
      for (let i = 0; i < data.length; i++)
        view.setUint16(i * 2, integer(datatype, data[i], i, 0, 2 ** 16), true);
      break;
    case 'INT16':
      for (let i = 0; i < data.length; i++) {
        view.setInt16(i * 2, integer(datatype, data[i], i, -(2 ** 15), 2 ** 15), true);
      }
      break;
    case 'UINT32':
      for (let i = 0; i < data.length; i++) {
        view.setUint32(i * 4, integer(datatype, data[i], i, 0, 2 ** 32), true);
      }
      break;
    case 'INT32':
      for (let i = 0; i < data.length; i++) {
        view.setInt32(i * 4, integer(datatype, data[i], i, -(2 ** 31), 2 ** 31), true);
      }
      break;
    case 'UINT64':
      for (let i = 0; i < data.length; i++) {
        view.setBigUint64(i * 8, BigInt(integer(datatype, data[i], i, 0, 2 ** 64)), true);
      }
      break;
    case 'INT64':
      for (let i = 0; i < data.length; i++) {
        view.setBigInt64(i * 8, BigInt(integer(datatype, data[i], i, -(2 ** 63), 2 ** 63)), true);
      }
      break;
    case 'FP16':
      for (let i = 0; i < data.length; i++)
        view.setUint16(i * 2, numberToHalf(float(datatype, data[i], i)), true);
      break;
    case 'BF16':
      for (let i = 0; i < data.length; i++) {
        view.setUint16(i * 2, numberToBfloat16(float(datatype, data[i], i)), true);
      }
      break;
    case 'FP32':
      for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, float(datatype, data[i], i), true);
      break;
    case 'FP64':
      for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, float(datatype, data[i], i), true);
      break;
  }
  return buffer;
}

function encodeByteElements(data: readonly RawValue[]): Buffer {
  const elements = data.map((value, i) => {
    if (typeof value !== 'string') {
      throw new TypeError(`BYTES element ${i} is ${typeof value} ${String(value)}, not a string`);
    }
    return Buffer.from(value, 'utf8');
  });
  const buffer = Buffer.alloc(elements.reduce((sum, element) => sum + 4 + element.byteLength, 0));
  let offset = 0;
  for (const element of elements) {
    offset = buffer.writeUInt32LE(element.byteLength, offset);
    offset += element.copy(buffer, offset);
  }
  return buffer;
}

function booleanByte(value: RawValue, index: number): number {
  if (value === true || value === 1) return 1;
  if (value === false || value === 0) return 0;
  throw new TypeError(`BOOL element ${index} is ${JSON.stringify(value)}, not a boolean`);
}

/** An integer in [min, end): the end is exclusive so that 2^63 and 2^64, which doubles hold exactly, bound 64 bits. */
function integer(datatype: string, value: RawValue, index: number, min: number, end: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${datatype} element ${index} is ${JSON.stringify(value)}, not an integer`);
  }
  if (value < min || value >= end) {
    throw new RangeError(
      `${datatype} element ${index} is ${value}, outside ${datatype}'s range [${min}, ${end})`,
    );
  }
  return value;
}

function float(datatype: string, value: RawValue, index: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${datatype} element ${index} is ${JSON.stringify(value)}, not a number`);
  }
  return value;
}

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

function bfloat16ToNumber(bits: number): number {
  float32Bits[0] = bits << 16;
  return float32[0];
}

/** Rounded to nearest, ties to even, as numpy's astype(bfloat16 via ml_dtypes) does; NaN stays NaN. */
function numberToBfloat16(value: number): number {
  float32[0] = value;
  const bits = float32Bits[0];
  if (Number.isNaN(value)) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE 754 binary16 bits of a number, rounded to nearest, ties to even (numpy's float16 rounding). */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | 0x7c00;
  // Normal halves have exponents -14…15; below 2^-14 the value is a multiple of 2^-24 (subnormal).
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude / 2 ** -24);
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 can be off by one near powers of two.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  let fraction = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  if (fraction === 1024) {
    fraction = 0;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | fraction;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
