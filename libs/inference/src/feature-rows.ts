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

/**
 * Turns client instances (rows of numbers, or objects keyed by feature name) into numeric rows in the model's
 * feature order, or throws one 422 that names every bad field. Nothing is coerced: "1.5", null and true are
 * rejected rather than guessed at.
 */
export function toFeatureRows(
  instances: readonly unknown[],
  signature: ModelSignature,
  rowPaths: readonly string[],
): number[][] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ field, message: `${field} ${message}` });
  };
  const integersOnly = INTEGER_TYPES.has(signature.input.type);
  const expected = signature.featureCount;

  /**
   * Records a problem when the value may not be fed. The field's name is only spelled out for a problem, and by a
   * function, not a closure made per value: that was 320 closures, 5 KB of garbage, for a 32-row request.
   */
  const checkValue = (value: unknown, path: string, key: number | string): void => {
    if (typeof value !== 'number') {
      problem(fieldName(path, key), `must be a number, got ${describe(value)}`);
    } else if (!Number.isFinite(value)) {
      problem(fieldName(path, key), `is ${value}; only finite numbers are accepted`);
    } else if (integersOnly && !Number.isInteger(value)) {
      problem(fieldName(path, key), `must be an integer: the model's input is ${signature.input.type}`);
    }
  };

  const rows = instances.map((instance, i): number[] => {
    const path = rowPaths[i];
    if (Array.isArray(instance)) {
      if (instance.length !== expected) {
        problem(path, `has ${instance.length} values; the model expects ${expected} features`);
        return [];
      }
      // Checked in place and fed as it is: a row already in model order needs no copy.
      for (let j = 0; j < instance.length; j++) checkValue(instance[j], path, j);
      return instance as number[];
    }
    if (typeof instance === 'object' && instance !== null) {
      const names = signature.features;
      if (!names) {
        problem(
          path,
          `is an object, but this model's features have no names (model.json "features"); send an array of ${expected} numbers`,
        );
        return [];
      }
      const record = instance as Record<string, unknown>;
      for (const key of Object.keys(record).filter((k) => !names.includes(k))) {
        problem(`${path}.${shownKey(key)}`, `is not a feature of this model (features: ${names.join(', ')})`);
      }
      return names.map((name) => {
        if (!(name in record)) problem(`${path}.${name}`, 'is missing');
        else checkValue(record[name], path, name);
        return record[name] as number;
      });
    }
    problem(
      path,
      `must be an array of ${expected} numbers${signature.features ? ' or an object keyed by feature name' : ''}, got ${describe(instance)}`,
    );
    return [];
  });

  if (problems.length > 0) throw new InvalidInstancesError(problems);
  return rows;
}
