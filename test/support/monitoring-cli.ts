import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(__dirname, '../../dist/apps/ml-cli/src/main.js');
export const ROOT = resolve(__dirname, '../..');

/** The built CLI as the CronJob runs it (`npm run build` comes before Jest in `npm test`). */
export function runCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', MODEL_REPOSITORY: './models', ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
