import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  type BuiltModel,
  linearClassifier,
  linearRegressor,
  randomRows,
  torchMlp,
} from '../../../../test/support/onnx-model-builder';
import type { ClassPrediction, ModelManifest, ModelSignature, Prediction } from '../model-signature';
import { adaptModel } from './adapt-model';
import { interpretOutputs, type OutputTensor } from './interpret-outputs';

/*
 * The whole path a request takes through this folder — adaptModel, onnxruntime-node, interpretOutputs — against
 * what the training framework itself computed (golden fixtures) or what plain arithmetic on the weights gives
 * (models built by the spec).
 */

const fixtures = join(__dirname, '../../../../test/fixtures');
const ABSOLUTE = 1e-5;
const RELATIVE = 1e-5;

interface Golden {
  inputs: number[][];
  labels: number[];
  probabilities: number[][];
  logits?: number[][];
}

function readGolden(name: string): Golden {
  return JSON.parse(readFileSync(join(fixtures, `${name}.golden.json`), 'utf8')) as Golden;
}

/** float32 against float64 differs by rounding; large values need the relative part. */
function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = ABSOLUTE + RELATIVE * Math.abs(expected);
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`${what}: ${actual} differs from ${expected} by more than ${tolerance}`);
  }
}

/** Runs rows the way the runner does: one [rows, features] tensor, or one run per fixed-size batch. */
async function predict(
  bytes: Uint8Array,
  manifest: ModelManifest | undefined,
  rows: number[][],
): Promise<{ signature: ModelSignature; predictions: Prediction[]; raw: Record<string, OutputTensor>[] }> {
  const { bytes: served, signature } = adaptModel(bytes, manifest);
  const session = await InferenceSession.create(served);
  try {
    const batches = signature.fixedBatchSize ? rows.map((row) => [row]) : [rows];
    const predictions: Prediction[] = [];
    const raw: Record<string, OutputTensor>[] = [];
    for (const batch of batches) {
      const input = new Tensor('float32', Float32Array.from(batch.flat()), [
        batch.length,
        signature.featureCount,
      ]);
      const results = await session.run({ [signature.input.name]: input });
      const outputs = Object.fromEntries(
        Object.entries(results).map(([name, tensor]) => [name, { data: tensor.data, dims: tensor.dims }]),
      );
      raw.push(outputs);
      predictions.push(...interpretOutputs(signature, outputs, batch.length));
    }
    return { signature, predictions, raw };
  } finally {
    await session.release();
  }
}

