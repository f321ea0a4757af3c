import { type FieldProblem, shownKey } from '@app/observability';
import { InvalidInstancesError } from './errors';
import { ModelSignature } from './model-signature';

/** Enough problems to fix a request without turning one bad 32×1000 batch into a megabyte of errors. */
const MAX_PROBLEMS = 20;
const INTEGER_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  }
  if (typeof value === 'boolean' || typeof value === 'number') return `${typeof value} ${value}`;
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

/** `features[3]` for a row's value, `instances[0].age` for a named feature. */
function fieldName(path: string, key: number | string): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

/** Rows whose names are kept once made: as many as a request usually carries. */
const NAMED_ROWS = 256;
const namedRows = new Map<string, readonly string[]>();

/**
 * `prefix[0]`, `prefix[1]`, …: how a request's rows are named in error messages. Every request needs them and
 * almost none uses them, so the first NAMED_ROWS are made once per prefix (`instances`, a model's input name).
 * Call it once the row count is known to match the data: it makes that many names.
 */
export function rowPaths(prefix: string, count: number): string[] {
  let named = namedRows.get(prefix);
  if (named === undefined) {
    named = Array.from({ length: NAMED_ROWS }, (_, row) => `${prefix}[${row}]`);
    namedRows.set(prefix, named);
  }
  if (count <= named.length) return named.slice(0, count);
  return Array.from({ length: count }, (_, row) => `${prefix}[${row}]`);
}

/**
 * A batch's feature values, flat and row-major in the model's feature order: the client's numbers as it sent them
 * (doubles from JSON, float32 from binary FP32 tensors), made into the model's element type only when run. One
 * array, not an array per row: the rows of a 32-row request were 32 arrays made, checked, copied into the input
 * tensor and kept for the prediction log.
 */
export type FeatureValues = Float64Array | Float32Array;

/**
 * Turns client instances (rows of numbers, or objects keyed by feature name) into feature values in the model's
 * feature order, or throws one 422 that names every bad field. Nothing is coerced: "1.5", null and true are
 * rejected rather than guessed at.
 */
export function toFeatureValues(
  instances: readonly unknown[],
  signature: ModelSignature,
  rowPaths: readonly string[],
): Float64Array {
  const problems = new Problems();
  const integersOnly = INTEGER_TYPES.has(signature.input.type);
  const expected = signature.featureCount;
  const values = new Float64Array(instances.length * expected);

  /**
   * Records a problem when the value may not be fed. The field's name is only spelled out for a problem, and by a
   * function, not a closure made per value: that was 320 closures, 5 KB of garbage, for a 32-row request.
   */
  const checkValue = (value: unknown, path: string, key: number | string): void => {
    if (typeof value !== 'number') {
      problems.add(fieldName(path, key), `must be a number, got ${describe(value)}`);
    } else if (!Number.isFinite(value)) {
      problems.add(fieldName(path, key), nonFinite(value));
    } else if (integersOnly && !Number.isInteger(value)) {
      problems.add(fieldName(path, key), `must be an integer: the model's input is ${signature.input.type}`);
    }
  };

  for (let i = 0, offset = 0; i < instances.length; i++, offset += expected) {
    const instance = instances[i];
    const path = rowPaths[i];
    if (Array.isArray(instance)) {
      if (instance.length !== expected) {
        problems.add(path, `has ${instance.length} values; the model expects ${expected} features`);
        continue;
      }
      for (let j = 0; j < expected; j++) {
        const value: unknown = instance[j];
        checkValue(value, path, j);
        values[offset + j] = value as number;
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const names = signature.features;
      if (!names) {
        problems.add(
          path,
          `is an object, but this model's features have no names (model.json "features"); send an array of ${expected} numbers`,
        );
        continue;
      }
      const record = instance as Record<string, unknown>;
      for (const key of Object.keys(record).filter((k) => !names.includes(k))) {
        problems.add(
          `${path}.${shownKey(key)}`,
          `is not a feature of this model (features: ${names.join(', ')})`,
        );
      }
      for (let j = 0; j < expected; j++) {
        const name = names[j];
        if (!(name in record)) problems.add(`${path}.${name}`, 'is missing');
        else checkValue(record[name], path, name);
        values[offset + j] = record[name] as number;
      }
    } else {
      problems.add(
        path,
        `must be an array of ${expected} numbers${signature.features ? ' or an object keyed by feature name' : ''}, got ${describe(instance)}`,
      );
    }
  }
  problems.throwIfAny();
  return values;
}

/** `toFeatureValues` as one array per row, for callers that take rows (scoring a training file). */
export function toFeatureRows(
  instances: readonly unknown[],
  signature: ModelSignature,
  rowPaths: readonly string[],
): number[][] {
  const values = toFeatureValues(instances, signature, rowPaths);
  const width = signature.featureCount;
  return instances.map((_, row) => Array.from(values.subarray(row * width, (row + 1) * width)));
}

/**
 * Checks float32 values that came in binary (a float32 holds no string, null or fraction to refuse, but NaN and
 * infinities): every bad one is named as JSON's are, `float_input[3][7] is NaN; …`.
 */
export function checkFloat32Values(values: Float32Array, width: number, rowPaths: readonly string[]): void {
  let problems: Problems | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    // value - value is NaN exactly for NaN and ±Infinity: one subtraction instead of a call per value.
    if (value - value !== 0) {
      problems ??= new Problems();
      problems.add(fieldName(rowPaths[Math.floor(i / width)], i % width), nonFinite(value));
    }
  }
  problems?.throwIfAny();
}

function nonFinite(value: number): string {
  return `is ${value}; only finite numbers are accepted`;
}

/** A request's problems, the first MAX_PROBLEMS of them, thrown as one 422. */
class Problems {
  private readonly list: FieldProblem[] = [];

  add(field: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ field, message: `${field} ${message}` });
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new InvalidInstancesError(this.list);
  }
}
