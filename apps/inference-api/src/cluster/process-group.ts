import { AppConfig } from '@app/config';
import { GroupMetricsSource, localRegistrySnapshot } from '@app/observability';
import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { isPrimaryMessage, PrimaryMessage, WorkerMessage } from './messages';

/** Longer than the primary's wait for the workers' registries, so its own error arrives first. */
const METRICS_REQUEST_TIMEOUT_MS = 6_000;
/** The primary answers a hello at once; without an answer a worker behaves as the first of its group. */
const HELLO_TIMEOUT_MS = 2_000;

/** A cluster worker's IPC channel to its primary, behind a class so a spec can stand in for it. */
export class PrimaryChannel {
  send(message: WorkerMessage): void {
    // Fails only when the primary is gone, and node:cluster then ends this worker anyway.
    process.send?.(message, undefined, undefined, () => undefined);
  }

  /** Calls `listener` with each of our messages; returns what stops it. */
  listen(listener: (message: PrimaryMessage) => void): () => void {
    const handler = (message: unknown) => {
      if (isPrimaryMessage(message)) listener(message);
    };
    process.on('message', handler);
    return () => process.off('message', handler);
  }
}

/** How many HTTP workers of the group have loaded their models, and which one this is. */
export interface GroupReadiness {
  ready: number;
  expected: number;
  worker: number;
}

interface PendingScrape {
  resolve(text: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * This process's part in a group of HTTP workers (see HttpPrimary), or nothing at all in a single process: it
 * reports to the primary when the models are loaded, keeps the group's readiness as the primary announces it,
 * and gets the group's metrics from the primary for a scrape, sending this worker's registry when asked.
 */
@Injectable()
export class ProcessGroup extends GroupMetricsSource implements OnModuleDestroy {
  /** This worker's slot (0 … HTTP_WORKERS − 1); undefined in a single process. */
  readonly worker?: number;
  private expected: number;
  private ready = 0;
  private readonly scrapes = new Map<number, PendingScrape>();
  /** Callers of `othersServing` waiting for the primary's word on the group. */
  private groupWaiters: Array<() => void> = [];
  private nextScrape = 0;
  private readonly stopListening?: () => void;

  constructor(
    config: AppConfig,
    @Optional() @Inject(PrimaryChannel) private readonly channel?: PrimaryChannel | null,
  ) {
    super();
    this.expected = config.get('HTTP_WORKERS');
    if (channel) {
      this.worker = config.get('HTTP_WORKER_INDEX');
      this.stopListening = channel.listen((message) => this.received(message));
    }
  }

  /** Undefined in a single process, whose readiness is its models' alone. */
  get readiness(): GroupReadiness | undefined {
    if (this.worker === undefined) return undefined;
    return { ready: this.ready, expected: this.expected, worker: this.worker };
  }

  /**
   * Whether another worker of the group already serves, i.e. this one is a replacement (or late). Such a worker
   * loads its models before it takes connections: listening first would make it answer 503 for a model still
   * loading to every other connection, while the others could answer them. False in a single process.
   */
  async othersServing(): Promise<boolean> {
    const channel = this.channel;
    if (!channel) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HELLO_TIMEOUT_MS);
      this.groupWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      channel.send({ type: 'ml-inference:hello' });
    });
    return this.ready > 0;
  }

  /** This worker's models are loaded; the primary tells the group once all are. */
  reportReady(): void {
    this.channel?.send({ type: 'ml-inference:ready' });
  }

  /** The whole group's metrics, aggregated by the primary. */
  exposition(): Promise<string> {
    const channel = this.channel;
    if (!channel) return Promise.reject(new Error('not an HTTP worker of a cluster'));
    const id = this.nextScrape++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.scrapes.delete(id);
        reject(new Error(`the primary did not answer within ${METRICS_REQUEST_TIMEOUT_MS} ms`));
      }, METRICS_REQUEST_TIMEOUT_MS);
      this.scrapes.set(id, { resolve, reject, timer });
      channel.send({ type: 'ml-inference:metrics-request', id });
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    for (const [id, scrape] of this.scrapes) {
      clearTimeout(scrape.timer);
      scrape.reject(new Error('shutting down'));
      this.scrapes.delete(id);
    }
  }

  private received(message: PrimaryMessage): void {
    switch (message.type) {
      case 'ml-inference:group': {
        this.ready = message.ready;
        this.expected = message.expected;
        const waiters = this.groupWaiters;
        this.groupWaiters = [];
        for (const wake of waiters) wake();
        break;
      }
      case 'ml-inference:metrics-collect':
        void this.sendSnapshot(message.id);
        break;
      case 'ml-inference:metrics': {
        const scrape = this.scrapes.get(message.id);
        if (!scrape) return;
        this.scrapes.delete(message.id);
        clearTimeout(scrape.timer);
        if (message.text !== undefined) scrape.resolve(message.text);
        else scrape.reject(new Error(message.error ?? 'the primary sent no metrics'));
        break;
      }
    }
  }

  private async sendSnapshot(id: number): Promise<void> {
    try {
      const metrics = await localRegistrySnapshot();
      this.channel?.send({ type: 'ml-inference:metrics-snapshot', id, metrics });
    } catch (error) {
      this.channel?.send({ type: 'ml-inference:metrics-snapshot', id, error: (error as Error).message });
    }
  }
}
