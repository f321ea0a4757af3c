import type { ModelSignature } from '../model-signature';
import { InvalidTensorError } from './errors';
import { decodeRawTensor } from './raw-tensors';
import { inputsWithData, rowsOfInputs, lazyInputTensor } from './inference-request';
import { rowsIn } from '../../../../test/support/feature-values';

const signature = (overrides: Partial<ModelSignature> = {}): ModelSignature => ({
  input: { name: 'float_input', type: 'float32', shape: ['', 3] },
  featureCount: 3,
  outputs: [{ name: 'variable', type: 'float32', shape: ['', 1] }],
  head: { task: 'regression', valueOutput: 'variable', targets: 1 },
  ...overrides,
});

const input = (data: unknown[], shape = [2, 3], extra: Partial<{ name: string; datatype: string }> = {}) => ({
  name: 'float_input',
  datatype: 'FP32',
  shape,
  data,
  ...extra,
});

/** The message of the InvalidTensorError `act` throws. */
function refusal(act: () => unknown): string {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTensorError);
    expect((error as InvalidTensorError).status).toBe(400);
    return (error as InvalidTensorError).detail;
  }
  throw new Error('expected an InvalidTensorError');
}

describe('rowsOfInputs', () => {
  it('cuts flat data into rows, row-major, and names each row after the input', () => {
    expect(rowsOfInputs(signature(), [input([1, 2, 3, 4, 5, 6])])).toEqual({
      rows: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      paths: ['float_input[0]', 'float_input[1]'],
    });
  });

  it('takes data nested as the shape the same way', () => {
    const nested = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    expect(rowsIn(rowsOfInputs(signature(), [input(nested)]), 3)).toEqual(
      rowsIn(rowsOfInputs(signature(), [input([1, 2, 3, 4, 5, 6])]), 3),
    );
  });

  it('leaves the values to the prediction service, which checks every route the same way', () => {
    expect(rowsIn(rowsOfInputs(signature(), [input(['a', null, true], [1, 3])]), 3)).toEqual([
      ['a', null, true],
    ]);
  });

  it('names the input the model takes when the request has none or another', () => {
    expect(refusal(() => rowsOfInputs(signature(), []))).toBe(
      'the request has no inputs; the model takes one input, "float_input" FP32 [-1, 3]',
    );
    expect(refusal(() => rowsOfInputs(signature(), [input([1, 2, 3], [1, 3], { name: 'x' })]))).toBe(
      'the model has no input "x"; the model takes one input, "float_input" FP32 [-1, 3]',
    );
    const twice = input([1, 2, 3], [1, 3]);
    expect(refusal(() => rowsOfInputs(signature(), [twice, twice]))).toBe(
      'input "float_input" is given 2 times; send it once',
    );
  });

  it("refuses a datatype other than the model's, naming both", () => {
    expect(refusal(() => rowsOfInputs(signature(), [input([1, 2, 3], [1, 3], { datatype: 'FP64' })]))).toBe(
      'input "float_input" has datatype FP64; the model takes FP32',
    );
    const ints = signature({ input: { name: 'float_input', type: 'int64', shape: ['', 3] } });
    expect(refusal(() => rowsOfInputs(ints, [input([1, 2, 3], [1, 3])]))).toBe(
      'input "float_input" has datatype FP32; the model takes INT64',
    );
  });

  it.each([
    [[3], 'input "float_input" has shape [3]; the model takes [-1, 3]: rows of 3 features'],
    [[1, 4], 'input "float_input" has shape [1, 4]; the model takes [-1, 3]: rows of 3 features'],
    [[1, 1, 3], 'input "float_input" has shape [1, 1, 3]; the model takes [-1, 3]: rows of 3 features'],
    [[0, 3], 'input "float_input" has shape [0, 3]: no rows; send at least one'],
  ])('refuses shape %j', (shape, message) => {
    expect(refusal(() => rowsOfInputs(signature(), [input([1, 2, 3], shape)]))).toBe(message);
  });

  it('refuses data that does not fill the shape, flat or nested', () => {
    expect(refusal(() => rowsOfInputs(signature(), [input([1, 2, 3, 4, 5])]))).toBe(
      'input "float_input" has 5 values in data; shape [2, 3] holds 6',
    );
    expect(refusal(() => rowsOfInputs(signature(), [input([[1, 2, 3]])]))).toBe(
      'input "float_input" has 1 row in data; shape [2, 3] has 2',
    );
    expect(
      refusal(() =>
        rowsOfInputs(signature(), [
          input([
            [1, 2, 3],
            [4, 5],
          ]),
        ]),
      ),
    ).toBe('input "float_input": data[1] has 2 values; shape [2, 3] needs 3 a row');
    expect(refusal(() => rowsOfInputs(signature(), [input([[1, 2, 3], 4])]))).toBe(
      'input "float_input": data[1] is not a row; give data flat (6 values) or nested as shape [2, 3]',
    );
  });

  it('names no row before the data has been found to fill the shape: a shape is only the client’s word', () => {
    // Naming 2^32 rows first would take the process down (or, here, fail to make the array of names).
    expect(refusal(() => rowsOfInputs(signature(), [input([1, 2, 3], [2 ** 32, 3])]))).toBe(
      'input "float_input" has 3 values in data; shape [4294967296, 3] holds 12884901888',
    );
  });

  it('takes any number of rows into a graph with a fixed batch: the runner cuts them to its size', () => {
    const fixed = signature({
      fixedBatchSize: 1,
      input: { name: 'float_input', type: 'float32', shape: [1, 3] },
    });
    expect(rowsIn(rowsOfInputs(fixed, [input([1, 2, 3, 4, 5, 6])]), 3)).toHaveLength(2);
  });
});

