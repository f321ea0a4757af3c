import type { ClassPrediction, ModelSignature, Prediction } from '../model-signature';
import type { OutputTensor } from '../onnx';
import {
  checkFitsModel,
  compareOutputs,
  describeDeviation,
  isClose,
  type ValidationReport,
  worstFailure,
} from './compare-outputs';
import type { ValidationFile } from './validation-file';

const TOLERANCE = { atol: 1e-5, rtol: 1e-5 };

function classifier(labels: Array<string | number>, graphLabels?: Array<string | number>): ModelSignature {
  return {
    input: { name: 'float_input', type: 'float32', shape: ['', 2] },
    featureCount: 2,
    outputs: [
      { name: 'output_label', type: 'int64', shape: [''] },
      { name: 'output_probability', type: 'float32', shape: ['', labels.length] },
    ],
    head: {
      task: 'classification',
      labels,
      scoreOutput: 'output_probability',
      scoreKind: 'probabilities',
      labelOutput: 'output_label',
      ...(graphLabels ? { graphLabels } : {}),
    },
  };
}

function regressor(targets: number): ModelSignature {
  return {
    input: { name: 'input', type: 'float32', shape: ['batch', 2] },
    featureCount: 2,
    outputs: [{ name: 'variable', type: 'float32', shape: ['batch', targets] }],
    head: { task: 'regression', valueOutput: 'variable', targets },
  };
}

/** What the service serves for one row of a classifier with labels [0, 1]. */
function served(label: 0 | 1, p1: number): ClassPrediction {
  const probabilities = { '0': 1 - p1, '1': p1 };
  return { task: 'classification', label, probability: probabilities[label], probabilities };
}

const INPUTS = [
  [0.1, 0.2],
  [0.3, 0.4],
  [0.5, 0.6],
];

function compare(
  file: Omit<ValidationFile, 'inputs'>,
  signature: ModelSignature,
  predictions: Prediction[],
  outputs: Record<string, OutputTensor> = {},
): ValidationReport {
  const whole = { inputs: INPUTS, ...file };
  checkFitsModel(whole, signature);
  return compareOutputs(whole, signature, predictions, outputs);
}

describe('isClose (numpy.isclose: |got − expected| ≤ atol + rtol·|expected|)', () => {
  it('allows atol near zero and rtol·|expected| on large values, up to and including the bound', () => {
    expect(isClose(0.5 + 1.4e-5, 0.5, TOLERANCE)).toBe(true);
    expect(isClose(0.5 + 1.6e-5, 0.5, TOLERANCE)).toBe(false);
    expect(isClose(1000.009, 1000, TOLERANCE)).toBe(true);
    expect(isClose(1000.011, 1000, TOLERANCE)).toBe(false);
    expect(isClose(1000.005, 1000, { atol: 1e-5, rtol: 0 })).toBe(false);
    // Relative to the expected value, not the got one: numpy's asymmetric rule.
    expect(isClose(2, 1, { atol: 0, rtol: 0.6 })).toBe(false);
    expect(isClose(1, 2, { atol: 0, rtol: 0.6 })).toBe(true);
    expect(isClose(0.25, 0.25, { atol: 0, rtol: 0 })).toBe(true);
    expect(isClose(Number.NaN, 0.25, TOLERANCE)).toBe(false);
  });
});

