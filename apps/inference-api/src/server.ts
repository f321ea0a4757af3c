import { AppConfig } from '@app/config';
import { ModelRegistry } from '@app/inference';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
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
  stopOnSignals(app, registry, config.get('SHUTDOWN_TIMEOUT_MS'));

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
 * SIGTERM: readiness flips to 503, the server stops accepting connections, in-flight requests finish, exit 0.
 * Nest's own shutdown hooks re-raise the signal (exit code 143), which Kubernetes reports as an error. A worker
 * may get SIGINT from the terminal and SIGTERM from its primary: the first one starts the drain.
 */
function stopOnSignals(app: NestExpressApplication, registry: ModelRegistry, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: draining`);
    registry.beginShutdown();
    setTimeout(() => {
      logger.error(`in-flight requests did not finish within ${timeoutMs} ms; exiting anyway`);
      process.exit(1);
    }, timeoutMs).unref();
    app.close().then(
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