function expectSamePredictions(actual: Prediction[], expected: Prediction[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((prediction, row) => {
    const want = expected[row];
    expect(prediction.task).toBe(want.task);
    if (prediction.task === 'classification' && want.task === 'classification') {
      expect({ row, label: prediction.label }).toEqual({ row, label: want.label });
      expect(Object.keys(prediction.probabilities)).toEqual(Object.keys(want.probabilities));
      for (const [label, p] of Object.entries(want.probabilities))
        expectClose(prediction.probabilities[label], p, `row ${row} P(${label})`);
      expectClose(prediction.probability, want.probability, `row ${row} probability`);
    } else if (prediction.task === 'regression' && want.task === 'regression') {
      const values = [prediction.value].flat();
      const wanted = [want.value].flat();
      expect(values).toHaveLength(wanted.length);
      values.forEach((value, index) => expectClose(value, wanted[index], `row ${row} value ${index}`));
    }
  });
}

describe('served predictions match the training framework', () => {
  it('scikit-learn GradientBoostingClassifier behind a ZipMap: labels and predict_proba', async () => {
    const golden = readGolden('seed_gbc_zipmap');
    const { predictions } = await predict(
      readFileSync(join(fixtures, 'seed_gbc_zipmap.onnx')),
      undefined,
      golden.inputs,
    );

    expect(predictions.map((p) => (p as ClassPrediction).label)).toEqual(golden.labels);
    predictions.forEach((prediction, row) => {
      const { probabilities, probability, label } = prediction as ClassPrediction;
      golden.probabilities[row].forEach((p, column) =>
        expectClose(probabilities[String(column)], p, `row ${row} P(${column})`),
      );
      expectClose(probability, golden.probabilities[row][Number(label)], `row ${row} probability`);
    });
  });

  it('PyTorch MLP ending in logits: raw logits, softmax probabilities and argmax labels', async () => {
    const golden = readGolden('seed_torch_mlp');
    const { predictions, raw } = await predict(
      readFileSync(join(fixtures, 'seed_torch_mlp.onnx')),
      undefined,
      golden.inputs,
    );

    const logits = Array.from(raw[0].output.data, Number);
    golden.logits?.forEach((row, r) =>
      row.forEach((logit, c) => expectClose(logits[r * row.length + c], logit, `row ${r} logit ${c}`)),
    );
    expect(predictions.map((p) => (p as ClassPrediction).label)).toEqual(golden.labels);
    predictions.forEach((prediction, row) => {
      const { probabilities } = prediction as ClassPrediction;
      golden.probabilities[row].forEach((p, column) =>
        expectClose(probabilities[String(column)], p, `row ${row} P(${column})`),
      );
    });
  });

  it('model.json labels rename the classes of the label output', async () => {
    const golden = readGolden('seed_gbc_zipmap');
    const { predictions } = await predict(
      readFileSync(join(fixtures, 'seed_gbc_zipmap.onnx')),
      { labels: ['negative', 'positive'] },
      golden.inputs,
    );
    expect(predictions.map((p) => (p as ClassPrediction).label)).toEqual(
      golden.labels.map((label) => ['negative', 'positive'][label]),
    );
    expect(Object.keys((predictions[0] as ClassPrediction).probabilities)).toEqual(['negative', 'positive']);
  });
});

describe('served predictions of models it has not seen before match plain arithmetic on their weights', () => {
  const cases: Array<[string, BuiltModel]> = [
    [
      'skl2onnx LinearClassifier, string labels, ZipMap',
      linearClassifier({ labels: ['setosa', 'versicolor', 'virginica'], featureCount: 4 }),
    ],
    [
      'skl2onnx LinearClassifier, string labels, zipmap=False',
      linearClassifier({ labels: ['setosa', 'versicolor', 'virginica'], zipmap: false }),
    ],
    [
      'skl2onnx LinearClassifier, four integer classes, ZipMap',
      linearClassifier({ labels: [2, 4, 6, 8], featureCount: 3, seed: 3 }),
    ],
    ['skl2onnx LinearRegressor ("variable" [N, 1])', linearRegressor({ featureCount: 5 })],
    ['torch MLP with fixed batch size 1, logits', torchMlp({ batch: 1, featureCount: 7, outputs: 4 })],
    ['torch MLP ending in Softmax', torchMlp({ head: 'softmax', outputs: 3, seed: 9 })],
    ['torch MLP ending in LogSoftmax', torchMlp({ head: 'log-softmax', outputs: 3, seed: 10 })],
    ['torch MLP with MatMul + Add, logits', torchMlp({ matMul: true, outputs: 2, seed: 12 })],
    ['torch binary MLP ending in Sigmoid, one column', torchMlp({ head: 'sigmoid', outputs: 1, seed: 13 })],
    [
      'torch binary MLP ending in Linear, one column, declared a classifier',
      torchMlp({ outputs: 1, seed: 14, manifest: { task: 'classification', labels: ['ham', 'spam'] } }),
    ],
    [
      'torch multi-output regressor [N, 2] with task=regression',
      torchMlp({ outputs: 2, seed: 15, manifest: { task: 'regression' } }),
    ],
  ];

  it.each(cases)('%s', async (_, model) => {
    const rows = randomRows(40, model.featureCount);
    const { predictions } = await predict(model.bytes, model.manifest, rows);
    expectSamePredictions(predictions, model.reference(rows));
  });

  it('the rewritten ZipMap graph and the zipmap=False export give the same answers', async () => {
    const rows = randomRows(16, 4, 99);
    const zipped = await predict(linearClassifier({ seed: 4 }).bytes, undefined, rows);
    const tensors = await predict(linearClassifier({ seed: 4, zipmap: false }).bytes, undefined, rows);
    expect(zipped.predictions).toEqual(tensors.predictions);
    expect(zipped.signature.outputs).toEqual(tensors.signature.outputs);
  });
});
