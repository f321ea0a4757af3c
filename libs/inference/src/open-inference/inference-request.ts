import { rowPaths } from '../feature-rows';
import type { ModelSignature } from '../model-signature';
import { datatypeOf, formatShape } from './datatypes';
import { InvalidTensorError } from './errors';
import { decodeRawTensor, rawElementSize } from './raw-tensors';

/** `parameters` of a request, an input or an output: the protocol's free-form name → value pairs. */
export type InferenceParameters = Readonly<Record<string, unknown>>;

/** One input tensor with its data, as the model's checks take it. */
export interface RequestInputTensor {
  name: string;
  shape: readonly number[];
  datatype: string;
  parameters?: InferenceParameters;
  /** Row-major, flat or nested as the shape. */
  data: readonly unknown[];
  /** The bytes `data` was decoded from, when it came in binary (little-endian, row-major). */
  raw?: Uint8Array;
}

/**
 * An input tensor as a REST request sends it: its `data` in the JSON, or, with Triton's binary tensor data extension,
 * `parameters.binary_data_size` bytes of it after the JSON header.
 */
export interface SentInputTensor extends Omit<RequestInputTensor, 'data'> {
  data?: readonly unknown[];
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
  inputs: readonly SentInputTensor[];
  outputs?: readonly RequestedOutput[];
}

/**
 * An input tensor as the prediction service takes it, with how each row is named in its messages (`float_input[3]`:
 * a bad value is then reported as `float_input[3][7]`, its place in the tensor). Either rows of values not checked
 * yet, which the service checks as it does every route's rows, or, for binary FP32 data, its float32 values (the
 * service checks they are finite) and the bytes they came as, which the prediction log writes for them.
 */
export type TensorRows =
  | { rows: unknown[][]; paths: string[]; float32?: undefined }
  | { values: Float32Array; paths: string[]; float32: Uint8Array };

/**
 * The request's inputs with their data: JSON `data` as sent, and, for inputs announcing `parameters.binary_data_size`
 * (Triton's binary tensor data extension), their share of `binary` (the bytes after the JSON header, in input order)
 * decoded as their datatype. `binary` is undefined for a plain JSON body. Every size is checked against the others
 * and against the shape before anything is decoded, so a miscounted body is refused with what does not add up.
 */
export function inputsWithData(
  inputs: readonly SentInputTensor[],
  binary: Uint8Array | undefined,
): RequestInputTensor[] {
  const sizes = inputs.map(binaryDataSize);
  const declared = sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  if (binary === undefined) {
    const index = sizes.findIndex((size) => size !== undefined);
    if (index >= 0) {
      throw new InvalidTensorError(
        `input "${inputs[index].name}" has parameters.binary_data_size but the request carries no binary data; send the JSON header's length in Inference-Header-Content-Length and the tensor bytes after it`,
      );
    }
  } else if (declared !== binary.byteLength) {
    throw new InvalidTensorError(
      `the inputs declare ${count(declared, 'byte')} of binary data (parameters.binary_data_size) but ${count(binary.byteLength, 'byte')} follow the JSON header`,
    );
  }
  let offset = 0;
  return inputs.map((input, index) => {
    const size = sizes[index];
    if (size === undefined) {
      if (input.data === undefined) {
        throw new InvalidTensorError(
          `input "${input.name}" has no data; give data, or parameters.binary_data_size and its bytes after the JSON header`,
        );
      }
      return input as RequestInputTensor;
    }
    if (input.data !== undefined) {
      throw new InvalidTensorError(
        `input "${input.name}" has both data and parameters.binary_data_size; send its values one way`,
      );
    }
    checkBinarySize(input, size);
    // `binary` is defined here: an input with a size and no binary data was refused above.
    const bytes = (binary as Uint8Array).subarray(offset, offset + size);
    offset += size;
    // FP32 bytes of the checked size always decode, and rowsOfInputs copies them as float32 values: decoded only if
    // something else asks. Other datatypes can hold bytes that are no element (a BOOL of 2), refused here.
    if (input.datatype === 'FP32') {
      return lazyInputTensor(input, () => decodeRawTensor(input.name, input.datatype, bytes), bytes);
    }
    return { ...input, data: decodeRawTensor(input.name, input.datatype, bytes), raw: bytes };
  });
}

/**
 * An input tensor whose data is read when first asked for (decoded from its bytes, or taken from a gRPC request's
 * typed contents): rowsOfInputs checks the name, datatype and shape first, and takes FP32 bytes as they are.
 * A class, not an object literal with a getter: every instance then has one shape, and the code reading inputs
 * stays monomorphic (the literal cost about 10 µs of a binary request's 160 on the bench's load).
 */
class LazyInputTensor implements RequestInputTensor {
  private decoded?: readonly unknown[];

  constructor(
    readonly name: string,
    readonly datatype: string,
    readonly shape: readonly number[],
    readonly parameters: InferenceParameters | undefined,
    readonly raw: Uint8Array | undefined,
    private readonly read: () => readonly unknown[],
  ) {}

  get data(): readonly unknown[] {
    return (this.decoded ??= this.read());
  }
}

export function lazyInputTensor(
  input: Pick<RequestInputTensor, 'name' | 'datatype' | 'shape' | 'parameters'>,
  read: () => readonly unknown[],
  raw?: Uint8Array,
): RequestInputTensor {
  return new LazyInputTensor(input.name, input.datatype, input.shape, input.parameters, raw, read);
}

/** The input's `parameters.binary_data_size`, checked to be a byte count; undefined when it has none. */
function binaryDataSize(input: SentInputTensor): number | undefined {
  const size = input.parameters?.binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidTensorError(
      `input "${input.name}" has parameters.binary_data_size ${JSON.stringify(size)}; it must be a whole number of bytes`,
    );
  }
  return size;
}

/** A fixed-size datatype's bytes must be exactly the shape's elements; BYTES elements are counted once decoded. */
function checkBinarySize(input: SentInputTensor, size: number): void {
  const elementSize = rawElementSize(input.datatype);
  if (elementSize === undefined) return;
  const elements = input.shape.reduce((product, dim) => product * dim, 1);
  if (size !== elements * elementSize) {
    throw new InvalidTensorError(
      `input "${input.name}" has parameters.binary_data_size ${size}; shape ${formatShape(input.shape)} of ${input.datatype} takes ${count(elements * elementSize, 'byte')} (${count(elements, 'element')} of ${elementSize})`,
    );
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
 * shape that the data fills) and cuts the data into rows, row-major, from its flat form or from its nested one;
 * binary FP32 data stays one array of float32 values. Values are left to the prediction service, which refuses
 * non-numbers, non-integers for integer inputs and non-finite numbers the same way on every route.
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
  const { raw } = input;
  // Rows are named once their count is known to match the data: the shape alone is the client's word.
  if (datatype === 'FP32' && raw !== undefined && raw.byteLength === rowCount * features * 4) {
    return { values: float32Values(raw), paths: rowPaths(name, rowCount), float32: raw };
  }
  // FP32 bytes of another length decode to data that flatRows refuses with the count it expected.
  const rows = input.data.some(Array.isArray)
    ? nestedRows(input, rowCount, features)
    : flatRows(input, rowCount, features);
  return { rows, paths: rowPaths(name, rowCount) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Binary FP32 data (little-endian, row-major) as float32 values, with no number made per value: the Open Inference
 * Protocol's fast case, Triton's clients' default. A copy, so that the values are aligned and the body can go.
 */
function float32Values(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(values.buffer).set(bytes);
    return values;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
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
