import type { RegistrySnapshot } from '@app/observability/metrics/process-group-metrics';

/**
 * What the cluster primary and its HTTP workers say to each other over the IPC channel node:cluster gives them.
 * Every type carries this prefix, so messages of other libraries on the same channel (prom-client has some) are
 * told apart.
 */
const PREFIX = 'ml-inference:';

/** Worker → primary. */
export type WorkerMessage =
  /** The app is built: how many of the group serve already? (answered with `group`) */
  | { type: 'ml-inference:hello' }
  /** Every model of this worker is loaded. */
  | { type: 'ml-inference:ready' }
  /** A scrape of /metrics reached this worker: it asks for the group's exposition. */
  | { type: 'ml-inference:metrics-request'; id: number }
  /** This worker's registry, answering the primary's `metrics-collect`. */
  | { type: 'ml-inference:metrics-snapshot'; id: number; metrics?: RegistrySnapshot; error?: string };

/** Primary → worker. */
export type PrimaryMessage =
  /** The group's readiness: how many workers have loaded their models, of how many there should be. */
  | { type: 'ml-inference:group'; ready: number; expected: number }
  /** Send your registry (for a scrape that some worker received). */
  | { type: 'ml-inference:metrics-collect'; id: number }
  /** The group's exposition, answering the worker's `metrics-request`. */
  | { type: 'ml-inference:metrics'; id: number; text?: string; error?: string };

function isOurs(message: unknown): message is { type: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith(PREFIX)
  );
}

/** Messages arrive untyped: only ours are handled, anything else on the channel is ignored. */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return isOurs(message);
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return isOurs(message);
}
