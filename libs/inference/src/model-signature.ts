/**
 * What the service knows about a model once it has read its graph (and its optional model.json):
 * the contract between graph adaptation, the runner and the prediction service.
 */

export type Task = 'classification' | 'regression';

/** A class label as the model defines it: integers for most exports, strings when trained on strings. */
export type ClassLabel = number | string;

/** ONNX element types, spelled as onnxruntime-node spells them (`float32`, `float64`, `int64`, `string`, ...). */
export type ElementType = string;

export interface TensorSpec {
  name: string;
  type: ElementType;
  /** A number for a fixed dimension; a symbolic name (or '' when unnamed) for a dynamic one. */
  shape: Array<number | string>;
}

/** The optional `model.json` beside `model.onnx`; everything in it can also be inferred from the graph. */
export interface ModelManifest {
  features?: string[];
  labels?: ClassLabel[];
  task?: Task;
  scores?: 'probabilities' | 'logits';
}

/**
 * How the classifier's scores turn into probabilities:
 * - `probabilities`: already probabilities, one column per class (sklearn, or a graph ending in Softmax);
 * - `logits`: raw scores, one column per class; the service applies softmax;
 * - `positive-probability`: one column, the probability of the second class (a graph ending in Sigmoid);
 *   the first class gets 1 − p.
 * - `positive-logit`: one column, the logit of the second class (a binary net trained with BCEWithLogitsLoss and
 *   exported without its Sigmoid, declared a classifier in model.json); the service applies the sigmoid.
 */
export type ScoreKind = 'probabilities' | 'logits' | 'positive-probability' | 'positive-logit';

export interface ClassifierOutputs {
  task: 'classification';
  /** Class labels in the order of the score columns. */
  labels: ClassLabel[];
  scoreOutput: string;
  scoreKind: ScoreKind;
  /** Output holding the predicted label per row (scikit-learn exports); absent means argmax of the scores. */
  labelOutput?: string;
  /**
   * The labels as the graph itself names them, in the same order as `labels`; set only when model.json renames
   * them, so a value read from `labelOutput` can be mapped to its class.
   */
  graphLabels?: ClassLabel[];
}

export interface RegressorOutputs {
  task: 'regression';
  valueOutput: string;
  /** Values per row: 1 for a single target, more for multi-output regression. */
  targets: number;
}

export interface ModelSignature {
  /** The one input tensor rows are fed into, shaped [batch, features]. */
  input: TensorSpec;
  featureCount: number;
  /** Feature names in input order, when model.json gives them. */
  features?: string[];
  /** Set when the graph fixes the batch dimension (exported without dynamic axes): at most this many rows per run. */
  fixedBatchSize?: number;
  /** The outputs of the graph as served (after adaptation). */
  outputs: TensorSpec[];
  head: ClassifierOutputs | RegressorOutputs;
}

export interface ClassPrediction {
  task: 'classification';
  label: ClassLabel;
  /** Probability of `label`. */
  probability: number;
  /** Probability per class, keyed by the label as a string, in label order. */
  probabilities: Record<string, number>;
}

export interface RegressionPrediction {
  task: 'regression';
  /** One number for a single target, an array for multi-output regression. */
  value: number | number[];
}

export type Prediction = ClassPrediction | RegressionPrediction;
