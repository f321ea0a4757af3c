/** What one HTTP process may run inference on, and how. */
export interface CoreBudget {
  /** Worker threads for the slow models (0: everything on the main thread). */
  workers: number;
  /** ONNX Runtime intra-op threads of each worker session. */
  threads: number;
}

export interface CoreBudgetInputs {
  /** Cores the machine (or the container's CPU set) offers. */
  cores: number;
  /** HTTP processes sharing those cores: HTTP_WORKERS in a cluster, 1 for a single process. */
  httpProcesses: number;
  /** INFERENCE_WORKERS; undefined picks the process's share of the cores. */
  workers?: number;
  /** INFERENCE_THREADS; 0 divides the share between the workers. */
  threads: number;
}

/**
 * Divides the cores between the HTTP processes so the machine is not oversubscribed when a slow model keeps
 * every worker busy: each process's event loop keeps a core of its own (HTTP, health probes), and the cores left
 * over are shared out, (cores − processes) ÷ processes each, at least 1. One process on N cores gets N − 1, as
 * before there were several; on a machine with no spare core each process still gets one worker thread, so a slow
 * model never runs on (and stalls) the event loop.
 */
export function coreBudget({ cores, httpProcesses, workers, threads }: CoreBudgetInputs): CoreBudget {
  const processes = Math.max(1, httpProcesses);
  const share = Math.max(1, Math.floor((cores - processes) / processes));
  const chosenWorkers = workers ?? share;
  const chosenThreads = threads > 0 ? threads : Math.max(1, Math.floor(share / Math.max(1, chosenWorkers)));
  return { workers: chosenWorkers, threads: chosenThreads };
}
