import type { ModelSignature } from '../model-signature';
import { inferenceAnswer, planInference } from './inference-exchange';
import { rowsIn } from '../../../../test/support/feature-values';

const signature: ModelSignature = {
  input: { name: 'float_input', type: 'float32', shape: ['', 3] },
  featureCount: 3,
  outputs: [{ name: 'variable', type: 'float32', shape: ['', 1] }],
  head: { task: 'regression', valueOutput: 'variable', targets: 1 },
};

const ROWS = [
  [0.5, -2, 0.25],
  [1, 2, 3],
];

function float32le(values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes;
}

const binaryInput = {
  name: 'float_input',
  datatype: 'FP32',
  shape: [2, 3],
  parameters: { binary_data_size: 24 },
};

describe('planInference', () => {
  it('keeps the rows’ bytes of an FP32 input sent in binary, for the prediction log', () => {
    const bytes = float32le(ROWS.flat());
    const plan = planInference(signature, { inputs: [binaryInput] }, bytes);
    expect(rowsIn(plan, 3)).toEqual(ROWS);
    expect(plan.paths).toEqual(['float_input[0]', 'float_input[1]']);
    expect(Buffer.from(plan.float32!)).toEqual(bytes);
    expect(plan.selected.map((o) => o.name)).toEqual(['variable']);
    expect(plan.binary).toEqual([false]);
  });

  it('has no bytes to keep for data sent as JSON', () => {
    const plan = planInference(
      signature,
      { inputs: [{ name: 'float_input', datatype: 'FP32', shape: [2, 3], data: ROWS.flat() }] },
      undefined,
    );
    expect(rowsIn(plan, 3)).toEqual(ROWS);
    expect(plan.float32).toBeUndefined();
  });
});

describe('inferenceAnswer', () => {
  const run = {
    model: { name: 'reg', version: '3' },
    outputs: { variable: { data: new Float32Array([1.5, -4]), dims: [2, 1] } },
    predictions: [
      { task: 'regression' as const, value: 1.5 },
      { task: 'regression' as const, value: -4 },
    ],
  };
  const body = { id: 'r-9', inputs: [binaryInput] };

  it('answers JSON with the request’s id, as Express’ res.json would write it', () => {
    const plan = planInference(signature, body, float32le(ROWS.flat()));
    const answer = inferenceAnswer(signature, body, plan, run);
    expect(answer).toEqual({
      binary: false,
      body: JSON.stringify({
        model_name: 'reg',
        model_version: '3',
        id: 'r-9',
        outputs: [{ name: 'variable', datatype: 'FP32', shape: [2, 1], data: [1.5, -4] }],
      }),
    });
  });

  it('answers in Triton’s binary form when the request asks for binary outputs', () => {
    const asked = { ...body, parameters: { binary_data_output: true } };
    const plan = planInference(signature, asked, float32le(ROWS.flat()));
    const answer = inferenceAnswer(signature, asked, plan, run);
    if (!answer.binary) throw new Error('expected a binary answer');
    const header = JSON.parse(answer.body.subarray(0, answer.headerLength).toString('utf8')) as unknown;
    expect(header).toEqual({
      model_name: 'reg',
      model_version: '3',
      id: 'r-9',
      outputs: [{ name: 'variable', datatype: 'FP32', shape: [2, 1], parameters: { binary_data_size: 8 } }],
    });
    expect(answer.body.subarray(answer.headerLength)).toEqual(float32le([1.5, -4]));
  });
});
