import type { OutputTensor } from '../onnx';

/** The output tensors of one run, by output name. */
export type OutputTensors = Record<string, OutputTensor>;

export type InputArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** Rows as the flat typed array the model's input element type needs. */
export function toInputArray(type: string, rows: readonly number[][], featureCount: number): InputArray {
  const count = rows.length * featureCount;
  switch (type) {
    case 'float32':
      return fill(new Float32Array(count), rows);
    case 'float64':
      return fill(new Float64Array(count), rows);
    case 'int32':
      return fill(new Int32Array(count), rows);
    case 'int64': {
      const array = new BigInt64Array(count);
      let offset = 0;
      for (const row of rows) for (const value of row) array[offset++] = BigInt(value);
      return array;
    }
    default:
      throw new Error(`input element type ${type} is not supported`);
  }
}

/** Rows into a typed array with indexed loops: an iterator over a row of doubles boxes every value it yields. */
function fill<T extends Float32Array | Float64Array | Int32Array>(array: T, rows: readonly number[][]): T {
  let offset = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let i = 0; i < row.length; i++) array[offset++] = row[i];
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
