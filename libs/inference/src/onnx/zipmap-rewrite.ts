import type { ClassLabel } from '../model-signature';
import {
  classLabelsOf,
  GraphQueries,
  ML_DOMAIN,
  referencedNames,
  subgraphsOf,
  UnservableModelError,
} from './graph-queries';
import {
  DataType,
  type GraphProto,
  type NodeProto,
  type TensorShapeDimension,
  type ValueInfoProto,
} from './onnx-proto';

/** Not exported: no other module can make a ServedGraph. */
const SERVED: unique symbol = Symbol('served graph');

/**
 * The graph as it will be served: what onnxruntime-node can return. Only `servedGraph` makes one, so whatever
 * reads the served outputs (the head's description) cannot run on the graph before its rewrite.
 */
export interface ServedGraph {
  readonly [SERVED]: true;
  readonly queries: GraphQueries;
  /** The classes of the ZipMap that was removed, if there was one. */
  readonly zipMapLabels?: ClassLabel[];
  /** The graph changed: the model must be re-encoded for onnxruntime. */
  readonly rewritten: boolean;
}

/**
 * skl2onnx ends classifiers in `ZipMap`, turning the [N, C] probability tensor into one {label: probability} map
 * per row; onnxruntime-node cannot return such a sequence. Serve the tensor itself instead, under the ZipMap's
 * output name so the served outputs match an export made with `zipmap=False`. Rewrites `graph` in place.
 * @param batchDim the input's batch dimension, given to the probability output it adds
 */
export function servedGraph(graph: GraphProto, batchDim: TensorShapeDimension): ServedGraph {
  const before = new GraphQueries(graph);
  const zipped = (graph.output ?? []).filter((output) => {
    const producer = before.producerOf(output.name ?? '');
    return producer?.op_type === 'ZipMap' && producer.domain === ML_DOMAIN;
  });
  if (zipped.length === 0) return { [SERVED]: true, queries: before, rewritten: false };
  if (zipped.length > 1) {
    throw new UnservableModelError(
      `the graph has ${zipped.length} ZipMap outputs (${zipped.map((o) => `"${o.name}"`).join(', ')}); the service serves one classifier per model`,
    );
  }
  const zippedName = zipped[0].name ?? '';
  const zipMap = before.producerOf(zippedName) as NodeProto;
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
  const removed = removeUnusedNodes(graph, zipMap, before);
  const removedTensors = new Set(removed.flatMap((node) => node.output ?? []));
  graph.value_info = (graph.value_info ?? []).filter((info) => !removedTensors.has(info.name ?? ''));
  if (!alreadyServed && canRename(graph, probabilities)) renameTensor(graph, probabilities, zippedName);
  return { [SERVED]: true, queries: new GraphQueries(graph), zipMapLabels: labels, rewritten: true };
}

/**
 * Removes `start` and then every node left feeding nothing: what only served the removed output. Nodes that were
 * unused before are left alone, since the adaptation should change no more than it must.
 * @param queries of the graph before any node was removed
 */
function removeUnusedNodes(graph: GraphProto, start: NodeProto, queries: GraphQueries): NodeProto[] {
  const removed = new Set<NodeProto>([start]);
  const servedNames = new Set((graph.output ?? []).map((output) => output.name));
  const isUsed = (name: string): boolean =>
    servedNames.has(name) ||
    (graph.node ?? []).some((node) => !removed.has(node) && referencedNames(node).has(name));
  const pending = [start];
  for (let node = pending.pop(); node; node = pending.pop()) {
    for (const input of node.input ?? []) {
      const producer = queries.producerOf(input);
      if (producer && !removed.has(producer) && !(producer.output ?? []).some(isUsed)) {
        removed.add(producer);
        pending.push(producer);
      }
    }
  }
  graph.node = (graph.node ?? []).filter((node) => !removed.has(node));
  return [...removed];
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
