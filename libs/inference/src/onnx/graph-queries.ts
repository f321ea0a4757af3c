import type { ClassLabel, TensorSpec } from '../model-signature';
import {
  decodeUtf8,
  findAttribute,
  type GraphProto,
  hasField,
  type NodeProto,
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

export const ML_DOMAIN = 'ai.onnx.ml';

/** Ops that move or reshape values without changing them: what a score means is decided by the op behind them. */
const PASS_THROUGH_OPS = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast']);

/**
 * Questions about one graph as it stands: which node produces a tensor, the class labels behind an output, the op
 * that decides what a score means. Built once per graph; a graph rewritten afterwards needs a new one.
 */
export class GraphQueries {
  private readonly producers = new Map<string, NodeProto>();

  constructor(readonly graph: GraphProto) {
    for (const node of graph.node ?? [])
      for (const output of node.output ?? []) this.producers.set(output, node);
  }

  producerOf(name: string): NodeProto | undefined {
    return this.producers.get(name);
  }

  /** The class labels of the nearest classifier node behind the given tensors, searching producers breadth-first. */
  classLabelsBehind(names: string[]): ClassLabel[] | undefined {
    const seen = new Set<NodeProto>();
    let frontier = names;
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const name of frontier) {
        const node = this.producers.get(name);
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
  meaningfulProducer(name: string): NodeProto | undefined {
    let node = this.producers.get(name);
    for (let hops = 0; node && PASS_THROUGH_OPS.has(node.op_type ?? '') && hops < 16; hops++) {
      node = this.producers.get((node.input ?? [])[0] ?? '');
    }
    return node;
  }
}

/**
 * scikit-learn classifiers carry their classes: TreeEnsembleClassifier and ZipMap as `classlabels_int64s`,
 * LinearClassifier and SVMClassifier as `classlabels_ints`, all of them as `classlabels_strings` for string classes.
 */
export function classLabelsOf(node: NodeProto): ClassLabel[] | undefined {
  const ints =
    (findAttribute(node, 'classlabels_int64s') ?? findAttribute(node, 'classlabels_ints'))?.ints ?? [];
  if (ints.length > 0) return ints.map(toNumber);
  const strings = findAttribute(node, 'classlabels_strings')?.strings ?? [];
  if (strings.length > 0) return strings.map(decodeUtf8);
  return undefined;
}

/** Names a node reads, including those its subgraphs (If, Loop, Scan bodies) take from the enclosing scope. */
export function referencedNames(node: NodeProto): Set<string> {
  const names = new Set(node.input ?? []);
  for (const subgraph of subgraphsOf(node)) {
    for (const inner of subgraph.node ?? []) for (const name of referencedNames(inner)) names.add(name);
  }
  return names;
}

export function subgraphsOf(node: NodeProto): GraphProto[] {
  return (node.attribute ?? []).flatMap((attribute) => [
    ...(attribute.g ? [attribute.g] : []),
    ...(attribute.graphs ?? []),
  ]);
}

/** A value's shape: numbers for fixed dimensions, the symbolic name (or '' when unnamed) for dynamic ones. */
export function shapeOf(info: ValueInfoProto): Array<number | string> | undefined {
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

export function typeKind(type: TypeProto | undefined): string {
  if (!type) return 'value of unknown type';
  if (type.sequence_type) return 'sequence';
  if (type.map_type) return 'map';
  if (type.optional_type) return 'optional value';
  if (type.sparse_tensor_type) return 'sparse tensor';
  if (type.opaque_type) return 'opaque value';
  return 'tensor';
}

export function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((dim) => (dim === '' ? '?' : dim)).join(', ')}]`;
}

export function formatSpec(spec: TensorSpec): string {
  return `"${spec.name}" ${spec.type} ${formatShape(spec.shape)}`;
}

export function formatLabels(labels: readonly ClassLabel[]): string {
  return JSON.stringify(labels);
}
