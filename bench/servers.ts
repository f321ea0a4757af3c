import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { groupAlive, processTree, readStat, treeCpuSeconds, treeRssMb } from './process-tree';
import { API_KEY, freePort, ROOT, sleep } from './support';

/*
 * The servers `npm run bench` measures, each a child process tree listening on 127.0.0.1. Every server is spawned
 * `detached`, so it leads its own process group: stopping it signals the group (node:cluster workers, uvicorn's
 * worker processes) and then any descendant that left it, so nothing outlives the bench.
 */

const live = new Set<Server>();

export class Server {
  /** Spawn to first `GET /ready` 200; 0 for the bench's own baselines, which only say that they listen. */
  readyMs = 0;
  /** The service's gRPC port (Server.service only). */
  grpcPort?: number;
  private stopped = false;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
    readonly base: string,
  ) {
    live.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** CPU seconds the whole tree has used so far. */
  cpuSeconds(): number {
    return treeCpuSeconds(this.pid);
  }

  /** RSS of the whole tree. */
  rssMb(): number {
    return treeRssMb(this.pid);
  }

  /**
   * The service in its production configuration: NODE_ENV=production, an API key, JSON logs appended to
   * `logFile`, metrics and the prediction log on. `env` adds or overrides variables (FAST_LANE_ENABLED,
   * HTTP_WORKERS, INFERENCE_WORKERS, BATCH_MAX_SIZE…).
   */
  static async service(
    label: string,
    repository: string,
    dataDir: string,
    logFile: string,
    env: Record<string, string> = {},
  ): Promise<Server> {
    const port = await freePort();
    const grpcPort = env.GRPC_PORT !== undefined ? Number(env.GRPC_PORT) : await freePort();
    const server = await Server.start(
      label,
      process.execPath,
      [join(ROOT, 'dist/apps/inference-api/src/main.js')],
      {
        port,
        logFile,
        ready: '/ready',
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          // Services run side by side: each its own gRPC port too, not the default 8081 (`env` may name one).
          GRPC_PORT: String(grpcPort),
          API_KEYS: API_KEY,
          MODEL_REPOSITORY: repository,
          DEFAULT_MODEL: 'seed_gbc',
          // Each instance its own folders: instances running side by side must not share one host's log file.
          PREDICTION_LOG_DIR: join(dataDir, 'predictions'),
          DRIFT_REPORT_DIR: join(dataDir, 'reports'),
          DRIFT_SCHEDULE_ENABLED: 'false',
          ...env,
        },
      },
    );
    server.grpcPort = grpcPort;
    return server;
  }

  /**
   * A comparison server from bench/: `bare-server.ts` (node:http), `nest-floor.ts` (minimal Nest), or one process
   * per core of `bare-v2-server.ts` (node:http, V2 binary infer), `bare-grpc-server.ts` (grpc-js) or
   * `bare-h2-grpc-server.ts` (node:http2); the gRPC ones' port is a gRPC one.
   */
  static async baseline(
    label: string,
    script:
      | 'bare-server.ts'
      | 'nest-floor.ts'
      | 'bare-v2-server.ts'
      | 'bare-grpc-server.ts'
      | 'bare-h2-grpc-server.ts',
    modelPath: string,
  ): Promise<Server> {
    const port = await freePort();
    const args = [
      '--require',
      'ts-node/register/transpile-only',
      join(__dirname, script),
      modelPath,
      String(port),
    ];
    return Server.start(label, process.execPath, args, { port, cwd: ROOT, ready: 'stdout' });
  }

  /**
   * The seed guide's FastAPI service under uvicorn with two workers, run as its README says. Its log lines go to
   * `logFile` (QUIET is not set), so their cost counts as it would in production.
   */
  static async seedFastapi(label: string, dir: string, logFile: string): Promise<Server> {
    const port = await freePort();
    const args = ['-m', 'uvicorn', 'main:app', '--host', '127.0.0.1', '--port', String(port)];
    return Server.start(label, '/usr/bin/python3', [...args, '--workers', '2', '--log-level', 'warning'], {
      port,
      cwd: dir,
      logFile,
      ready: '/ready',
      env: { MODEL_PATH: '../../fixtures/models/seed_torch_mlp.onnx' },
    });
  }

  /** Spawns `command` and waits until `GET <ready>` answers 200, or, for `stdout`, until it prints a line. */
  private static async start(
    label: string,
    command: string,
    args: string[],
    options: { port: number; ready: string; cwd?: string; logFile?: string; env?: Record<string, string> },
  ): Promise<Server> {
    const started = performance.now();
    const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Only PATH from the bench's environment: a developer's .env-style variables must not change the figures.
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', options.ready === 'stdout' ? 'pipe' : (log ?? 'ignore'), log ?? 'inherit'],
      detached: true,
    });
    if (log !== undefined) closeSync(log); // the child has its own descriptor now
    const server = new Server(label, child, `http://127.0.0.1:${options.port}`);
    try {
      if (options.ready === 'stdout') {
        await firstOutput(child, label);
      } else {
        await waitUntilReady(`${server.base}${options.ready}`, child, label);
        server.readyMs = performance.now() - started;
      }
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** SIGTERM to the group, up to 10 s to exit (the service drains), then SIGKILL to the group and the tree. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    const pgid = this.pid;
    const tree = processTree(pgid).map((s) => s.pid);
    signal(-pgid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
    signal(-pgid, 'SIGKILL');
    for (const pid of tree) if (readStat(pid)?.state !== 'Z') signal(pid, 'SIGKILL');
  }
}

/** Stops every server still running: the bench's `finally`. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
}

// A last resort when the bench exits without reaching its `finally` (an uncaught error, process.exit elsewhere).
process.on('exit', () => {
  for (const server of live) signal(-server.pid, 'SIGKILL');
});

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // already gone
  }
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  label: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}) before ${url} answered 200`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`${label}: ${url} not ready within ${timeoutMs} ms`);
}

/** The bench's own baselines print one line once they listen. */
function firstOutput(child: ChildProcess, label: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${label} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      ok();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${label} exited (${code}) before it listened`));
    });
  });
}

/** Whether the seed FastAPI service can run here; the reason when it cannot. */
export function seedFastapiUnavailable(dir: string): string | undefined {
  if (!existsSync(join(dir, 'main.py'))) return `no seed FastAPI service at ${dir} (SEED_FASTAPI_DIR)`;
  if (!existsSync(join(dir, '../../fixtures/models/seed_torch_mlp.onnx')))
    return `its model ${join(dir, '../../fixtures/models/seed_torch_mlp.onnx')} is missing`;
  const check = spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn, numpy, onnx'], {
    stdio: 'ignore',
    timeout: 60_000,
  });
  if (check.status !== 0) return `/usr/bin/python3 cannot import fastapi, uvicorn, numpy, onnx`;
  return undefined;
}
