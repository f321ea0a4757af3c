import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ModelNotFoundError } from '../errors';
import type { ModelManifest } from '../model-signature';
import { adaptModel, type AdaptedModel } from '../onnx';
import { ModelVersionNotFoundError } from '../open-inference/errors';
import { validationPathOf } from '../validation/validation-file';
import { isFile, manifestPathOf, readJsonFile, readManifest } from './manifest';
import {
  byVersion,
  DEFAULT_VERSION_POLICY,
  defaultVersionAmong,
  describePolicy,
  type ModelConfig,
  parseModelConfig,
  selectVersions,
  type VersionPolicy,
} from './version-policy';

/** A model version found on disk, before anything is loaded: where its files are and what its model.json says. */
export interface ModelSource {
  name: string;
  version: string;
  /** Absolute path of the .onnx file. */
  path: string;
  manifest?: ModelManifest;
  /** Its validation.json (inputs and the training framework's outputs for them), when it ships one. */
  validation?: string;
  /** Where its reference profile is, or would be: reference.json beside the model file. */
  reference: string;
  /**
   * Size, modification time and inode of each of its files (model, model.json, validation.json): a file changed
   * in place, or replaced, gives another fingerprint, and the version is loaded again.
   */
  fingerprint: string;
}

/** A model of the repository: every version on disk, and which of them its policy serves. */
export interface CatalogModel {
  name: string;
  /** Every version folder that holds a model.onnx, oldest first. */
  available: ModelSource[];
  policy: VersionPolicy;
  /** What the policy serves among `available`, oldest first. */
  served: ModelSource[];
  /** model.json's `default_version`, when it pins one. */
  pinnedDefault?: string;
}

/** A model folder that cannot be served as it is, and why (the message names the folder or file). */
export interface CatalogProblem {
  model: string;
  message: string;
}

export interface CatalogScan {
  /** The models that can be served, by name. */
  models: CatalogModel[];
  /**
   * Model folders that cannot be served as they are: at start each stops the start; at a rescan the model keeps
   * serving what it served.
   */
  problems: CatalogProblem[];
}

/** A version looked up by name and version (or the default), with its model. */
export interface CatalogEntry {
  model: CatalogModel;
  source: ModelSource;
  /** Whether it is the version unversioned requests go to. */
  isDefault: boolean;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const VERSION = /^\d+$/;

/**
 * What the models are, read from disk and never run: MODEL_PATH's one file, or every `<name>/<version>/model.onnx`
 * under MODEL_REPOSITORY with each version's model.json, validation.json and reference.json, and each model's own
 * model.json (version policy, default version). The runtime registry loads what the catalog says to serve;
 * monitoring and the CLI read it without opening a session. Folders whose names cannot be model names (`.git`,
 * Kubernetes' `..data`) are not model folders and are left alone; folders that are not numbers are not versions
 * (copy a new version in under such a name and rename it, so a rescan never sees it half-written).
 */
@Injectable()
export class ModelCatalog {
  private latest?: CatalogScan;

  constructor(private readonly config: AppConfig) {}

  /** The last scan, if any was made. */
  get lastScan(): CatalogScan | undefined {
    return this.latest;
  }

  /** Reads the repository now. Throws only when there is no repository to read (or no MODEL_PATH file). */
  async scan(): Promise<CatalogScan> {
    const single = this.config.get('MODEL_PATH');
    const scan = single
      ? await this.scanFile(resolve(single))
      : await this.scanRepository(resolve(this.config.get('MODEL_REPOSITORY')));
    this.latest = scan;
    return scan;
  }

  /** The last scan, or a scan now when none was made (the CLI, a drift check before the models load). */
  current(): Promise<CatalogScan> {
    return this.latest ? Promise.resolve(this.latest) : this.scan();
  }

  /**
   * A scan for the start: every problem, and a repository with no model at all, stops it with the folder named.
   * A model folder that cannot be served is a mistake to name, like a corrupt model, not a silent skip.
   */
  async discover(): Promise<CatalogModel[]> {
    const scan = await this.scan();
    if (scan.problems.length > 0) throw new Error(scan.problems[0].message);
    if (scan.models.length === 0) throw new Error(this.emptyMessage());
    return scan.models;
  }

  /**
   * A version of a model (the default one when `version` is undefined), any version on disk: a drift check may
   * look at a version the policy no longer serves. 404 for an unknown model or version.
   */
  async find(name: string, version?: string): Promise<CatalogEntry> {
    const scan = await this.current();
    const model = scan.models.find((m) => m.name === name);
    if (!model) {
      const problem = scan.problems.find((p) => p.model === name);
      if (problem) throw new Error(problem.message);
      throw new ModelNotFoundError(
        name,
        scan.models.map((m) => m.name),
      );
    }
    const defaultVersion = defaultVersionOf(model);
    const wanted = version ?? defaultVersion;
    const source = model.available.find((s) => wanted !== undefined && Number(s.version) === Number(wanted));
    if (!source) {
      throw new ModelVersionNotFoundError(
        name,
        version ?? '',
        model.available.map((s) => s.version),
        'repository',
      );
    }
    return { model, source, isDefault: source.version === defaultVersion };
  }

