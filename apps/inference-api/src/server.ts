import { AppConfig } from '@app/config';
import { ModelRegistry } from '@app/inference';
import { ConnectionDrain } from '@app/observability';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './bootstrap';
import { ProcessGroup } from './cluster/process-group';

const logger = new Logger('Bootstrap');

/**
 * One HTTP server process: the whole service when HTTP_WORKERS=1, one of the cluster's workers otherwise
 * (listening on the port the workers share). Throws what stops the start; main.ts names it and exits 1.
 */
export async function runServer(): Promise<void> {
  const app = await createApp();
  const config = app.get(AppConfig);
  const registry = app.get(ModelRegistry);
  const group = app.get(ProcessGroup);
  stopOnSignals(app, registry, config);

  const listen = async () => {
    await app.listen(config.get('PORT'), config.get('HOST'));
    logger.log(`listening on http://${config.get('HOST')}:${config.get('PORT')}`);
  };
  // Listen first: while the models load, /health answers 200 and /ready answers 503. Not a worker replacing a
  // crashed one: the others serve meanwhile, and it takes connections only once it can answer them.
  const replacing = await group.othersServing();
  if (!replacing) await listen();
  try {
    await registry.loadAll();
  } catch (error) {
    logger.fatal((error as Error).message);
    await app.close();
    process.exit(1);
  }
  if (replacing) await listen();
  group.reportReady();
  // In a cluster the primary says "ready" once every worker is.
  logger.log(group.worker === undefined ? 'ready' : `HTTP worker ${group.worker} ready`);
}

/**
 * SIGTERM (or SIGINT): readiness turns 503 at once and every response from then on closes its connection, while the
 * server goes on answering for SHUTDOWN_DELAY_MS: the time endpoints and load balancers take to stop sending here,
 * and kept-alive clients to move off with an answer in hand rather than a reset. Then it stops accepting
 * connections, answers every request in flight, closes idle connections, and Nest's shutdown hooks run (the
 * prediction log writes what it holds); exit 0. SHUTDOWN_TIMEOUT_MS counts from the end of the delay; past it, exit 1.
 *
 * Nest's own shutdown hooks re-raise the signal (exit code 143), which Kubernetes reports as an error. A worker
 * may get SIGINT from the terminal and SIGTERM from its primary: the first one starts the drain.
 */
function stopOnSignals(app: NestExpressApplication, registry: ModelRegistry, config: AppConfig): void {
  const drain = app.get(ConnectionDrain);
  const delayMs = config.get('SHUTDOWN_DELAY_MS');
  const timeoutMs = config.get('SHUTDOWN_TIMEOUT_MS');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    registry.beginShutdown();
    drain.begin();
    logger.log({ delayMs, timeoutMs }, `${signal} received: draining`);
    shutDown(app, drain, delayMs, timeoutMs).then(
      () => process.exit(0),
      (error: Error) => {
        logger.error(`shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function shutDown(
  app: NestExpressApplication,
  drain: ConnectionDrain,
  delayMs: number,
  timeoutMs: number,
): Promise<void> {
  await sleep(delayMs);
  setTimeout(() => {
    logger.error(`in-flight requests did not finish within ${timeoutMs} ms; exiting anyway`);
    process.exit(1);
  }, timeoutMs).unref();
  logger.log('no longer accepting connections');
  await drain.close();
  logger.log('connections drained');
  // Only now, with nothing in flight: Nest runs onModuleDestroy hooks before it closes the HTTP server itself.
  // Its onApplicationShutdown hooks come after, among them the prediction log's last flush.
  await app.close();
}
