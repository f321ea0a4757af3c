import { expect } from '@jest/globals';
import { parseLogFileName, parseRecords } from '@app/monitoring';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshConnection, workerPids } from './support/fresh-connection';
import { seedTrainingRows } from './support/monitoring-data';
import { freePort, ServerProcess } from './support/server-process';

const KEY = 'drain-spec-key-0123456789';
const SHUTDOWN_DELAY_MS = 1000;
/** Beyond the delay, what draining, flushing the prediction log and exiting may take on a busy 2-core machine. */
const DRAIN_BOUND_MS = 3000;

/** One POST /predict as a client saw it. */
interface Attempt {
  id: string;
  client: 'keep-alive' | 'new-connection';
  /** When its headers went out (Date.now(): the clock of the server's log lines too, to the millisecond). */
  sentAt: number;
  /** The server answered `100 Continue`: it has read the request, so it must answer it. */
  accepted: boolean;
  status?: number;
  connection?: string;
  error?: string;
  endedAt: number;
}

/**
 * One request sent with `Expect: 100-continue`, the body only after the server's `100 Continue`. Node writes that
 * interim response when it has read the request's headers and hands it to the app, so it marks exactly the
 * requests the server accepted; a request refused (ECONNREFUSED) or reset before it is marks one that never
 * reached the service.
 */
