import type {
  ClassifierOutputs,
  ElementType,
  ModelSignature,
  Prediction,
  TensorSpec,
} from '../model-signature';
import type { OutputTensors } from '../runtime/tensors';
import { datatypeOf, protocolShape } from './datatypes';
import { InvalidTensorError } from './errors';
import type { InferenceParameters, RequestedOutput } from './inference-request';
import { encodeRawTensor } from './raw-tensors';

/**
 * The output the server adds to classifiers whose graph ends in logits, so a client gets probabilities without
 * redoing the softmax the other routes apply.
 */
export const DERIVED_PROBABILITIES = 'probabilities';

/** A tensor element as JSON carries it. */
export type TensorValue = number | string | boolean;

/** One output the protocol offers for a model: a tensor of the graph as served, or one the server derives. */
export interface OfferedOutput {
  name: string;
  datatype: string;
  /** As the protocol writes shapes: -1 for the batch dimension and any other dynamic one. */
  shape: number[];
  /** What it holds, for clients that read the model metadata before they call. */
  description: string;
  /** The graph's element type; undefined for the derived probabilities. */
  elementType?: ElementType;
}

/** The protocol's `$response_output`. */
export interface ResponseOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: TensorValue[];
}

/** An output in the JSON header of a binary response: its bytes follow the header, `binary_data_size` of them. */
export interface BinaryResponseOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: { binary_data_size: number };
}

/** Worked out once per model, not once per request. */
const offered = new WeakMap<ModelSignature, OfferedOutput[]>();

/**
 * Every output a request may ask for, in the graph's order, then the derived probabilities: the model's own output
 * tensors as served (after the load-time ZipMap rewrite, a scikit-learn classifier's label and probability tensors)
 * and, for a classifier scored by logits, `probabilities`. Unless a graph output already has that name: then the
 * graph's tensor is what the name means, and nothing is derived.
 */
export function offeredOutputs(signature: ModelSignature): OfferedOutput[] {
  let outputs = offered.get(signature);
  if (outputs === undefined) {
    outputs = signature.outputs.map((spec) => ({
      name: spec.name,
      datatype: datatypeOf(spec.type),
      shape: batchedShape(spec),
      description: describeOutput(signature, spec),
      elementType: spec.type,
    }));
    const head = signature.head;
    if (derivesProbabilities(signature) && head.task === 'classification') {
      const score = signature.outputs.find((spec) => spec.name === head.scoreOutput);
      outputs.push({
        name: DERIVED_PROBABILITIES,
        datatype: 'FP32',
        shape: [score ? batchedShape(score)[0] : -1, head.labels.length],
        description: `derived by the server: ${head.scoreKind === 'logits' ? 'softmax' : 'sigmoid, as [1 - p, p],'} of "${head.scoreOutput}"; the probability of each class per row, columns in the order of labels`,
      });
    }
    offered.set(signature, outputs);
  }
  return outputs;
}

function derivesProbabilities(signature: ModelSignature): boolean {
  const head = signature.head;
  return (
    head.task === 'classification' &&
    (head.scoreKind === 'logits' || head.scoreKind === 'positive-logit') &&
    !signature.outputs.some((spec) => spec.name === DERIVED_PROBABILITIES)
  );
}

/**
 * Every output's first dimension is the rows fed (the runner cuts merged batches along it), and the service feeds
 * any number of rows, even to a graph with a fixed batch: so it is -1 as served.
 */
function batchedShape(spec: TensorSpec): number[] {
  const shape = protocolShape(spec.shape);
  if (shape.length > 0) shape[0] = -1;
  return shape;
}

function describeOutput(signature: ModelSignature, spec: TensorSpec): string {
  const head = signature.head;
  if (head.task === 'regression') {
    if (spec.name !== head.valueOutput) return OTHER_OUTPUT;
    return head.targets === 1
      ? 'the predicted value per row'
      : `the predicted values per row, one column per target (${head.targets})`;
  }
  if (spec.name === head.labelOutput) return 'the predicted class label per row, one of labels';
  if (spec.name === head.scoreOutput) return describeScores(head);
  return OTHER_OUTPUT;
}

const OTHER_OUTPUT = 'another output of the graph, as onnxruntime computes it';

function describeScores(head: ClassifierOutputs): string {
  const [negative, positive] = head.labels.map((label) => JSON.stringify(label));
  switch (head.scoreKind) {
    case 'probabilities':
      return 'the probability of each class per row, columns in the order of labels';
    case 'logits':
      return `logits (unnormalised scores) of each class per row, columns in the order of labels; their softmax is "${DERIVED_PROBABILITIES}"`;
    case 'positive-probability':
      return `the probability of class ${positive} per row; class ${negative} has 1 - p`;
    case 'positive-logit':
      return `the logit of class ${positive} per row; its sigmoid is the probability of ${positive}, "${DERIVED_PROBABILITIES}" gives both classes`;
  }
}

/**
 * The outputs a request asks for, checked before anything runs: by name, in the request's order; all offered
 * outputs when it names none.
 */
