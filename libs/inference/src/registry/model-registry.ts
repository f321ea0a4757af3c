// The runtime registry of served model versions. Longer than most files here, for a reason: every change to what is
// served (the start, a rescan, the repository API's load and unload) must run under one lock and end in one swap that
// lookups see whole, so the lookups and the changes share this class's state. What does not need that state is beside
// it: opening a version (version-loader.ts), what is remembered about versions not served (version-ledger.ts), and
// the served model's types (served-model.ts).
import { AppConfig } from '@app/config';
import { InferenceMetrics } from '@app/observability';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  byVersion,
  type CatalogModel,
  type CatalogScan,
  defaultVersionAmong,
  describePolicy,
  ModelCatalog,
  type ModelSource,
  selectVersions,
} from '../catalog';
import { ModelLoadFailedError, ModelNotFoundError, ModelNotReadyError } from '../errors';
import { InferenceRunner, RuntimeStats } from '../inference-runner';
import { ModelVersionNotFoundError } from '../open-inference/errors';
import { ModelRefusedError } from '../validation/parity-gate';
import { ModelLoadError, type ModelStatus, type ServedModel, versionList } from './served-model';
import { type RepositoryIndexEntry, VersionLedger } from './version-ledger';
import { VersionLoader } from './version-loader';

type Phase = 'starting' | 'loading' | 'ready' | 'stopping';

/**
 * What one model serves: replaced whole at every change (never edited in place), so a request that looks a model
 * up sees one consistent set of versions and one default.
 */
interface Serving {
  versions: ReadonlyMap<string, ServedModel>;
  /** Served versions, oldest first. */
  order: readonly string[];
  defaultVersion: string;
}

/** What problems with the repository as a whole are reported under (model names cannot start with a space). */
const REPOSITORY = ' repository';

/**
 * The runtime registry: the model versions this process serves, and whether it is ready. Loading happens after
 * the server listens, so readiness can honestly answer 503 during a slow load.
 *
 * What to serve comes from the ModelCatalog (the repository on disk, each model's version policy); how each
 * version runs from the InferenceRunner. After the start, `reconcile` brings what is served in line with the
 * repository (on MODEL_REPOSITORY_POLL_S, or when the repository API asks): a new or changed version is loaded,
 * warmed up and admitted by the parity gate before it is switched in; a version no longer wanted stops taking
 * requests, answers those it holds and is released. A version that fails to load is not served and what served
 * before goes on serving. Readiness does not change on the way: a serving model stays ready while its next version
 * loads. Every change to what is served runs alone (one at a time), so two loads never interleave.
 */