describe('inputsWithData', () => {
  /** Little-endian float32s, as numpy's tobytes() writes them on x86 and ARM. */
  const float32Bytes = (values: number[]) => {
    const bytes = Buffer.alloc(values.length * 4);
    values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
    return bytes;
  };
  const binaryInput = (
    size: number,
    shape = [2, 3],
    extra: Partial<{ name: string; datatype: string }> = {},
  ) => ({
    name: 'float_input',
    datatype: 'FP32',
    shape,
    parameters: { binary_data_size: size },
    ...extra,
  });

  it('keeps JSON data as sent when the request has no binary data', () => {
    const json = input([1, 2, 3, 4, 5, 6]);
    expect(inputsWithData([json], undefined)).toEqual([json]);
  });

  it('decodes each binary input from its share of the bytes after the header, in input order', () => {
    const bytes = Buffer.concat([float32Bytes([1.5, -2, 3, 4, 5, 6]), float32Bytes([0.25, 7, 8])]);
    const inputs = inputsWithData(
      [
        binaryInput(24),
        input([9, 9, 9], [1, 3], { name: 'json_input' }),
        binaryInput(12, [1, 3], { name: 'b' }),
      ],
      bytes,
    );
    expect(inputs.map((i) => [i.name, i.data])).toEqual([
      ['float_input', [1.5, -2, 3, 4, 5, 6]],
      ['json_input', [9, 9, 9]],
      ['b', [0.25, 7, 8]],
    ]);
    // Keeps what it was sent besides: the model's checks name the datatype and shape as sent.
    expect(inputs[0]).toMatchObject({
      datatype: 'FP32',
      shape: [2, 3],
      parameters: { binary_data_size: 24 },
    });
  });

  it('takes FP32 bytes that fill the shape as float32 values, without decoding them to flat data first', () => {
    const values = [0.1, -2, Number.NaN, 4, Number.POSITIVE_INFINITY, 6];
    const bytes = float32Bytes(values);
    const undecoded = lazyInputTensor(
      binaryInput(24),
      () => {
        throw new Error('decoded');
      },
      bytes,
    );
    const tensor = rowsOfInputs(signature(), [undecoded]);
    // Read as float32 values, with no number made per value.
    expect(tensor.float32 === undefined ? undefined : tensor.values).toBeInstanceOf(Float32Array);
    const rows = rowsIn(tensor, 3);
    const { float32 } = tensor;
    // Float32 as sent, non-finite values too: the prediction service refuses those, naming the element.
    expect(rows).toEqual([values.slice(0, 3).map(Math.fround), values.slice(3).map(Math.fround)]);
    expect(float32).toBe(bytes);
    // Bytes that do not fill the shape are decoded, and refused in the words flat data gets.
    // (gRPC's raw contents: REST's binary_data_size is checked against the shape before this.)
    const fiveValues = float32Bytes([1, 2, 3, 4, 5]);
    const short = lazyInputTensor(
      binaryInput(20),
      () => decodeRawTensor('float_input', 'FP32', fiveValues),
      fiveValues,
    );
    expect(refusal(() => rowsOfInputs(signature(), [short]))).toBe(
      'input "float_input" has 5 values in data; shape [2, 3] holds 6',
    );
  });

  it('feeds decoded data to rowsOfInputs like JSON data', () => {
    const [decoded] = inputsWithData([binaryInput(24)], float32Bytes([1, 2, 3, 4, 5, 6]));
    expect(rowsIn(rowsOfInputs(signature(), [decoded]), 3)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('takes a binary body whose inputs are all JSON when nothing follows the header', () => {
    expect(inputsWithData([input([1, 2, 3], [1, 3])], Buffer.alloc(0))[0].data).toEqual([1, 2, 3]);
  });

  it('refuses sizes that do not add up to the bytes after the header', () => {
    expect(refusal(() => inputsWithData([binaryInput(24)], float32Bytes([1, 2, 3, 4, 5])))).toBe(
      'the inputs declare 24 bytes of binary data (parameters.binary_data_size) but 20 bytes follow the JSON header',
    );
    expect(refusal(() => inputsWithData([input([1, 2, 3], [1, 3])], Buffer.alloc(4)))).toBe(
      'the inputs declare 0 bytes of binary data (parameters.binary_data_size) but 4 bytes follow the JSON header',
    );
  });

  it("refuses a binary input whose size is not its shape's elements × its datatype's size", () => {
    expect(refusal(() => inputsWithData([binaryInput(20, [2, 3])], Buffer.alloc(20)))).toBe(
      'input "float_input" has parameters.binary_data_size 20; shape [2, 3] of FP32 takes 24 bytes (6 elements of 4)',
    );
    expect(
      refusal(() => inputsWithData([binaryInput(24, [2, 3], { datatype: 'FP64' })], Buffer.alloc(24))),
    ).toBe(
      'input "float_input" has parameters.binary_data_size 24; shape [2, 3] of FP64 takes 48 bytes (6 elements of 8)',
    );
  });

  it('refuses a size that is not a byte count', () => {
    for (const size of [-4, 2.5, '24', null]) {
      expect(
        refusal(() =>
          inputsWithData([{ ...binaryInput(0), parameters: { binary_data_size: size } }], Buffer.alloc(24)),
        ),
      ).toBe(
        `input "float_input" has parameters.binary_data_size ${JSON.stringify(size)}; it must be a whole number of bytes`,
      );
    }
  });

  it('refuses an input with both data and a binary size, and one with neither', () => {
    expect(
      refusal(() => inputsWithData([{ ...binaryInput(24), data: [1, 2, 3, 4, 5, 6] }], Buffer.alloc(24))),
    ).toBe('input "float_input" has both data and parameters.binary_data_size; send its values one way');
    expect(refusal(() => inputsWithData([{ name: 'x', datatype: 'FP32', shape: [1, 3] }], undefined))).toBe(
      'input "x" has no data; give data, or parameters.binary_data_size and its bytes after the JSON header',
    );
  });

  it('refuses a binary size in a request that carries no binary data', () => {
    expect(refusal(() => inputsWithData([binaryInput(24)], undefined))).toMatch(
      /^input "float_input" has parameters.binary_data_size but the request carries no binary data; send the JSON header's length in Inference-Header-Content-Length/,
    );
  });

  it('passes on what the codec finds wrong with the bytes', () => {
    expect(
      refusal(() =>
        inputsWithData([binaryInput(4, [1], { datatype: 'BYTES' })], Buffer.from('09000000', 'hex')),
      ),
    ).toBe('input "float_input": BYTES element 0 declares 9 bytes but only 0 remain in the raw data');
    expect(
      refusal(() => inputsWithData([binaryInput(4, [1], { datatype: 'FLOAT' })], Buffer.alloc(4))),
    ).toMatch(/^input "float_input" has datatype "FLOAT", which the protocol does not have/);
  });
});
