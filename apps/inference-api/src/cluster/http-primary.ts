import type { Environment } from '@app/config/environment';
import { PrimaryMetrics, RegistrySnapshot } from '@app/observability/metrics/process-group-metrics';
import cluster, { Worker } from 'node:cluster';
import { isWorkerMessage, PrimaryMessage, WorkerMessage } from './messages';
import { PrimaryLog } from './primary-log';
import { RestartBackoff } from './restart-backoff';

/** How long a scrape waits for every worker's registry before it fails (Prometheus' own timeout is 10 s). */
const COLLECT_TIMEOUT_MS = 5_000;
/**
 * Workers exit by themselves (code 1) SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS after SIGTERM; the primary waits this
 * much longer so their own lines say what was still running, then kills what is left.
 */
const EXIT_GRACE_MS = 1_000;

/** One of the HTTP_WORKERS places a worker runs in. A restarted worker takes its predecessor's slot. */
interface Slot {
  index: number;
  worker?: Worker;
  /** Its HTTP server listens, so its metrics are part of the group's. */
  listening: boolean;
  /** When it reported every model loaded; undefined until then. */
  readyAt?: number;
  backoff: RestartBackoff;
  restartTimer?: NodeJS.Timeout;
}

/** One scrape's gathering of the workers' registries. */
interface Collection {
  /** Worker id → slot index, of the workers yet to answer. */
  waiting: Map<number, number>;
  /** By slot index, so the series come out in the same order whichever worker was scraped. */
  snapshots: Map<number, RegistrySnapshot>;
  finish(error?: Error): void;
}

type PrimarySettings = Pick<Environment, 'HTTP_WORKERS' | 'SHUTDOWN_DELAY_MS' | 'SHUTDOWN_TIMEOUT_MS'>;

/**
 * The node:cluster primary: forks HTTP_WORKERS workers (each runs the whole app and listens on the shared port),
 * and does nothing a request needs, so it stays small and never boots Nest. It
 *
 * - restarts a worker that exits unexpectedly, after a growing delay (RestartBackoff), logging and counting it;
 *   a worker that exits before it was ever ready is a start-up failure (a model that cannot load, a port in use),
 *   which a restart would only repeat: the group stops with exit 1, as a single process would;
 * - keeps the group's readiness: workers report when their models are loaded, and the primary tells every
 *   worker how many of the group are ready, so /ready on any of them is 200 only when all are;
 * - answers a worker's scrape of /metrics with the whole group's metrics;
 * - on SIGTERM or SIGINT passes SIGTERM to every worker, each drains as a single process does, and exits 0 once
 *   all of them exited 0 (1 if one failed or they took longer than SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS).
 */
export class HttpPrimary {
  private readonly slots: Slot[];
  private readonly slotOfWorker = new Map<number, Slot>();
  private readonly collections = new Map<number, Collection>();
  private nextCollection = 0;
  private stopping = false;
  private failed = false;
  private wasReady = false;

  constructor(
    private readonly settings: PrimarySettings,
    private readonly log: PrimaryLog,
    private readonly metrics: PrimaryMetrics,
  ) {
    this.slots = Array.from({ length: settings.HTTP_WORKERS }, (_, index) => ({
      index,
      listening: false,
      backoff: new RestartBackoff(),
    }));
  }