export function selectOutputs(
  signature: ModelSignature,
  requested: readonly RequestedOutput[] | undefined,
): OfferedOutput[] {
  const outputs = offeredOutputs(signature);
  if (requested === undefined) return outputs;
  const seen = new Set<string>();
  return requested.map(({ name }) => {
    const output = outputs.find((candidate) => candidate.name === name);
    if (output === undefined) {
      throw new InvalidTensorError(
        `the model has no output "${name}"; it has ${outputs.map((o) => `"${o.name}"`).join(', ')}`,
      );
    }
    if (seen.has(name)) throw new InvalidTensorError(`output "${name}" is asked for twice; ask once`);
    seen.add(name);
    return output;
  });
}

/**
 * The selected outputs of one run as the protocol's response tensors: graph tensors with the shape they came back
 * with and their values in row-major order; the derived probabilities from the predictions the other routes answer
 * with, so all routes agree.
 */
export function responseOutputs(
  signature: ModelSignature,
  selected: readonly OfferedOutput[],
  tensors: OutputTensors,
  predictions: readonly Prediction[],
): ResponseOutputTensor[] {
  return selected.map((output) => {
    if (output.elementType === undefined) {
      return {
        name: output.name,
        datatype: output.datatype,
        ...derivedProbabilities(signature, predictions),
      };
    }
    const tensor = tensors[output.name];
    if (tensor === undefined) {
      throw new Error(
        `the run returned no output "${output.name}" (got ${Object.keys(tensors).join(', ') || 'none'})`,
      );
    }
    return {
      name: output.name,
      datatype: output.datatype,
      shape: [...tensor.dims],
      data: tensorValues(output.elementType, tensor.data),
    };
  });
}

function derivedProbabilities(
  signature: ModelSignature,
  predictions: readonly Prediction[],
): { shape: number[]; data: number[] } {
  const head = signature.head;
  if (head.task !== 'classification') throw new Error('only a classifier has derived probabilities');
  // Keyed by label: an object's integer-like keys enumerate in ascending order, not in the order of labels.
  const keys = head.labels.map(String);
  const data = new Array<number>(predictions.length * keys.length);
  let offset = 0;
  for (const prediction of predictions) {
    if (prediction.task !== 'classification') throw new Error('a classifier predicted a value');
    // FP32 as declared; the other routes' float64 probabilities round to these.
    for (const key of keys) data[offset++] = Math.fround(prediction.probabilities[key]);
  }
  return { shape: [predictions.length, keys.length], data };
}

/**
 * A tensor's elements as JSON values: int64 arrives as BigInt (written as a number, exact up to 2^53, which every
 * class label and count is), bool as bytes, float16 as its bits where the runtime has no Float16Array.
 */
export function tensorValues(type: ElementType, data: ArrayLike<number | bigint | string>): TensorValue[] {
  const values = new Array<TensorValue>(data.length);
  if (type === 'bool') {
    for (let i = 0; i < data.length; i++) values[i] = Boolean(data[i]);
  } else if (type === 'float16' && Object.prototype.toString.call(data) === '[object Uint16Array]') {
    for (let i = 0; i < data.length; i++) values[i] = halfToNumber(data[i] as number);
  } else {
    for (let i = 0; i < data.length; i++) {
      const value = data[i];
      values[i] = typeof value === 'bigint' ? Number(value) : value;
    }
  }
  return values;
}

/** IEEE 754 binary16 bits as the number they encode. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Which of the selected outputs go back as binary tensor data (Triton's extension), in their order: an output's own
 * `parameters.binary_data` when it has one, else the request's `parameters.binary_data_output`, else JSON. Checked
 * before anything runs, like the outputs themselves.
 */
export function binaryOutputs(
  parameters: InferenceParameters | undefined,
  requested: readonly RequestedOutput[] | undefined,
  selected: readonly OfferedOutput[],
): boolean[] {
  const all = booleanParameter(parameters?.binary_data_output, 'parameters.binary_data_output') ?? false;
  if (requested === undefined) return selected.map(() => all);
  return requested.map(
    (output) =>
      booleanParameter(output.parameters?.binary_data, `output "${output.name}": parameters.binary_data`) ??
      all,
  );
}

function booleanParameter(value: unknown, where: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new InvalidTensorError(`${where} is ${JSON.stringify(value)}; it must be true or false`);
}

/** A response with binary tensor data: the JSON header, then each binary output's bytes, in output order. */
export interface BinaryResponse {
  /** The whole body. */
  body: Buffer;
  /** Bytes of JSON at its start: what `Inference-Header-Content-Length` says. */
  headerLength: number;
}

/**
 * The response as Triton's binary tensor data extension writes it: outputs flagged binary carry
 * `parameters.binary_data_size` and no `data` in the JSON header, and their raw bytes (little-endian, row-major)
 * follow it in output order; the others keep their JSON `data`. Undefined when no output is binary: the response
 * is then plain JSON.
 */
export function binaryResponse<T extends { outputs: ResponseOutputTensor[] }>(
  response: T,
  binary: readonly boolean[],
): BinaryResponse | undefined {
  if (!binary.includes(true)) return undefined;
  const tensors: Buffer[] = [];
  const outputs = response.outputs.map((output, index): ResponseOutputTensor | BinaryResponseOutputTensor => {
    if (!binary[index]) return output;
    const bytes = encodeRawTensor(output.datatype, output.data);
    tensors.push(bytes);
    const { name, datatype, shape } = output;
    return { name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  return { body: Buffer.concat([header, ...tensors]), headerLength: header.byteLength };
}
