import { AppConfig } from '@app/config';
import { ModelRegistry } from '@app/inference';
import { ConnectionDrain } from './http-edge/connection-drain';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './bootstrap';
import { ProcessGroup } from './cluster/process-group';
import { GrpcEndpoint } from './grpc/grpc-endpoint';

const logger = new Logger('Bootstrap');

/**
 * One server process: the whole service when HTTP_WORKERS=1, one of the cluster's workers otherwise (listening on
 * the ports the workers share: PORT, and GRPC_PORT when gRPC is on). Throws what stops the start; main.ts names it
 * and exits 1.
 */
export async function runServer(): Promise<void> {
  const app = await createApp();
  const config = app.get(AppConfig);
  const registry = app.get(ModelRegistry);
  const group = app.get(ProcessGroup);
  const grpc = app.get(GrpcEndpoint);
  stopOnSignals(app, registry, grpc, config);

  const listen = async () => {
    await app.listen(config.get('PORT'), config.get('HOST'));
    logger.log(`listening on http://${config.get('HOST')}:${config.get('PORT')}`);
    if (!grpc.enabled) return;
    // A node:cluster worker's grpc-js server listens through the primary, on the port the workers share, as HTTP does.
    await app.startAllMicroservices().catch((error: Error) => {
      throw new Error(`cannot serve gRPC on ${grpc.address} (GRPC_PORT): ${error.message}`, { cause: error });
    });
    grpc.started();
    logger.log(`gRPC listening on ${grpc.address}`);
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
  grpc.readinessChanged();
  // In a cluster the primary says "ready" once every worker is.
  logger.log(group.worker === undefined ? 'ready' : `HTTP worker ${group.worker} ready`);
}

/**
 * SIGTERM (or SIGINT): readiness turns 503 and the gRPC health service NOT_SERVING at once, and every response from
 * then on closes its connection, while the server goes on answering for SHUTDOWN_DELAY_MS: the time endpoints and
 * load balancers take to stop sending here, and kept-alive clients to move off with an answer in hand rather than a
 * reset. Then it stops accepting connections and gRPC calls, answers every request and call in flight, closes idle
 * connections, and Nest's shutdown hooks run (the prediction log writes what it holds); exit 0. SHUTDOWN_TIMEOUT_MS
 * counts from the end of the delay; past it, exit 1.
 *
 * Nest's own shutdown hooks re-raise the signal (exit code 143), which Kubernetes reports as an error. A worker
 * may get SIGINT from the terminal and SIGTERM from its primary: the first one starts the drain.
 */
function stopOnSignals(
  app: NestExpressApplication,
  registry: ModelRegistry,
  grpc: GrpcEndpoint,
  config: AppConfig,
): void {
  const drain = app.get(ConnectionDrain);
  const delayMs = config.get('SHUTDOWN_DELAY_MS');
  const timeoutMs = config.get('SHUTDOWN_TIMEOUT_MS');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    registry.beginShutdown();
    drain.begin();
    grpc.readinessChanged();
    logger.log({ delayMs, timeoutMs }, `${signal} received: draining`);
    shutDown(app, drain, grpc, delayMs, timeoutMs).then(
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
  grpc: GrpcEndpoint,
  delayMs: number,
  timeoutMs: number,
): Promise<void> {
  await sleep(delayMs);
  setTimeout(() => {
    logger.error(`in-flight requests did not finish within ${timeoutMs} ms; exiting anyway`);
    process.exit(1);
  }, timeoutMs).unref();
  logger.log('no longer accepting connections');
  // gRPC calls drain beside HTTP requests: the same delay before, the same timeout over both.
  await Promise.all([drain.close(), grpc.close()]);
  logger.log('connections drained');
  // Only now, with nothing in flight: Nest runs onModuleDestroy hooks before it closes the HTTP server itself.
  // Its onApplicationShutdown hooks come after, among them the prediction log's last flush.
  await app.close();
}
