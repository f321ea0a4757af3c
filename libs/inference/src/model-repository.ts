import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ModelManifest } from './model-signature';
import { validationPathOf } from './validation/validation-file';

/** A model file found on disk, before it is loaded. */
export interface ModelSource {
  name: string;
  version: string;
  /** Absolute path of the .onnx file. */
  path: string;
  manifest?: ModelManifest;
  /** Its validation.json (inputs and the training framework's outputs for them), when it ships one. */
  validation?: string;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Finds the models to serve: either the one file named by MODEL_PATH, or every `<name>/<version>/model.onnx`
 * under MODEL_REPOSITORY, keeping each name's highest numeric version that holds a model.onnx. A model folder with
 * no such version stops the start, named; folders whose names cannot be model names (`.git`, Kubernetes' `..data`)
 * are not model folders and are left alone.
 */
@Injectable()
export class ModelRepository {
  constructor(private readonly config: AppConfig) {}

  async discover(): Promise<ModelSource[]> {
    const single = this.config.get('MODEL_PATH');
    if (single) {
      const path = resolve(single);
      const name = this.config.get('MODEL_NAME') ?? basename(path, extname(path));
      if (!MODEL_NAME.test(name)) {
        throw new Error(`MODEL_PATH ${path}: "${name}" is not a usable model name; set MODEL_NAME`);
      }
      // foo.onnx may have its description beside it as foo.json (model.onnx → model.json).
      return [
        {
          name,
          version: '1',
          path,
          manifest: await readManifest(manifestPathOf(path)),
          ...(await validationOf(path)),
        },
      ];
    }
    return this.discoverRepository(resolve(this.config.get('MODEL_REPOSITORY')));
  }

  private async discoverRepository(root: string): Promise<ModelSource[]> {
    const entries = await readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`MODEL_REPOSITORY ${root} cannot be read: ${error.code ?? error.message}`);
    });
    const sources: ModelSource[] = [];
    for (const entry of entries.filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))) {
      const versions = (await readdir(join(root, entry.name), { withFileTypes: true }))
        .filter((v) => v.isDirectory() && /^\d+$/.test(v.name))
        .map((v) => v.name)
        .sort((a, b) => Number(b) - Number(a));
      let found = false;
      for (const version of versions) {
        const path = join(root, entry.name, version, 'model.onnx');
        if (!(await isFile(path))) continue;
        const manifest = await readManifest(join(root, entry.name, version, 'model.json'));
        sources.push({ name: entry.name, version, path, manifest, ...(await validationOf(path)) });
        found = true;
        break;
      }
      // A model folder with nothing to serve is a mistake to name, like a corrupt model: not a silent skip.
      if (!found) {
        const why =
          versions.length === 0
            ? 'it has no numeric version folder'
            : `no version folder (${versions.join(', ')}) holds a model.onnx`;
        throw new Error(
          `MODEL_REPOSITORY ${root}: ${entry.name}/ cannot be served: ${why}; expected ${entry.name}/<version>/model.onnx`,
        );
      }
    }
    if (sources.length === 0) {
      throw new Error(`MODEL_REPOSITORY ${root} holds no model: expected <name>/<version>/model.onnx`);
    }
    return sources.sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** A model file's description: `model.json` beside `model.onnx`, `<stem>.json` beside any other `<stem>.onnx`. */
export function manifestPathOf(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath, extname(modelPath))}.json`);
}

/** The model.json of a model file, checked; undefined when it has none. */
export function readManifestOf(modelPath: string): Promise<ModelManifest | undefined> {
  return readManifest(manifestPathOf(modelPath));
}

async function validationOf(modelPath: string): Promise<Pick<ModelSource, 'validation'>> {
  const validation = validationPathOf(modelPath);
  return (await isFile(validation)) ? { validation } : {};
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function readManifest(path: string): Promise<ModelManifest | undefined> {
  if (!(await isFile(path))) return undefined;
  const text = await readFile(path, 'utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    return checkManifest(parsed);
  } catch (error) {
    throw new Error(`${path} is not valid model.json: ${(error as Error).message}`, { cause: error });
  }
}

/** model.json is written by hand: check each field's type here so a typo fails the load, not a prediction. */
function checkManifest(value: unknown): ModelManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('not a JSON object');
  const { features, labels, task, scores } = value as Record<string, unknown>;
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
  return value;
}
