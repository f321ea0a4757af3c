import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { ModelManifest } from '../model-signature';

/** What belongs in the model's own model.json, beside its version folders, and never in a version's. */
const MODEL_LEVEL_KEYS = ['version_policy', 'default_version'] as const;

/** A model file's description: `model.json` beside `model.onnx`, `<stem>.json` beside any other `<stem>.onnx`. */
export function manifestPathOf(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath, extname(modelPath))}.json`);
}

/** The model.json of a model file, checked; undefined when it has none. */
export function readManifestOf(modelPath: string): Promise<ModelManifest | undefined> {
  return readManifest(manifestPathOf(modelPath));
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** A JSON file written by hand, parsed; undefined when there is none. Errors name the file. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  if (!(await isFile(path))) return undefined;
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${path} is not valid ${what}: ${(error as Error).message}`, { cause: error });
  }
}

export async function readManifest(path: string): Promise<ModelManifest | undefined> {
  const parsed = await readJsonFile(path, 'model.json');
  if (parsed === undefined) return undefined;
  try {
    return checkManifest(parsed);
  } catch (error) {
    throw new Error(`${path} is not valid model.json: ${(error as Error).message}`, { cause: error });
  }
}

/** model.json is written by hand: check each field's type here so a typo fails the load, not a prediction. */
function checkManifest(value: unknown): ModelManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const fields = value as Record<string, unknown>;
  const { features, labels, task, scores } = fields;
  if (features !== undefined && !(Array.isArray(features) && features.every((f) => typeof f === 'string'))) {
    throw new Error('"features" must be an array of strings');
  }
  if (
    labels !== undefined &&
    !(Array.isArray(labels) && labels.every((l) => typeof l === 'string' || typeof l === 'number'))
  ) {
    throw new Error('"labels" must be an array of strings or numbers');
  }
  if (task !== undefined && task !== 'classification' && task !== 'regression') {
    throw new Error('"task" must be "classification" or "regression"');
  }
  if (scores !== undefined && scores !== 'probabilities' && scores !== 'logits') {
    throw new Error('"scores" must be "probabilities" or "logits"');
  }
  // Said once for the whole model, so a version's copy would be read by nobody: better refused than ignored.
  const misplaced = MODEL_LEVEL_KEYS.find((key) => key in fields);
  if (misplaced) {
    throw new Error(
      `"${misplaced}" is about every version of the model: it goes in the model's own model.json, beside its version folders`,
    );
  }
  return value;
}
