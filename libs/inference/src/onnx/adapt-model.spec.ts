import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  attribute,
  DataType,
  encodeGraph,
  linearClassifier,
  linearRegressor,
  node,
  tensorInfo,
  torchMlp,
  twoInputModel,
} from '../../../../test/support/onnx-model-builder';
import { adaptModel, UnservableModelError } from './adapt-model';
import { decodeModelProto, toNumber } from './onnx-proto';

const fixture = (file: string): Buffer => readFileSync(join(__dirname, '../../../../test/fixtures', file));

describe('adaptModel', () => {
  describe('real exports', () => {
    it('reads the scikit-learn ZipMap classifier and serves its probability tensor instead of the ZipMap', () => {
      const bytes = fixture('seed_gbc_zipmap.onnx');
      const { signature, bytes: served } = adaptModel(bytes);

      expect(signature.input).toEqual({ name: 'float_input', type: 'float32', shape: ['', 10] });
      expect(signature.featureCount).toBe(10);
      expect(signature.fixedBatchSize).toBeUndefined();
      expect(signature.head).toEqual({
        task: 'classification',
        labels: [0, 1],
        scoreOutput: 'output_probability',
        scoreKind: 'probabilities',
        labelOutput: 'output_label',
      });
      expect(signature.outputs).toEqual([
        { name: 'output_label', type: 'int64', shape: [''] },
        { name: 'output_probability', type: 'float32', shape: ['', 2] },
      ]);

      const graph = decodeModelProto(served).graph;
      expect(graph?.node?.map((n) => n.op_type)).toEqual(['Scaler', 'TreeEnsembleClassifier', 'Cast']);
      expect(graph?.node?.[1].output).toEqual(['label', 'output_probability']);
    });

    it('reads the PyTorch MLP as a logits classifier and leaves its bytes alone', () => {
      const bytes = fixture('seed_torch_mlp.onnx');
      const { signature, bytes: served } = adaptModel(bytes);

      expect(served).toBe(bytes);
      expect(signature).toEqual({
        input: { name: 'float_input', type: 'float32', shape: ['batch_size', 10] },
        featureCount: 10,
        outputs: [{ name: 'output', type: 'float32', shape: ['batch_size', 2] }],
        head: { task: 'classification', labels: [0, 1], scoreOutput: 'output', scoreKind: 'logits' },
      });
    });

    it('keeps everything but the ZipMap when rewriting: opsets, IR version, producer, tree attributes', () => {
      const original = decodeModelProto(fixture('seed_gbc_zipmap.onnx'));
      const served = decodeModelProto(adaptModel(fixture('seed_gbc_zipmap.onnx')).bytes);
      expect(toNumber(served.ir_version ?? 0)).toBe(toNumber(original.ir_version ?? 0));
      expect(served.opset_import).toEqual(original.opset_import);
      expect(served.producer_name).toBe('skl2onnx');
      const trees = original.graph?.node?.[1];
      expect(served.graph?.node?.[1]).toEqual({ ...trees, output: ['label', 'output_probability'] });
    });
  });

  describe('models it has not seen before', () => {
    it('multiclass LinearClassifier with string labels and ZipMap', () => {
      const { signature, bytes } = adaptModel(
        linearClassifier({ labels: ['setosa', 'versicolor', 'virginica'] }).bytes,
      );
      expect(signature.head).toEqual({
        task: 'classification',
        labels: ['setosa', 'versicolor', 'virginica'],
        scoreOutput: 'output_probability',
        scoreKind: 'probabilities',
        labelOutput: 'output_label',
      });
      expect(signature.outputs).toEqual([
        { name: 'output_label', type: 'string', shape: [''] },
        { name: 'output_probability', type: 'float32', shape: ['', 3] },
      ]);
      // The Normalizer feeding the ZipMap stays: it produces the served probabilities.
      expect(decodeModelProto(bytes).graph?.node?.map((n) => n.op_type)).toEqual([
        'LinearClassifier',
        'Normalizer',
        'Identity',
      ]);
    });

    it('the same classifier exported with zipmap=False: labels from the LinearClassifier node', () => {
      const model = linearClassifier({ labels: ['setosa', 'versicolor', 'virginica'], zipmap: false });
      const { signature, bytes } = adaptModel(model.bytes);
      expect(bytes).toBe(model.bytes);
      expect(signature.head).toEqual({
        task: 'classification',
        labels: ['setosa', 'versicolor', 'virginica'],
        scoreOutput: 'output_probability',
        scoreKind: 'probabilities',
        labelOutput: 'output_label',
      });
    });

    it('integer labels from classlabels_ints stay numbers', () => {
      const { signature } = adaptModel(linearClassifier({ labels: [3, 5, 8, 13], zipmap: false }).bytes);
      expect(signature.head).toMatchObject({ task: 'classification', labels: [3, 5, 8, 13] });
    });

    it('scikit-learn LinearRegressor: one target from "variable" [N, 1]', () => {
      const { signature } = adaptModel(linearRegressor({ featureCount: 5 }).bytes);
      expect(signature.featureCount).toBe(5);
      expect(signature.head).toEqual({ task: 'regression', valueOutput: 'variable', targets: 1 });
    });

    it('torch MLP exported without dynamic axes: fixed batch size 1', () => {
      const { signature } = adaptModel(torchMlp({ batch: 1, featureCount: 7, outputs: 4 }).bytes);
      expect(signature.input).toEqual({ name: 'input', type: 'float32', shape: [1, 7] });
      expect(signature.fixedBatchSize).toBe(1);
      expect(signature.head).toEqual({
        task: 'classification',
        labels: [0, 1, 2, 3],
        scoreOutput: 'output',
        scoreKind: 'logits',
      });
    });

    it('torch model ending in Softmax: probabilities', () => {
      const { signature } = adaptModel(torchMlp({ head: 'softmax', outputs: 3 }).bytes);
      expect(signature.head).toMatchObject({ scoreKind: 'probabilities', labels: [0, 1, 2] });
    });

    it('torch model ending in LogSoftmax: served as logits, whose softmax is the probabilities', () => {
      const { signature } = adaptModel(torchMlp({ head: 'log-softmax', outputs: 3 }).bytes);
      expect(signature.head).toMatchObject({ scoreKind: 'logits' });
    });

    it('torch model with MatMul + Add layers reads the same as with Gemm', () => {
      const { signature } = adaptModel(torchMlp({ matMul: true, outputs: 2 }).bytes);
      expect(signature.head).toMatchObject({ task: 'classification', scoreKind: 'logits', labels: [0, 1] });
    });

    it('binary torch model ending in Sigmoid with one column: positive-probability over [0, 1]', () => {
      const { signature } = adaptModel(torchMlp({ head: 'sigmoid', outputs: 1 }).bytes);
      expect(signature.head).toEqual({
        task: 'classification',
        labels: [0, 1],
        scoreOutput: 'output',
        scoreKind: 'positive-probability',
      });
    });

    it('one column not from a Sigmoid is a regression', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 1 }).bytes);
      expect(signature.head).toEqual({ task: 'regression', valueOutput: 'output', targets: 1 });
    });

    it('a 1-D output [N] is a regression too', () => {
      const bytes = encodeGraph({
        inputs: [tensorInfo('x', DataType.FLOAT, ['N', 3])],
        outputs: [tensorInfo('y', DataType.FLOAT, ['N'])],
        nodes: [node('ReduceSum', ['x', 'axes'], ['y'], { attributes: [attribute.int('keepdims', 0)] })],
        initializers: [{ name: 'axes', dims: [1], data_type: DataType.INT64, int64_data: [1] }],
      });
      expect(adaptModel(bytes).signature.head).toEqual({ task: 'regression', valueOutput: 'y', targets: 1 });
    });

    it('multi-output regressor [N, 2] declared by model.json', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 2, manifest: { task: 'regression' } }).bytes, {
        task: 'regression',
      });
      expect(signature.head).toEqual({ task: 'regression', valueOutput: 'output', targets: 2 });
    });

    it('the same [N, 2] graph without model.json is taken for a two-class logits classifier', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 2 }).bytes);
      expect(signature.head).toMatchObject({ task: 'classification', scoreKind: 'logits' });
    });
  });

  describe('model.json', () => {
    it('names the features, in input order', () => {
      const features = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9'];
      const { signature } = adaptModel(fixture('seed_torch_mlp.onnx'), { features });
      expect(signature.features).toEqual(features);
    });

    it('renames scikit-learn labels, keeping the graph labels to read the label output', () => {
      const { signature } = adaptModel(fixture('seed_gbc_zipmap.onnx'), { labels: ['negative', 'positive'] });
      expect(signature.head).toMatchObject({
        labels: ['negative', 'positive'],
        graphLabels: [0, 1],
        labelOutput: 'output_label',
      });
    });

    it('names the classes of a torch classifier', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 3 }).bytes, { labels: ['cat', 'dog', 'bird'] });
      expect(signature.head).toMatchObject({ labels: ['cat', 'dog', 'bird'] });
      expect(signature.head).not.toHaveProperty('graphLabels');
    });

    it('says which scores a graph ending in Linear gives', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 3 }).bytes, { scores: 'probabilities' });
      expect(signature.head).toMatchObject({ scoreKind: 'probabilities' });
    });

    it('turns a one-column Linear output into a binary classifier on logits', () => {
      const { signature } = adaptModel(torchMlp({ outputs: 1 }).bytes, {
        task: 'classification',
        labels: ['ham', 'spam'],
      });
      expect(signature.head).toEqual({
        task: 'classification',
        labels: ['ham', 'spam'],
        scoreOutput: 'output',
        scoreKind: 'positive-logit',
      });
    });

    it('rejects a label count the model does not score', () => {
      expect(() => adaptModel(fixture('seed_gbc_zipmap.onnx'), { labels: ['a', 'b', 'c'] })).toThrow(
        'model.json lists 3 labels, but the model scores 2 classes (output "output_probability" [?, 2], graph labels [0,1])',
      );
      expect(() => adaptModel(torchMlp({ outputs: 3 }).bytes, { labels: [0, 1] })).toThrow(
        'model.json lists 2 labels, but the model scores 3 classes (output "output" [batch_size, 3])',
      );
    });

    it('rejects labels that are not distinct', () => {
      expect(() => adaptModel(torchMlp({ outputs: 3 }).bytes, { labels: ['a', 'b', 'a'] })).toThrow(
        'model.json labels ["a","b","a"] are not distinct',
      );
    });

    it('rejects a feature count the input does not take', () => {
      expect(() => adaptModel(fixture('seed_torch_mlp.onnx'), { features: ['a', 'b'] })).toThrow(
        'model.json lists 2 features, but input "float_input" [batch_size, 10] takes 10',
      );
    });

    it('rejects task "regression" for a scikit-learn classifier', () => {
      expect(() => adaptModel(fixture('seed_gbc_zipmap.onnx'), { task: 'regression' })).toThrow(
        'model.json says task "regression", but the graph is a classifier with class labels [0,1]',
      );
    });

    it('rejects labels for a regression', () => {
      expect(() => adaptModel(linearRegressor().bytes, { task: 'regression', labels: [0] })).toThrow(
        'model.json gives labels or scores for a regression model',
      );
    });
  });

  describe('what it cannot serve', () => {
    it('a graph with two inputs', () => {
      expect(() => adaptModel(twoInputModel())).toThrow(
        'the graph has 2 inputs ("a", "b"); the service feeds one [batch, features] tensor, so export the model with a single input',
      );
    });

    it('an input that is not [batch, features]', () => {
      const bytes = encodeGraph({
        inputs: [tensorInfo('image', DataType.FLOAT, ['N', 3, 8, 8])],
        outputs: [tensorInfo('out', DataType.FLOAT, ['N', 3, 8, 8])],
        nodes: [node('Relu', ['image'], ['out'])],
      });
      expect(() => adaptModel(bytes)).toThrow(
        'input "image" has shape [N, 3, 8, 8]; the service feeds a 2-D [batch, features] tensor',
      );
    });

    it('an input with a dynamic feature dimension', () => {
      const bytes = encodeGraph({
        inputs: [tensorInfo('x', DataType.FLOAT, ['N', 'F'])],
        outputs: [tensorInfo('y', DataType.FLOAT, ['N', 'F'])],
        nodes: [node('Relu', ['x'], ['y'])],
      });
      expect(() => adaptModel(bytes)).toThrow(
        'input "x" has shape [N, F]: the feature dimension must be a fixed number',
      );
    });

    it('a graph with no float output', () => {
      const bytes = encodeGraph({
        inputs: [tensorInfo('x', DataType.FLOAT, ['N', 3])],
        outputs: [tensorInfo('index', DataType.INT64, ['N'])],
        nodes: [
          node('ArgMax', ['x'], ['index'], {
            attributes: [attribute.int('axis', 1), attribute.int('keepdims', 0)],
          }),
        ],
      });
      expect(() => adaptModel(bytes)).toThrow(
        'the graph has no float output to serve (outputs: "index" int64 [N])',
      );
    });

    it('a non-tensor output that is not a ZipMap', () => {
      const bytes = encodeGraph({
        inputs: [tensorInfo('x', DataType.FLOAT, ['N', 3])],
        outputs: [
          {
            name: 'rows',
            type: { sequence_type: { elem_type: { tensor_type: { elem_type: DataType.FLOAT } } } },
          },
        ],
        nodes: [node('SplitToSequence', ['x'], ['rows'])],
      });
      expect(() => adaptModel(bytes)).toThrow(
        'output "rows" is a sequence, not a tensor, which onnxruntime-node cannot return',
      );
    });

    it('corrupt bytes: a truncated model', () => {
      const bytes = fixture('seed_torch_mlp.onnx');
      expect(() => adaptModel(bytes.subarray(0, 1000))).toThrow(UnservableModelError);
      expect(() => adaptModel(bytes.subarray(0, 1000))).toThrow(
        'not an ONNX model: the bytes do not decode as an ONNX ModelProto; the file is corrupt, truncated or of another format',
      );
    });

    it.each([
      ['a JSON file', new TextEncoder().encode('{"features": ["a", "b"]}')],
      ['random bytes', Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) % 256)],
      ['an empty file', new Uint8Array()],
    ])('not ONNX at all: %s', (_, bytes) => {
      expect(() => adaptModel(bytes)).toThrow(/^not an ONNX model: /);
    });
  });

  it('does not touch the bytes it was given', () => {
    const bytes = Uint8Array.from(fixture('seed_gbc_zipmap.onnx'));
    const copy = Uint8Array.from(bytes);
    adaptModel(bytes);
    expect(Buffer.from(bytes).equals(copy)).toBe(true);
  });
});
