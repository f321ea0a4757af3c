// Small ONNX models built in code for the specs, with the arithmetic each computes. Over 300 lines because it is a
// small exporter (graph, tensors, ZipMap, model.json) plus a reference implementation per model kind; splitting them
// would put each model's graph and its reference arithmetic in different files.
import type { ClassLabel, ModelManifest, Prediction } from '@app/inference/model-signature';
import {
  type AttributeProto,
  AttributeType,
  DataType,
  encodeModelProto,
  type NodeProto,
  type TensorProto,
  type TensorShapeDimension,
  type ValueInfoProto,
} from '@app/inference/onnx/onnx-proto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export { DataType };

/*
 * Small ONNX models laid out the way the real exporters lay them out (skl2onnx 1.13+, torch.onnx.export), with
 * deterministic weights and a plain-JS reference of what each computes, so specs can check a model the service has
 * never seen against arithmetic done independently of onnxruntime.
 */

/** A model as a test needs it: its bytes, an optional model.json, and what it should predict. */
export interface BuiltModel {
  /** A short name usable as a model repository directory name. */
  name: string;
  bytes: Uint8Array;
  manifest?: ModelManifest;
  featureCount: number;
  inputName: string;
  /** What the model predicts for `rows`, computed in float64 from the weights, without onnxruntime. */
  reference(rows: readonly number[][]): Prediction[];
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic data

/** mulberry32: a tiny seeded generator, so every run builds the same weights. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values in [-scale, scale), already rounded to float32 so the reference uses exactly what the model stores. */
export function randomFloats(random: () => number, count: number, scale = 1): number[] {
  return Array.from({ length: count }, () => Math.fround((random() * 2 - 1) * scale));
}

/** Feature rows as float32 values, roughly standardised like the data these models are trained on. */
export function randomRows(count: number, featureCount: number, seed = 7): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => randomFloats(random, featureCount, 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Graph building blocks

export type Dim = number | string | null;

/** A tensor ValueInfo; a dim is a number (fixed), a string (named dynamic axis) or null (unnamed, as skl2onnx writes None). */
export function tensorInfo(name: string, elemType: number, shape: readonly Dim[]): ValueInfoProto {
  const dim = shape.map((d): TensorShapeDimension =>
    typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {},
  );
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

/** A float32 initializer stored in raw_data (little-endian), as torch.onnx.export writes weights. */
export function floatInitializer(
  name: string,
  dims: readonly number[],
  values: readonly number[],
): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: raw };
}

export function int64Initializer(name: string, values: readonly number[]): TensorProto {
  return { name, dims: [values.length], data_type: DataType.INT64, int64_data: [...values] };
}

const utf8 = new TextEncoder();

export const attribute = {
  float: (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f }),
  int: (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i }),
  string: (name: string, s: string): AttributeProto => ({
    name,
    type: AttributeType.STRING,
    s: utf8.encode(s),
  }),
  floats: (name: string, floats: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.FLOATS,
    floats: [...floats],
  }),
  ints: (name: string, ints: readonly number[]): AttributeProto => ({
    name,
    type: AttributeType.INTS,
    ints: [...ints],
  }),
  strings: (name: string, strings: readonly string[]): AttributeProto => ({
    name,
    type: AttributeType.STRINGS,
    strings: strings.map((s) => utf8.encode(s)),
  }),
};

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  options: { name?: string; domain?: string; attributes?: AttributeProto[] } = {},
): NodeProto {
  return {
    input: inputs,
    output: outputs,
    name: options.name ?? outputs[0],
    op_type: opType,
    ...(options.domain ? { domain: options.domain } : {}),
    attribute: options.attributes ?? [],
  };
}

export interface GraphSpec {
  name?: string;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  nodes: NodeProto[];
  initializers?: TensorProto[];
  /** ai.onnx.ml opset to import, for graphs using scikit-learn's ML operators. */
  mlOpset?: number;
  producer?: { name: string; version: string };
}

/** Serializes a graph as a ModelProto with IR version 8 and opset 17, what both exporters write for target opset 17. */
export function encodeGraph(spec: GraphSpec): Uint8Array {
  return encodeModelProto({
    ir_version: 8,
    producer_name: spec.producer?.name ?? 'pytorch',
    producer_version: spec.producer?.version ?? '2.1.0',
    opset_import: [
      { domain: '', version: 17 },
      ...(spec.mlOpset !== undefined ? [{ domain: 'ai.onnx.ml', version: spec.mlOpset }] : []),
    ],
    graph: {
      name: spec.name ?? 'main_graph',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
    },
  });
}

const ML = 'ai.onnx.ml';
const SKL2ONNX = { name: 'skl2onnx', version: '1.16.0' };

