import type {
  ClassLabel,
  ClassifierOutputs,
  ModelManifest,
  ModelSignature,
  RegressorOutputs,
  ScoreKind,
  TensorSpec,
} from '../model-signature';
import {
  DataType,
  decodeModelProto,
  decodeUtf8,
  elementTypeName,
  encodeModelProto,
  findAttribute,
  type GraphProto,
  hasField,
  type ModelProto,
  type NodeProto,
  type TensorShapeDimension,
  type TypeProto,
  toNumber,
  type ValueInfoProto,
} from './onnx-proto';

/** A model file the service cannot serve as it is; the message says what is wrong and, where it can, what to do. */
export class UnservableModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnservableModelError';
  }
}

export interface AdaptedModel {
  /** The model to hand to onnxruntime: the original bytes, or a rewritten graph when serving needed one. */
  bytes: Uint8Array;
  signature: ModelSignature;
}

const ML_DOMAIN = 'ai.onnx.ml';
/** Feature element types the runner can build an input tensor of. */
const FEATURE_TYPES = new Set(['float32', 'float64', 'int32', 'int64']);
const SCORE_TYPES = new Set(['float32', 'float64']);
const LABEL_TYPES = new Set(['int64', 'int32', 'string']);
/** Ops that move or reshape values without changing them: what a score means is decided by the op behind them. */
const PASS_THROUGH_OPS = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast']);

/**
 * Reads what an exported graph means — its one feature input, whether it classifies or regresses and how its scores
 * turn into probabilities — and rewrites what onnxruntime-node cannot return: scikit-learn's ZipMap (a sequence of
 * maps) becomes the probability tensor behind it. Everything is inferred from the graph; model.json may name
 * features, rename labels or settle what the graph leaves open (task, score kind), and is checked against the graph.
 */
export function adaptModel(bytes: Uint8Array, manifest: ModelManifest = {}): AdaptedModel {
  const model = readModel(bytes);
  const graph = model.graph as GraphProto;
  const feed = findFeatureInput(graph);
  const unzipped = unzipProbabilities(graph, feed.batchDim);
  const outputs = (graph.output ?? []).map(describeOutput);
  const head = describeHead(graph, outputs, unzipped?.labels, manifest);
  const features = checkFeatures(manifest.features, feed);

  const signature: ModelSignature = {
    input: feed.spec,
    featureCount: feed.featureCount,
    ...(features ? { features } : {}),
    ...(feed.fixedBatchSize !== undefined ? { fixedBatchSize: feed.fixedBatchSize } : {}),
    outputs,
    head,
  };
  return { bytes: unzipped ? encodeModelProto(model) : bytes, signature };
}

function readModel(bytes: Uint8Array): ModelProto {
  if (bytes.length === 0) throw new UnservableModelError('not an ONNX model: the file is empty');
  let model: ModelProto;
  try {
    model = decodeModelProto(bytes);
  } catch (error) {
    throw new UnservableModelError(
      `not an ONNX model: the bytes do not decode as an ONNX ModelProto; the file is corrupt, truncated or of another format (${(error as Error).message})`,
    );
  }
  // Protobuf decoding is lenient (unknown fields are skipped), so arbitrary bytes can decode; a real export always has these.
  const graph = model.graph;
  if (
    !hasField(model, 'ir_version') ||
    !model.opset_import?.length ||
    !graph ||
    !graph.node?.length ||
    !graph.output?.length
  ) {
    throw new UnservableModelError(
      'not an ONNX model: the bytes hold no IR version, opset imports and graph with nodes and outputs',
    );
  }
  return model;
}

interface FeatureInput {
  spec: TensorSpec;
  featureCount: number;
  fixedBatchSize?: number;
  /** The batch dimension as the graph writes it, reused for outputs the adaptation adds. */
  batchDim: TensorShapeDimension;
}

