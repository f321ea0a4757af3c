import type { ModelManifest, ModelSignature, TensorSpec } from '../model-signature';
import { describeHead } from './describe-head';
import { formatShape, shapeOf, typeKind, UnservableModelError } from './graph-queries';
import {
  decodeModelProto,
  elementTypeName,
  encodeModelProto,
  type GraphProto,
  hasField,
  type ModelProto,
  type TensorShapeDimension,
  type ValueInfoProto,
} from './onnx-proto';
import { servedGraph } from './zipmap-rewrite';

export { UnservableModelError } from './graph-queries';

export interface AdaptedModel {
  /** The model to hand to onnxruntime: the original bytes, or a rewritten graph when serving needed one. */
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** Feature element types the runner can build an input tensor of. */
const FEATURE_TYPES = new Set(['float32', 'float64', 'int32', 'int64']);

/**
 * Reads what an exported graph means — its one feature input, whether it classifies or regresses and how its scores
 * turn into probabilities — and rewrites what onnxruntime-node cannot return: scikit-learn's ZipMap (a sequence of
 * maps) becomes the probability tensor behind it. Everything is inferred from the graph; model.json may name
 * features, rename labels or settle what the graph leaves open (task, score kind), and is checked against the graph.
 *
 * In three steps, each in its own module: the graph's input (here), the rewrite into the graph as served
 * (`zipmap-rewrite.ts`), and the head read from the served graph (`describe-head.ts`), which only a ServedGraph
 * can be given.
 */
export function adaptModel(bytes: Uint8Array, manifest: ModelManifest = {}): AdaptedModel {
  const model = readModel(bytes);
  const feed = findFeatureInput(model.graph as GraphProto);
  const served = servedGraph(model.graph as GraphProto, feed.batchDim);
  const outputs = (served.queries.graph.output ?? []).map(describeOutput);
  const head = describeHead(served, outputs, manifest);
  const features = checkFeatures(manifest.features, feed);

  const signature: ModelSignature = {
    input: feed.spec,
    featureCount: feed.featureCount,
    ...(features ? { features } : {}),
    ...(feed.fixedBatchSize !== undefined ? { fixedBatchSize: feed.fixedBatchSize } : {}),
    outputs,
    head,
  };
  return { bytes: served.rewritten ? encodeModelProto(model) : bytes, signature };
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
