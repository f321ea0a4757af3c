import { AppConfig, EnvironmentValidationError } from '@app/config';
import { ModelRegistry } from '@app/inference';
import { Logger } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from './bootstrap';

const logger = new Logger('Bootstrap');

async function main(): Promise<void> {
  const app = await createApp();
  const config = app.get(AppConfig);
  const registry = app.get(ModelRegistry);
  stopOnSignals(app, registry, config.get('SHUTDOWN_TIMEOUT_MS'));

  // Listen first: while the models load, /health answers 200 and /ready answers 503.
  await app.listen(config.get('PORT'), config.get('HOST'));
  logger.log(`listening on http://${config.get('HOST')}:${config.get('PORT')}`);
  try {
    await registry.loadAll();
  } catch (error) {
    logger.fatal((error as Error).message);
    await app.close();
    process.exit(1);
  }
  logger.log('ready');
}

/**
 * SIGTERM: readiness flips to 503, the server stops accepting connections, in-flight requests finish, exit 0.
 * Nest's own shutdown hooks re-raise the signal (exit code 143), which Kubernetes reports as an error.
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
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof EnvironmentValidationError) {
    // One line per bad variable, before any logger exists.
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