// ---------------------------------------------------------------------------------------------------------------
// scikit-learn (skl2onnx) style

export interface LinearClassifierOptions {
  /** Class labels: strings (trained on strings) or integers. Three or more for a multiclass model. */
  labels?: ClassLabel[];
  featureCount?: number;
  /** skl2onnx's default `zipmap=True` ends in a ZipMap; `false` leaves a probability tensor. */
  zipmap?: boolean;
  seed?: number;
  name?: string;
  manifest?: ModelManifest;
}

/**
 * `LogisticRegression` (multinomial) as skl2onnx converts it: LinearClassifier with SOFTMAX post-transform, an L1
 * Normalizer, then a ZipMap (default) or plain tensors, with outputs `output_label` and `output_probability`.
 */
export function linearClassifier(options: LinearClassifierOptions = {}): BuiltModel {
  const labels = options.labels ?? ['setosa', 'versicolor', 'virginica'];
  const featureCount = options.featureCount ?? 4;
  const zipmap = options.zipmap ?? true;
  const random = seededRandom(options.seed ?? 11);
  const coefficients = randomFloats(random, labels.length * featureCount);
  const intercepts = randomFloats(random, labels.length, 0.5);
  const stringLabels = labels.every((label) => typeof label === 'string');
  const labelAttribute = stringLabels
    ? attribute.strings('classlabels_strings', labels.map(String))
    : attribute.ints('classlabels_ints', labels.map(Number));

  const nodes = [
    node('LinearClassifier', ['float_input'], ['label', 'probability_tensor'], {
      name: 'LinearClassifier',
      domain: ML,
      attributes: [
        labelAttribute,
        attribute.floats('coefficients', coefficients),
        attribute.floats('intercepts', intercepts),
        attribute.int('multi_class', 1),
        attribute.string('post_transform', 'SOFTMAX'),
      ],
    }),
    node('Normalizer', ['probability_tensor'], ['probabilities'], {
      name: 'Normalizer',
      domain: ML,
      attributes: [attribute.string('norm', 'L1')],
    }),
    // skl2onnx casts integer labels to int64 and passes string labels through.
    stringLabels
      ? node('Identity', ['label'], ['output_label'], { name: 'Identity' })
      : node('Cast', ['label'], ['output_label'], {
          name: 'Cast',
          attributes: [attribute.int('to', DataType.INT64)],
        }),
    zipmap
      ? node('ZipMap', ['probabilities'], ['output_probability'], {
          name: 'ZipMap',
          domain: ML,
          attributes: [
            stringLabels
              ? attribute.strings('classlabels_strings', labels.map(String))
              : attribute.ints('classlabels_int64s', labels.map(Number)),
          ],
        })
      : node('Identity', ['probabilities'], ['output_probability'], { name: 'Identity1' }),
  ];
  const probabilityOutput: ValueInfoProto = zipmap
    ? {
        name: 'output_probability',
        type: {
          sequence_type: {
            elem_type: {
              map_type: {
                key_type: stringLabels ? DataType.STRING : DataType.INT64,
                value_type: { tensor_type: { elem_type: DataType.FLOAT } },
              },
            },
          },
        },
      }
    : tensorInfo('output_probability', DataType.FLOAT, [null, labels.length]);

  const bytes = encodeGraph({
    name: 'LogisticRegression',
    producer: SKL2ONNX,
    mlOpset: 1,
    inputs: [tensorInfo('float_input', DataType.FLOAT, [null, featureCount])],
    outputs: [
      tensorInfo('output_label', stringLabels ? DataType.STRING : DataType.INT64, [null]),
      probabilityOutput,
    ],
    nodes,
  });
  return {
    name: options.name ?? (zipmap ? 'logreg-zipmap' : 'logreg-tensor'),
    bytes,
    manifest: options.manifest,
    featureCount,
    inputName: 'float_input',
    reference: (rows) =>
      rows.map((row) => {
        const scores = labels.map(
          (_, c) => intercepts[c] + dot(row, coefficients.slice(c * featureCount, (c + 1) * featureCount)),
        );
        return classPrediction(options.manifest?.labels ?? labels, softmax(scores));
      }),
  };
}

export interface LinearRegressorOptions {
  featureCount?: number;
  seed?: number;
  name?: string;
  manifest?: ModelManifest;
}

