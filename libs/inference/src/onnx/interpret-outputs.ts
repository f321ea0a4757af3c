import type {
  ClassifierOutputs,
  ClassPrediction,
  ModelSignature,
  Prediction,
  RegressorOutputs,
} from '../model-signature';

/** One output tensor as onnxruntime returns it (int64 data arrives as BigInt, strings as strings). */
export interface OutputTensor {
  data: ArrayLike<number | bigint | string>;
  dims: readonly number[];
}

/**
 * Turns the output tensors of one run over `rows` rows into one prediction per row, as JSON-ready values: numbers
 * (never BigInt) and the model's own labels.
 */
export function interpretOutputs(
  signature: ModelSignature,
  outputs: Readonly<Record<string, OutputTensor>>,
  rows: number,
): Prediction[] {
  const head = signature.head;
  return head.task === 'classification' ? classify(head, outputs, rows) : regress(head, outputs, rows);
}

function classify(
  head: ClassifierOutputs,
  outputs: Readonly<Record<string, OutputTensor>>,
  rows: number,
): ClassPrediction[] {
  const scores = matrix(outputs, head.scoreOutput, rows);
  const classCount = head.labels.length;
  const expectedColumns =
    head.scoreKind === 'positive-probability' || head.scoreKind === 'positive-logit' ? 1 : classCount;
  if (scores.columns !== expectedColumns) {
    throw new Error(
      `output "${head.scoreOutput}" has ${scores.columns} columns per row; ${head.scoreKind} for ${classCount} classes needs ${expectedColumns}`,
    );
  }
  const predicted = head.labelOutput !== undefined ? matrix(outputs, head.labelOutput, rows) : undefined;
  const { keys, properties, template, graphIndex, numberIndex } = labelLookup(head);

  const predictions = new Array<ClassPrediction>(rows);
  for (let row = 0; row < rows; row++) {
    const probabilities = toProbabilities(head.scoreKind, scores.row(row));
    let index: number;
    if (predicted) {
      const value = predicted.data[row * predicted.columns];
      const found = typeof value === 'string' ? graphIndex.get(value) : numberIndex.get(Number(value));
      if (found === undefined) {
        throw new Error(
          `output "${head.labelOutput}" predicted ${String(value)}, which is not one of the labels ${JSON.stringify(head.labels)}`,
        );
      }
      index = found;
    } else {
      index = argmax(probabilities);
    }
    // Integer-like keys are enumerated in ascending order by JavaScript whatever the insertion order;
    // scikit-learn sorts its classes, so for its models this is label order too.
    // A copy of the template has the final shape at once: an empty object grown key by key costs several times more.
    const byLabel: Record<string, number> = { ...template };
    for (let column = 0; column < keys.length; column++) byLabel[properties[column]] = probabilities[column];
    predictions[row] = {
      task: 'classification',
      label: head.labels[index],
      probability: probabilities[index],
      probabilities: byLabel,
    };
  }
  return predictions;
}

interface LabelLookup {
  /** The served labels as the keys of `probabilities`. */
  keys: string[];
  /**
   * The same keys as the properties are set: integer-like ones as numbers, the same property, which V8 then stores
   * as an element without converting the string on every row.
   */
  properties: Array<string | number>;
  /** An object with every key, each 0: what `probabilities` objects are copied from. */
  template: Readonly<Record<string, number>>;
  /** Position of each label as the graph's label output names it (by position where the two differ). */
  graphIndex: Map<string, number>;
  /** The same for a numeric label output (int64 arrives as BigInt): no string made per row. */
  numberIndex: Map<number, number>;
}

/** What JavaScript takes as an array index: such a key and its number name the same property. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,8})$/;

/** Worked out once per model head, not once per request. */
const labelLookups = new WeakMap<ClassifierOutputs, LabelLookup>();

function labelLookup(head: ClassifierOutputs): LabelLookup {
  let found = labelLookups.get(head);
  if (found === undefined) {
    const keys = head.labels.map(String);
    const graphLabels = head.graphLabels ?? head.labels;
    found = {
      keys,
      properties: keys.map((key) => (ARRAY_INDEX.test(key) ? Number(key) : key)),
      template: Object.fromEntries(keys.map((key) => [key, 0])),
      graphIndex: new Map(graphLabels.map((label, index) => [String(label), index])),
      numberIndex: new Map(
        graphLabels.flatMap((label, index): Array<[number, number]> => {
          const value = Number(label);
          // Only labels whose number prints back as the label: "01" or "1.0" must not match the value 1.
          return String(value) === String(label) ? [[value, index]] : [];
        }),
      ),
    };
    labelLookups.set(head, found);
  }
  return found;
}

function regress(
  head: RegressorOutputs,
  outputs: Readonly<Record<string, OutputTensor>>,
  rows: number,
): Prediction[] {
  const values = matrix(outputs, head.valueOutput, rows);
  if (values.columns !== head.targets) {
    throw new Error(
      `output "${head.valueOutput}" has ${values.columns} values per row; the model has ${head.targets} targets`,
    );
  }
  const predictions = new Array<Prediction>(rows);
  for (let row = 0; row < rows; row++) {
    const value = values.row(row);
    predictions[row] = { task: 'regression', value: head.targets === 1 ? value[0] : value };
  }
  return predictions;
}

interface Matrix {
  data: ArrayLike<number | bigint | string>;
  columns: number;
  /** One row's values as float64 numbers. */
  row(row: number): number[];
}

/** Views an output as rows × columns, whatever its rank beyond the batch dimension. */
function matrix(outputs: Readonly<Record<string, OutputTensor>>, name: string, rows: number): Matrix {
  const tensor = outputs[name];
  if (!tensor)
    throw new Error(
      `the run returned no output "${name}" (got ${Object.keys(outputs).join(', ') || 'none'})`,
    );
  const { data, dims } = tensor;
  if (dims[0] !== rows) throw new Error(`output "${name}" has ${dims[0]} rows; ${rows} were fed`);
  const columns = dims.slice(1).reduce((product, dim) => product * dim, 1);
  if (data.length !== rows * columns) {
    throw new Error(`output "${name}" holds ${data.length} values, not ${rows} × ${columns}`);
  }
  return {
    data,
    columns,
    row: (row) => {
      const values = new Array<number>(columns);
      for (let column = 0; column < columns; column++)
        values[column] = toFloat(data[row * columns + column], name);
      return values;
    },
  };
}

function toFloat(value: number | bigint | string, name: string): number {
  if (typeof value === 'string')
    throw new Error(`output "${name}" holds strings where numbers were expected`);
  return Number(value);
}

/** One probability per class, computed in float64 whatever the output's precision. */
function toProbabilities(kind: ClassifierOutputs['scoreKind'], scores: number[]): number[] {
  switch (kind) {
    case 'probabilities':
      return scores;
    case 'logits':
      return softmax(scores);
    case 'positive-probability':
      return [1 - scores[0], scores[0]];
    case 'positive-logit': {
      const p = sigmoid(scores[0]);
      return [1 - p, p];
    }
  }
}

/** Subtracting the largest logit keeps exp() from overflowing and changes nothing in the result. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((logit) => Math.exp(logit - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

/** Written so exp() never overflows for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The first index of the largest value, as numpy's argmax breaks ties. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index] > values[best]) best = index;
  return best;
}