function findFeatureInput(graph: GraphProto): FeatureInput {
  // Since IR version 4 initializers may also be listed as inputs (overridable weights); they are not fed by the service.
  const initializers = new Set([
    ...(graph.initializer ?? []).map((tensor) => tensor.name),
    ...(graph.sparse_initializer ?? []).map((sparse) => sparse.values?.name),
  ]);
  const feeds = (graph.input ?? []).filter((input) => !initializers.has(input.name));
  if (feeds.length === 0) {
    throw new UnservableModelError('the graph has no input to feed: every graph input is an initializer');
  }
  if (feeds.length > 1) {
    throw new UnservableModelError(
      `the graph has ${feeds.length} inputs (${feeds.map((f) => `"${f.name}"`).join(', ')}); ` +
        'the service feeds one [batch, features] tensor, so export the model with a single input',
    );
  }
  const [feed] = feeds;
  const name = feed.name ?? '';
  const tensor = feed.type?.tensor_type;
  if (!tensor) {
    throw new UnservableModelError(
      `input "${name}" is a ${typeKind(feed.type)}, not a tensor; the service feeds a [batch, features] tensor`,
    );
  }
  const type = elementTypeName(tensor.elem_type);
  if (!FEATURE_TYPES.has(type)) {
    throw new UnservableModelError(
      `input "${name}" has element type ${type}; the service feeds float32, float64, int32 or int64 features`,
    );
  }
  const shape = shapeOf(feed);
  if (!shape) {
    throw new UnservableModelError(
      `input "${name}" has no shape in the graph; the service needs [batch, features] with a fixed feature count`,
    );
  }
  if (shape.length !== 2) {
    throw new UnservableModelError(
      `input "${name}" has shape ${formatShape(shape)}; the service feeds a 2-D [batch, features] tensor, one row per instance`,
    );
  }
  const [batch, featureCount] = shape;
  if (typeof featureCount !== 'number' || featureCount < 1) {
    throw new UnservableModelError(
      `input "${name}" has shape ${formatShape(shape)}: the feature dimension must be a fixed number; export with only the batch axis dynamic`,
    );
  }
  const batchDim = (tensor.shape?.dim ?? [])[0];
  return {
    spec: { name, type, shape },
    featureCount,
    ...(typeof batch === 'number' && batch > 0 ? { fixedBatchSize: batch } : {}),
    batchDim: hasField(batchDim, 'dim_value')
      ? { dim_value: batchDim.dim_value }
      : hasField(batchDim, 'dim_param')
        ? { dim_param: batchDim.dim_param }
        : {},
  };
}

interface Unzipped {
  labels: ClassLabel[];
}

/**
 * skl2onnx ends classifiers in `ZipMap`, turning the [N, C] probability tensor into one {label: probability} map
 * per row; onnxruntime-node cannot return such a sequence. Serve the tensor itself instead, under the ZipMap's
 * output name so the served outputs match an export made with `zipmap=False`.
 */
function unzipProbabilities(graph: GraphProto, batchDim: TensorShapeDimension): Unzipped | undefined {
  const producers = producerMap(graph);
  const zipped = (graph.output ?? []).filter((output) => {
    const producer = producers.get(output.name ?? '');
    return producer?.op_type === 'ZipMap' && producer.domain === ML_DOMAIN;
  });
  if (zipped.length === 0) return undefined;
  if (zipped.length > 1) {
    throw new UnservableModelError(
      `the graph has ${zipped.length} ZipMap outputs (${zipped.map((o) => `"${o.name}"`).join(', ')}); the service serves one classifier per model`,
    );
  }
  const zippedName = zipped[0].name ?? '';
  const zipMap = producers.get(zippedName) as NodeProto;
  const labels = classLabelsOf(zipMap);
  if (!labels) {
    throw new UnservableModelError(
      `ZipMap node "${zipMap.name}" has neither classlabels_int64s nor classlabels_strings`,
    );
  }
  const probabilities = (zipMap.input ?? [])[0];
  const alreadyServed = (graph.output ?? []).some((output) => output.name === probabilities);
  const probabilityOutput: ValueInfoProto = {
    name: probabilities,
    type: {
      tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [batchDim, { dim_value: labels.length }] } },
    },
  };
  graph.output = (graph.output ?? []).flatMap((output) =>
    output.name !== zippedName ? [output] : alreadyServed ? [] : [probabilityOutput],
  );
  const removed = removeUnusedNodes(graph, zipMap);
  const removedTensors = new Set(removed.flatMap((node) => node.output ?? []));
  graph.value_info = (graph.value_info ?? []).filter((info) => !removedTensors.has(info.name ?? ''));
  if (!alreadyServed && canRename(graph, probabilities)) renameTensor(graph, probabilities, zippedName);
  return { labels };
}

