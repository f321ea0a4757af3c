import { InputArray, inputOf } from './tensors';

/** The values of an input array, whichever element type it has. */
const valuesOf = (input: InputArray): Array<number | bigint> =>
  Array.from(input as ArrayLike<number | bigint>);

describe('inputOf', () => {
  it('hands over a lone request’s own array when it already is of the model’s element type', () => {
    const float32 = Float32Array.from([1, 2, 3, 4]);
    expect(inputOf('float32', [float32], 4)).toBe(float32);
    const float64 = Float64Array.from([1, 2]);
    expect(inputOf('float64', [float64], 2)).toBe(float64);
  });

  it('makes a new array when asked to, for a run that takes the array away (a worker run)', () => {
    const float32 = Float32Array.from([1, 2, 3, 4]);
    const input = inputOf('float32', [float32], 4, true);
    expect(input).not.toBe(float32);
    expect(input.buffer).not.toBe(float32.buffer);
    expect(valuesOf(input)).toEqual([1, 2, 3, 4]);
  });

  it('copies a view into a larger array (a request split across runs): only its own values, in a whole array', () => {
    const view = Float32Array.from([9, 1, 2, 9]).subarray(1, 3);
    const input = inputOf('float32', [view], 2);
    expect(input).not.toBe(view);
    expect(valuesOf(input)).toEqual([1, 2]);
    expect(input.byteOffset).toBe(0);
    expect(input.buffer.byteLength).toBe(8);
  });

  it('joins the requests of a run in order, converting doubles to the model’s element type', () => {
    const parts = [Float64Array.from([0.1, 2]), Float32Array.from([3.5, -4])];
    const float32 = inputOf('float32', parts, 4);
    expect(float32).toBeInstanceOf(Float32Array);
    expect(valuesOf(float32)).toEqual([Math.fround(0.1), 2, 3.5, -4]);
    const float64 = inputOf('float64', parts, 4);
    expect(valuesOf(float64)).toEqual([0.1, 2, 3.5, -4]);
  });

  it('feeds integer models integers: int32 values, and int64 as BigInt', () => {
    const parts = [Float64Array.from([1, -2]), Float64Array.from([2147483647, 0])];
    const int32 = inputOf('int32', parts, 4);
    expect(int32).toBeInstanceOf(Int32Array);
    expect(valuesOf(int32)).toEqual([1, -2, 2147483647, 0]);
    const int64 = inputOf('int64', [Float64Array.from([9007199254740991, -3])], 2);
    expect(int64).toBeInstanceOf(BigInt64Array);
    expect(valuesOf(int64)).toEqual([9007199254740991n, -3n]);
  });

  it('refuses an element type it cannot feed', () => {
    expect(() => inputOf('string', [Float64Array.from([1])], 1)).toThrow(
      'input element type string is not supported',
    );
  });
});
