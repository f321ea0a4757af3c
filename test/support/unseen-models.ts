import { BuiltModel, linearClassifier, linearRegressor, torchMlp } from './onnx-model-builder';

/**
 * Models the service has never seen, laid out the way their exporters write them: string and integer labels, with
 * and without ZipMap, a regressor, a fixed batch, softmax and sigmoid heads, two targets. The route specs serve
 * them side by side.
 */
export const UNSEEN_MODELS: readonly BuiltModel[] = [
  linearClassifier({ name: 'iris_strings', labels: ['setosa', 'versicolor', 'virginica'] }),
  linearClassifier({
    name: 'digits_nozipmap',
    labels: [3, 5, 7, 9],
    zipmap: false,
    featureCount: 6,
    seed: 3,
  }),
  linearRegressor({ name: 'house_prices', featureCount: 5 }),
  torchMlp({ name: 'mlp_fixed_batch', batch: 1, outputs: 3, featureCount: 6 }),
  torchMlp({ name: 'mlp_softmax', head: 'softmax', outputs: 4, featureCount: 7, seed: 9 }),
  torchMlp({ name: 'mlp_sigmoid', head: 'sigmoid', outputs: 1, featureCount: 5, seed: 13 }),
  torchMlp({
    name: 'mlp_two_targets',
    outputs: 2,
    featureCount: 4,
    manifest: { task: 'regression' },
    seed: 17,
  }),
];