/**
 * Removes `start` and then every node left feeding nothing: what only served the removed output. Nodes that were
 * unused before are left alone, since the adaptation should change no more than it must.
 */
function removeUnusedNodes(graph: GraphProto, start: NodeProto): NodeProto[] {
  const removed = new Set<NodeProto>([start]);
  const producers = producerMap(graph);
  const servedNames = new Set((graph.output ?? []).map((output) => output.name));
  const isUsed = (name: string): boolean =>
    servedNames.has(name) ||
    (graph.node ?? []).some((node) => !removed.has(node) && referencedNames(node).has(name));
  const pending = [start];
  for (let node = pending.pop(); node; node = pending.pop()) {
    for (const input of node.input ?? []) {
      const producer = producers.get(input);
      if (producer && !removed.has(producer) && !(producer.output ?? []).some(isUsed)) {
        removed.add(producer);
        pending.push(producer);
      }
    }
  }
  graph.node = (graph.node ?? []).filter((node) => !removed.has(node));
  return [...removed];
}

/** Names a node reads, including those its subgraphs (If, Loop, Scan bodies) take from the enclosing scope. */
function referencedNames(node: NodeProto): Set<string> {
  const names = new Set(node.input ?? []);
  for (const subgraph of subgraphsOf(node)) {
    for (const inner of subgraph.node ?? []) for (const name of referencedNames(inner)) names.add(name);
  }
  return names;
}

function subgraphsOf(node: NodeProto): GraphProto[] {
  return (node.attribute ?? []).flatMap((attribute) => [
    ...(attribute.g ? [attribute.g] : []),
    ...(attribute.graphs ?? []),
  ]);
}

/** Renaming is only safe when the name is a plain intermediate tensor and no subgraph can refer to it implicitly. */
function canRename(graph: GraphProto, name: string): boolean {
  const isGraphInput = (graph.input ?? []).some((input) => input.name === name);
  const isInitializer = (graph.initializer ?? []).some((tensor) => tensor.name === name);
  const hasSubgraphs = (graph.node ?? []).some((node) => subgraphsOf(node).length > 0);
  return !isGraphInput && !isInitializer && !hasSubgraphs;
}

function renameTensor(graph: GraphProto, from: string, to: string): void {
  const rename = (name: string): string => (name === from ? to : name);
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
  }
  for (const info of [...(graph.output ?? []), ...(graph.value_info ?? [])]) {
    if (info.name === from) info.name = to;
  }
}

function producerMap(graph: GraphProto): Map<string, NodeProto> {
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producers.set(output, node);
  return producers;
}

/**
 * scikit-learn classifiers carry their classes: TreeEnsembleClassifier and ZipMap as `classlabels_int64s`,
 * LinearClassifier and SVMClassifier as `classlabels_ints`, all of them as `classlabels_strings` for string classes.
 */
function classLabelsOf(node: NodeProto): ClassLabel[] | undefined {
  const ints =
    (findAttribute(node, 'classlabels_int64s') ?? findAttribute(node, 'classlabels_ints'))?.ints ?? [];
  if (ints.length > 0) return ints.map(toNumber);
  const strings = findAttribute(node, 'classlabels_strings')?.strings ?? [];
  if (strings.length > 0) return strings.map(decodeUtf8);
  return undefined;
}

/** The class labels of the nearest classifier node behind the given tensors, searching producers breadth-first. */
function classLabelsBehind(graph: GraphProto, names: string[]): ClassLabel[] | undefined {
  const producers = producerMap(graph);
  const seen = new Set<NodeProto>();
  let frontier = names;
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      const node = producers.get(name);
      if (!node || seen.has(node)) continue;
      seen.add(node);
      const labels = node.domain === ML_DOMAIN ? classLabelsOf(node) : undefined;
      if (labels) return labels;
      next.push(...(node.input ?? []));
    }
    frontier = next;
  }
  return undefined;
}