describe('compareOutputs', () => {
  const labels01 = classifier([0, 1]);

  it('passes a classifier whose labels match exactly and probabilities within the tolerance', () => {
    const report = compare(
      {
        labels: [0, 1, 1],
        probabilities: [
          [0.9, 0.1],
          [0.3, 0.7],
          [0.45, 0.55],
        ],
      },
      labels01,
      [served(0, 0.1 + 5e-6), served(1, 0.7), served(1, 0.55 - 1e-6)],
    );
    expect(report.passed).toBe(true);
    expect(report.rows).toBe(3);
    expect(report.tolerance).toEqual(TOLERANCE);
    expect(report.checks.map(({ field, compared, failed }) => ({ field, compared, failed }))).toEqual([
      { field: 'labels', compared: 3, failed: 0 },
      { field: 'probabilities', compared: 6, failed: 0 },
    ]);
    // The worst value is reported even when it passes: how close the export is. Both columns of row 0 are 5e-6
    // off; P(1) = 0.1 is allowed less than P(0) = 0.9, so it is the closer call.
    expect(report.checks[1].worst).toMatchObject({ row: 0, column: '1', expected: 0.1 });
    expect(worstFailure(report)).toBeUndefined();
  });

  it('fails on one label off, naming the first row that differs', () => {
    const report = compare({ labels: [0, 0, 1] }, labels01, [
      served(0, 0.4),
      served(1, 0.51),
      served(0, 0.49),
    ]);
    expect(report.passed).toBe(false);
    expect(report.checks[0]).toEqual({
      field: 'labels',
      compared: 3,
      failed: 2,
      worst: { row: 1, expected: 0, got: 1 },
    });
  });

  it('compares labels as text, in the names model.json gives the classes or the graph’s own', () => {
    const renamed = classifier(['negative', 'positive'], [0, 1]);
    const predictions: Prediction[] = [
      {
        task: 'classification',
        label: 'negative',
        probability: 0.8,
        probabilities: { negative: 0.8, positive: 0.2 },
      },
      {
        task: 'classification',
        label: 'positive',
        probability: 0.7,
        probabilities: { negative: 0.3, positive: 0.7 },
      },
      {
        task: 'classification',
        label: 'positive',
        probability: 0.9,
        probabilities: { negative: 0.1, positive: 0.9 },
      },
    ];
    expect(compare({ labels: [0, 'positive', '1'] }, renamed, predictions).passed).toBe(true);
    expect(compare({ labels: ['0', 1, 'negative'] }, renamed, predictions).checks[0]).toMatchObject({
      failed: 1,
      worst: { row: 2, expected: 'negative', got: 'positive' },
    });
  });

  it('names as worst the value furthest past its own allowance, not the largest absolute difference', () => {
    // Row 0 is off by 2e-3 on a value of 500 (allowed 5e-3); row 2 by 2e-5 on 0.01 (allowed 1.01e-5).
    const report = compare({ values: [500, 1, 0.01] }, regressor(1), [
      { task: 'regression', value: 500.002 },
      { task: 'regression', value: 1 },
      { task: 'regression', value: 0.01002 },
    ]);
    expect(report.passed).toBe(false);
    const check = report.checks[0];
    expect(check).toMatchObject({ field: 'values', compared: 3, failed: 1 });
    expect(check.worst).toMatchObject({ row: 2, expected: 0.01, got: 0.01002 });
    expect(check.worst!.difference).toBeCloseTo(2e-5, 12);
    expect(check.worst!.allowed).toBeCloseTo(1.01e-5, 12);
    expect(check.worst!.column).toBeUndefined();
  });

  it('takes the file’s own tolerances', () => {
    const predictions = [served(0, 0.1005), served(1, 0.7), served(1, 0.55)];
    const probabilities = [
      [0.9, 0.1],
      [0.3, 0.7],
      [0.45, 0.55],
    ];
    expect(compare({ probabilities }, labels01, predictions).passed).toBe(false);
    const loose = compare({ probabilities, atol: 1e-3 }, labels01, predictions);
    expect(loose.passed).toBe(true);
    expect(loose.tolerance).toEqual({ atol: 1e-3, rtol: 1e-5 });
    expect(compare({ probabilities, atol: 0, rtol: 0.01 }, labels01, predictions).passed).toBe(true);
  });

  it('names the class of a probability that is off', () => {
    const report = compare(
      {
        probabilities: [
          [0.9, 0.1],
          [0.3, 0.7],
          [0.45, 0.55],
        ],
      },
      labels01,
      [served(0, 0.1), served(1, 0.7), served(1, 0.56)],
    );
    const failure = worstFailure(report)!;
    expect(failure.check).toMatchObject({ field: 'probabilities', failed: 2 });
    expect(failure.deviation).toMatchObject({ row: 2, column: '0', expected: 0.45 });
    expect(describeDeviation(failure.check.field, failure.deviation)).toMatch(
      /^row 2 probabilities\["0"\]: expected 0\.45, got 0\.4399\d* \(difference 0\.01 > allowed 1\.45e-5\)$/,
    );
  });

  it('compares every target of a multi-output regressor, by column', () => {
    const report = compare(
      {
        values: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      },
      regressor(2),
      [
        { task: 'regression', value: [1, 2] },
        { task: 'regression', value: [3, 4.001] },
        { task: 'regression', value: [5, 6] },
      ],
    );
    expect(report.checks[0]).toMatchObject({
      compared: 6,
      failed: 1,
      worst: { row: 1, column: '1', expected: 4 },
    });
  });

  it('compares raw output tensors by name, int64 included', () => {
    const logits: OutputTensor = { data: Float32Array.from([2, -1, 0.5, 0.25, -3, 3]), dims: [3, 2] };
    const label: OutputTensor = { data: BigInt64Array.from([0n, 0n, 1n]), dims: [3] };
    const signature = classifier([0, 1]);
    signature.outputs = [
      { name: 'logits', type: 'float32', shape: ['', 2] },
      { name: 'output_label', type: 'int64', shape: [''] },
    ];
    const report = compare(
      {
        outputs: {
          logits: [
            [2, -1],
            [0.5, 0.25],
            [-3, 3.0001],
          ],
          output_label: [0, 0, 1],
        },
      },
      signature,
      [],
      { logits, output_label: label },
    );
    expect(report.checks).toEqual([
      expect.objectContaining({ field: 'outputs.logits', compared: 6, failed: 1 }),
      expect.objectContaining({ field: 'outputs.output_label', compared: 3, failed: 0 }),
    ]);
    expect(report.checks[0].worst).toMatchObject({ row: 2, column: '1', expected: 3.0001, got: 3 });
    expect(() =>
      compare({ outputs: { logits: [1, 2, 3] } }, signature, [], { logits, output_label: label }),
    ).toThrow('outputs.logits: the file gives 1 value per row; the output holds 2 per row');
  });

  it('prefers a wrong class to any probability when naming the worst failure', () => {
    const report = compare(
      {
        labels: [0, 1, 0],
        probabilities: [
          [0.9, 0.1],
          [0.3, 0.7],
          [0.45, 0.55],
        ],
      },
      labels01,
      [served(1, 0.2), served(1, 0.7), served(0, 0.55)],
    );
    expect(worstFailure(report)).toMatchObject({
      check: { field: 'labels', failed: 1 },
      deviation: { row: 0, expected: 0, got: 1 },
    });
    expect(describeDeviation('labels', { row: 0, expected: 0, got: 1 })).toBe(
      'row 0 labels: expected 0, got 1',
    );
  });

  it('fails a model that answers NaN', () => {
    const report = compare({ values: [1, 2, 3] }, regressor(1), [
      { task: 'regression', value: 1 },
      { task: 'regression', value: Number.NaN },
      { task: 'regression', value: 3 },
    ]);
    expect(report.checks[0]).toMatchObject({ failed: 1, worst: { row: 1 } });
  });
});