  start(): void {
    cluster.on('listening', (worker) => {
      const slot = this.slotOfWorker.get(worker.id);
      if (slot) slot.listening = true;
    });
    cluster.on('message', (worker, message: unknown) => {
      if (isWorkerMessage(message)) this.received(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
    process.on('SIGTERM', () => this.stop('SIGTERM received'));
    process.on('SIGINT', () => this.stop('SIGINT received'));
    this.log.info(`starting ${this.slots.length} HTTP workers`, { workers: this.slots.length });
    for (const slot of this.slots) this.fork(slot);
  }

  private fork(slot: Slot, restart = false): void {
    // The slot, not the worker, names the prediction-log file: a restarted worker appends to its predecessor's.
    const worker = cluster.fork({ HTTP_WORKER_INDEX: String(slot.index) });
    // A message to a worker that just died fails asynchronously; the exit handler deals with the death.
    worker.on('error', (error) =>
      this.log.warn(`HTTP worker ${slot.index}: ${error.message}`, { worker: slot.index }),
    );
    slot.worker = worker;
    slot.listening = false;
    slot.readyAt = undefined;
    this.slotOfWorker.set(worker.id, slot);
    this.log.info(`HTTP worker ${slot.index} ${restart ? 'restarted' : 'started'}`, {
      worker: slot.index,
      workerPid: worker.process.pid,
    });
  }

  private received(worker: Worker, message: WorkerMessage): void {
    const slot = this.slotOfWorker.get(worker.id);
    if (!slot) return;
    switch (message.type) {
      case 'ml-inference:hello':
        this.send(worker, { type: 'ml-inference:group', ...this.readiness() });
        break;
      case 'ml-inference:ready':
        slot.readyAt = Date.now();
        this.announceReadiness();
        break;
      case 'ml-inference:metrics-request':
        void this.answerMetrics(worker, message.id);
        break;
      case 'ml-inference:metrics-snapshot':
        this.snapshotReceived(worker.id, message);
        break;
    }
  }

  /** Tells every worker how many of the group are ready; /ready is 200 only while that is all of them. */
  private announceReadiness(): void {
    const { ready, expected } = this.readiness();
    for (const slot of this.slots)
      if (slot.worker) this.send(slot.worker, { type: 'ml-inference:group', ready, expected });
    if (ready < expected || this.stopping) return;
    if (this.wasReady) {
      this.log.info(`all ${expected} HTTP workers ready again`, { workers: expected });
    } else {
      this.wasReady = true;
      this.log.info('ready', { workers: expected });
    }
  }

  private readiness(): { ready: number; expected: number } {
    const ready = this.slots.filter((slot) => slot.readyAt !== undefined).length;
    return { ready, expected: this.slots.length };
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const slot = this.slotOfWorker.get(worker.id);
    this.slotOfWorker.delete(worker.id);
    if (!slot || slot.worker !== worker) return;
    const readyAt = slot.readyAt;
    slot.worker = undefined;
    slot.listening = false;
    slot.readyAt = undefined;
    this.forgetInCollections(worker.id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const fields = { worker: slot.index, workerPid: worker.process.pid, code, signal };

    if (this.stopping) {
      if (code === 0) {
        this.log.info(`HTTP worker ${slot.index} stopped`, fields);
      } else {
        this.failed = true;
        this.log.error(`HTTP worker ${slot.index} exited with ${how} while stopping`, fields);
      }
      this.exitOnceAllStopped();
      return;
    }
    if (readyAt === undefined) {
      this.failed = true;
      this.log.fatal(
        `HTTP worker ${slot.index} exited with ${how} before it was ready; stopping the other workers`,
        fields,
      );
      this.stop('start-up failed');
      return;
    }
    const delayMs = slot.backoff.next(Date.now() - readyAt);
    this.log.error(`HTTP worker ${slot.index} exited unexpectedly (${how}); restarting it in ${delayMs} ms`, {
      ...fields,
      delayMs,
    });
    // The group is short of a worker until the replacement has loaded its models.
    this.announceReadiness();
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.stopping) return;
      this.metrics.workerRestarted();
      this.fork(slot, true);
    }, delayMs);
  }

  private stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    const running = this.slots.filter((slot) => slot.worker !== undefined);
    const count = `${running.length} HTTP worker${running.length === 1 ? '' : 's'}`;
    this.log.info(`${reason}: stopping ${count}`, { workers: running.length });
    // A signal, not cluster's worker.kill(), which disconnects first: each worker drains as a single process does.
    for (const slot of running) slot.worker?.process.kill('SIGTERM');
    // Each worker answers for SHUTDOWN_DELAY_MS, then has SHUTDOWN_TIMEOUT_MS to drain.
    const limitMs = this.settings.SHUTDOWN_DELAY_MS + this.settings.SHUTDOWN_TIMEOUT_MS;
    setTimeout(() => {
      const left = this.slots.filter((slot) => slot.worker !== undefined);
      this.log.error(
        `HTTP workers ${left.map((slot) => slot.index).join(', ')} did not stop within ${limitMs} ms; killing them`,
      );
      for (const slot of left) slot.worker?.process.kill('SIGKILL');
      process.exit(1);
    }, limitMs + EXIT_GRACE_MS).unref();
    this.exitOnceAllStopped();
  }