/** The op that decides what a tensor's values mean, looking through ops that only reshape or rename. */
function meaningfulProducer(graph: GraphProto, name: string): NodeProto | undefined {
  const producers = producerMap(graph);
  let node = producers.get(name);
  for (let hops = 0; node && PASS_THROUGH_OPS.has(node.op_type ?? '') && hops < 16; hops++) {
    node = producers.get((node.input ?? [])[0] ?? '');
  }
  return node;
}

function describeOutput(output: ValueInfoProto): TensorSpec {
  const name = output.name ?? '';
  const tensor = output.type?.tensor_type;
  if (!tensor) {
    throw new UnservableModelError(
      `output "${name}" is a ${typeKind(output.type)}, not a tensor, which onnxruntime-node cannot return; ` +
        'only a scikit-learn ZipMap over class probabilities is rewritten into a tensor',
    );
  }
  // An output without a recorded shape is described as rank 0; only the head's shape matters and is checked there.
  return { name, type: elementTypeName(tensor.elem_type), shape: shapeOf(output) ?? [] };
}

function describeHead(
  graph: GraphProto,
  outputs: TensorSpec[],
  zipMapLabels: ClassLabel[] | undefined,
  manifest: ModelManifest,
): ClassifierOutputs | RegressorOutputs {
  const scoreOutputs = outputs.filter((output) => SCORE_TYPES.has(output.type));
  if (scoreOutputs.length === 0) {
    throw new UnservableModelError(
      `the graph has no float output to serve (outputs: ${outputs.map(formatSpec).join(', ')}); ` +
        'the service needs class scores or regression values as a float32 or float64 tensor',
    );
  }
  if (scoreOutputs.length > 1) {
    throw new UnservableModelError(
      `the graph has ${scoreOutputs.length} float outputs (${scoreOutputs.map(formatSpec).join(', ')}); ` +
        'the service serves one score or value output per model',
    );
  }
  const [score] = scoreOutputs;
  const declared = (graph.output ?? []).find((output) => output.name === score.name);
  if (!declared || !shapeOf(declared)) {
    throw new UnservableModelError(
      `output "${score.name}" has no shape in the graph; the service needs [batch] or [batch, k]`,
    );
  }
  if (score.shape.length < 1 || score.shape.length > 2) {
    throw new UnservableModelError(
      `output "${score.name}" has shape ${formatShape(score.shape)}; the service serves [batch] or [batch, k] outputs`,
    );
  }
  const columns = score.shape.length === 1 ? 1 : score.shape[1];
  const labelOutputs = outputs.filter(
    (output) =>
      LABEL_TYPES.has(output.type) &&
      (output.shape.length === 1 || (output.shape.length === 2 && output.shape[1] === 1)),
  );
  const labelOutput = labelOutputs.length === 1 ? labelOutputs[0].name : undefined;
  const graphLabels =
    zipMapLabels ?? classLabelsBehind(graph, [score.name, ...labelOutputs.map((output) => output.name)]);

  if (graphLabels) {
    if (manifest.task === 'regression') {
      throw new UnservableModelError(
        `model.json says task "regression", but the graph is a classifier with class labels ${formatLabels(graphLabels)}`,
      );
    }
    if (typeof columns === 'number' && columns !== graphLabels.length) {
      throw new UnservableModelError(
        `output "${score.name}" has ${columns} columns but the classifier names ${graphLabels.length} classes ${formatLabels(graphLabels)}`,
      );
    }
    return classifier(
      score,
      graphLabels.length,
      manifest.scores ?? 'probabilities',
      manifest,
      labelOutput,
      graphLabels,
    );
  }

  const producer = meaningfulProducer(graph, score.name)?.op_type;
  const task =
    manifest.task ??
    (labelOutput !== undefined || columns !== 1 || producer === 'Sigmoid' ? 'classification' : 'regression');
  if (task === 'regression') {
    if (manifest.labels || manifest.scores) {
      throw new UnservableModelError(
        'model.json gives labels or scores for a regression model; they only apply to classifiers',
      );
    }
    if (labelOutput !== undefined) {
      throw new UnservableModelError(
        `model.json says task "regression", but the graph has the label output "${labelOutput}"`,
      );
    }
    if (typeof columns !== 'number') {
      throw new UnservableModelError(
        `output "${score.name}" has shape ${formatShape(score.shape)}: the number of targets must be fixed in the graph`,
      );
    }
    return { task: 'regression', valueOutput: score.name, targets: columns };
  }

  if (columns === 1) {
    // One column scores the second of two classes.
    const kind: ScoreKind =
      (manifest.scores ?? (producer === 'Sigmoid' ? 'probabilities' : 'logits')) === 'probabilities'
        ? 'positive-probability'
        : 'positive-logit';
    return classifier(score, 2, kind, manifest, labelOutput);
  }
  const classCount = typeof columns === 'number' ? columns : manifest.labels?.length;
  if (classCount === undefined) {
    throw new UnservableModelError(
      `output "${score.name}" has shape ${formatShape(score.shape)} with no fixed number of classes; give the labels in model.json or export a fixed class dimension`,
    );
  }
  // LogSoftmax gives log-probabilities; softmax of log p is p itself, so they are served exactly as logits.
  const inferred: ScoreKind = producer === 'Softmax' ? 'probabilities' : 'logits';
  return classifier(score, classCount, manifest.scores ?? inferred, manifest, labelOutput);
}

