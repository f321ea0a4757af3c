import { inferenceResponseOf, inputTensors, requestedOutputs } from './grpc-tensors';
import type { InferInputTensor, InferTensorContents, ModelInferRequest } from './open-inference.messages';

/** What proto-loader hands the handler for an InferTensorContents with only `filled` set. */
function contents(filled: Partial<InferTensorContents>): InferTensorContents {
  return {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
    ...filled,
  };
}

function input(overrides: Partial<InferInputTensor> = {}): InferInputTensor {
  return {
    name: 'float_input',
    datatype: 'FP32',
    shape: [1, 2],
    parameters: {},
    contents: null,
    ...overrides,
  };
}

function request(overrides: Partial<ModelInferRequest> = {}): ModelInferRequest {
  return {
    model_name: 'm',
    model_version: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    raw_input_contents: [],
    ...overrides,
  };
}

function fp32(...values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

describe('inputTensors', () => {
  it("reads typed values from the datatype's own field", () => {
    const [tensor] = inputTensors(
      request({ inputs: [input({ contents: contents({ fp32_contents: [0.5, 1.5] }) })] }),
    );
    expect(tensor).toMatchObject({ name: 'float_input', datatype: 'FP32', shape: [1, 2] });
    expect(tensor.data).toEqual([0.5, 1.5]);
    const [strings] = inputTensors(
      request({
        inputs: [
          input({
            datatype: 'BYTES',
            contents: contents({ bytes_contents: [Buffer.from('é'), Buffer.from('b')] }),
          }),
        ],
      }),
    );
    expect(strings.data).toEqual(['é', 'b']);
    const [integers] = inputTensors(
      request({ inputs: [input({ datatype: 'INT16', contents: contents({ int_contents: [-3, 7] }) })] }),
    );
    expect(integers.data).toEqual([-3, 7]);
  });

  it('reads raw bytes, the one for each input in the order of inputs', () => {
    const tensors = inputTensors(
      request({
        inputs: [input(), input({ name: 'second', shape: [1, 1] })],
        raw_input_contents: [fp32(0.25, -2), fp32(8)],
      }),
    );
    expect(tensors.map((tensor) => [tensor.name, tensor.data])).toEqual([
      ['float_input', [0.25, -2]],
      ['second', [8]],
    ]);
  });

  it('reads nothing until the data is asked for, so the checks before it speak first', () => {
    // Bytes that are no FP64 tensor at all: the datatype check, not the decoder, is what should answer.
    const [tensor] = inputTensors(
      request({ inputs: [input({ datatype: 'FP64' })], raw_input_contents: [Buffer.alloc(3)] }),
    );
    expect(tensor.datatype).toBe('FP64');
    expect(() => tensor.data).toThrow('input "float_input" has 3 bytes of raw data; a FP64 element takes 8');
  });

  it('has no data for an input sent with neither contents nor raw bytes', () => {
    expect(inputTensors(request({ inputs: [input()] }))[0].data).toEqual([]);
  });

  it.each([
    [
      'raw contents that do not match the inputs one for one',
      request({ inputs: [input()], raw_input_contents: [fp32(1, 2), fp32(3, 4)] }),
      'the request has 2 raw_input_contents for 1 input; send one for each input, in the order of inputs',
    ],
    [
      'contents beside raw contents',
      request({
        inputs: [input({ contents: contents({ fp32_contents: [1, 2] }) })],
        raw_input_contents: [fp32(1, 2)],
      }),
      'input "float_input" has contents while the request has raw_input_contents; send its data in one of them',
    ],
    [
      'a negative dimension, as REST does',
      request({ inputs: [input(), input({ name: 'b', shape: [1, -1] })] }),
      'inputs[1].shape must be an array of non-negative integers',
    ],
  ])('refuses %s', (_, body, message) => {
    expect(() => inputTensors(body)).toThrow(message);
  });

  it.each([
    [
      'values in the field of another datatype',
      input({ contents: contents({ fp64_contents: [1, 2] }) }),
      'input "float_input" is FP32, whose values go in contents.fp32_contents; it has values in contents.fp64_contents',
    ],
    [
      'typed values of a datatype the protocol sends raw only',
      input({ datatype: 'FP16', contents: contents({ fp32_contents: [1, 2] }) }),
      'input "float_input" is FP16, which has no typed contents; send its data in raw_input_contents',
    ],
  ])('refuses %s when the data is read', (_, body, message) => {
    const [tensor] = inputTensors(request({ inputs: [body] }));
    expect(() => tensor.data).toThrow(message);
  });
});

describe('requestedOutputs', () => {
  it('asks for every output when the request names none, else for those named', () => {
    expect(requestedOutputs(request())).toBeUndefined();
    expect(
      requestedOutputs(
        request({
          outputs: [
            { name: 'b', parameters: {} },
            { name: 'a', parameters: { binary_data: { bool_param: true } } },
          ],
        }),
      ),
    ).toEqual([{ name: 'b' }, { name: 'a' }]);
  });
});

describe('inferenceResponseOf', () => {
  const model = { name: 'm', version: '3' };
  const label = { name: 'label', datatype: 'INT64', shape: [2], data: [0, 7] };
  const scores = { name: 'scores', datatype: 'FP32', shape: [2, 1], data: [0.5, 0.25] };
  const names = { name: 'names', datatype: 'BYTES', shape: [2], data: ['ab', 'é'] };

  it('answers typed contents to a typed request, in the field of each datatype', () => {
    const response = inferenceResponseOf(model, 'id-1', [label, scores, names], { raw: false });
    expect(response).toMatchObject({
      model_name: 'm',
      model_version: '3',
      id: 'id-1',
      raw_output_contents: [],
    });
    expect(response.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [2], contents: { int64_contents: [0, 7] } },
      { name: 'scores', datatype: 'FP32', shape: [2, 1], contents: { fp32_contents: [0.5, 0.25] } },
      {
        name: 'names',
        datatype: 'BYTES',
        shape: [2],
        contents: { bytes_contents: [Buffer.from('ab'), Buffer.from('é')] },
      },
    ]);
  });

  it('answers raw bytes to a raw request: little-endian, BYTES elements after their length', () => {
    const response = inferenceResponseOf(model, '', [label, scores, names], { raw: true });
    expect(response.outputs.map((output) => output.contents)).toEqual([undefined, undefined, undefined]);
    const int64 = Buffer.alloc(16);
    int64.writeBigInt64LE(0n, 0);
    int64.writeBigInt64LE(7n, 8);
    const bytes = Buffer.concat([
      Buffer.from([2, 0, 0, 0]),
      Buffer.from('ab'),
      Buffer.from([2, 0, 0, 0]),
      Buffer.from('é'),
    ]);
    expect(response.raw_output_contents).toEqual([int64, fp32(0.5, 0.25), bytes]);
  });

  it('answers raw when an output has no typed field, since a response is one form or the other', () => {
    const half = { name: 'half', datatype: 'FP16', shape: [1], data: [1] };
    const response = inferenceResponseOf(model, '', [scores, half], { raw: false });
    expect(response.raw_output_contents).toEqual([fp32(0.5, 0.25), Buffer.from([0x00, 0x3c])]);
  });
});
