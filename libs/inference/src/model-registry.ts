import { InferenceMetrics } from '@app/observability';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { ModelNotFoundError, ModelNotReadyError } from './errors';
import { ModelRepository, ModelSource } from './model-repository';
import { ModelSignature } from './model-signature';
import { adaptModel } from './onnx';
import { InferenceRunner, ModelRuntime } from './inference-runner';
import { AppConfig } from '@app/config';
import { ModelRefusedError, ParityGate } from './validation/parity-gate';

/** A model ready to answer: its graph adapted for serving and its session open. */
export interface ServedModel {
  name: string;
  version: string;
  path: string;
  signature: ModelSignature;
  runtime: ModelRuntime;
  loadedAt: Date;
  /** Rows of its validation.json its outputs were checked on before it took traffic; absent without the file. */
  validatedRows?: number;
}

export interface ModelStatus {
  name: string;
  version: string;
  ready: boolean;
  model?: ServedModel;
}

type Phase = 'starting' | 'loading' | 'ready' | 'stopping';

/** Thrown when a model file cannot be served; the process stops on it, naming the file. */
export class ModelLoadError extends Error {
  constructor(
    readonly source: ModelSource,
    reason: string,
  ) {
    super(`cannot load model "${source.name}" version ${source.version} from ${source.path}: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

/**
 * The models this process serves and whether it is ready. Loading happens after the server listens,
 * so readiness can honestly answer 503 during a slow load.
 */
@Injectable()
export class ModelRegistry implements OnModuleDestroy {
  private readonly logger = new Logger(ModelRegistry.name);
  private readonly models = new Map<string, ServedModel>();
  private sources: ModelSource[] = [];
  private phase: Phase = 'starting';
  private defaultName?: string;

  constructor(
    private readonly repository: ModelRepository,
    private readonly runner: InferenceRunner,
    private readonly metrics: InferenceMetrics,
    private readonly config: AppConfig,
    private readonly gate: ParityGate,
  ) {}

  /** Ready means every model loaded and not shutting down. */
  get isReady(): boolean {
    return this.phase === 'ready';
  }

  get state(): Phase {
    return this.phase;
  }

  async loadAll(): Promise<void> {
    this.phase = 'loading';
    this.sources = await this.repository.discover();
    this.defaultName = this.chooseDefault();
    for (const source of this.sources) {
      this.metrics.setModelLoaded(source.name, source.version, false);
    }
    const loaded: Array<{ model: ServedModel; loadMs: number }> = [];
    for (const source of this.sources) {
      const started = performance.now();
      loaded.push({ model: await this.load(source), loadMs: Math.round(performance.now() - started) });
    }
    // Worker threads open their own sessions of the slow models; only then is every model really servable.
    await this.runner.start();
    for (const { model, loadMs } of loaded) {
      this.models.set(model.name, model);
      this.metrics.setModelLoaded(model.name, model.version, true);
      const { head, featureCount, fixedBatchSize } = model.signature;
      this.logger.log(
        {
          // `version` on every line is the service's own; the model's goes under another key.
          model: model.name,
          modelVersion: model.version,
          path: model.path,
          task: head.task,
          features: featureCount,
          ...(head.task === 'classification'
            ? { labels: head.labels, scores: head.scoreKind }
            : { targets: head.targets }),
          ...(fixedBatchSize ? { fixedBatchSize } : {}),
          ...(model.validatedRows !== undefined ? { validatedRows: model.validatedRows } : {}),
          ...model.runtime,
          loadMs,
        },
        `model ${model.name} v${model.version} loaded`,
      );
    }
    if (this.phase === 'loading') this.phase = 'ready';
  }

  /** Readiness goes to 503 first, so the load balancer stops sending work while in-flight requests finish. */
  beginShutdown(): void {
    this.phase = 'stopping';
  }

  onModuleDestroy(): void {
    this.beginShutdown();
  }

  list(): ModelStatus[] {
    return this.sources.map((source) => {
      const model = this.models.get(source.name);
      return { name: source.name, version: source.version, ready: model !== undefined, model };
    });
  }

  /** The model that `POST /predict` serves. */
  getDefault(): ServedModel {
    if (!this.defaultName) throw new ModelNotReadyError('default');
    return this.get(this.defaultName);
  }

  /** A loaded model; 503 while it loads, 404 when no such model is served. */
  get(name: string): ServedModel {
    const model = this.models.get(name);
    if (model) return model;
    if (this.phase === 'starting' || this.sources.some((s) => s.name === name))
      throw new ModelNotReadyError(name);
    throw new ModelNotFoundError(
      name,
      this.sources.map((s) => s.name),
    );
  }

  /** A served model's status, loaded or not; 404 when no such model is served. */
  status(name: string): ModelStatus {
    const status = this.list().find((s) => s.name === name);
    if (status) return status;
    if (this.phase === 'starting') throw new ModelNotReadyError(name);
    throw new ModelNotFoundError(
      name,
      this.sources.map((s) => s.name),
    );
  }

  private chooseDefault(): string {
    const wanted = this.config.get('DEFAULT_MODEL');
    const names = this.sources.map((s) => s.name);
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

  private async load(source: ModelSource): Promise<ServedModel> {
    const fail = (error: unknown): never => {
      throw new ModelLoadError(source, error instanceof Error ? error.message : String(error));
    };
    const bytes = await readFile(source.path).catch(fail);
    const adapted = (() => {
      try {
        return adaptModel(bytes, source.manifest);
      } catch (error) {
        return fail(error);
      }
    })();
    // Before the runner sees it: a refused version gets no session, queue or worker, and takes no traffic. At start
    // nothing else serves its name, so the refusal stops the start like a corrupt file (ModelRefusedError passes
    // through as it is: its message already names the model, the version and the worst row).
    const report = await this.gate
      .admit(source, adapted)
      .catch((error: unknown) => (error instanceof ModelRefusedError ? Promise.reject(error) : fail(error)));
    const runtime = await this.runner.open({ ...source, ...adapted }).catch(fail);
    return {
      ...source,
      signature: adapted.signature,
      runtime,
      loadedAt: new Date(),
      ...(report ? { validatedRows: report.rows } : {}),
    };
  }
}