  private exitOnceAllStopped(): void {
    if (this.slots.some((slot) => slot.worker !== undefined)) return;
    if (this.failed) this.log.error('HTTP workers stopped; exiting with 1');
    else this.log.info('all HTTP workers stopped');
    process.exit(this.failed ? 1 : 0);
  }

  private async answerMetrics(requester: Worker, id: number): Promise<void> {
    let reply: PrimaryMessage;
    try {
      reply = { type: 'ml-inference:metrics', id, text: await this.groupExposition() };
    } catch (error) {
      reply = { type: 'ml-inference:metrics', id, error: (error as Error).message };
    }
    this.send(requester, reply);
  }

  /** Every listening worker's registry (the one that received the scrape among them) and the primary's own. */
  private async groupExposition(): Promise<string> {
    const targets = this.slots.flatMap((slot) =>
      slot.worker && slot.listening && slot.worker.isConnected() ? [{ slot, worker: slot.worker }] : [],
    );
    const id = this.nextCollection++;
    const snapshots = await new Promise<RegistrySnapshot[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const late = [...collection.waiting.values()].join(', ');
        collection.finish(new Error(`HTTP worker ${late} sent no metrics within ${COLLECT_TIMEOUT_MS} ms`));
      }, COLLECT_TIMEOUT_MS);
      const collection: Collection = {
        waiting: new Map(targets.map(({ slot, worker }) => [worker.id, slot.index])),
        snapshots: new Map(),
        finish: (error) => {
          clearTimeout(timer);
          this.collections.delete(id);
          if (error) reject(error);
          else resolve([...collection.snapshots].sort(([a], [b]) => a - b).map(([, snapshot]) => snapshot));
        },
      };
      this.collections.set(id, collection);
      if (targets.length === 0) return collection.finish();
      for (const { worker } of targets) this.send(worker, { type: 'ml-inference:metrics-collect', id });
    });
    return this.metrics.exposition(snapshots);
  }

  private snapshotReceived(
    workerId: number,
    message: Extract<WorkerMessage, { type: 'ml-inference:metrics-snapshot' }>,
  ): void {
    const collection = this.collections.get(message.id);
    const slot = collection?.waiting.get(workerId);
    if (!collection || slot === undefined) return;
    if (!message.metrics) {
      return collection.finish(
        new Error(`HTTP worker ${slot}: ${message.error ?? 'no metrics in its answer'}`),
      );
    }
    collection.waiting.delete(workerId);
    collection.snapshots.set(slot, message.metrics);
    if (collection.waiting.size === 0) collection.finish();
  }

  /** A worker that died while a scrape waited for it: its metrics died with it, the scrape goes on without. */
  private forgetInCollections(workerId: number): void {
    for (const collection of [...this.collections.values()])
      if (collection.waiting.delete(workerId) && collection.waiting.size === 0) collection.finish();
  }

  private send(worker: Worker, message: PrimaryMessage): void {
    if (!worker.isConnected()) return;
    // With a callback, a failed send (the worker is dying) is reported there instead of as an 'error' event.
    worker.send(message, () => undefined);
  }
}
