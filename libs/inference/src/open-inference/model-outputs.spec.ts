import type { ServedModel } from '../registry/served-model';
import type { ClassifierOutputs, ModelSignature, Prediction } from '../model-signature';
import { interpretOutputs } from '../onnx';
import { InvalidTensorError } from './errors';
import { modelMetadata } from './model-metadata';
import {
  binaryOutputs,
  binaryResponse,
  type BinaryResponseOutputTensor,
  halfToNumber,
  offeredOutputs,
  responseOutputs,
  type ResponseOutputTensor,
  selectOutputs,
  tensorValues,
} from './model-outputs';

const input = { name: 'float_input', type: 'float32', shape: ['', 2] };

/** A scikit-learn classifier as served after the ZipMap rewrite: a label tensor and a probability tensor. */
const sklearn: ModelSignature = {
  input,
  featureCount: 2,
  outputs: [
    { name: 'output_label', type: 'string', shape: [''] },
    { name: 'output_probability', type: 'float32', shape: ['', 3] },
  ],
  head: {
    task: 'classification',
    labels: ['setosa', 'versicolor', 'virginica'],
    scoreOutput: 'output_probability',
    scoreKind: 'probabilities',
    labelOutput: 'output_label',
  },
};

/** A PyTorch classifier ending in Linear, exported with a fixed batch of 1, labels renamed by model.json. */
const torchLogits: ModelSignature = {
  input: { name: 'input', type: 'float32', shape: [1, 2] },
  featureCount: 2,
  fixedBatchSize: 1,
  outputs: [{ name: 'output', type: 'float32', shape: [1, 3] }],
  head: { task: 'classification', labels: [10, 2, 7], scoreOutput: 'output', scoreKind: 'logits' },
};

const positiveLogit: ModelSignature = {
  input,
  featureCount: 2,
  outputs: [{ name: 'logit', type: 'float32', shape: ['batch', 1] }],
  head: { task: 'classification', labels: [0, 1], scoreOutput: 'logit', scoreKind: 'positive-logit' },
};

const regressor: ModelSignature = {
  input,
  featureCount: 2,
  outputs: [{ name: 'variable', type: 'float64', shape: ['', 2] }],
  head: { task: 'regression', valueOutput: 'variable', targets: 2 },
};

