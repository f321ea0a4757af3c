import { extname, join } from 'node:path';
import { Piscina } from 'piscina';
import type { RunTask, WorkerData } from './onnx-worker';
import { OutputTensors, toInputArray } from './tensors';

/**
 * The worker threads that run the models too slow for the main thread. Every worker holds a session for every
 * such model, so any idle worker can take any batch.
 */
export class WorkerPool {
  private constructor(
    private readonly piscina: Piscina<RunTask, OutputTensors>,
    readonly size: number,
  ) {}

  /** Starts `size` workers and waits until each has opened and warmed up its sessions. */
  static async start(size: number, data: WorkerData): Promise<WorkerPool> {
    // Built, the worker is JavaScript beside this file; under Jest or ts-node it is TypeScript and needs a loader.
    const filename = join(__dirname, `onnx-worker${extname(__filename)}`);
    const piscina = new Piscina<RunTask, OutputTensors>({
      filename,
      minThreads: size,
      maxThreads: size,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'async',
      workerData: data,
      execArgv: filename.endsWith('.ts') ? ['--require', 'ts-node/register/transpile-only'] : [],
    });
    const pool = new WorkerPool(piscina, size);
    // One warm-up task per worker at once: each lands on a different worker and waits for its sessions.
    if (data.models.length > 0) {
      const model = data.models[0];
      const zeros = () =>
        toInputArray(model.inputType, [new Array<number>(model.featureCount).fill(0)], model.featureCount);
      await Promise.all(
        Array.from({ length: size }, () => pool.run({ key: model.key, data: zeros(), rows: 1 })),
      ).catch(async (error: unknown) => {
        await piscina.destroy();
        throw error;
      });
    }
    return pool;
  }

  run(task: RunTask): Promise<OutputTensors> {
    // The input buffer is transferred, not copied: the caller built it for this run only.
    return this.piscina.run(task, { transferList: [task.data.buffer as ArrayBuffer] });
  }

  destroy(): Promise<void> {
    return this.piscina.destroy();
  }
}