function predict(
  base: string,
  client: Attempt['client'],
  id: string,
  features: number[],
  agent: Agent | false,
): Promise<Attempt> {
  const body = JSON.stringify({ features });
  const attempt: Attempt = { id, client, sentAt: Date.now(), accepted: false, endedAt: 0 };
  return new Promise((resolve) => {
    const done = () => {
      attempt.endedAt = Date.now();
      resolve(attempt);
    };
    const req = request(`${base}/predict`, {
      method: 'POST',
      agent,
      headers: {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': id,
        expect: '100-continue',
      },
    });
    req.on('continue', () => {
      attempt.accepted = true;
      req.end(body);
    });
    req.on('response', (res) => {
      attempt.status = res.statusCode;
      attempt.connection = res.headers.connection;
      res.resume();
      res.on('end', done);
      res.on('error', (error: NodeJS.ErrnoException) => {
        attempt.error = error.code ?? error.message;
        done();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      attempt.error = error.code ?? error.message;
      done();
    });
    req.flushHeaders();
  });
}

/** Request ids in today's prediction log files (one per HTTP process). */
function loggedIds(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => parseLogFileName(name)?.kind === 'log')
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    .flatMap((line) => parseRecords(line)[0]?.request_id ?? []);
}

/** `time` of each log line whose message is `msg`; scans only the lines not seen before (the request log is long). */
function logWatch(server: ServerProcess) {
  return async (msg: string, count: number, timeoutMs = 10_000): Promise<number[]> => {
    const needle = `"msg":${JSON.stringify(msg)}`;
    const times: number[] = [];
    let seen = 0;
    const deadline = Date.now() + timeoutMs;
    while (times.length < count) {
      for (; seen < server.stdout.length; seen++)
        if (server.stdout[seen].includes(needle))
          times.push(Date.parse((JSON.parse(server.stdout[seen]) as { time: string }).time));
      if (times.length >= count) break;
      if (Date.now() > deadline || server.child.exitCode !== null)
        throw new Error(
          `"${msg}" logged ${times.length} of ${count} times; stderr:\n${server.stderr.join('\n')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return times;
  };
}

/**
 * SIGTERM under load, against the built service (`npm run build` first). Keep-alive clients (16, as in the issue
 * that found the defect) and clients opening a connection per request post to /predict until SIGTERM has the
 * server answer `Connection: close` (keep-alive clients stop there) or the listener has closed (the others stop at
 * their first refused or reset connection, as a client behind a load balancer would be sent elsewhere).
 *
 * What the server must do: answer every request it accepted (`100 Continue`, see `predict`) with 200 and no
 * connection error, log each of those predictions and nothing else, serve normally through SHUTDOWN_DELAY_MS with
 * /ready already 503, close every kept-alive connection by an answer rather than a reset, and exit 0 soon after
 * the delay. A request that never reached it may fail only once the listener is closing, and only as a refused or
 * reset connection: what a connection made in the instant the listener closes gets from the kernel.
 */
describe.each([
  ['one process', 1],
  ['two HTTP workers', 2],
])('SIGTERM under load, %s', (_, workers) => {
  const rows = seedTrainingRows();
  let server: ServerProcess | undefined;
  afterEach(() => {
    if (!server) return;
    const pids = [...workerPids(server).values()];
    server.kill();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    server = undefined;
  });

  it('answers and logs every accepted request, closes kept-alive connections by answers, and exits 0', async () => {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'drain-log-'));
    server = ServerProcess.start({
      HTTP_WORKERS: String(workers),
      PORT: String(port),
      MODEL_REPOSITORY: './models',
      API_KEYS: KEY,
      LOG_LEVEL: 'info',
      PREDICTION_LOG_DIR: dir,
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const running = server;
    const logged = logWatch(running);
    await logged('ready', 1, 20_000);
    expect((await onFreshConnection(`${base}/ready`)).status).toBe(200);

    const attempts: Attempt[] = [];
    let sequence = 0;
    const next = () => rows[sequence++ % rows.length];
    const keepAliveClient = async (n: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; ; i++) {
        const attempt = await predict(base, 'keep-alive', `ka-${n}-${i}`, next(), agent);
        attempts.push(attempt);
        if (attempt.error !== undefined || attempt.connection === 'close') break;
      }
      agent.destroy();
    };
    const newConnectionClient = async (n: number) => {
      for (let i = 0; ; i++) {
        const attempt = await predict(base, 'new-connection', `nc-${n}-${i}`, next(), false);
        attempts.push(attempt);
        if (attempt.error !== undefined) break;
      }
    };
    const clients = [
      ...Array.from({ length: 16 }, (_, n) => keepAliveClient(n)),
      ...Array.from({ length: 4 }, (_, n) => newConnectionClient(n)),
    ];

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sigtermAt = Date.now();
    running.child.kill('SIGTERM');
    const drainingAt = Math.max(...(await logged('SIGTERM received: draining', workers)));
    const ready = await onFreshConnection(`${base}/ready`).catch((error: NodeJS.ErrnoException) => ({
      status: error.code,
    }));
    const readyCheckedAt = Date.now();
    const stoppedAcceptingAt = Math.min(...(await logged('no longer accepting connections', workers)));
    await Promise.all(clients);
    expect(await running.exitCode(SHUTDOWN_DELAY_MS + DRAIN_BOUND_MS + 2000)).toBe(0);
    const exitedAt = Date.now();

    // Readiness turned 503 at once, while the server still took connections.
    expect(ready.status).toBe(503);
    expect(readyCheckedAt).toBeLessThan(sigtermAt + SHUTDOWN_DELAY_MS);
    // It went on accepting for the delay, and was done soon after it.
    expect(stoppedAcceptingAt - sigtermAt).toBeGreaterThanOrEqual(SHUTDOWN_DELAY_MS);
    expect(exitedAt - sigtermAt).toBeLessThan(SHUTDOWN_DELAY_MS + DRAIN_BOUND_MS);

    const accepted = attempts.filter((a) => a.accepted);
    const refused = attempts.filter((a) => !a.accepted);
    // Every accepted request was answered 200, with no connection error; some were in flight as the listener closed.
    expect(accepted.filter((a) => a.status !== 200 || a.error !== undefined)).toEqual([]);
    expect(accepted.some((a) => a.sentAt <= stoppedAcceptingAt && a.endedAt >= stoppedAcceptingAt)).toBe(
      true,
    );
    // Kept-alive connections were kept alive, and closed by an answer, never by a reset.
    const keepAlive = attempts.filter((a) => a.client === 'keep-alive');
    expect(keepAlive.filter((a) => !a.accepted)).toEqual([]);
    expect(
      keepAlive.filter((a) => a.sentAt < sigtermAt && a.connection === 'keep-alive').length,
    ).toBeGreaterThan(100);
    expect(keepAlive.filter((a) => a.connection === 'close')).toHaveLength(16);
    // Once every process was draining, every answer closed its connection.
    expect(accepted.filter((a) => a.sentAt > drainingAt && a.connection !== 'close')).toEqual([]);
    // Requests on new connections were served normally through the delay…
    expect(
      accepted.filter((a) => a.client === 'new-connection' && a.sentAt > sigtermAt + SHUTDOWN_DELAY_MS / 2)
        .length,
    ).toBeGreaterThan(0);
    // …and the only failures are of requests the server never read, refused or reset as the listener closed.
    for (const attempt of refused) {
      expect(attempt).toMatchObject({
        client: 'new-connection',
        error: expect.stringMatching(/^(ECONNREFUSED|ECONNRESET|EPIPE|socket hang up)$/),
      });
      expect(attempt.endedAt).toBeGreaterThanOrEqual(stoppedAcceptingAt);
    }
    // Every 200 is in the prediction log, and nothing else is.
    expect(loggedIds(dir).sort()).toEqual(accepted.map((a) => a.id).sort());
  });
});
