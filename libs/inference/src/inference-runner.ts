import { Injectable } from '@nestjs/common';
import { Tensor } from 'onnxruntime-node';
import { OnnxRuntime, OutputTensors } from './onnx-runtime';
import { ServedModel } from './model-registry';

type InputArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

function toInputArray(type: string, values: number[]): InputArray {
  switch (type) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    default:
      throw new Error(`input element type ${type} is not supported`);
  }
}

/**
 * Runs rows through a model's session. This is the seam where worker threads and dynamic batching go:
 * callers hand over rows and get output tensors back, nothing more.
 */
@Injectable()
export class InferenceRunner {
  constructor(private readonly runtime: OnnxRuntime) {}

  async run(model: ServedModel, rows: number[][]): Promise<OutputTensors> {
    const fixed = model.signature.fixedBatchSize;
    if (!fixed || rows.length === fixed) return this.runBatch(model, rows);
    // A graph exported without dynamic axes takes exactly `fixed` rows: run it chunk by chunk, padding the last.
    const chunks: OutputTensors[] = [];
    for (let start = 0; start < rows.length; start += fixed) {
      const chunk = rows.slice(start, start + fixed);
      const padded = chunk.concat(
        Array.from({ length: fixed - chunk.length }, () => new Array<number>(chunk[0].length).fill(0)),
      );
      chunks.push(trimRows(await this.runBatch(model, padded), chunk.length));
    }
    return concatRows(chunks);
  }

  private runBatch(model: ServedModel, rows: number[][]): Promise<OutputTensors> {
    const { input, featureCount } = model.signature;
    const tensor = new Tensor(
      input.type as 'float32',
      toInputArray(input.type, rows.flat()) as Float32Array,
      [rows.length, featureCount],
    );
    return this.runtime.run(model.session, { [input.name]: tensor });
  }
}

function trimRows(outputs: OutputTensors, rows: number): OutputTensors {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, { data, dims }]) => {
      const perRow = dims.slice(1).reduce((a, b) => a * b, 1);
      return [name, { data: Array.from(data).slice(0, rows * perRow), dims: [rows, ...dims.slice(1)] }];
    }),
  );
}

function concatRows(chunks: OutputTensors[]): OutputTensors {
  return Object.fromEntries(
    Object.keys(chunks[0]).map((name) => {
      const parts = chunks.map((chunk) => chunk[name]);
      const rows = parts.reduce((sum, part) => sum + part.dims[0], 0);
      return [
        name,
        { data: parts.flatMap((part) => Array.from(part.data)), dims: [rows, ...parts[0].dims.slice(1)] },
      ];
    }),
  );
}
