import { spawnSync } from 'node:child_process';
import cluster from 'node:cluster';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/* Settings, inputs and small helpers shared by the pieces of `npm run bench`. */

export const ROOT = resolve(__dirname, '..');
export const REPEATS = positiveInteger('BENCH_REPEATS', 3);
export const DURATION_S = positiveInteger('BENCH_DURATION_S', 10);
/** The seed guide's FastAPI service, the Python stack the service replaces (see its README.md). */
export const SEED_FASTAPI_DIR = resolve(
  process.env.SEED_FASTAPI_DIR ?? join(ROOT, '..', 'shared/peers/seed_fastapi'),
);
export const API_KEY = 'bench-key-0123456789abcdef';
export const GOLDEN = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/seed_gbc_zipmap.golden.json'), 'utf8'),
) as {
  inputs: number[][];
};
/** One 10-feature row: the body of every `POST /predict` is `{"features": ROW}`. */
export const ROW = GOLDEN.inputs[0];
export const HEAVY = { name: 'heavy_mlp', featureCount: 32, hidden: 262144, outputs: 10 };

/** A positive integer from the environment, or the fallback when unset. */
export function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median with min and max; the upper median for an even count, so that every figure is one actually measured. */
export const spread = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port nobody listens on right now, chosen by the kernel (other test runs share this machine). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** Rows per second of session.run at `batch` rows in this process: the ceiling for the KServe scenario. */
export async function rawRowsPerSecond(
  modelBytes: Uint8Array,
  batch: number,
  seconds: number,
): Promise<number> {
  const session = await InferenceSession.create(modelBytes, { intraOpNumThreads: 1 });
  const feeds = {
    [session.inputNames[0]]: new Tensor('float32', Float32Array.from(GOLDEN.inputs.slice(0, batch).flat()), [
      batch,
      ROW.length,
    ]),
  };
  for (let i = 0; i < 20; i++) await session.run(feeds);
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await session.run(feeds);
    runs++;
  }
  await session.release();
  return (runs * batch) / ((performance.now() - started) / 1000);
}

/** An executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `executable` from PATH, else installed from the Debian package that has it when running as root with apt
 * (`apt-get update` once if the first try fails); undefined when neither works.
 */
export function findOrInstall(executable: string, debianPackage: string): string | undefined {
  const found = findExecutable(executable);
  if (found || process.getuid?.() !== 0 || !findExecutable('apt-get')) return found;
  console.log(`bench: ${executable} is missing; installing it with apt-get install -y ${debianPackage}`);
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    }).status === 0;
  if (!apt(['install', '-y', '--no-install-recommends', debianPackage])) {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', debianPackage]);
  }
  return findExecutable(executable);
}

/**
 * For the bare comparison servers: `serve` in one forked process per core, as the service runs by default, sharing
 * the port through node:cluster; prints "ready" once every process listens.
 */
export function servePerCore(serve: () => Promise<void>): void {
  if (cluster.isPrimary) {
    const workers = cpus().length;
    let listening = 0;
    for (let i = 0; i < workers; i++) {
      cluster.fork().on('message', () => {
        if (++listening === workers) process.stdout.write('ready\n');
      });
    }
    return;
  }
  serve().then(
    () => process.send?.('listening'),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
