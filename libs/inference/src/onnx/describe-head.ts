import type {
  ClassifierOutputs,
  ClassLabel,
  ModelManifest,
  RegressorOutputs,
  ScoreKind,
  TensorSpec,
} from '../model-signature';
import { formatLabels, formatShape, formatSpec, shapeOf, UnservableModelError } from './graph-queries';
import type { ServedGraph } from './zipmap-rewrite';

const SCORE_TYPES = new Set(['float32', 'float64']);
const LABEL_TYPES = new Set(['int64', 'int32', 'string']);

/** The one float output a head is read from, and its number of columns (a string when the graph leaves it open). */
interface ScoreOutput {
  score: TensorSpec;
  columns: number | string;
}

/**
 * What the served outputs mean: a classifier (its labels, which output scores them and how the scores become
 * probabilities, and the label output if there is one) or a regressor (its value output and number of targets).
 * Read from the graph as served (after the ZipMap rewrite); model.json settles what the graph leaves open and is
 * checked against what the graph says.
 */
export function describeHead(
  served: ServedGraph,
  outputs: TensorSpec[],
  manifest: ModelManifest,
): ClassifierOutputs | RegressorOutputs {
  const { score, columns } = scoreOutputOf(served, outputs);
  const labelOutputs = outputs.filter(
    (output) =>
      LABEL_TYPES.has(output.type) &&
      (output.shape.length === 1 || (output.shape.length === 2 && output.shape[1] === 1)),
  );
  const labelOutput = labelOutputs.length === 1 ? labelOutputs[0].name : undefined;
  const graphLabels =
    served.zipMapLabels ??
    served.queries.classLabelsBehind([score.name, ...labelOutputs.map((output) => output.name)]);
  if (graphLabels) return labelledClassifier({ score, columns }, graphLabels, manifest, labelOutput);

  const producer = served.queries.meaningfulProducer(score.name)?.op_type;
  const task =
    manifest.task ??
    (labelOutput !== undefined || columns !== 1 || producer === 'Sigmoid' ? 'classification' : 'regression');
  if (task === 'regression') return regressor({ score, columns }, manifest, labelOutput);

  if (columns === 1) {
    // One column scores the second of two classes.
    const kind: ScoreKind =
      (manifest.scores ?? (producer === 'Sigmoid' ? 'probabilities' : 'logits')) === 'probabilities'
        ? 'positive-probability'
        : 'positive-logit';
    return classifier({ score, classCount: 2, scoreKind: kind, manifest, labelOutput });
  }
  const classCount = typeof columns === 'number' ? columns : manifest.labels?.length;
  if (classCount === undefined) {
    throw new UnservableModelError(
      `output "${score.name}" has shape ${formatShape(score.shape)} with no fixed number of classes; give the labels in model.json or export a fixed class dimension`,
    );
  }
  // LogSoftmax gives log-probabilities; softmax of log p is p itself, so they are served exactly as logits.
  const inferred: ScoreKind = producer === 'Softmax' ? 'probabilities' : 'logits';
  return classifier({ score, classCount, scoreKind: manifest.scores ?? inferred, manifest, labelOutput });
}

function scoreOutputOf(served: ServedGraph, outputs: TensorSpec[]): ScoreOutput {
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
  const declared = (served.queries.graph.output ?? []).find((output) => output.name === score.name);
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
  return { score, columns: score.shape.length === 1 ? 1 : score.shape[1] };
}

/** A classifier whose graph names its classes (scikit-learn's). */
function labelledClassifier(
  { score, columns }: ScoreOutput,
  graphLabels: ClassLabel[],
  manifest: ModelManifest,
  labelOutput: string | undefined,
): ClassifierOutputs {
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
  return classifier({
    score,
    classCount: graphLabels.length,
    scoreKind: manifest.scores ?? 'probabilities',
    manifest,
    labelOutput,
    graphLabels,
  });
}

function regressor(
  { score, columns }: ScoreOutput,
  manifest: ModelManifest,
  labelOutput: string | undefined,
): RegressorOutputs {
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

interface ClassifierFacts {
  score: TensorSpec;
  classCount: number;
  scoreKind: ScoreKind;
  manifest: ModelManifest;
  labelOutput: string | undefined;
  /** The classes as the graph names them, when it does. */
  graphLabels?: ClassLabel[];
}

function classifier({
  score,
  classCount,
  scoreKind,
  manifest,
  labelOutput,
  graphLabels,
}: ClassifierFacts): ClassifierOutputs {
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
