import {
  countsFileName,
  dayOf,
  defaultHost,
  logFileName,
  parseLogFileName,
  parseRecords,
  readCountSummary,
} from '@app/monitoring';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedTrainingRows } from './support/monitoring-data';
import { freePort, ServerProcess } from './support/server-process';

/**
 * The prediction log of the built service across a graceful restart and a crash. Needs `npm run build`. By
 * default there is one HTTP process per core (a cluster, each worker with a log file of its own, on a machine with
 * two cores); HTTP_WORKERS=1 is a single process with a single file.
 */
describe.each([
  ['by default', {}],
  ['with HTTP_WORKERS=1', { HTTP_WORKERS: '1' }],
] as const)('the prediction log of the service process %s', (_, processes) => {
  const rows = seedTrainingRows();
  const started: ServerProcess[] = [];
  afterEach(() => started.splice(0).forEach((s) => s.kill()));

  async function start(env: Record<string, string>) {
    const port = freePort();
    const server = ServerProcess.start({
      ...processes,
      PORT: String(port),
      MODEL_REPOSITORY: './models',
      LOG_LEVEL: 'info',
      ...env,
    });
    started.push(server);
    await server.waitForLog((line) => line.msg === 'ready');
    return { server, base: `http://127.0.0.1:${port}` };
  }

  const predict = (base: string, i: number, id: string) =>
    fetch(`${base}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ features: rows[i % rows.length] }),
    });

  /** Each of today's log files (one per HTTP process) as its text split at newlines. */
  const logFiles = (dir: string) =>
    readdirSync(dir)
      .filter((name) => {
        const file = parseLogFileName(name);
        return file?.kind === 'log' && file.day === dayOf(new Date());
      })
      .map((name) => readFileSync(join(dir, name), 'utf8').split('\n'));
  const logLines = (dir: string) => logFiles(dir).flatMap((lines) => lines.filter((line) => line !== ''));

  it('cuts the torn line a crash left at the end of today’s file before appending, and counts what was whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mon-torn-'));
    const day = dayOf(new Date());
    // The files this service's processes write: one per HTTP worker, or one for a single process.
    const hosts =
      'HTTP_WORKERS' in processes
        ? [defaultHost()]
        : Array.from({ length: availableParallelism() }, (_, i) => `${defaultHost()}-${i}`);
    const whole = JSON.stringify({
      ts: new Date().toISOString(),
      model: 'seed_gbc',
      version: '1',
      request_id: 'before-the-crash',
      rows: [{ features: rows[0], prediction: 1, probability: 0.9 }],
    });
    for (const host of hosts)
      writeFileSync(join(dir, logFileName(day, host)), `${whole}\n{"ts":"${day}T00:00:0`);

    const { server, base } = await start({ PREDICTION_LOG_DIR: dir });
    for (let i = 0; i < 20; i++) expect((await predict(base, i, `after-${i}`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exitCode()).toBe(0);

    const ids: string[] = [];
    for (const host of hosts) {
      const lines = readFileSync(join(dir, logFileName(day, host)), 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      const records = lines.map(parseRecords);
      // No torn fragment left in the middle: every line is whole again.
      expect(records.every((rowsOfLine) => rowsOfLine.length > 0)).toBe(true);
      ids.push(...records.flat().map((record) => record.request_id));
      const summary = await readCountSummary(join(dir, countsFileName(day, host)));
      expect(summary?.models[0].n).toBe(records.flat().length);
    }
    expect(ids.filter((id) => id === 'before-the-crash')).toHaveLength(hosts.length);
    expect(ids.filter((id) => id.startsWith('after-')).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `after-${i}`).sort(),
    );
  });

  it('loses nothing across a graceful restart, requests answered while draining included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mon-graceful-'));
    // A flush interval far longer than the test: only the shutdown flush can write these.
    const { server, base } = await start({ PREDICTION_LOG_DIR: dir, PREDICTION_LOG_FLUSH_MS: '60000' });
    const n = 120;
    for (let i = 0; i < n; i++) expect((await predict(base, i, `graceful-${i}`)).status).toBe(200);
    expect(logLines(dir)).toEqual([]);

    // One request is still uploading when SIGTERM arrives; it is answered during the drain.
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'graceful-draining' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const body = JSON.stringify({ features: rows[0] });
      req.write(body.slice(0, 20));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(20)), 300);
      }, 100);
    });
    expect(await inFlight).toBe(200);
    expect(await server.exitCode()).toBe(0);

    const lines = logLines(dir);
    expect(lines).toHaveLength(n + 1);
    const ids = new Set(lines.map((l) => parseRecords(l)[0]?.request_id));
    for (let i = 0; i < n; i++) expect(ids.has(`graceful-${i}`)).toBe(true);
    expect(ids.has('graceful-draining')).toBe(true);
  });

  it('after kill -9 leaves a readable log, loses at most about a second, and the next process cuts a torn line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mon-crash-'));
    const { server, base } = await start({ PREDICTION_LOG_DIR: dir, PREDICTION_LOG_FLUSH_MS: '1000' });
    const answered: Array<{ id: string; at: number }> = [];
    const until = Date.now() + 2600;
    let i = 0;
    // Four clients in parallel, so the kill lands while the log is busy.
    await Promise.all(
      [0, 1, 2, 3].map(async (client) => {
        while (Date.now() < until) {
          const id = `crash-${client}-${i++}`;
          const res = await predict(base, i, id);
          if (res.status === 200) answered.push({ id, at: Date.now() });
        }
      }),
    );
    const killedAt = Date.now();
    server.kill('SIGKILL');
    await server.exitCode();

    // Every complete line parses; what follows a file's last newline ('' or a torn line) is not a line yet.
    const lines = logFiles(dir).flatMap((file) => file.slice(0, -1));
    expect(lines.every((line) => parseRecords(line).length > 0)).toBe(true);
    const logged = new Set(lines.map((line) => parseRecords(line)[0]?.request_id));
    expect(logged.size).toBeGreaterThan(0);
    // At most the last flush interval (1 s) plus scheduling slack is lost.
    const lost = answered.filter((a) => !logged.has(a.id));
    expect(lost.every((a) => a.at > killedAt - 1500)).toBe(true);
    const sent = new Set(answered.map((a) => a.id));
    expect([...logged].every((id) => sent.has(id ?? ''))).toBe(true);

    // The next process cuts whatever torn line there is before it appends.
    const next = await start({ PREDICTION_LOG_DIR: dir, PREDICTION_LOG_FLUSH_MS: '1000' });
    expect((await predict(next.base, 0, 'after-restart')).status).toBe(200);
    next.server.child.kill('SIGTERM');
    expect(await next.server.exitCode()).toBe(0);
    const files = logFiles(dir);
    for (const file of files) expect(file.at(-1)).toBe('');
    const after = files.flatMap((file) => file.slice(0, -1));
    expect(after.every((line) => parseRecords(line).length > 0)).toBe(true);
    expect(after.map((line) => parseRecords(line)[0]?.request_id)).toContain('after-restart');
  });
});
