import {
  decodeRawTensor,
  encodeRawTensor,
  InvalidTensorError,
  lazyInputTensor,
  type RequestedOutput,
  type RequestInputTensor,
  type ResponseOutputTensor,
} from '@app/inference';
import type {
  InferInputTensor,
  InferOutputTensor,
  InferTensorContents,
  ModelInferRequest,
  ModelInferResponse,
} from './open-inference.messages';

/*
 * ModelInfer's tensors to and from the protocol's REST form, which rowsOfInputs, selectOutputs and responseOutputs
 * take and give: so gRPC requests are checked, cut into rows and answered by the same code, with the same messages.
 */

type ContentsField = keyof InferTensorContents;

/** Where typed values of each datatype go. FP16 and BF16 have no field: the protocol sends them raw only. */
const CONTENTS_FIELD: Readonly<Record<string, ContentsField>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const ALL_FIELDS: readonly ContentsField[] = [...new Set(Object.values(CONTENTS_FIELD))];

function contentsFieldOf(datatype: string): ContentsField | undefined {
  return Object.hasOwn(CONTENTS_FIELD, datatype) ? CONTENTS_FIELD[datatype] : undefined;
}

/**
 * The request's input tensors in the REST form, their data from `contents` or from `raw_input_contents`. Data is
 * read when rowsOfInputs first asks for it, after it has checked names, datatype and shape: a request with the wrong
 * datatype then hears that, as over REST, rather than what its bytes would have meant in the wrong datatype.
 */
export function inputTensors(request: ModelInferRequest): RequestInputTensor[] {
  const { inputs, raw_input_contents: raw } = request;
  // REST's DTO refuses these before anything else, in these words; int64 dimensions can be negative here.
  inputs.forEach(({ shape }, index) => {
    if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
      throw new InvalidTensorError(`inputs[${index}].shape must be an array of non-negative integers`);
    }
  });
  if (raw.length === 0) return inputs.map((input) => lazyInputTensor(input, () => typedValues(input)));
  if (raw.length !== inputs.length) {
    throw new InvalidTensorError(
      `the request has ${raw.length} raw_input_contents for ${inputs.length} input${inputs.length === 1 ? '' : 's'}; send one for each input, in the order of inputs`,
    );
  }
  return inputs.map((input, index) => {
    if (input.contents !== null) {
      throw new InvalidTensorError(
        `input "${input.name}" has contents while the request has raw_input_contents; send its data in one of them`,
      );
    }
    const bytes = raw[index];
    return lazyInputTensor(input, () => decodeRawTensor(input.name, input.datatype, bytes), bytes);
  });
}

/** The values of the contents field of the input's datatype; a stray field is named, not silently ignored. */
function typedValues(input: InferInputTensor): unknown[] {
  const { contents, name, datatype } = input;
  if (contents === null) return [];
  const field = contentsFieldOf(datatype);
  const stray = ALL_FIELDS.find((candidate) => candidate !== field && contents[candidate].length > 0);
  if (stray !== undefined) {
    throw new InvalidTensorError(
      field === undefined
        ? `input "${name}" is ${datatype}, which has no typed contents; send its data in raw_input_contents`
        : `input "${name}" is ${datatype}, whose values go in contents.${field}; it has values in contents.${stray}`,
    );
  }
  if (field === undefined) return [];
  return field === 'bytes_contents'
    ? contents.bytes_contents.map((element) => element.toString('utf8'))
    : contents[field];
}

/** The outputs the request names; undefined, which means all of them, when it names none. */
export function requestedOutputs(request: ModelInferRequest): RequestedOutput[] | undefined {
  return request.outputs.length === 0 ? undefined : request.outputs.map(({ name }) => ({ name }));
}

/**
 * The response to a ModelInfer call. Raw (`raw_output_contents`) when the request sent raw inputs: Triton's and
 * KServe's clients send raw and read raw back (Triton's `as_numpy` reads nothing else but BYTES contents); typed
 * `contents` for a client that sent typed values. Raw too when an output has no typed field (FP16, BF16), since a
 * response is wholly one or the other.
 */
export function inferenceResponseOf(
  model: { name: string; version: string },
  id: string,
  outputs: readonly ResponseOutputTensor[],
  { raw }: { raw: boolean },
): ModelInferResponse {
  const asRaw = raw || outputs.some((output) => contentsFieldOf(output.datatype) === undefined);
  return {
    model_name: model.name,
    model_version: model.version,
    id,
    outputs: outputs.map((output): InferOutputTensor => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      ...(asRaw ? {} : { contents: typedContents(output) }),
    })),
    raw_output_contents: asRaw ? outputs.map((output) => encodeRawTensor(output.datatype, output.data)) : [],
  };
}

function typedContents(output: ResponseOutputTensor): Partial<InferTensorContents> {
  const field = contentsFieldOf(output.datatype);
  if (field === undefined) throw new RangeError(`datatype ${output.datatype} has no typed contents`);
  if (field === 'bytes_contents') {
    return { bytes_contents: output.data.map((value) => Buffer.from(String(value), 'utf8')) };
  }
  return { [field]: output.data };
}
