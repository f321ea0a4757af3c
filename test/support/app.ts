import { ModelRegistry } from '@app/inference';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/inference-api/src/bootstrap';

export const FIXTURES = `${__dirname}/../fixtures`;

/** A quiet, test-only environment on top of the defaults: no .env, no log noise. */
const BASE_ENV: Record<string, string> = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };

/**
 * Builds the real app with `env` as its environment (restoring process.env afterwards), and by default
 * loads its models as main.ts does after listening.
 */
export async function startApp(
  env: Record<string, string>,
  { load = true }: { load?: boolean } = {},
): Promise<NestExpressApplication> {
  const saved = { ...process.env };
  // Its data in a folder of its own, not the checkout's ./data (the defaults), unless the spec names one.
  const data = mkdtempSync(join(tmpdir(), 'app-data-'));
  const dataEnv = { PREDICTION_LOG_DIR: join(data, 'predictions'), DRIFT_REPORT_DIR: join(data, 'reports') };
  Object.assign(process.env, BASE_ENV, dataEnv, env);
  try {
    const app = await createApp();
    await app.init();
    if (load) await app.get(ModelRegistry).loadAll();
    return app;
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