/** `LinearRegression` as skl2onnx converts it: one LinearRegressor node, output `variable` [N, 1]. */
export function linearRegressor(options: LinearRegressorOptions = {}): BuiltModel {
  const featureCount = options.featureCount ?? 5;
  const random = seededRandom(options.seed ?? 23);
  // Magnitudes like a real target (~100), where float32 rounding shows and a relative tolerance matters.
  const coefficients = randomFloats(random, featureCount, 40);
  const intercept = Math.fround(120.5);
  const bytes = encodeGraph({
    name: 'LinearRegression',
    producer: SKL2ONNX,
    mlOpset: 1,
    inputs: [tensorInfo('float_input', DataType.FLOAT, [null, featureCount])],
    outputs: [tensorInfo('variable', DataType.FLOAT, [null, 1])],
    nodes: [
      node('LinearRegressor', ['float_input'], ['variable'], {
        name: 'LinearRegressor',
        domain: ML,
        attributes: [
          attribute.floats('coefficients', coefficients),
          attribute.floats('intercepts', [intercept]),
        ],
      }),
    ],
  });
  return {
    name: options.name ?? 'linreg',
    bytes,
    manifest: options.manifest,
    featureCount,
    inputName: 'float_input',
    reference: (rows) =>
      rows.map((row) => ({ task: 'regression', value: intercept + dot(row, coefficients) })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// PyTorch (torch.onnx.export) style

/** What follows the last Linear layer, as `forward` returns it. */
export type TorchHead = 'logits' | 'softmax' | 'log-softmax' | 'sigmoid';

export interface TorchMlpOptions {
  featureCount?: number;
  hidden?: number;
  /** Columns of the last Linear layer: classes, 1 for a Sigmoid head, targets for a regressor. */
  outputs?: number;
  head?: TorchHead;
  /** A number exports without dynamic axes (e.g. 1); the default exports `dynamic_axes={...: {0: 'batch_size'}}`. */
  batch?: number | 'batch_size';
  /** First layer as MatMul + Add (what torch emits for nn.Linear on inputs it cannot prove 2-D) instead of Gemm. */
  matMul?: boolean;
  seed?: number;
  name?: string;
  manifest?: ModelManifest;
  inputName?: string;
}

/**
 * `nn.Sequential(Linear, ReLU, Linear[, Softmax | LogSoftmax | Sigmoid])` exported in eval mode with opset 17:
 * Gemm(transB=1) with `layers.N.weight`/`layers.N.bias` initializers in raw_data, node names like
 * `/layers/layers.0/Gemm`. The reference predictions follow the served meaning: regression when the manifest says
 * so, otherwise a classifier over labels 0..C-1 (or the manifest's).
 */
export function torchMlp(options: TorchMlpOptions = {}): BuiltModel {
  const featureCount = options.featureCount ?? 6;
  const hidden = options.hidden ?? 8;
  const outputs = options.outputs ?? 3;
  const head = options.head ?? 'logits';
  const batch = options.batch ?? 'batch_size';
  const inputName = options.inputName ?? 'input';
  const random = seededRandom(options.seed ?? 5);
  const w1 = randomFloats(random, hidden * featureCount, 1 / Math.sqrt(featureCount));
  const b1 = randomFloats(random, hidden, 0.1);
  const w2 = randomFloats(random, outputs * hidden, 2 / Math.sqrt(hidden));
  const b2 = randomFloats(random, outputs, 0.1);

  const initializers = [
    floatInitializer('layers.2.weight', [outputs, hidden], w2),
    floatInitializer('layers.2.bias', [outputs], b2),
  ];
  const nodes: NodeProto[] = [];
  if (options.matMul) {
    // torch stores the transposed weight for MatMul as an anonymous initializer.
    const w1t = Array.from(
      { length: featureCount * hidden },
      (_, i) => w1[(i % hidden) * featureCount + Math.floor(i / hidden)],
    );
    initializers.push(
      floatInitializer('onnx::MatMul_11', [featureCount, hidden], w1t),
      floatInitializer('layers.0.bias', [hidden], b1),
    );
    nodes.push(
      node('MatMul', [inputName, 'onnx::MatMul_11'], ['/layers/layers.0/MatMul_output_0'], {
        name: '/layers/layers.0/MatMul',
      }),
      node('Add', ['layers.0.bias', '/layers/layers.0/MatMul_output_0'], ['/layers/layers.0/Add_output_0'], {
        name: '/layers/layers.0/Add',
      }),
    );
  } else {
    initializers.push(
      floatInitializer('layers.0.weight', [hidden, featureCount], w1),
      floatInitializer('layers.0.bias', [hidden], b1),
    );
    nodes.push(
      node('Gemm', [inputName, 'layers.0.weight', 'layers.0.bias'], ['/layers/layers.0/Gemm_output_0'], {
        name: '/layers/layers.0/Gemm',
        attributes: [attribute.float('alpha', 1), attribute.float('beta', 1), attribute.int('transB', 1)],
      }),
    );
  }
  const hiddenOut = options.matMul ? '/layers/layers.0/Add_output_0' : '/layers/layers.0/Gemm_output_0';
  const lastLinear = head === 'logits' ? 'output' : '/layers/layers.2/Gemm_output_0';
  nodes.push(
    node('Relu', [hiddenOut], ['/layers/layers.1/Relu_output_0'], { name: '/layers/layers.1/Relu' }),
    node('Gemm', ['/layers/layers.1/Relu_output_0', 'layers.2.weight', 'layers.2.bias'], [lastLinear], {
      name: '/layers/layers.2/Gemm',
      attributes: [attribute.float('alpha', 1), attribute.float('beta', 1), attribute.int('transB', 1)],
    }),
  );
  if (head === 'softmax')
    nodes.push(
      node('Softmax', [lastLinear], ['output'], {
        name: '/layers/layers.3/Softmax',
        attributes: [attribute.int('axis', 1)],
      }),
    );
  if (head === 'log-softmax')
    nodes.push(
      node('LogSoftmax', [lastLinear], ['output'], {
        name: '/layers/layers.3/LogSoftmax',
        attributes: [attribute.int('axis', 1)],
      }),
    );
  if (head === 'sigmoid')
    nodes.push(node('Sigmoid', [lastLinear], ['output'], { name: '/layers/layers.3/Sigmoid' }));

  const bytes = encodeGraph({
    inputs: [tensorInfo(inputName, DataType.FLOAT, [batch, featureCount])],
    outputs: [tensorInfo('output', DataType.FLOAT, [batch, outputs])],
    nodes,
    initializers,
  });

  const forward = (row: readonly number[]): number[] => {
    const h = Array.from({ length: hidden }, (_, j) =>
      Math.max(0, b1[j] + dot(row, w1.slice(j * featureCount, (j + 1) * featureCount))),
    );
    return Array.from({ length: outputs }, (_, k) => b2[k] + dot(h, w2.slice(k * hidden, (k + 1) * hidden)));
  };
  const regression = options.manifest?.task === 'regression';
  return {
    name:
      options.name ??
      [
        regression ? 'mlp-regressor' : `mlp-${head}`,
        outputs,
        typeof batch === 'number' ? `batch${batch}` : '',
        options.matMul ? 'matmul' : '',
      ]
        .filter((part) => part !== '')
        .join('-'),
    bytes,
    manifest: options.manifest,
    featureCount,
    inputName,
    reference: (rows) =>
      rows.map((row): Prediction => {
        const scores = forward(row);
        if (regression) return { task: 'regression', value: outputs === 1 ? scores[0] : scores };
        const labels = options.manifest?.labels ?? (outputs === 1 ? [0, 1] : scores.map((_, index) => index));
        if (outputs === 1) {
          const p = 1 / (1 + Math.exp(-scores[0]));
          return classPrediction(labels, [1 - p, p]);
        }
        return classPrediction(labels, softmax(scores));
      }),
  };
}

/** A graph with two feature inputs (`a` + `b`), which the service refuses: it feeds one [batch, features] tensor. */
export function twoInputModel(): Uint8Array {
  return encodeGraph({
    inputs: [
      tensorInfo('a', DataType.FLOAT, ['batch_size', 3]),
      tensorInfo('b', DataType.FLOAT, ['batch_size', 3]),
    ],
    outputs: [tensorInfo('sum', DataType.FLOAT, ['batch_size', 3])],
    nodes: [node('Add', ['a', 'b'], ['sum'], { name: '/Add' })],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Model repository on disk

/**
 * Writes `<root>/<name>/<version>/model.onnx` (and `model.json` when the model has a manifest), the layout
 * MODEL_REPOSITORY expects. Returns the version directory.
 */
export async function writeModel(
  root: string,
  model: Pick<BuiltModel, 'name' | 'bytes' | 'manifest'>,
  version: number | string = 1,
): Promise<string> {
  const directory = join(root, model.name, String(version));
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'model.onnx'), model.bytes);
  if (model.manifest)
    await writeFile(join(directory, 'model.json'), `${JSON.stringify(model.manifest, null, 2)}\n`);
  return directory;
}

// ---------------------------------------------------------------------------------------------------------------
// Reference arithmetic (float64, independent of onnxruntime)

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, index) => sum + value * b[index], 0);
}

function softmax(scores: readonly number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

function classPrediction(labels: readonly ClassLabel[], probabilities: readonly number[]): Prediction {
  const best = probabilities.reduce(
    (bestIndex, p, index) => (p > probabilities[bestIndex] ? index : bestIndex),
    0,
  );
  return {
    task: 'classification',
    label: labels[best],
    probability: probabilities[best],
    probabilities: Object.fromEntries(labels.map((label, index) => [String(label), probabilities[index]])),
  };
}