function classifier(
  score: TensorSpec,
  classCount: number,
  scoreKind: ScoreKind,
  manifest: ModelManifest,
  labelOutput: string | undefined,
  graphLabels?: ClassLabel[],
): ClassifierOutputs {
  const defaults = graphLabels ?? Array.from({ length: classCount }, (_, index) => index);
  const labels = manifest.labels ?? defaults;
  if (labels.length !== classCount) {
    throw new UnservableModelError(
      `model.json lists ${labels.length} labels, but the model scores ${classCount} classes ` +
        `(output "${score.name}" ${formatShape(score.shape)}${graphLabels ? `, graph labels ${formatLabels(graphLabels)}` : ''})`,
    );
  }
  if (new Set(labels.map(String)).size !== labels.length) {
    throw new UnservableModelError(`model.json labels ${formatLabels(labels)} are not distinct`);
  }
  const renamed = graphLabels !== undefined && labels.some((label, index) => label !== graphLabels[index]);
  return {
    task: 'classification',
    labels,
    scoreOutput: score.name,
    scoreKind,
    ...(labelOutput !== undefined ? { labelOutput } : {}),
    ...(renamed && labelOutput !== undefined ? { graphLabels } : {}),
  };
}

function checkFeatures(features: string[] | undefined, feed: FeatureInput): string[] | undefined {
  if (!features) return undefined;
  if (features.length !== feed.featureCount) {
    throw new UnservableModelError(
      `model.json lists ${features.length} features, but input "${feed.spec.name}" ${formatShape(feed.spec.shape)} takes ${feed.featureCount}`,
    );
  }
  if (new Set(features).size !== features.length) {
    throw new UnservableModelError('model.json features must have distinct names');
  }
  return features;
}

/** A value's shape: numbers for fixed dimensions, the symbolic name (or '' when unnamed) for dynamic ones. */
function shapeOf(info: ValueInfoProto): Array<number | string> | undefined {
  const shape = info.type?.tensor_type?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((dim) =>
    hasField(dim, 'dim_value')
      ? toNumber(dim.dim_value ?? 0)
      : hasField(dim, 'dim_param')
        ? (dim.dim_param ?? '')
        : '',
  );
}

function typeKind(type: TypeProto | undefined): string {
  if (!type) return 'value of unknown type';
  if (type.sequence_type) return 'sequence';
  if (type.map_type) return 'map';
  if (type.optional_type) return 'optional value';
  if (type.sparse_tensor_type) return 'sparse tensor';
  if (type.opaque_type) return 'opaque value';
  return 'tensor';
}

function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((dim) => (dim === '' ? '?' : dim)).join(', ')}]`;
}

function formatSpec(spec: TensorSpec): string {
  return `"${spec.name}" ${spec.type} ${formatShape(spec.shape)}`;
}

function formatLabels(labels: readonly ClassLabel[]): string {
  return JSON.stringify(labels);
}
