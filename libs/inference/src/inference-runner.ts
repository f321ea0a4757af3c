// Where each loaded model version runs: its session on the main thread or in the worker pool (placed by a timed run
// at load), its batch queue, and its retirement once its last request is answered. One file because placement, pools
// and retirement share the instances' state.
import { AppConfig } from '@app/config';
import { InferenceMetrics } from '@app/observability';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InferenceSession } from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { ModelSignature } from './model-signature';
import { BatchQueue } from './runtime/batch-queue';
import { coreBudget, CoreBudget } from './runtime/core-budget';
import { ModelVersionUnloadedError } from './errors';
import type { WorkerModel } from './runtime/onnx-worker';
import { openSession, runSession, SessionSettings, SessionSpec } from './runtime/session';
import type { FeatureValues } from './feature-rows';
import { InputArray, inputOf, OutputTensors } from './runtime/tensors';
import { WorkerPool } from './runtime/worker-pool';

/** Where a model runs and how it was measured at load. */
export interface ModelRuntime {
  placement: 'main-thread' | 'worker-threads';
  /** Execution providers in use, in order. */
  providers: string[];
  /** One warm run at the batch size requests are merged to, in milliseconds. */
  batchRunMs: number;
}

export interface RunnableModel {
  name: string;
  version: string;
  /**
   * This load of the version (ServedModel.instance): its queue and its session, on the main thread or in every
   * worker. A version whose file changed is loaded again as another instance beside the first until the swap.
   */
  instance: string;
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** What the runner holds, for specs and logs: nothing should grow over repeated loads and unloads. */
export interface RuntimeStats {
  /** Loaded instances, each with its own queue. */
  instances: number;
  /** Sessions open on the main thread. */
  mainThreadSessions: number;
  /** Worker pools alive: the current one, and old ones finishing their last runs. */
  workerPools: number;
  /** Sessions open in worker threads: each worker of a pool holds one per model placed on the pool. */
  workerSessions: number;
}

/** One loaded instance: its queue, where it runs, and the requests it is answering. */
interface Lane {
  model: RunnableModel;
  queue: BatchQueue;
  /** Its session, when it runs on the main thread. */
  session?: InferenceSession;
  /** Requests submitted and not yet answered. */
  inFlight: number;
  /** Called when `inFlight` drops to 0 while it is being retired. */
  onIdle?: () => void;
}

/** A worker pool and the runs it has in hand, so a pool replaced by a newer one is destroyed only once idle. */
interface PoolGeneration {
  pool: WorkerPool;
  /** Instances whose sessions its workers hold. */
  instances: string[];
  inFlight: number;
  onIdle?: () => void;
}

/** Warm runs timed at load to place a model. */
const TIMING_RUNS = 5;

/**
 * Runs rows through models, off the event loop when a model is slow enough to block it. Each loaded instance gets a
 * BatchQueue that merges concurrent requests; at load an instance is timed on a merged batch and placed on the main
 * thread (fast models: the thread hop would cost more than it saves) or on the worker pool (the rest).
 *
 * Instances come and go while the service runs (hot reload, the repository API): a new one is opened and warmed
 * before it is routed to; a retired one takes no new request, answers those it holds, and is then released. Every
 * worker holds a session of every worker-placed instance, so a change to that set builds a new pool with the new set,
 * switches the queues to it, and destroys the old pool once its last runs are answered.
 */
@Injectable()
export class InferenceRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(InferenceRunner.name);
  private readonly lanes = new Map<string, Lane>();
  /** Opened, placed on the workers, waiting for `start()` to build a pool that holds them. */
  private readonly pending: RunnableModel[] = [];
  private pool?: PoolGeneration;
  /** Replaced pools finishing their runs. */
  private readonly retiringPools = new Set<PoolGeneration>();
  /** A worker-placed instance was retired: the next `start()` builds a pool without its sessions. */
  private poolStale = false;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: InferenceMetrics,
  ) {}

  /** This process's share of the cores; in a cluster the HTTP workers divide them, so together they fit. */
  private get budget(): CoreBudget {
    return coreBudget({
      cores: availableParallelism(),
      httpProcesses: this.config.get('HTTP_WORKER_INDEX') === undefined ? 1 : this.config.get('HTTP_WORKERS'),
      workers: this.config.get('INFERENCE_WORKERS'),
      threads: this.config.get('INFERENCE_THREADS'),
    });
  }

  private get workers(): number {
    return this.budget.workers;
  }

  private settings(threadsFor: 'main' | 'worker'): SessionSettings {
    const configured = this.config.get('INFERENCE_THREADS');
    // A main-thread session shares its thread with the event loop: one intra-op thread unless told otherwise.
    const threads = threadsFor === 'worker' ? this.budget.threads : configured > 0 ? configured : 1;
    return { threads, providers: this.config.get('ORT_EXECUTION_PROVIDERS') };
  }

  private maxBatchRows(signature: ModelSignature): number {
    const configured = this.config.get('BATCH_MAX_SIZE');
    return signature.fixedBatchSize ? Math.min(configured, signature.fixedBatchSize) : configured;
  }

  /**
   * Opens, warms up and times an instance; decides where it runs. One placed on the workers runs once `start()` has
   * built a pool holding it.
   */
  async open(model: RunnableModel): Promise<ModelRuntime> {
    const spec = specOf(model.signature);
    const opened = await openSession(model.bytes, this.settings('main'));
    if (opened.fallback) {
      this.logger.warn(
        `model ${model.name}: execution providers unavailable, using cpu (${opened.fallback})`,
      );
    }
    const batchRunMs = await timeBatch(opened.session, spec, this.maxBatchRows(model.signature)).catch(
      async (error: unknown) => {
        await opened.session.release();
        throw error;
      },
    );
    const offload = this.workers > 0 && batchRunMs > this.config.get('INFERENCE_INLINE_MAX_MS');
    if (offload) {
      await opened.session.release();
      this.pending.push(model);
    } else {
      const { session } = opened;
      this.addLane(model, 1, (data, rows) => runSession(session, spec, data, rows), { session });
    }
    return { placement: offload ? 'worker-threads' : 'main-thread', providers: opened.providers, batchRunMs };
  }

  /**
   * Makes the worker pool hold exactly the worker-placed instances: those opened since the last call and those
   * still loaded. Nothing to do when that set did not change. Throws when the new pool cannot start; the instances
   * waiting for it are then dropped (the old pool, if any, goes on serving the others).
   */
  async start(): Promise<void> {
    if (this.pending.length === 0 && !this.poolStale) return;
    const added = this.pending.splice(0);
    const kept = [...this.lanes.values()].filter((lane) => lane.session === undefined).map((l) => l.model);
    const models = [...kept, ...added];
    const stale = this.poolStale;
    this.poolStale = false;
    const previous = this.pool;
    let next: PoolGeneration | undefined;
    if (models.length > 0) {
      const workerModels: WorkerModel[] = models.map((model) => ({
        key: model.instance,
        bytes: model.bytes,
        ...specOf(model.signature),
      }));
      // The previous pool serves every run until this one has opened and warmed up its sessions.
      const pool = await WorkerPool.start(this.workers, {
        models: workerModels,
        settings: this.settings('worker'),
      }).catch((error: unknown) => {
        this.poolStale = stale;
        throw error;
      });
      next = { pool, instances: models.map((m) => m.instance), inFlight: 0 };
    }
    this.pool = next;
    for (const model of added) {
      // A worker run is handed its input's buffer: never a request's own array, which the log still reads.
      this.addLane(model, this.workers, (data, rows) => this.runOnPool(model.instance, data, rows), {
        freshInput: true,
      });
    }
    if (previous) void this.retirePool(previous);
  }

  /** Runs `rows` rows whose feature values are `features` (row-major, the model's feature order). */
  run(
    model: { name: string; version: string; instance: string },
    features: FeatureValues,
    rows: number,
  ): Promise<OutputTensors> {
    const lane = this.lanes.get(model.instance);
    if (!lane) throw new ModelVersionUnloadedError(model.name, model.version);
    lane.inFlight++;
    const settle = () => {
      if (--lane.inFlight === 0) lane.onIdle?.();
    };
    return lane.queue.submit(features, rows).then(
      (outputs) => {
        settle();
        return outputs;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  }

  /**
   * Takes an instance out of service: it accepts no new request, answers those it holds, then its session is
   * released (on the main thread now; in the workers at the next `start()`, which builds a pool without it).
   */
  async retire(instance: string): Promise<void> {
    const waiting = this.pending.findIndex((m) => m.instance === instance);
    if (waiting >= 0) this.pending.splice(waiting, 1);
    const lane = this.lanes.get(instance);
    if (!lane) return;
    this.lanes.delete(instance);
    if (lane.inFlight > 0) await new Promise<void>((resolve) => (lane.onIdle = resolve));
    lane.queue.drain();
    if (lane.session) await lane.session.release();
    else this.poolStale = true;
  }

  get stats(): RuntimeStats {
    const pools = [...(this.pool ? [this.pool] : []), ...this.retiringPools];
    return {
      instances: this.lanes.size,
      mainThreadSessions: [...this.lanes.values()].filter((lane) => lane.session !== undefined).length,
      workerPools: pools.length,
      workerSessions: pools.reduce((sum, g) => sum + g.pool.size * g.instances.length, 0),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    for (const lane of this.lanes.values()) lane.queue.drain();
    const pools = [...(this.pool ? [this.pool] : []), ...this.retiringPools];
    this.pool = undefined;
    this.retiringPools.clear();
    await Promise.all(pools.map((generation) => generation.pool.destroy()));
  }

  /** A worker run on the current pool, counted there so a pool replaced meanwhile is kept until it is answered. */
  private runOnPool(instance: string, data: InputArray, rows: number): Promise<OutputTensors> {
    const generation = this.pool;
    if (!generation) return Promise.reject(new Error(`no worker pool holds model instance ${instance}`));
    generation.inFlight++;
    const settle = () => {
      if (--generation.inFlight === 0) generation.onIdle?.();
    };
    return generation.pool.run({ key: instance, data, rows }).then(
      (outputs) => {
        settle();
        return outputs;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  }

  private async retirePool(generation: PoolGeneration): Promise<void> {
    this.retiringPools.add(generation);
    if (generation.inFlight > 0) await new Promise<void>((resolve) => (generation.onIdle = resolve));
    // Shutdown may have destroyed it meanwhile.
    if (!this.retiringPools.delete(generation)) return;
    await generation.pool.destroy().catch((error: Error) => {
      this.logger.warn(`a replaced worker pool did not stop cleanly: ${error.message}`);
    });
  }

  private addLane(
    model: RunnableModel,
    concurrency: number,
    execute: (data: InputArray, rows: number) => Promise<OutputTensors>,
    { session, freshInput = false }: { session?: InferenceSession; freshInput?: boolean },
  ): void {
    const { name, version, signature } = model;
    const timed = async (parts: readonly FeatureValues[], rows: number) => {
      const data = inputOf(signature.input.type, parts, rows * signature.featureCount, freshInput);
      const started = performance.now();
      const outputs = await execute(data, rows);
      this.metrics.observeInference(name, version, (performance.now() - started) / 1000);
      return outputs;
    };
    const queue = new BatchQueue({
      model: name,
      maxBatchRows: this.maxBatchRows(signature),
      maxDelayMs: this.config.get('BATCH_MAX_DELAY_MS'),
      concurrency,
      maxQueuedRows: this.config.get('MAX_QUEUE_ROWS'),
      execute: timed,
      observe: {
        batch: (rows) => this.metrics.observeBatch(name, version, rows),
        wait: (seconds) => this.metrics.observeQueueWait(name, version, seconds),
        depth: (rows) => this.metrics.setQueueDepth(name, version, rows),
      },
    });
    this.lanes.set(model.instance, { model, queue, session, inFlight: 0 });
  }
}

function specOf(signature: ModelSignature): SessionSpec {
  return {
    inputName: signature.input.name,
    inputType: signature.input.type,
    featureCount: signature.featureCount,
    fixedBatchSize: signature.fixedBatchSize,
  };
}

/**
 * The fastest of a few warm runs on a full merged batch (after one untimed run that plans and allocates). Not the
 * median: HTTP workers load their models at the same moment on the same cores, and that interference only ever adds
 * time; a 0.1 ms model once timed at 3 ms that way and was sent to the worker threads in one process of two.
 */
export async function timeBatch(session: InferenceSession, spec: SessionSpec, rows: number): Promise<number> {
  const zeros = [new Float64Array(rows * spec.featureCount)];
  const data = () => inputOf(spec.inputType, zeros, rows * spec.featureCount);
  await runSession(session, spec, data(), rows);
  const times: number[] = [];
  for (let i = 0; i < TIMING_RUNS; i++) {
    const started = performance.now();
    await runSession(session, spec, data(), rows);
    times.push(performance.now() - started);
  }
  return Math.min(...times);
}
