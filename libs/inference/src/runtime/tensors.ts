import type { FeatureValues } from '../feature-rows';
import type { OutputTensor } from '../onnx';

/** The output tensors of one run, by output name. */
export type OutputTensors = Record<string, OutputTensor>;

export type InputArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** Rows as the flat typed array the model's input element type needs (callers off the request path). */
export function toInputArray(type: string, rows: readonly number[][], featureCount: number): InputArray {
  return inputOf(type, [Float64Array.from(rows.flat())], rows.length * featureCount);
}

/**
 * The feature values of the requests in one run, as the one input array of the model's element type: a request's
 * own array when it is the only one and already of that type (binary FP32 for a float32 model), else one new array.
 * @param fresh always a new array: the run takes it away (a worker run is handed the array's buffer, which leaves
 *   the array empty), and the request's own values are still to be logged and counted
 */
export function inputOf(
  type: string,
  parts: readonly FeatureValues[],
  length: number,
  fresh = false,
): InputArray {
  if (parts.length === 1 && !fresh) {
    const [only] = parts;
    // A whole array only: a request split across runs hands over views, copied like the rest.
    const whole = only.byteOffset === 0 && only.byteLength === only.buffer.byteLength;
    if (
      whole &&
      ((type === 'float32' && only instanceof Float32Array) ||
        (type === 'float64' && only instanceof Float64Array))
    )
      return only;
  }
  switch (type) {
    case 'float32':
      return joined(new Float32Array(length), parts);
    case 'float64':
      return joined(new Float64Array(length), parts);
    case 'int32':
      return joined(new Int32Array(length), parts);
    case 'int64': {
      const array = new BigInt64Array(length);
      let offset = 0;
      for (const part of parts) for (let i = 0; i < part.length; i++) array[offset++] = BigInt(part[i]);
      return array;
    }
    default:
      throw new Error(`input element type ${type} is not supported`);
  }
}

/** `set` converts between the numeric element types natively (checked integers into an Int32Array too). */
function joined<T extends Float32Array | Float64Array | Int32Array>(
  array: T,
  parts: readonly FeatureValues[],
): T {
  let offset = 0;
  for (const part of parts) {
    array.set(part, offset);
    offset += part.length;
  }
  return array;
}

/** Rows [start, start + count) of every output, for handing each request its share of a merged batch. */
export function sliceRows(outputs: OutputTensors, start: number, count: number): OutputTensors {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, { data, dims }]) => {
      const perRow = dims.slice(1).reduce((a, b) => a * b, 1);
      const from = start * perRow;
      const to = (start + count) * perRow;
      const part = ArrayBuffer.isView(data)
        ? (data as unknown as Float32Array).subarray(from, to)
        : Array.prototype.slice.call(data, from, to);
      return [name, { data: part as OutputTensor['data'], dims: [count, ...dims.slice(1)] }];
    }),
  );
}

/** Row-wise concatenation of runs over consecutive chunks of rows. */
export function concatRows(chunks: readonly OutputTensors[]): OutputTensors {
  if (chunks.length === 1) return chunks[0];
  return Object.fromEntries(
    Object.keys(chunks[0]).map((name) => {
      const parts = chunks.map((chunk) => chunk[name]);
      const rows = parts.reduce((sum, part) => sum + part.dims[0], 0);
      const data = parts.flatMap((part) => Array.from(part.data));
      return [name, { data, dims: [rows, ...parts[0].dims.slice(1)] }];
    }),
  );
}
