import type { ModelSignature } from '../model-signature';
import { InvalidTensorError } from './errors';
import { type InferenceRequestBody, refuseBinaryData, rowsOfInputs } from './inference-request';

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
    expect(rowsOfInputs(signature(), [input(nested)]).rows).toEqual(
      rowsOfInputs(signature(), [input([1, 2, 3, 4, 5, 6])]).rows,
    );
  });

  it('leaves the values to the prediction service, which checks every route the same way', () => {
    expect(rowsOfInputs(signature(), [input(['a', null, true], [1, 3])]).rows).toEqual([['a', null, true]]);
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

  it('takes any number of rows into a graph with a fixed batch: the runner cuts them to its size', () => {
    const fixed = signature({
      fixedBatchSize: 1,
      input: { name: 'float_input', type: 'float32', shape: [1, 3] },
    });
    expect(rowsOfInputs(fixed, [input([1, 2, 3, 4, 5, 6])]).rows).toHaveLength(2);
  });
});

describe('refuseBinaryData', () => {
  const request = (overrides: Partial<InferenceRequestBody> = {}): InferenceRequestBody => ({
    inputs: [input([1, 2, 3], [1, 3])],
    ...overrides,
  });

  it("refuses what asks for Triton's binary tensor data extension", () => {
    expect(refusal(() => refuseBinaryData(request({ parameters: { binary_data_output: true } })))).toMatch(
      /^parameters.binary_data_output is true; Triton's binary tensor data extension is not supported/,
    );
    expect(
      refusal(() =>
        refuseBinaryData(
          request({ inputs: [{ ...input([], [1, 3]), parameters: { binary_data_size: 12 } }] }),
        ),
      ),
    ).toMatch(/^input "float_input" has parameters.binary_data_size; .*binary_data=False/);
    expect(
      refusal(() =>
        refuseBinaryData(request({ outputs: [{ name: 'variable', parameters: { binary_data: true } }] })),
      ),
    ).toMatch(/^output "variable" asks for binary_data; /);
  });

  it('lets JSON requests through, whatever other parameters they carry', () => {
    expect(() =>
      refuseBinaryData(
        request({
          parameters: { binary_data_output: false, priority: 1 },
          outputs: [{ name: 'variable', parameters: { binary_data: false } }],
        }),
      ),
    ).not.toThrow();
  });
});
