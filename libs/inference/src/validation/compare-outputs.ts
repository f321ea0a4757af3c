import type { ClassifierOutputs, ModelSignature, Prediction } from '../model-signature';
import type { OutputTensor } from '../onnx';
import { DEFAULT_TOLERANCE, type ValidationFile } from './validation-file';

/** numpy's `isclose`: |got − expected| ≤ atol + rtol·|expected|, so large values get room for float32 rounding. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** One value that differs from what the training framework gave, or the largest difference where none is off. */
export interface Deviation {
  /** Row of `inputs`, from 0. */
  row: number;
  /** The class label a probability belongs to, or the column of a value or output (from 0). */
  column?: string;
  expected: number | string;
  got: number | string;
  /** |got − expected|; numbers only. */
  difference?: number;
  /** atol + rtol·|expected|; numbers only. */
  allowed?: number;
}

/** One field of the validation file compared with what the model computed. */
export interface OutputCheck {
  /** The field compared, as the file names it: `labels`, `probabilities`, `values`, `outputs.<name>`. */
  field: string;
  /** Values compared (rows × columns). */
  compared: number;
  /** Values outside the tolerance (for labels: rows predicting another class). */
  failed: number;
  /** The worst value: for numbers the largest difference relative to what is allowed, for labels the first row off. */
  worst?: Deviation;
}

export interface ValidationReport {
  passed: boolean;
  rows: number;
  tolerance: Tolerance;
  checks: OutputCheck[];
  /** The file's `source`, when it names one. */
  source?: string;
}

export function toleranceOf(file: ValidationFile): Tolerance {
  return { atol: file.atol ?? DEFAULT_TOLERANCE.atol, rtol: file.rtol ?? DEFAULT_TOLERANCE.rtol };
}

export function allowedDifference(expected: number, tolerance: Tolerance): number {
  return tolerance.atol + tolerance.rtol * Math.abs(expected);
}

/** NaN is never close to anything, so a model that answers NaN fails. */
export function isClose(got: number, expected: number, tolerance: Tolerance): boolean {
  return Math.abs(got - expected) <= allowedDifference(expected, tolerance);
}

/**
 * Whether a validation file is meant for this model, before anything is run: row widths, the fields the model's task
 * has, class labels it knows, outputs it has. A mismatch means the file (or the model beside it) is the wrong one,
 * not that the model computes differently; the message says which field.
 */
export function checkFitsModel(file: ValidationFile, signature: ModelSignature): void {
  const { head, featureCount } = signature;
  const width = file.inputs[0].length;
  if (width !== featureCount)
    throw new Error(`inputs rows have ${width} values; the model takes ${featureCount} features`);
  if (head.task === 'classification') {
    if (file.values)
      throw new Error('"values" are for regressors; this model is a classifier (labels, probabilities)');
    if (file.probabilities && file.probabilities[0].length !== head.labels.length) {
      throw new Error(
        `probabilities rows have ${file.probabilities[0].length} columns; the model has ${head.labels.length} classes ${JSON.stringify(head.labels)}`,
      );
    }
    file.labels?.forEach((label, row) => {
      if (labelIndex(head, label) === undefined)
        throw new Error(
          `labels[${row}] is ${JSON.stringify(label)}, not one of the model's classes ${JSON.stringify(head.labels)}`,
        );
    });
  } else {
    if (file.labels || file.probabilities)
      throw new Error('"labels" and "probabilities" are for classifiers; this model is a regressor (values)');
    const given = file.values ? columnsOf(file.values[0]) : head.targets;
    if (given !== head.targets)
      throw new Error(`values rows have ${given} values; the model has ${head.targets} targets`);
  }
  const outputNames = signature.outputs.map((output) => output.name);
  for (const name of Object.keys(file.outputs ?? {})) {
    if (!outputNames.includes(name))
      throw new Error(
        `outputs.${name}: the model has no output "${name}" (its outputs: ${outputNames.join(', ')})`,
      );
  }
}

/**
 * Compares what the model computed for `file.inputs` (its predictions as the service serves them, and the raw
 * output tensors of the run) with what the file expects. Call checkFitsModel first.
 */
export function compareOutputs(
  file: ValidationFile,
  signature: ModelSignature,
  predictions: readonly Prediction[],
  outputs: Readonly<Record<string, OutputTensor>>,
): ValidationReport {
  const tolerance = toleranceOf(file);
  const checks: OutputCheck[] = [];
  const { head } = signature;
  if (head.task === 'classification') {
    if (file.labels) checks.push(compareLabels(head, file.labels, predictions));
    if (file.probabilities) {
      const keys = head.labels.map(String);
      const got = predictions.map((p) =>
        p.task === 'classification' ? keys.map((k) => p.probabilities[k]) : [],
      );
      checks.push(compareNumbers('probabilities', file.probabilities, got, tolerance, keys));
    }
  } else if (file.values) {
    const got = predictions.map((p) => (p.task === 'regression' ? [p.value].flat() : []));
    checks.push(compareNumbers('values', file.values.map(asRow), got, tolerance));
  }
  for (const [name, expected] of Object.entries(file.outputs ?? {})) {
    checks.push(
      compareNumbers(`outputs.${name}`, expected.map(asRow), tensorRows(outputs, name, expected), tolerance),
    );
  }
  return {
    passed: checks.every((check) => check.failed === 0),
    rows: file.inputs.length,
    tolerance,
    checks,
    ...(file.source !== undefined ? { source: file.source } : {}),
  };
}

