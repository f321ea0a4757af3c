import type { ModelSource } from '../catalog';
import type { ModelRuntime } from '../inference-runner';
import type { ModelSignature } from '../model-signature';

/** A model version ready to answer: its graph adapted for serving and its session open. */
export interface ServedModel extends ModelSource {
  signature: ModelSignature;
  runtime: ModelRuntime;
  loadedAt: Date;
  /** Rows of its validation.json its outputs were checked on before it took traffic; absent without the file. */
  validatedRows?: number;
  /**
   * This load of the version: its queue and sessions in the runner. A version whose files changed is loaded again
   * as a new instance, and requests go to it from the swap on.
   */
  instance: string;
}

export interface ModelStatus {
  name: string;
  version: string;
  ready: boolean;
  /** Whether unversioned requests (and POST /predict, for the default model) go to this version. */
  default: boolean;
  model?: ServedModel;
}

/** Thrown when a model file cannot be served; the process stops on it at start, naming the file. */
export class ModelLoadError extends Error {
  constructor(
    readonly source: Pick<ModelSource, 'name' | 'version' | 'path'>,
    reason: string,
  ) {
    super(`cannot load model "${source.name}" version ${source.version} from ${source.path}: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

/** `version 2` or `versions 1, 3`. */
export function versionList(versions: readonly string[]): string {
  return `version${versions.length === 1 ? '' : 's'} ${versions.join(', ')}`;
}
