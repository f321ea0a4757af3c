import { ModelRegistry } from '@app/inference';
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
 * The reference profiles of the served models, read from disk and re-read when the file changes (a profile can
 * be added or rebuilt while the service runs).
 */
@Injectable()
export class ReferenceProfiles {
  private readonly cache = new Map<string, { stamp: string; loaded: LoadedReference }>();

  constructor(private readonly registry: ModelRegistry) {}

  /**
   * The profile of `model` when `version` is the version served; undefined without a reference.json.
   * Throws when the file exists but is not a usable profile.
   */
  async forModel(model: string, version?: string): Promise<LoadedReference | undefined> {
    const served = this.registry.get(model);
    if (version !== undefined && served.version !== version) return undefined;
    return this.load(referencePathOf(served.path));
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
