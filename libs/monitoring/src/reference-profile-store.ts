import { ModelCatalog, ModelNotFoundError, ModelVersionNotFoundError } from '@app/inference';
import { Injectable } from '@nestjs/common';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BinCounter } from './count-summary';
import { parseReferenceProfile, ReferenceProfile } from './reference-profile';

export const REFERENCE_FILE = 'reference.json';

export interface LoadedReference {
  path: string;
  profile: ReferenceProfile;
  counter: BinCounter;
}

/** `reference.json` beside a model file. */
export function referencePathOf(modelPath: string): string {
  return join(dirname(modelPath), REFERENCE_FILE);
}

/**
 * The reference profiles of the models' versions, read from disk and re-read when the file changes (a profile can
 * be added or rebuilt while the service runs). Each version has its own, beside its model file: traffic of version
 * 2 is counted on version 2's bins, whichever version is the default.
 */
@Injectable()
export class ReferenceProfileStore {
  private readonly cache = new Map<string, { stamp: string; loaded: LoadedReference }>();

  constructor(private readonly catalog: ModelCatalog) {}

  /**
   * The profile of a model's version (the default version when `version` is undefined); undefined without a
   * reference.json, or when the repository no longer holds that version. Throws when the file exists but is not a
   * usable profile.
   */
  async forModel(model: string, version?: string): Promise<LoadedReference | undefined> {
    const entry = await this.catalog.find(model, version).catch((error: unknown) => {
      if (error instanceof ModelNotFoundError || error instanceof ModelVersionNotFoundError) return undefined;
      throw error;
    });
    return entry && this.load(entry.source.reference);
  }

  async load(path: string): Promise<LoadedReference | undefined> {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (info === undefined) {
      this.cache.delete(path);
      return undefined;
    }
    const stamp = `${info.mtimeMs}:${info.size}`;
    const cached = this.cache.get(path);
    if (cached?.stamp === stamp) return cached.loaded;
    const profile = parseReferenceProfile(await readFile(path, 'utf8'), path);
    const loaded = { path, profile, counter: new BinCounter(profile) };
    this.cache.set(path, { stamp, loaded });
    return loaded;
  }
}
