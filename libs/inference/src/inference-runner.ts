import { AppConfig } from '@app/config';
import { InferenceMetrics } from '@app/observability';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InferenceSession } from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { ModelSignature } from './model-signature';
import { BatchQueue } from './runtime/batch-queue';
import { coreBudget, CoreBudget } from './runtime/core-budget';
import type { WorkerModel } from './runtime/onnx-worker';
import { openSession, runSession, SessionSettings, SessionSpec } from './runtime/session';
import { OutputTensors, toInputArray } from './runtime/tensors';
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
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** Warm runs timed at load to place a model. */
const TIMING_RUNS = 5;

/**
 * Runs rows through models, off the event loop when a model is slow enough to block it. Each model gets a
 * BatchQueue that merges concurrent requests; at load a model is timed on a merged batch and placed on the main
 * thread (fast models: the thread hop would cost more than it saves) or on the worker pool (the rest).
 */
@Injectable()
export class InferenceRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(InferenceRunner.name);
  private readonly queues = new Map<string, BatchQueue>();
  private readonly pending: Array<{ model: RunnableModel; key: string }> = [];
  private pool?: WorkerPool;

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

  /** Opens, warms up and times a model; decides where it runs. Call `start()` once every model is opened. */
  async open(model: RunnableModel): Promise<ModelRuntime> {
    const spec = specOf(model.signature);
    const opened = await openSession(model.bytes, this.settings('main'));
    if (opened.fallback) {
      this.logger.warn(
        `model ${model.name}: execution providers unavailable, using cpu (${opened.fallback})`,
      );
    }
    const batchRunMs = await timeBatch(opened.session, spec, this.maxBatchRows(model.signature));
    const offload = this.workers > 0 && batchRunMs > this.config.get('INFERENCE_INLINE_MAX_MS');
    const key = `${model.name}@${model.version}`;
    if (offload) {
      await opened.session.release();
      this.pending.push({ model, key });
    } else {
      this.addQueue(model, 1, (data, rows) => runSession(opened.session, spec, data, rows));
    }
    return { placement: offload ? 'worker-threads' : 'main-thread', providers: opened.providers, batchRunMs };
  }

  /** Starts the worker pool for the models placed on it. */
  async start(): Promise<void> {
    if (this.pending.length === 0) return;
    const models: WorkerModel[] = this.pending.map(({ model, key }) => ({
      key,
      bytes: model.bytes,
      ...specOf(model.signature),
    }));
    this.pool = await WorkerPool.start(this.workers, { models, settings: this.settings('worker') });
    const pool = this.pool;
    for (const { model, key } of this.pending.splice(0)) {
      this.addQueue(model, pool.size, (data, rows) => pool.run({ key, data, rows }));
    }
  }

  run(model: { name: string; version: string }, rows: number[][]): Promise<OutputTensors> {
    const queue = this.queues.get(`${model.name}@${model.version}`);
    if (!queue) throw new Error(`model ${model.name} version ${model.version} is not open`);
    return queue.submit(rows);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const queue of this.queues.values()) queue.drain();
    await this.pool?.destroy();
  }

  private addQueue(
    model: RunnableModel,
    concurrency: number,
    execute: (data: ReturnType<typeof toInputArray>, rows: number) => Promise<OutputTensors>,
  ): void {
    const { name, version, signature } = model;
    const timed = async (rows: number[][]) => {
      const data = toInputArray(signature.input.type, rows, signature.featureCount);
      const started = performance.now();
      const outputs = await execute(data, rows.length);
      this.metrics.observeInference(name, version, (performance.now() - started) / 1000);
      return outputs;
    };
    this.queues.set(
      `${name}@${version}`,
      new BatchQueue({
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
      }),
    );
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
  const zeros = Array.from({ length: rows }, () => new Array<number>(spec.featureCount).fill(0));
  const data = () => toInputArray(spec.inputType, zeros, spec.featureCount);
  await runSession(session, spec, data(), rows);
  const times: number[] = [];
  for (let i = 0; i < TIMING_RUNS; i++) {
    const started = performance.now();
    await runSession(session, spec, data(), rows);
    times.push(performance.now() - started);
  }
  return Math.min(...times);
}
