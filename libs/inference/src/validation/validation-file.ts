import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ClassLabel } from '../model-signature';

/**
 * `validation.json`: rows and what the training framework answered for them, written at export time. The service
 * runs the rows through the exported model before a version takes traffic and compares (docs/VALIDATION.md).
 */
export interface ValidationFile {
  /** Feature rows in the model's input order. */
  inputs: number[][];
  /** Predicted class per row (`predict`); compared exactly. */
  labels?: ClassLabel[];
  /** Probability per class per row (`predict_proba`), columns in the model's label order. */
  probabilities?: number[][];
  /** Regression value per row: a number, or one per target. */
  values?: Array<number | number[]>;
  /** Raw output tensors as served, by output name (e.g. a PyTorch net's logits), one entry per row. */
  outputs?: Record<string, Array<number | number[]>>;
  /** Absolute tolerance; default 1e-5. */
  atol?: number;
  /** Relative tolerance; default 1e-5. */
  rtol?: number;
  /** Free text: which framework and version produced the expected outputs. */
  source?: string;
}

export const DEFAULT_TOLERANCE = { atol: 1e-5, rtol: 1e-5 } as const;

/** The fields a validation file may have: anything else is most likely a typo that would skip a comparison. */
const FIELDS = ['inputs', 'labels', 'probabilities', 'values', 'outputs', 'atol', 'rtol', 'source'] as const;

/** A validation file that cannot be used: not JSON, wrong shape, or not fitting the model it is meant for. */
export class InvalidValidationFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} is not a usable validation file: ${problem}`);
    this.name = 'InvalidValidationFileError';
  }
}

/**
 * Where a model's validation file sits: `validation.json` beside a repository's `model.onnx`; beside any other
 * `<stem>.onnx` (MODEL_PATH), `<stem>.validation.json`, so files sharing a folder do not share a validation file.
 */
export function validationPathOf(modelPath: string): string {
  const stem = basename(modelPath, extname(modelPath));
  return join(dirname(modelPath), stem === 'model' ? 'validation.json' : `${stem}.validation.json`);
}

/** Reads and checks a validation file; every problem is an InvalidValidationFileError naming the file. */
export async function readValidationFile(path: string): Promise<ValidationFile> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InvalidValidationFileError(path, `cannot be read (${error.code ?? error.message})`);
  });
  return parseValidationFile(text, path);
}

/** Checks the shape of a validation file's text; the problem names the field, e.g. `inputs[3][2]`. */
export function parseValidationFile(text: string, path: string): ValidationFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Python's json.dump writes NaN and Infinity unless told not to; JSON has neither.
    const hint = /\b(NaN|-?Infinity)\b/.test(text)
      ? ' (it holds NaN or Infinity, which JSON has no spelling for: write finite numbers)'
      : '';
    throw new InvalidValidationFileError(path, `not valid JSON: ${(error as Error).message}${hint}`);
  }
  try {
    return checkShape(value);
  } catch (error) {
    throw new InvalidValidationFileError(path, (error as Error).message);
  }
}

function checkShape(value: unknown): ValidationFile {
  if (!isObject(value)) throw new Error('not a JSON object');
  const unknown = Object.keys(value).filter((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; the fields are ${FIELDS.join(', ')}`,
    );
  }
  const inputs = numberRows(value.inputs, 'inputs');
  if (inputs.length === 0) throw new Error('"inputs" holds no rows');
  const rows = inputs.length;
  const file: ValidationFile = { inputs };

  if (value.labels !== undefined) {
    const labels = perRow(value.labels, 'labels', rows);
    labels.forEach((label, row) => {
      if (typeof label !== 'string' && !isFiniteNumber(label))
        throw new Error(`labels[${row}] must be a string or a number, not ${shown(label)}`);
    });
    file.labels = labels as ClassLabel[];
  }
  if (value.probabilities !== undefined) {
    file.probabilities = numberRows(value.probabilities, 'probabilities', rows);
  }
  if (value.values !== undefined) file.values = valueRows(value.values, 'values', rows);
  if (value.outputs !== undefined) {
    if (!isObject(value.outputs))
      throw new Error('"outputs" must be an object: output name → one entry per row');
    file.outputs = {};
    for (const [name, entries] of Object.entries(value.outputs)) {
      file.outputs[name] = valueRows(entries, `outputs.${name}`, rows);
    }
  }
  if (
    !file.labels &&
    !file.probabilities &&
    !file.values &&
    (!file.outputs || !Object.keys(file.outputs).length)
  )
    throw new Error('nothing to compare: give labels, probabilities, values or outputs');

  for (const key of ['atol', 'rtol'] as const) {
    const tolerance = value[key];
    if (tolerance === undefined) continue;
    if (!isFiniteNumber(tolerance) || tolerance < 0)
      throw new Error(`"${key}" must be a number ≥ 0, not ${shown(tolerance)}`);
    file[key] = tolerance;
  }
  if (value.source !== undefined) {
    if (typeof value.source !== 'string') throw new Error('"source" must be a string');
    file.source = value.source;
  }
  return file;
}

/** An array with one entry per input row. */
function perRow(value: unknown, field: string, rows?: number): unknown[] {
  if (!Array.isArray(value)) throw new Error(`"${field}" must be an array, not ${shown(value)}`);
  if (rows !== undefined && value.length !== rows)
    throw new Error(`"${field}" has ${value.length} entries; "inputs" has ${rows} rows`);
  return value;
}

/** Rows of finite numbers, all as long as the first. */
function numberRows(value: unknown, field: string, rows?: number): number[][] {
  const entries = perRow(value, field, rows);
  let width: number | undefined;
  return entries.map((entry, row) => {
    if (!Array.isArray(entry) || entry.length === 0)
      throw new Error(`${field}[${row}] must be a non-empty array of numbers, not ${shown(entry)}`);
    entry.forEach((number, column) => {
      if (!isFiniteNumber(number))
        throw new Error(`${field}[${row}][${column}] must be a finite number, not ${shown(number)}`);
    });
    width ??= entry.length;
    if (entry.length !== width)
      throw new Error(`${field}[${row}] has ${entry.length} values; ${field}[0] has ${width}`);
    return entry as number[];
  });
}

/** One number per row, or one array of numbers per row (all as long as the first). */
function valueRows(value: unknown, field: string, rows: number): Array<number | number[]> {
  const entries = perRow(value, field, rows);
  if (entries.every(isFiniteNumber)) return entries;
  if (entries.every(Array.isArray)) return numberRows(entries, field);
  const row = entries.findIndex((entry) => !isFiniteNumber(entry) && !Array.isArray(entry));
  if (row >= 0)
    throw new Error(
      `${field}[${row}] must be a finite number or an array of them, not ${shown(entries[row])}`,
    );
  throw new Error(`"${field}" mixes numbers and arrays: give one number per row, or one array per row`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A value as a message shows it: short, and never the whole of a large array or object. */
function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