describe('offeredOutputs', () => {
  it("offers a scikit-learn classifier's own tensors, BYTES for string labels, with -1 for the batch", () => {
    expect(offeredOutputs(sklearn).map(({ name, datatype, shape }) => ({ name, datatype, shape }))).toEqual([
      { name: 'output_label', datatype: 'BYTES', shape: [-1] },
      { name: 'output_probability', datatype: 'FP32', shape: [-1, 3] },
    ]);
  });

  it('adds the derived FP32 probabilities to a classifier scored by logits, batch -1 even for a fixed batch', () => {
    expect(
      offeredOutputs(torchLogits).map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    ).toEqual([
      { name: 'output', datatype: 'FP32', shape: [-1, 3] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ]);
    // One logit scores two classes: the derived probabilities have both.
    expect(offeredOutputs(positiveLogit).at(-1)).toMatchObject({ name: 'probabilities', shape: [-1, 2] });
  });

  it('derives nothing when a graph output already has the name, nor for probabilities or regressors', () => {
    const named: ModelSignature = {
      ...torchLogits,
      outputs: [{ name: 'probabilities', type: 'float32', shape: [1, 3] }],
      head: { ...(torchLogits.head as ClassifierOutputs), scoreOutput: 'probabilities' },
    };
    expect(offeredOutputs(named).map((o) => o.name)).toEqual(['probabilities']);
    expect(offeredOutputs(sklearn).map((o) => o.name)).not.toContain('probabilities');
    expect(offeredOutputs(regressor).map((o) => o.name)).toEqual(['variable']);
  });
});

describe('selectOutputs', () => {
  it('gives every offered output when none are asked for, else the named ones in the order asked', () => {
    expect(selectOutputs(torchLogits, undefined).map((o) => o.name)).toEqual(['output', 'probabilities']);
    expect(
      selectOutputs(torchLogits, [{ name: 'probabilities' }, { name: 'output' }]).map((o) => o.name),
    ).toEqual(['probabilities', 'output']);
  });

  it('refuses an output the model does not have, naming those it has, and one asked for twice', () => {
    expect(() => selectOutputs(sklearn, [{ name: 'probabilities' }])).toThrow(
      new InvalidTensorError(
        'the model has no output "probabilities"; it has "output_label", "output_probability"',
      ),
    );
    expect(() => selectOutputs(sklearn, [{ name: 'output_label' }, { name: 'output_label' }])).toThrow(
      'output "output_label" is asked for twice; ask once',
    );
  });
});

describe('responseOutputs', () => {
  it('answers graph tensors with the shape they came back with, int64 as numbers and strings as they are', () => {
    const tensors = {
      output_label: { data: ['virginica', 'setosa'], dims: [2] },
      output_probability: { data: Float32Array.of(0.1, 0.2, 0.7, 0.8, 0.15, 0.05), dims: [2, 3] },
    };
    const predictions = interpretOutputs(sklearn, tensors, 2);
    expect(responseOutputs(sklearn, selectOutputs(sklearn, undefined), tensors, predictions)).toEqual([
      { name: 'output_label', datatype: 'BYTES', shape: [2], data: ['virginica', 'setosa'] },
      {
        name: 'output_probability',
        datatype: 'FP32',
        shape: [2, 3],
        data: Array.from(Float32Array.of(0.1, 0.2, 0.7, 0.8, 0.15, 0.05)),
      },
    ]);
  });

  it('derives probabilities from the predictions, in the order of labels even when labels sort otherwise', () => {
    const logits = [2, -1, 0.5, 0, 0, 3];
    const tensors = { output: { data: Float32Array.from(logits), dims: [2, 3] } };
    const predictions = interpretOutputs(torchLogits, tensors, 2);
    const [raw, derived] = responseOutputs(
      torchLogits,
      selectOutputs(torchLogits, undefined),
      tensors,
      predictions,
    );
    expect(raw).toEqual({ name: 'output', datatype: 'FP32', shape: [2, 3], data: logits });
    expect(derived).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 3] });
    // Softmax by hand, columns as the labels [10, 2, 7] are listed (not 2, 7, 10).
    const softmax = (row: number[]) => row.map((z) => Math.exp(z) / row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = [...softmax(logits.slice(0, 3)), ...softmax(logits.slice(3))];
    derived.data.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
    // FP32 as declared.
    derived.data.forEach((p) => expect(Math.fround(p as number)).toBe(p));
  });

  it('derives [1 - p, p] from one logit', () => {
    const tensors = { logit: { data: Float32Array.of(0, 2), dims: [2, 1] } };
    const predictions: Prediction[] = interpretOutputs(positiveLogit, tensors, 2);
    const [derived] = responseOutputs(
      positiveLogit,
      selectOutputs(positiveLogit, [{ name: 'probabilities' }]),
      tensors,
      predictions,
    );
    const p = 1 / (1 + Math.exp(-2));
    expect(derived.shape).toEqual([2, 2]);
    [0.5, 0.5, 1 - p, p].forEach((expected, i) => expect(derived.data[i]).toBeCloseTo(expected, 6));
  });
});

describe('binaryOutputs', () => {
  const all = selectOutputs(sklearn, undefined);

  it('sends outputs as JSON unless asked otherwise', () => {
    expect(binaryOutputs(undefined, undefined, all)).toEqual([false, false]);
    expect(binaryOutputs({ priority: 1 }, undefined, all)).toEqual([false, false]);
  });

  it('sends every output as binary with binary_data_output, outputs named or not', () => {
    expect(binaryOutputs({ binary_data_output: true }, undefined, all)).toEqual([true, true]);
    const named = [{ name: 'output_probability' }];
    expect(binaryOutputs({ binary_data_output: true }, named, selectOutputs(sklearn, named))).toEqual([true]);
  });

  it("lets an output's binary_data win over the request's binary_data_output, either way", () => {
    const requested = [
      { name: 'output_label', parameters: { binary_data: false } },
      { name: 'output_probability' },
    ];
    expect(binaryOutputs({ binary_data_output: true }, requested, selectOutputs(sklearn, requested))).toEqual(
      [false, true],
    );
    const one = [{ name: 'output_probability', parameters: { binary_data: true } }, { name: 'output_label' }];
    expect(binaryOutputs(undefined, one, selectOutputs(sklearn, one))).toEqual([true, false]);
  });

  it('refuses flags that are not booleans', () => {
    expect(() => binaryOutputs({ binary_data_output: 'true' }, undefined, all)).toThrow(
      new InvalidTensorError('parameters.binary_data_output is "true"; it must be true or false'),
    );
    const requested = [{ name: 'output_label', parameters: { binary_data: 1 } }];
    expect(() => binaryOutputs(undefined, requested, selectOutputs(sklearn, requested))).toThrow(
      'output "output_label": parameters.binary_data is 1; it must be true or false',
    );
  });
});