describe('checkFitsModel', () => {
  it.each<[string, Omit<ValidationFile, 'inputs'> & { inputs?: number[][] }, ModelSignature, RegExp]>([
    [
      'rows of the wrong width',
      { inputs: [[1, 2, 3]], labels: [0] },
      classifier([0, 1]),
      /inputs rows have 3 values; the model takes 2 features/,
    ],
    [
      'values for a classifier',
      { values: [1, 2, 3] },
      classifier([0, 1]),
      /"values" are for regressors; this model is a classifier/,
    ],
    [
      'probabilities for another number of classes',
      {
        probabilities: [
          [1, 0, 0],
          [1, 0, 0],
          [1, 0, 0],
        ],
      },
      classifier([0, 1]),
      /probabilities rows have 3 columns; the model has 2 classes \[0,1\]/,
    ],
    [
      'a class the model does not have',
      { labels: [0, 2, 1] },
      classifier([0, 1]),
      /labels\[1\] is 2, not one of the model's classes \[0,1\]/,
    ],
    [
      'labels for a regressor',
      { labels: [0, 1, 1] },
      regressor(1),
      /"labels" and "probabilities" are for classifiers; this model is a regressor/,
    ],
    [
      'values for another number of targets',
      { values: [1, 2, 3] },
      regressor(2),
      /values rows have 1 values; the model has 2 targets/,
    ],
    [
      'an output the model does not have',
      { outputs: { logits: [1, 2, 3] } },
      regressor(1),
      /outputs.logits: the model has no output "logits" \(its outputs: variable\)/,
    ],
  ])('refuses %s', (_, file, signature, message) => {
    expect(() => checkFitsModel({ inputs: INPUTS, ...file }, signature)).toThrow(message);
  });
});
