import type { ModelSignature } from '../model-signature';
import { datatypeOf, formatShape } from './datatypes';
import { InvalidTensorError } from './errors';

/** `parameters` of a request, an input or an output: the protocol's free-form name → value pairs. */
export type InferenceParameters = Readonly<Record<string, unknown>>;

/** One input tensor of an inference request, as the protocol writes it. */
export interface RequestInputTensor {
  name: string;
  shape: readonly number[];
  datatype: string;
  parameters?: InferenceParameters;
  /** Row-major, flat or nested as the shape. */
  data: readonly unknown[];
}

/** An output asked for by name. */
export interface RequestedOutput {
  name: string;
  parameters?: InferenceParameters;
}

/** The protocol's `$inference_request`. */
export interface InferenceRequestBody {
  id?: string;
  parameters?: InferenceParameters;
  inputs: readonly RequestInputTensor[];
  outputs?: readonly RequestedOutput[];
}

/** An input tensor cut into the rows the prediction service takes, and how each row is named in its messages. */
export interface TensorRows {
  /** Rows of values not checked yet: the prediction service checks them as it does every route's rows. */
  rows: unknown[][];
  /** `float_input[3]`: a bad value is then reported as `float_input[3][7]`, its place in the tensor. */
  paths: string[];
}

const BINARY_DATA =
  "Triton's binary tensor data extension is not supported: send tensor data as JSON (tritonclient: binary_data=False)";

/**
 * Refuses what asks for Triton's binary tensor data extension: answering with JSON tensors instead would hand a
 * client that wants binary outputs a body it cannot read, and an input announcing binary data has no JSON data.
 */
export function refuseBinaryData(request: InferenceRequestBody): void {
  if (request.parameters?.binary_data_output === true) {
    throw new InvalidTensorError(`parameters.binary_data_output is true; ${BINARY_DATA}`);
  }
  for (const input of request.inputs) {
    if (input.parameters?.binary_data_size !== undefined) {
      throw new InvalidTensorError(`input "${input.name}" has parameters.binary_data_size; ${BINARY_DATA}`);
    }
  }
  for (const output of request.outputs ?? []) {
    if (output.parameters?.binary_data === true) {
      throw new InvalidTensorError(`output "${output.name}" asks for binary_data; ${BINARY_DATA}`);
    }
  }
}

/**
 * The model's input as a request must send it: the service feeds one [rows, features] tensor and batches any
 * number of rows, so the first dimension is -1 even for a graph exported with a fixed batch.
 */
export function servedInputShape(signature: ModelSignature): number[] {
  return [-1, signature.featureCount];
}

/**
 * Checks the request's input tensors against the model (one input, its name, its datatype, a [rows, features]
 * shape that the data fills) and cuts the data into rows, row-major, from its flat form or from its nested one.
 * Values are left to the prediction service, which refuses non-numbers, non-integers for integer inputs and
 * non-finite numbers the same way on every route.
 */
export function rowsOfInputs(signature: ModelSignature, inputs: readonly RequestInputTensor[]): TensorRows {
  const { name, type } = signature.input;
  const datatype = datatypeOf(type);
  const served = formatShape(servedInputShape(signature));
  const takes = `the model takes one input, "${name}" ${datatype} ${served}`;

  if (inputs.length === 0) throw new InvalidTensorError(`the request has no inputs; ${takes}`);
  const stranger = inputs.find((input) => input.name !== name);
  if (stranger !== undefined) {
    throw new InvalidTensorError(`the model has no input "${stranger.name}"; ${takes}`);
  }
  if (inputs.length > 1) {
    throw new InvalidTensorError(`input "${name}" is given ${inputs.length} times; send it once`);
  }
  const [input] = inputs;
  if (input.datatype !== datatype) {
    throw new InvalidTensorError(
      `input "${name}" has datatype ${input.datatype}; the model takes ${datatype}`,
    );
  }
  const shape = input.shape;
  const features = signature.featureCount;
  if (shape.length !== 2 || shape[1] !== features) {
    throw new InvalidTensorError(
      `input "${name}" has shape ${formatShape(shape)}; the model takes ${served}: rows of ${features} features`,
    );
  }
  const rowCount = shape[0];
  if (rowCount === 0) {
    throw new InvalidTensorError(
      `input "${name}" has shape ${formatShape(shape)}: no rows; send at least one`,
    );
  }
  const rows = input.data.some(Array.isArray)
    ? nestedRows(input, rowCount, features)
    : flatRows(input, rowCount, features);
  return { rows, paths: rows.map((_, row) => `${name}[${row}]`) };
}

/** Data in its flattened one-dimensional form: rows × features values. */
function flatRows(input: RequestInputTensor, rowCount: number, features: number): unknown[][] {
  const { data } = input;
  if (data.length !== rowCount * features) {
    throw new InvalidTensorError(
      `input "${input.name}" has ${count(data.length, 'value')} in data; shape ${formatShape(input.shape)} holds ${rowCount * features}`,
    );
  }
  const rows = new Array<unknown[]>(rowCount);
  for (let row = 0; row < rowCount; row++) rows[row] = data.slice(row * features, (row + 1) * features);
  return rows;
}

/** Data in its natural form, nested as the shape: an array of rows. */
function nestedRows(input: RequestInputTensor, rowCount: number, features: number): unknown[][] {
  const { data } = input;
  const shape = formatShape(input.shape);
  if (data.length !== rowCount) {
    throw new InvalidTensorError(
      `input "${input.name}" has ${count(data.length, 'row')} in data; shape ${shape} has ${rowCount}`,
    );
  }
  for (let row = 0; row < rowCount; row++) {
    const values = data[row];
    if (!Array.isArray(values)) {
      throw new InvalidTensorError(
        `input "${input.name}": data[${row}] is not a row; give data flat (${rowCount * features} values) or nested as shape ${shape}`,
      );
    }
    if (values.length !== features) {
      throw new InvalidTensorError(
        `input "${input.name}": data[${row}] has ${count(values.length, 'value')}; shape ${shape} needs ${features} a row`,
      );
    }
  }
  // Each row is fed as it is, as the other routes feed theirs: the service checks its values in place.
  return data as unknown[][];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