@Injectable()
export class ModelRegistry implements OnModuleDestroy {
  private readonly logger = new Logger(ModelRegistry.name);
  private readonly serving = new Map<string, Serving>();
  /** The models the catalog said to serve at the last scan, by name. */
  private readonly expected = new Map<string, CatalogModel>();
  /** Versions loading, failed, or unloaded through the repository API. */
  private readonly ledger = new VersionLedger();
  /** Problems already logged, by what they concern: a rescan every few seconds must not repeat them. */
  private readonly reported = new Map<string, string>();
  private phase: Phase = 'starting';
  private defaultName?: string;
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly loader: VersionLoader,
    private readonly runner: InferenceRunner,
    private readonly metrics: InferenceMetrics,
    private readonly config: AppConfig,
  ) {}

  /** Ready means every model loaded and not shutting down. */
  get isReady(): boolean {
    return this.phase === 'ready';
  }

  get state(): Phase {
    return this.phase;
  }

  /** What the runner holds: sessions and pools, which must not grow over loads and unloads. */
  get runtime(): RuntimeStats {
    return this.runner.stats;
  }

  /** The start: every model the repository serves, loaded and admitted; any failure stops the start. */
  loadAll(): Promise<void> {
    this.phase = 'loading';
    return this.alone(() => this.loadAllNow());
  }

  private async loadAllNow(): Promise<void> {
    const models = await this.catalog.discover();
    for (const model of models) this.expected.set(model.name, model);
    this.defaultName = this.chooseDefault(models.map((m) => m.name));
    for (const model of models) {
      checkPinnedDefault(model);
      for (const source of model.served) this.metrics.setModelLoaded(source.name, source.version, false);
    }
    const loaded: Array<{ model: ServedModel; loadMs: number }> = [];
    for (const model of models) {
      for (const source of model.served) {
        const started = performance.now();
        loaded.push({
          model: await this.loader.open(source),
          loadMs: Math.round(performance.now() - started),
        });
      }
    }
    // Worker threads open their own sessions of the slow models; only then is every model really servable.
    await this.runner.start();
    for (const model of models) {
      this.commit(
        model,
        loaded.filter((l) => l.model.name === model.name).map((l) => l.model),
      );
    }
    for (const { model, loadMs } of loaded) this.loader.logLoaded(model, loadMs);
    if (this.phase === 'loading') this.phase = 'ready';
  }

  /** Readiness goes to 503 first, so the load balancer stops sending work while in-flight requests finish. */
  beginShutdown(): void {
    this.phase = 'stopping';
  }

  onModuleDestroy(): void {
    this.beginShutdown();
  }

  /**
   * Every version served, and while the models load those still loading; by model name, oldest version first.
   */
  list(): ModelStatus[] {
    const names = [...new Set([...this.expected.keys(), ...this.serving.keys()])].sort((a, b) =>
      a.localeCompare(b),
    );
    return names.flatMap((name) => this.statusesOf(name));
  }

  /** Every version of one model, as `list()` gives them; 404 when the model is not served, 503 before the start. */
  versions(name: string): ModelStatus[] {
    const statuses = this.statusesOf(name);
    if (statuses.length > 0) return statuses;
    if (this.phase === 'starting') throw new ModelNotReadyError(name);
    throw this.notFound(name);
  }

  /** The model that `POST /predict` serves, at its default version. */
  getDefault(): ServedModel {
    if (!this.defaultName) throw new ModelNotReadyError('default');
    return this.get(this.defaultName);
  }

  /**
   * A loaded version: the one named, or the model's default. 503 while it loads, 404 when no such model or version
   * is served.
   */
  get(name: string, version?: string): ServedModel {
    const serving = this.serving.get(name);
    if (serving) {
      const model = serving.versions.get(version ?? serving.defaultVersion);
      if (model) return model;
      if (this.ledger.isVersionLoading(name, version!)) throw new ModelNotReadyError(name);
      throw new ModelVersionNotFoundError(name, version!, serving.order);
    }
    if (this.isLoading(name)) throw new ModelNotReadyError(name);
    throw this.notFound(name);
  }

  /** The status of a model's default version, loaded or not; 404 when no such model is served. */
  status(name: string): ModelStatus {
    const statuses = this.versions(name);
    return statuses.find((s) => s.default) ?? statuses[statuses.length - 1];
  }

  /**
   * Rescans the repository and brings what is served in line with it; one model's trouble is logged and leaves
   * what that model serves as it was. What MODEL_REPOSITORY_POLL_S runs.
   */
  async reconcile(): Promise<void> {
    await this.alone(() => this.reconcileNow());
  }

  /**
   * The repository API's load: the model's folder is read again and served as its policy says, new and changed
   * versions loaded (again, even ones that failed before), and an earlier unload through the API undone. With
   * `version`, that version must end up served. Throws (400) when what was asked for is not served afterwards,
   * saying why; what the model served before goes on serving then.
   */
  loadModel(name: string, version?: string): Promise<void> {
    return this.alone(async () => {
      this.ledger.reinstate(name, version);
      this.ledger.clearFailures(name);
      const scan = await this.reconcileNow([name]);
      const problem = scan?.problems.find((p) => p.model === name);
      if (problem) throw new ModelLoadFailedError(name, problem.message);
      const model = scan?.models.find((m) => m.name === name);
      if (!model) throw new ModelNotFoundError(name, scan?.models.map((m) => m.name) ?? []);
      const serving = this.serving.get(name);
      const failed = this.ledger.failuresOf(name);
      if (version !== undefined) {
        if (!model.available.some((s) => s.version === version)) {
          throw new ModelVersionNotFoundError(
            name,
            version,
            model.available.map((s) => s.version),
            'repository',
          );
        }
        if (!serving?.versions.has(version)) {
          throw new ModelLoadFailedError(
            name,
            this.ledger.failureOf(name, version) ??
              `version ${version} is not among those its version_policy (${describePolicy(model.policy)}) serves`,
          );
        }
        return;
      }
      if (failed.length > 0) {
        const still = serving ? `; it serves ${versionList(serving.order)}` : '; it serves no version';
        throw new ModelLoadFailedError(name, `${failed.join('; ')}${still}`);
      }
    });
  }

  /**
   * The repository API's unload: the whole model, or one version (the policy then picks among the others, so
   * unloading the newest puts the previous back in service). Stays in effect across rescans until a load through
   * the API. Requests in flight are answered before the sessions are released.
   */
  unloadModel(name: string, version?: string): Promise<void> {
    return this.alone(async () => {
      const scan = await this.catalog.scan().catch(() => this.catalog.lastScan);
      const onDisk = scan?.models.find((m) => m.name === name);
      const serving = this.serving.get(name);
      if (!onDisk && !serving) throw this.notFound(name);
      if (version === undefined) {
        this.ledger.unloadModel(name);
        await this.replace(name, [], onDisk?.pinnedDefault);
        return;
      }
      const known = serving?.versions.has(version) || onDisk?.available.some((s) => s.version === version);
      if (!known) {
        throw new ModelVersionNotFoundError(
          name,
          version,
          onDisk?.available.map((s) => s.version) ?? [],
          'repository',
        );
      }
      this.ledger.unloadVersion(name, version);
      await this.reconcileNow([name], scan);
    });
  }

  /**
   * Every version in the repository and whether it is served, as the protocol's repository index lists them; with
   * `ready`, only the served ones.
   */
  async index(ready = false): Promise<RepositoryIndexEntry[]> {
    const scan = await this.catalog.scan();
    const entries: RepositoryIndexEntry[] = [];
    for (const model of scan.models) {
      const serving = this.serving.get(model.name);
      const selectable = model.available
        .map((s) => s.version)
        .filter((v) => !this.ledger.isExcluded(model.name, v));
      const selected = new Set(selectVersions(model.policy, selectable));
      const versions = new Set([...model.available.map((s) => s.version), ...(serving?.order ?? [])]);
      for (const version of [...versions].sort(byVersion)) {
        const served = serving?.versions.has(version) ?? false;
        entries.push({
          name: model.name,
          version,
          ...(served ? { state: 'READY', reason: '' } : this.ledger.stateOf(model, version, selected)),
        });
      }
    }
    for (const problem of scan.problems) {
      const serving = this.serving.get(problem.model);
      for (const version of serving?.order ?? [])
        entries.push({ name: problem.model, version, state: 'READY', reason: '' });
      if (!serving)
        entries.push({ name: problem.model, version: '', state: 'UNAVAILABLE', reason: problem.message });
    }
    entries.sort((a, b) => a.name.localeCompare(b.name) || byVersion(a.version, b.version));
    return ready ? entries.filter((e) => e.state === 'READY') : entries;
  }

  /** Runs changes to what is served one at a time, in the order asked. */
  private alone<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(work, work);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  private async reconcileNow(
    only?: readonly string[],
    given?: CatalogScan,
  ): Promise<CatalogScan | undefined> {
    let scan: CatalogScan;
    try {
      scan = given ?? (await this.catalog.scan());
    } catch (error) {
      this.reportOnce(REPOSITORY, `${(error as Error).message}; the models served stay as they are`);
      return undefined;
    }
    if (only === undefined && scan.models.length === 0 && scan.problems.length === 0) {
      // More likely a volume not (yet) mounted than a wish to serve nothing.
      this.reportOnce(REPOSITORY, `MODEL_REPOSITORY holds no model; the models served stay as they are`);
      return scan;
    }
    this.reported.delete(REPOSITORY);
    const names =
      only ??
      [
        ...new Set([
          ...scan.models.map((m) => m.name),
          ...scan.problems.map((p) => p.model),
          ...this.serving.keys(),
          ...this.expected.keys(),
        ]),
      ].sort((a, b) => a.localeCompare(b));
    for (const name of names) await this.reconcileModel(name, scan);
    return scan;
  }

  private async reconcileModel(name: string, scan: CatalogScan): Promise<void> {
    const problem = scan.problems.find((p) => p.model === name);
    if (problem) {
      const serving = this.serving.get(name);
      this.reportOnce(
        `model ${name}`,
        `${problem.message}; ${serving ? `${versionList(serving.order)} go${serving.order.length === 1 ? 'es' : ''} on serving` : 'it is not served'}`,
      );
      return;
    }
    this.reported.delete(`model ${name}`);
    const model = scan.models.find((m) => m.name === name);
    if (!model) {
      // Its folder is gone: a deliberate removal (an unreadable repository never gets here).
      this.expected.delete(name);
      await this.replace(name, []);
      return;
    }
    this.expected.set(name, model);
    if (this.ledger.isUnloaded(name)) return;

    const current = this.serving.get(name);
    const loaded = new Map<string, ServedModel>();
    const failed: Array<{ source: ModelSource; error: unknown }> = [];
    const failedOn = (source: ModelSource) => this.ledger.failedOn(source);
    // The policy picks among the versions that can serve: not unloaded through the API, and not failed on their
    // present files unless an earlier load of them still serves. So a new version that fails leaves the one it was to
    // replace in service, and a rollback whose previous version fails falls back to the one before.
    let wanted: ModelSource[];
    for (;;) {
      const selectable = model.available.filter(
        (s) =>
          !this.ledger.isExcluded(name, s.version) && !(failedOn(s) && !current?.versions.has(s.version)),
      );
      const picked = new Set(
        selectVersions(
          model.policy,
          selectable.map((s) => s.version),
        ),
      );
      wanted = selectable.filter((s) => picked.has(s.version));
      const toLoad = wanted.filter(
        (s) =>
          !loaded.has(s.version) &&
          current?.versions.get(s.version)?.fingerprint !== s.fingerprint &&
          !failedOn(s),
      );
      if (toLoad.length === 0) break;
      for (const source of toLoad) {
        const served = await this.tryLoad(source);
        if (served instanceof ServedLoadFailure) failed.push({ source, error: served.error });
        else loaded.set(source.version, served);
      }
    }
    const models = wanted
      .map((s) => loaded.get(s.version) ?? current?.versions.get(s.version))
      .filter((m): m is ServedModel => m !== undefined);
    const unwanted = [...loaded.values()].filter((m) => !models.includes(m));
    await this.replace(name, models, model.pinnedDefault, model, unwanted);
    const serving = this.serving.get(name)?.order ?? [];
    for (const { source, error } of failed) this.reportFailure(source, error, serving);
  }

  /** Loads, admits and warms a version up; a failure is remembered with the files it failed on, and returned. */
  private async tryLoad(source: ModelSource): Promise<ServedModel | ServedLoadFailure> {
    this.ledger.startLoading(source);
    try {
      const started = performance.now();
      const served = await this.loader.open(source);
      // A slow model runs on the workers: they need a pool that holds it before it takes a request.
      await this.runner.start().catch(async (error: unknown) => {
        await this.runner.retire(served.instance);
        throw new ModelLoadError(source, (error as Error).message);
      });
      this.ledger.clearFailure(source);
      this.loader.logLoaded(served, Math.round(performance.now() - started));
      return served;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.ledger.recordFailure(source, reason);
      this.metrics.countLoadFailure(source.name, source.version);
      return new ServedLoadFailure(error);
    } finally {
      this.ledger.doneLoading(source);
    }
  }

  /**
   * Switches a model to exactly `models` (none: it is no longer served) in one step, then retires what is no
   * longer in it: no new request reaches a retired instance, those it holds are answered, then it is released.
   */
  private async replace(
    name: string,
    models: ServedModel[],
    pinned?: string,
    catalogModel?: CatalogModel,
    loadedButUnwanted: ServedModel[] = [],
  ): Promise<void> {
    const before = this.serving.get(name);
    const kept = new Set(models.map((m) => m.instance));
    const retired = [...(before?.versions.values() ?? [])].filter((m) => !kept.has(m.instance));
    if (catalogModel) this.commit(catalogModel, models);
    else this.commitVersions(name, models, pinned);
    const still = new Set(models.map((m) => m.version));
    for (const old of retired) {
      const replaced = still.has(old.version);
      if (!replaced) this.metrics.setModelLoaded(name, old.version, false);
      this.logger.log(
        { model: name, modelVersion: old.version, path: old.path },
        replaced
          ? `model ${name} v${old.version}: its files changed; the new load serves, the old one is unloaded`
          : `model ${name} v${old.version} unloaded`,
      );
    }
    // Loaded during this change but not picked in the end (a version below failed): never served.
    for (const spare of loadedButUnwanted) await this.runner.retire(spare.instance);
    for (const old of retired) await this.runner.retire(old.instance);
    // Worker sessions of retired instances go with the pool they were in.
    if (retired.length + loadedButUnwanted.length > 0) await this.runner.start();
  }

  private commit(model: CatalogModel, models: ServedModel[]): void {
    this.commitVersions(model.name, models, model.pinnedDefault);
  }

  private commitVersions(name: string, models: ServedModel[], pinned?: string): void {
    if (models.length === 0) {
      this.serving.delete(name);
      return;
    }
    const order = models.map((m) => m.version).sort(byVersion);
    const defaultVersion = defaultVersionAmong(order, pinned)!;
    if (pinned !== undefined && Number(defaultVersion) !== Number(pinned)) {
      this.reportOnce(
        `${name}:default`,
        `model ${name}: its default_version ${pinned} is not served; unversioned requests go to version ${defaultVersion}, the highest served`,
        'warn',
      );
    } else {
      this.reported.delete(`${name}:default`);
    }
    const versions = new Map(models.map((m) => [m.version, m]));
    const before = this.serving.get(name);
    this.serving.set(name, { versions, order, defaultVersion });
    for (const model of models) this.metrics.setModelLoaded(name, model.version, true);
    if (before && before.defaultVersion !== defaultVersion) {
      this.logger.log(
        { model: name, modelVersion: defaultVersion },
        `model ${name}: unversioned requests now go to version ${defaultVersion}`,
      );
    }
  }

  /**
   * A version that did not load after the start: logged with what serves now (counted and remembered in tryLoad).
   * The parity gate logged its refusal with the worst row already; this says what it means for the traffic.
   */
  private reportFailure(source: ModelSource, error: unknown, serving: readonly string[]): void {
    const still =
      serving.length > 0
        ? `${versionList(serving)} of ${source.name} go${serving.length === 1 ? 'es' : ''} on serving`
        : `${source.name} serves no version`;
    const fields = { model: source.name, modelVersion: source.version, path: source.path };
    if (error instanceof ModelRefusedError) {
      this.logger.warn(fields, `model ${source.name} v${source.version} not switched in: ${still}`);
    } else {
      this.logger.error(fields, `${error instanceof Error ? error.message : String(error)}; ${still}`);
    }
  }

  private reportOnce(about: string, message: string, level: 'error' | 'warn' = 'error'): void {
    if (this.reported.get(about) === message) return;
    this.reported.set(about, message);
    if (level === 'warn') this.logger.warn(message);
    else this.logger.error(message);
  }

  private statusesOf(name: string): ModelStatus[] {
    const serving = this.serving.get(name);
    if (serving) {
      return serving.order.map((version) => ({
        name,
        version,
        ready: true,
        default: version === serving.defaultVersion,
        model: serving.versions.get(version),
      }));
    }
    const expected = this.expected.get(name);
    if (!expected || !this.isLoading(name)) return [];
    const defaultVersion = defaultVersionAmong(
      expected.served.map((s) => s.version),
      expected.pinnedDefault,
    );
    return expected.served.map((s) => ({
      name,
      version: s.version,
      ready: false,
      default: s.version === defaultVersion,
    }));
  }

  /** Whether a model that serves nothing yet is on its way: the start, or a load of one of its versions. */
  private isLoading(name: string): boolean {
    if (this.phase === 'starting') return true;
    if (this.phase === 'loading' && this.expected.has(name)) return true;
    return this.ledger.isModelLoading(name);
  }

  private notFound(name: string): ModelNotFoundError {
    return new ModelNotFoundError(
      name,
      [...this.serving.keys()].sort((a, b) => a.localeCompare(b)),
    );
  }

  private chooseDefault(names: string[]): string {
    const wanted = this.config.get('DEFAULT_MODEL');
    if (wanted) {
      if (!names.includes(wanted)) {
        throw new Error(`DEFAULT_MODEL="${wanted}" is not among the served models: ${names.join(', ')}`);
      }
      return wanted;
    }
    if (names.length > 1) {
      this.logger.warn(
        `several models and no DEFAULT_MODEL: POST /predict serves "${names[0]}", the first by name`,
      );
    }
    return names[0];
  }
}

/** What tryLoad returns for a version that did not load. */
class ServedLoadFailure {
  constructor(readonly error: unknown) {}
}

/** At start, a default_version the policy does not serve is a mistake in model.json: named, and the start stops. */
function checkPinnedDefault(model: CatalogModel): void {
  const pinned = model.pinnedDefault;
  if (pinned === undefined || model.served.some((s) => Number(s.version) === Number(pinned))) return;
  throw new Error(
    `model ${model.name}: its default_version ${pinned} is not among the versions its version_policy (${describePolicy(model.policy)}) serves: ${model.served.map((s) => s.version).join(', ')}`,
  );
}
