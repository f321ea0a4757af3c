import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/* The pieces `npm run bench` is made of: servers as child processes, autocannon loads, and spreads of figures. */

export const ROOT = resolve(__dirname, '..');
export const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
export const API_KEY = 'bench-key-0123456789abcdef';
export const GOLDEN = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/seed_gbc_zipmap.golden.json'), 'utf8'),
) as {
  inputs: number[][];
};
export const ROW = GOLDEN.inputs[0];
export const HEAVY = { name: 'heavy_mlp', featureCount: 32, hidden: 262144, outputs: 10 };

export interface Spread {
  median: number;
  min: number;
  max: number;
}
export const spread = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
};
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextPort = 24000 + Math.floor(Math.random() * 1000);

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export async function waitFor(url: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

export class Server {
  constructor(
    readonly child: ChildProcess,
    readonly base: string,
    readonly readyMs: number,
  ) {}

  static async service(
    repository: string,
    logFile: string,
    env: Record<string, string> = {},
    nodeArgs: string[] = [],
  ): Promise<Server> {
    const port = nextPort++;
    const started = performance.now();
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/apps/inference-api/src/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        API_KEYS: API_KEY,
        MODEL_REPOSITORY: repository,
        DEFAULT_MODEL: 'seed_gbc',
        PREDICTION_LOG_DIR: join(repository, '..', 'predictions'),
        DRIFT_REPORT_DIR: join(repository, '..', 'reports'),
        DRIFT_SCHEDULE_ENABLED: 'false',
        ...env,
      },
      stdio: ['ignore', log, log],
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/ready`);
    return new Server(child, base, performance.now() - started);
  }

  /** A comparison server from bench/: `bare-server.ts` (node:http) or `nest-floor.ts` (minimal Nest). */
  static async baseline(script: 'bare-server.ts' | 'nest-floor.ts', modelPath: string): Promise<Server> {
    const port = nextPort++;
    const child = spawn(
      process.execPath,
      ['--require', 'ts-node/register/transpile-only', join(__dirname, script), modelPath, String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT },
    );
    const base = `http://127.0.0.1:${port}`;
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    return new Server(child, base, 0);
  }

  get rssMb(): number {
    return rssMb(this.child.pid!);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function load(
  url: string,
  connections: number,
  body: unknown,
  durationS = DURATION_S,
): Promise<Load> {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export async function probe(url: string, durationS: number): Promise<Load> {
  const result = await autocannon({ url, connections: 1, duration: durationS });
  return {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export async function repeat<T>(times: number, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < times; i++) results.push(await run());
  return results;
}

/** Rows per second of session.run at batch 32 in this process: the ceiling for scenario 2. */
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
