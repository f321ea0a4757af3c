import type { ClassifierOutputs, ModelSignature } from '../model-signature';
import { interpretOutputs, sigmoid, softmax } from './interpret-outputs';

function signatureWith(head: ModelSignature['head']): ModelSignature {
  return { input: { name: 'x', type: 'float32', shape: ['', 2] }, featureCount: 2, outputs: [], head };
}

function classifier(overrides: Partial<ClassifierOutputs>): ModelSignature {
  return signatureWith({
    task: 'classification',
    labels: [0, 1],
    scoreOutput: 'scores',
    scoreKind: 'probabilities',
    ...overrides,
  });
}

describe('interpretOutputs', () => {
  it('reads int64 labels from the label output as numbers, and the probability of that label', () => {
    const predictions = interpretOutputs(
      classifier({ labelOutput: 'label' }),
      {
        label: { data: BigInt64Array.from([1n, 0n]), dims: [2] },
        scores: { data: Float32Array.from([0.25, 0.75, 0.875, 0.125]), dims: [2, 2] },
      },
      2,
    );
    expect(predictions).toEqual([
      { task: 'classification', label: 1, probability: 0.75, probabilities: { '0': 0.25, '1': 0.75 } },
      { task: 'classification', label: 0, probability: 0.875, probabilities: { '0': 0.875, '1': 0.125 } },
    ]);
    expect(() => JSON.stringify(predictions)).not.toThrow();
  });

  it('believes the label output over the argmax, as scikit-learn predict does for some classifiers', () => {
    const [prediction] = interpretOutputs(
      classifier({ labelOutput: 'label' }),
      { label: { data: BigInt64Array.from([0n]), dims: [1] }, scores: { data: [0.4, 0.6], dims: [1, 2] } },
      1,
    );
    expect(prediction).toMatchObject({ label: 0, probability: 0.4 });
  });

  it('keeps string labels as strings', () => {
    const [prediction] = interpretOutputs(
      classifier({ labels: ['setosa', 'versicolor', 'virginica'], labelOutput: 'label' }),
      { label: { data: ['virginica'], dims: [1] }, scores: { data: [0.125, 0.25, 0.625], dims: [1, 3] } },
      1,
    );
    expect(prediction).toEqual({
      task: 'classification',
      label: 'virginica',
      probability: 0.625,
      probabilities: { setosa: 0.125, versicolor: 0.25, virginica: 0.625 },
    });
  });

  it('maps the graph label to the label model.json gave it', () => {
    const [prediction] = interpretOutputs(
      classifier({ labels: ['negative', 'positive'], graphLabels: [0, 1], labelOutput: 'label' }),
      { label: { data: BigInt64Array.from([1n]), dims: [1] }, scores: { data: [0.25, 0.75], dims: [1, 2] } },
      1,
    );
    expect(prediction).toMatchObject({
      label: 'positive',
      probability: 0.75,
      probabilities: { negative: 0.25, positive: 0.75 },
    });
  });

  it('applies softmax to logits and takes the argmax', () => {
    const [prediction] = interpretOutputs(
      classifier({ scoreKind: 'logits', labels: [0, 1, 2] }),
      { scores: { data: [1, 3, 2], dims: [1, 3] } },
      1,
    );
    const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
    const sum = e[0] + e[1] + e[2];
    expect(prediction).toMatchObject({ label: 1 });
    expect(prediction.task === 'classification' && prediction.probability).toBeCloseTo(e[1] / sum, 12);
  });

  it('computes softmax without overflow for large logits', () => {
    expect(softmax([1000, 0])).toEqual([1, Math.exp(-1000)]);
    expect(softmax([-1000, -1000])).toEqual([0.5, 0.5]);
  });

  it('breaks ties on the first class, like numpy argmax', () => {
    const [prediction] = interpretOutputs(
      classifier({ labels: ['a', 'b'] }),
      { scores: { data: [0.5, 0.5], dims: [1, 2] } },
      1,
    );
    expect(prediction).toMatchObject({ label: 'a' });
  });

  it('gives the first class 1 − p for a positive-probability column', () => {
    const predictions = interpretOutputs(
      classifier({ scoreKind: 'positive-probability' }),
      { scores: { data: [0.25, 0.875], dims: [2, 1] } },
      2,
    );
    expect(predictions).toEqual([
      { task: 'classification', label: 0, probability: 0.75, probabilities: { '0': 0.75, '1': 0.25 } },
      { task: 'classification', label: 1, probability: 0.875, probabilities: { '0': 0.125, '1': 0.875 } },
    ]);
  });

  it('applies the sigmoid to a positive-logit column, stably for large logits', () => {
    const [low, high] = interpretOutputs(
      classifier({ scoreKind: 'positive-logit' }),
      { scores: { data: [-800, 2], dims: [2] } },
      2,
    );
    expect(low).toMatchObject({ label: 0, probability: 1 });
    expect(high.task === 'classification' && high.probabilities['1']).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
  });

  it('gives one number per row for a single-target regression', () => {
    const signature = signatureWith({ task: 'regression', valueOutput: 'variable', targets: 1 });
    expect(
      interpretOutputs(signature, { variable: { data: Float32Array.from([1.5, -2]), dims: [2, 1] } }, 2),
    ).toEqual([
      { task: 'regression', value: 1.5 },
      { task: 'regression', value: -2 },
    ]);
  });

  it('gives an array per row for multi-output regression', () => {
    const signature = signatureWith({ task: 'regression', valueOutput: 'y', targets: 2 });
    expect(
      interpretOutputs(signature, { y: { data: Float64Array.from([1, 2, 3, 4]), dims: [2, 2] } }, 2),
    ).toEqual([
      { task: 'regression', value: [1, 2] },
      { task: 'regression', value: [3, 4] },
    ]);
  });

  it('says what is wrong when the outputs do not fit the signature', () => {
    const signature = classifier({ labels: [0, 1, 2] });
    expect(() => interpretOutputs(signature, {}, 1)).toThrow(
      'the run returned no output "scores" (got none)',
    );
    expect(() => interpretOutputs(signature, { scores: { data: [0.2, 0.8], dims: [1, 2] } }, 1)).toThrow(
      'output "scores" has 2 columns per row; probabilities for 3 classes needs 3',
    );
    expect(() => interpretOutputs(signature, { scores: { data: [0.2, 0.3, 0.5], dims: [1, 3] } }, 2)).toThrow(
      'output "scores" has 1 rows; 2 were fed',
    );
    expect(() =>
      interpretOutputs(
        classifier({ labelOutput: 'label' }),
        { label: { data: BigInt64Array.from([7n]), dims: [1] }, scores: { data: [0.2, 0.8], dims: [1, 2] } },
        1,
      ),
    ).toThrow('output "label" predicted 7, which is not one of the labels [0,1]');
  });
  it('names the outputs a run did return, and outputs of the wrong size or type', () => {
    const signature = classifier({ labels: [0, 1] });
    expect(() =>
      interpretOutputs(
        signature,
        { probabilities: { data: [0.2, 0.8], dims: [1, 2] }, label: { data: [1], dims: [1] } },
        1,
      ),
    ).toThrow(new Error('the run returned no output "scores" (got probabilities, label)'));
    expect(() => interpretOutputs(signature, { scores: { data: [0.2, 0.8, 0.1], dims: [1, 2] } }, 1)).toThrow(
      new Error('output "scores" holds 3 values, not 1 × 2'),
    );
    expect(() => interpretOutputs(signature, { scores: { data: ['0.2', '0.8'], dims: [1, 2] } }, 1)).toThrow(
      new Error('output "scores" holds strings where numbers were expected'),
    );
    const regression = signatureWith({ task: 'regression', valueOutput: 'y', targets: 2 });
    expect(() => interpretOutputs(regression, { y: { data: [1, 2, 3], dims: [1, 3] } }, 1)).toThrow(
      new Error('output "y" has 3 values per row; the model has 2 targets'),
    );
    expect(() =>
      interpretOutputs(
        classifier({ scoreKind: 'positive-logit' }),
        { scores: { data: [1, 2], dims: [1, 2] } },
        1,
      ),
    ).toThrow(new Error('output "scores" has 2 columns per row; positive-logit for 2 classes needs 1'));
  });

  it('reads an output of any rank as rows of its trailing dimensions', () => {
    const predictions = interpretOutputs(
      classifier({ labels: ['a', 'b', 'c', 'd'] }),
      { scores: { data: [0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1], dims: [2, 2, 2] } },
      2,
    );
    expect(predictions.map((p) => p.task === 'classification' && [p.label, p.probability])).toEqual([
      ['d', 0.4],
      ['a', 0.4],
    ]);
  });

  it('takes the label of each row from the first column of the label output', () => {
    const predictions = interpretOutputs(
      classifier({ labelOutput: 'label' }),
      {
        label: { data: BigInt64Array.from([1n, 0n, 0n, 1n]), dims: [2, 2] },
        scores: { data: [0.25, 0.75, 0.5, 0.5], dims: [2, 2] },
      },
      2,
    );
    expect(predictions.map((p) => p.task === 'classification' && p.label)).toEqual([1, 0]);
  });

  it('matches a numeric label output only to labels that print as that number', () => {
    const labels = classifier({ labels: ['1', '01', '1.0', 'x'], labelOutput: 'label' });
    const run = (value: bigint) =>
      interpretOutputs(
        labels,
        {
          label: { data: BigInt64Array.from([value]), dims: [1] },
          scores: { data: [0.1, 0.2, 0.3, 0.4], dims: [1, 4] },
        },
        1,
      )[0];
    expect(run(1n)).toMatchObject({ label: '1', probability: 0.1 });
    const strings = classifier({ labels: ['01', '1'], labelOutput: 'label' });
    expect(
      interpretOutputs(
        strings,
        { label: { data: ['01'], dims: [1] }, scores: { data: [0.6, 0.4], dims: [1, 2] } },
        1,
      )[0],
    ).toMatchObject({ label: '01', probability: 0.6 });
  });

  it('keys the probabilities by every label, numeric-looking or not, with the probability of its column', () => {
    const [prediction] = interpretOutputs(
      classifier({ labels: ['10', '2', '-1', '007', 'b'] }),
      { scores: { data: [0.1, 0.2, 0.3, 0.15, 0.25], dims: [1, 5] } },
      1,
    );
    expect(prediction).toEqual({
      task: 'classification',
      label: '-1',
      probability: 0.3,
      probabilities: { '10': 0.1, '2': 0.2, '-1': 0.3, '007': 0.15, b: 0.25 },
    });
  });

  it('computes softmax from the logits themselves, not only their order', () => {
    expect(softmax([0, Math.log(3)])[0]).toBeCloseTo(0.25, 12);
    expect(softmax([0, Math.log(3)])[1]).toBeCloseTo(0.75, 12);
    expect(softmax([2, 2, 2, 2])).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-Math.log(3))).toBeCloseTo(0.25, 12);
    expect(sigmoid(Math.log(3))).toBeCloseTo(0.75, 12);
  });
});