/**
 * The check and value that make a report fail: the value furthest past its allowance. A wrong class has no
 * allowance, so it counts as furthest; between equals, the first check (labels before probabilities).
 */
export function worstFailure(
  report: ValidationReport,
): { check: OutputCheck; deviation: Deviation } | undefined {
  let found: { check: OutputCheck; deviation: Deviation } | undefined;
  for (const check of report.checks) {
    if (check.failed === 0 || !check.worst) continue;
    if (!found || excess(check.worst) > excess(found.deviation)) found = { check, deviation: check.worst };
  }
  return found;
}

/** One line naming a deviation: `row 11 probabilities["1"]: expected 0.5656, got 0.5712 (difference 5.6e-3 > 1.6e-5)`. */
export function describeDeviation(field: string, deviation: Deviation): string {
  const where = `row ${deviation.row} ${field}${deviation.column !== undefined ? `[${JSON.stringify(deviation.column)}]` : ''}`;
  const expected = JSON.stringify(deviation.expected);
  const got = JSON.stringify(deviation.got);
  if (deviation.difference === undefined) return `${where}: expected ${expected}, got ${got}`;
  const over = deviation.difference <= deviation.allowed! ? '≤' : '>';
  return `${where}: expected ${expected}, got ${got} (difference ${shortNumber(deviation.difference)} ${over} allowed ${shortNumber(deviation.allowed!)})`;
}

function compareLabels(
  head: ClassifierOutputs,
  expected: readonly (string | number)[],
  predictions: readonly Prediction[],
): OutputCheck {
  let failed = 0;
  let worst: Deviation | undefined;
  expected.forEach((label, row) => {
    const prediction = predictions[row];
    const got = prediction.task === 'classification' ? prediction.label : String(prediction.value);
    if (labelIndex(head, label) === labelIndex(head, got)) return;
    failed++;
    worst ??= { row, expected: label, got };
  });
  return { field: 'labels', compared: expected.length, failed, ...(worst ? { worst } : {}) };
}

/**
 * The position of a class label. Labels are compared as text (an exporter may write `1` or `"1"`), and may be the
 * names model.json gives the classes or the graph's own (what the training framework predicted before renaming).
 */
function labelIndex(head: ClassifierOutputs, label: string | number): number | undefined {
  const text = String(label);
  const served = head.labels.findIndex((l) => String(l) === text);
  if (served >= 0) return served;
  const graph = (head.graphLabels ?? []).findIndex((l) => String(l) === text);
  return graph >= 0 ? graph : undefined;
}

function compareNumbers(
  field: string,
  expected: readonly number[][],
  got: readonly number[][],
  tolerance: Tolerance,
  columnNames?: readonly string[],
): OutputCheck {
  let compared = 0;
  let failed = 0;
  let worst: Deviation | undefined;
  expected.forEach((row, r) => {
    row.forEach((want, c) => {
      const value = got[r][c];
      const deviation: Deviation = {
        row: r,
        column: columnNames?.[c] ?? (row.length > 1 ? String(c) : undefined),
        expected: want,
        got: value,
        difference: Math.abs(value - want),
        allowed: allowedDifference(want, tolerance),
      };
      if (deviation.column === undefined) delete deviation.column;
      compared++;
      if (!isClose(value, want, tolerance)) failed++;
      if (!worst || excess(deviation) > excess(worst)) worst = deviation;
    });
  });
  return { field, compared, failed, ...(worst ? { worst } : {}) };
}

/** How far past what is allowed a value is: above 1 fails. NaN counts as infinitely far. */
function excess(deviation: Deviation): number {
  const { difference, allowed } = deviation;
  if (difference === undefined || allowed === undefined) return Number.POSITIVE_INFINITY;
  if (Number.isNaN(difference)) return Number.POSITIVE_INFINITY;
  if (allowed === 0) return difference === 0 ? 0 : Number.POSITIVE_INFINITY;
  return difference / allowed;
}

/** A raw output's rows as numbers, checked against the widths the file expects. */
function tensorRows(
  outputs: Readonly<Record<string, OutputTensor>>,
  name: string,
  expected: ReadonlyArray<number | number[]>,
): number[][] {
  const tensor = outputs[name];
  if (!tensor) throw new Error(`outputs.${name}: the run returned no output "${name}"`);
  const rows = expected.length;
  const columns = tensor.dims.slice(1).reduce((product, dim) => product * dim, 1);
  const width = columnsOf(expected[0]);
  if (tensor.dims[0] !== rows || columns !== width)
    throw new Error(
      `outputs.${name}: the file gives ${width} value${width === 1 ? '' : 's'} per row; the output holds ${columns} per row`,
    );
  return Array.from({ length: rows }, (_, row) =>
    Array.from({ length: columns }, (_, column) => {
      const value = tensor.data[row * columns + column];
      if (typeof value === 'string')
        throw new Error(`outputs.${name}: the output holds strings; compare class labels with "labels"`);
      return Number(value);
    }),
  );
}

function asRow(entry: number | number[]): number[] {
  return Array.isArray(entry) ? entry : [entry];
}

function columnsOf(entry: number | number[]): number {
  return Array.isArray(entry) ? entry.length : 1;
}

/** Three significant digits; tolerances and differences are small, so those in exponent form (1e-5, not 0.00001). */
export function shortNumber(value: number): string {
  if (value !== 0 && Number.isFinite(value) && Math.abs(value) < 1e-3)
    return value.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(3)));
}
