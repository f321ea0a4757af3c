import { Environment, EnvironmentValidationError, validateEnvironment } from '@app/config/environment';
import { PrimaryMetrics } from '@app/observability/metrics/process-group-metrics';
import { parse } from 'dotenv';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { HttpPrimary } from './cluster/http-primary';
import { PrimaryLog } from './cluster/primary-log';

/**
 * HTTP_WORKERS=1: this process is the server. More: it becomes a small node:cluster primary that forks that many
 * workers, each the whole server on the shared port. Only the light modules are imported above; Nest and the
 * app are loaded by the processes that serve, never by the primary.
 */
async function main(): Promise<void> {
  if (cluster.isWorker) return serve();
  // Validated once here, so a bad variable stops the start before any worker is forked.
  const env = validateEnvironment({ ...dotEnvFile(), ...process.env });
  if (env.HTTP_WORKERS === 1) return serve();
  startPrimary(env);
}

async function serve(): Promise<void> {
  const { runServer } = await import('./server.js');
  await runServer();
}

function startPrimary(env: Environment): void {
  const log = new PrimaryLog(env);
  new HttpPrimary(env, log, new PrimaryMetrics()).start();
}

/** `.env` as ConfigModule reads it in the workers: its values yield to the real environment's. */
function dotEnvFile(): Record<string, string> {
  try {
    return parse(readFileSync('.env'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
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