  /** The graph as served (ZipMap rewritten) and what it means, read from the file; no session is opened. */
  async describe(source: ModelSource): Promise<AdaptedModel> {
    return adaptModel(await readFile(source.path), source.manifest);
  }

  private emptyMessage(): string {
    return `MODEL_REPOSITORY ${resolve(this.config.get('MODEL_REPOSITORY'))} holds no model: expected <name>/<version>/model.onnx`;
  }

  private async scanFile(path: string): Promise<CatalogScan> {
    const name = this.config.get('MODEL_NAME') ?? basename(path, extname(path));
    if (!MODEL_NAME.test(name)) {
      throw new Error(`MODEL_PATH ${path}: "${name}" is not a usable model name; set MODEL_NAME`);
    }
    try {
      // foo.onnx may have its description beside it as foo.json (model.onnx → model.json).
      const source = await versionAt(name, '1', path, manifestPathOf(path));
      const model = { name, available: [source], policy: DEFAULT_VERSION_POLICY, served: [source] };
      return { models: [model], problems: [] };
    } catch (error) {
      return { models: [], problems: [{ model: name, message: (error as Error).message }] };
    }
  }

  private async scanRepository(root: string): Promise<CatalogScan> {
    const entries = await readdir(root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`MODEL_REPOSITORY ${root} cannot be read: ${error.code ?? error.message}`);
    });
    const scan: CatalogScan = { models: [], problems: [] };
    for (const entry of entries.filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))) {
      try {
        scan.models.push(await scanModel(root, entry.name));
      } catch (error) {
        scan.problems.push({ model: entry.name, message: (error as Error).message });
      }
    }
    scan.models.sort((a, b) => a.name.localeCompare(b.name));
    return scan;
  }
}

/** The version unversioned requests go to: the pinned one when the policy serves it, else the highest served. */
export function defaultVersionOf(model: CatalogModel): string | undefined {
  return defaultVersionAmong(
    model.served.map((s) => s.version),
    model.pinnedDefault,
  );
}

async function scanModel(root: string, name: string): Promise<CatalogModel> {
  const folder = join(root, name);
  const configPath = join(folder, 'model.json');
  const config = await readModelConfig(configPath);
  const versions = (await readdir(folder, { withFileTypes: true }))
    .filter((v) => v.isDirectory() && VERSION.test(v.name))
    .map((v) => v.name)
    .sort(byVersion);
  const available: ModelSource[] = [];
  for (const version of versions) {
    const path = join(folder, version, 'model.onnx');
    if (!(await isFile(path))) continue;
    available.push(await versionAt(name, version, path, join(folder, version, 'model.json')));
  }
  const servedVersions = new Set(
    selectVersions(
      config.policy,
      available.map((s) => s.version),
    ),
  );
  const served = available.filter((s) => servedVersions.has(s.version));
  const cannot = (why: string) => new Error(`MODEL_REPOSITORY ${root}: ${name}/ cannot be served: ${why}`);
  if (versions.length === 0)
    throw cannot(`it has no numeric version folder; expected ${name}/<version>/model.onnx`);
  if (available.length === 0) {
    throw cannot(
      `no version folder (${[...versions].reverse().join(', ')}) holds a model.onnx; expected ${name}/<version>/model.onnx`,
    );
  }
  if (served.length === 0) {
    throw cannot(
      `its version_policy (${describePolicy(config.policy)}) selects none of its versions (${available.map((s) => s.version).join(', ')})`,
    );
  }
  return {
    name,
    available,
    policy: config.policy,
    served,
    ...(config.defaultVersion !== undefined ? { pinnedDefault: config.defaultVersion } : {}),
  };
}

/** The model's own model.json (beside its version folders); the default policy without one. */
async function readModelConfig(path: string): Promise<ModelConfig> {
  const raw = await readJsonFile(path, 'model.json');
  try {
    return parseModelConfig(raw ?? {});
  } catch (error) {
    throw new Error(`${path} is not valid model.json: ${(error as Error).message}`, { cause: error });
  }
}

async function versionAt(
  name: string,
  version: string,
  path: string,
  manifestPath: string,
): Promise<ModelSource> {
  const validation = validationPathOf(path);
  const hasValidation = await isFile(validation);
  const fingerprint = (await Promise.all([path, manifestPath, validation].map((file) => stampOf(file)))).join(
    '|',
  );
  return {
    name,
    version,
    path,
    manifest: await readManifest(manifestPath),
    ...(hasValidation ? { validation } : {}),
    reference: join(dirname(path), 'reference.json'),
    fingerprint,
  };
}

async function stampOf(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.size}:${info.mtimeMs}:${info.ino}` : '-';
}