describe('binaryResponse', () => {
  const response = () => ({
    model_name: 'iris',
    model_version: '1',
    id: 'é-42',
    outputs: [
      { name: 'output_label', datatype: 'BYTES', shape: [2], data: ['virginica', 'setosa'] },
      { name: 'output_probability', datatype: 'FP32', shape: [2, 2], data: [0.25, 0.75, 1, 0] },
    ],
  });

  /** The JSON header of a binary response: binary outputs carry their size, the others their data. */
  type BinaryHeader = { outputs: Array<ResponseOutputTensor | BinaryResponseOutputTensor> };

  it('is nothing when every output is JSON', () => {
    expect(binaryResponse(response(), [false, false])).toBeUndefined();
  });

  it('writes the JSON header, binary outputs without data and with their size, then their bytes in order', () => {
    const answer = binaryResponse(response(), [true, true]);
    if (answer === undefined) throw new Error('expected a binary response');
    const header = JSON.parse(answer.body.subarray(0, answer.headerLength).toString('utf8')) as BinaryHeader;
    expect(header).toEqual({
      model_name: 'iris',
      model_version: '1',
      id: 'é-42',
      outputs: [
        {
          name: 'output_label',
          datatype: 'BYTES',
          shape: [2],
          parameters: { binary_data_size: 4 + 9 + 4 + 6 },
        },
        { name: 'output_probability', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } },
      ],
    });
    // The header length counts bytes: the id's "é" is two of them.
    expect(answer.headerLength).toBe(Buffer.byteLength(JSON.stringify(header)));
    const tail = answer.body.subarray(answer.headerLength);
    expect(tail.length).toBe(23 + 16);
    expect(tail.readUInt32LE(0)).toBe(9);
    expect(tail.subarray(4, 13).toString()).toBe('virginica');
    expect(tail.readUInt32LE(13)).toBe(6);
    expect(tail.subarray(17, 23).toString()).toBe('setosa');
    expect([0, 1, 2, 3].map((i) => tail.readFloatLE(23 + i * 4))).toEqual([0.25, 0.75, 1, 0]);
  });

  it('keeps JSON outputs as they are beside binary ones', () => {
    const answer = binaryResponse(response(), [false, true]);
    if (answer === undefined) throw new Error('expected a binary response');
    const header = JSON.parse(answer.body.subarray(0, answer.headerLength).toString('utf8')) as BinaryHeader;
    expect(header.outputs[0]).toEqual(response().outputs[0]);
    expect(header.outputs[1]).toEqual({
      name: 'output_probability',
      datatype: 'FP32',
      shape: [2, 2],
      parameters: { binary_data_size: 16 },
    });
    expect(answer.body.length).toBe(answer.headerLength + 16);
  });
});

describe('tensorValues', () => {
  it('writes int64 as numbers, bool as booleans and float16 bits as the numbers they encode', () => {
    expect(tensorValues('int64', BigInt64Array.of(3n, -7n))).toEqual([3, -7]);
    expect(tensorValues('bool', Uint8Array.of(1, 0))).toEqual([true, false]);
    expect(tensorValues('float16', Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x0001))).toEqual([
      1,
      -2,
      halfToNumber(0x3555),
      2 ** -24,
    ]);
    expect(halfToNumber(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
  });
});

describe('modelMetadata', () => {
  const served = (signature: ModelSignature): ServedModel =>
    ({ name: 'iris', version: '3', signature }) as unknown as ServedModel;

  it('describes the input as served, every output, and what each holds', () => {
    expect(modelMetadata(served({ ...torchLogits, features: ['a', 'b'] }))).toEqual({
      name: 'iris',
      versions: ['3'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 2] }],
      outputs: [
        { name: 'output', datatype: 'FP32', shape: [-1, 3] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
      properties: {
        task: 'classification',
        labels: '[10,2,7]',
        scores: 'logits',
        features: '["a","b"]',
        'output.output':
          'logits (unnormalised scores) of each class per row, columns in the order of labels; their softmax is "probabilities"',
        'output.probabilities':
          'derived by the server: softmax of "output"; the probability of each class per row, columns in the order of labels',
      },
    });
  });

  it('says what a regressor and a scikit-learn classifier return', () => {
    expect(modelMetadata(served(regressor)).properties).toEqual({
      task: 'regression',
      targets: '2',
      'output.variable': 'the predicted values per row, one column per target (2)',
    });
    expect(modelMetadata(served(sklearn)).properties).toMatchObject({
      labels: '["setosa","versicolor","virginica"]',
      'output.output_label': 'the predicted class label per row, one of labels',
      'output.output_probability': 'the probability of each class per row, columns in the order of labels',
    });
  });
});
