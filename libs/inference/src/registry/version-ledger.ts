import { type CatalogModel, describePolicy, type ModelSource } from '../catalog';

/** A version of the repository as the protocol's repository index describes it. */
export interface RepositoryIndexEntry {
  name: string;
  version: string;
  state: 'READY' | 'LOADING' | 'UNAVAILABLE';
  /** Why it is not ready; '' when it is. */
  reason: string;
}

const keyOf = (name: string, version: string) => `${name}@${version}`;

/**
 * What the registry remembers about versions beyond those it serves: which are loading right now (their requests
 * get 503, not 404), which failed to load and on which files (tried again only when the files change), and what the
 * repository API unloaded (a whole model, or single versions that the version policy then leaves out).
 */
export class VersionLedger {
  private readonly loading = new Set<string>();
  private readonly failures = new Map<string, { fingerprint: string; reason: string }>();
  private readonly unloaded = new Set<string>();
  private readonly excluded = new Map<string, Set<string>>();

  startLoading(source: ModelSource): void {
    this.loading.add(keyOf(source.name, source.version));
  }

  doneLoading(source: ModelSource): void {
    this.loading.delete(keyOf(source.name, source.version));
  }

  isVersionLoading(name: string, version: string): boolean {
    return this.loading.has(keyOf(name, version));
  }

  /** Whether some version of the model is being loaded. */
  isModelLoading(name: string): boolean {
    return [...this.loading].some((key) => key.startsWith(`${name}@`));
  }

  recordFailure(source: ModelSource, reason: string): void {
    this.failures.set(keyOf(source.name, source.version), { fingerprint: source.fingerprint, reason });
  }

  clearFailure(source: ModelSource): void {
    this.failures.delete(keyOf(source.name, source.version));
  }

  /** Forgets every failure of the model: the repository API's load tries them all again. */
  clearFailures(name: string): void {
    for (const key of [...this.failures.keys()]) if (key.startsWith(`${name}@`)) this.failures.delete(key);
  }

  /** Whether this version failed on exactly these files. */
  failedOn(source: ModelSource): boolean {
    return this.failures.get(keyOf(source.name, source.version))?.fingerprint === source.fingerprint;
  }

  failureOf(name: string, version: string): string | undefined {
    return this.failures.get(keyOf(name, version))?.reason;
  }

  /** Why each failed version of the model failed. */
  failuresOf(name: string): string[] {
    return [...this.failures.entries()]
      .filter(([key]) => key.startsWith(`${name}@`))
      .map(([, failure]) => failure.reason);
  }

  unloadModel(name: string): void {
    this.unloaded.add(name);
  }

  isUnloaded(name: string): boolean {
    return this.unloaded.has(name);
  }

  unloadVersion(name: string, version: string): void {
    const excluded = this.excluded.get(name) ?? new Set<string>();
    excluded.add(version);
    this.excluded.set(name, excluded);
  }

  isExcluded(name: string, version: string): boolean {
    return this.excluded.get(name)?.has(version) ?? false;
  }

  /** The repository API's load undoes its unloads: the whole model's, or one version's. */
  reinstate(name: string, version?: string): void {
    this.unloaded.delete(name);
    if (version === undefined) this.excluded.delete(name);
    else this.excluded.get(name)?.delete(version);
  }

  /**
   * The index state of a version that is not served: loading, or why not.
   * @param selected the versions the policy picks among those not unloaded through the API
   */
  stateOf(
    model: CatalogModel,
    version: string,
    selected: ReadonlySet<string>,
  ): Pick<RepositoryIndexEntry, 'state' | 'reason'> {
    if (this.isVersionLoading(model.name, version)) return { state: 'LOADING', reason: '' };
    if (this.isUnloaded(model.name) || this.isExcluded(model.name, version))
      return { state: 'UNAVAILABLE', reason: 'unloaded through the repository API' };
    const failure = this.failureOf(model.name, version);
    if (failure !== undefined) return { state: 'UNAVAILABLE', reason: failure };
    if (!selected.has(version))
      return {
        state: 'UNAVAILABLE',
        reason: `not among the versions its version_policy (${describePolicy(model.policy)}) serves`,
      };
    return { state: 'UNAVAILABLE', reason: 'not loaded yet: found since the last scan' };
  }
}
