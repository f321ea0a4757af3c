import {
  BinCounter,
  buildDriftReport,
  countLogDays,
  dayOf,
  defaultHost,
  DriftInputs,
  listLogFiles,
  logFileName,
  parseRecords,
  parseReferenceProfile,
} from '@app/monitoring';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  answeringPids,
  onFreshConnection,
  predictOnFreshConnection,
  workerPids,
} from './support/fresh-connection';
import { sampleRows, seedTrainingRows, shiftFeatures } from './support/monitoring-data';
import { freePort, ServerProcess } from './support/server-process';

const REFERENCE_PATH = resolve(__dirname, '../models/seed_gbc/1/reference.json');

/**
 * The built service with HTTP_WORKERS=2: a node:cluster primary and two HTTP workers on one port. Needs
 * `npx nest build inference-api` first. Every request here opens a connection of its own, so the primary hands
 * them to the workers in turn.
 */
describe('the service as a cluster of HTTP workers', () => {
  const rows = seedTrainingRows();
  const started: ServerProcess[] = [];
  /** Workers a test froze with SIGSTOP: they cannot notice their primary's death, so they are killed here. */
  const frozen: number[] = [];
  afterEach(() => {
    for (const pid of frozen.splice(0)) killQuietly(pid, 'SIGKILL');
    for (const server of started.splice(0)) {
      const workers = [...workerPids(server).values()];
      server.kill();
      for (const pid of workers) killQuietly(pid, 'SIGKILL');
    }
  });

  function start(env: Record<string, string>) {
    const port = freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cluster-log-'));
    const server = ServerProcess.start({
      PORT: String(port),
      MODEL_REPOSITORY: './models',
      LOG_LEVEL: 'info',
      HTTP_WORKERS: '2',
      PREDICTION_LOG_DIR: dir,
      ...env,
    });
    started.push(server);
    return { server, base: `http://127.0.0.1:${port}`, dir };
  }

  async function startReady(env: Record<string, string> = {}) {
    const running = start(env);
    await running.server.waitForLog((line) => line.context === 'HttpPrimary' && line.msg === 'ready');
    return running;
  }

  /** Waits until every id has its request log line, then gives the pids that answered them. */
  async function answeredBy(server: ServerProcess, ids: string[]): Promise<Set<number>> {
    for (const id of ids)
      await server.waitForLog((line) => (line.req as { id?: string } | undefined)?.id === id);
    return answeringPids(server, ids);
  }

  const readiness = async (base: string) => {
    const answer = await onFreshConnection(`${base}/ready`);
    const { details } = JSON.parse(answer.body) as { details: Record<string, Record<string, unknown>> };
    return { status: answer.status, details };
  };

  const sample = (exposition: string, series: string) => {
    const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('serves from two worker processes on one port, ready only once both have loaded their models', async () => {
    const { server, base } = start({});
    // Freeze worker 1 before it even listens: worker 0 gets every connection and loads its models alone.
    const late = await server.waitForLog(
      (l) => l.context === 'HttpPrimary' && l.msg === 'HTTP worker 1 started',
    );
    const latePid = late.workerPid as number;
    process.kill(latePid, 'SIGSTOP');
    frozen.push(latePid);
    await server.waitForLog((l) => l.msg === 'HTTP worker 0 ready');

    const waiting = await readiness(base);
    expect(waiting.status).toBe(503);
    expect(waiting.details.models).toMatchObject({ status: 'up', phase: 'ready' });
    expect(waiting.details.workers).toEqual({ status: 'down', ready: 1, expected: 2, worker: 0 });
    expect((await onFreshConnection(`${base}/health`)).status).toBe(200);
    expect(server.logLines.some((l) => l.context === 'HttpPrimary' && l.msg === 'ready')).toBe(false);

    process.kill(latePid, 'SIGCONT');
    frozen.splice(frozen.indexOf(latePid), 1);
    await server.waitForLog((l) => l.context === 'HttpPrimary' && l.msg === 'ready');
    // The primary has told both workers; each answers 200 as soon as the message is in.
    const readyWorkers = new Set<number>();
    const deadline = Date.now() + 5000;
    while (readyWorkers.size < 2 && Date.now() < deadline) {
      const answer = await readiness(base);
      if (answer.status === 200) {
        expect(answer.details.workers).toMatchObject({ status: 'up', ready: 2, expected: 2 });
        readyWorkers.add(answer.details.workers.worker as number);
      }
    }
    expect([...readyWorkers].sort()).toEqual([0, 1]);

    const ids = Array.from({ length: 6 }, (_, i) => `spread-${i}`);
    for (const [i, id] of ids.entries())
      expect((await predictOnFreshConnection(base, rows[i], id)).status).toBe(200);
    const pids = workerPids(server);
    expect(new Set(pids.values()).size).toBe(2);
    expect(await answeredBy(server, ids)).toEqual(new Set(pids.values()));
    expect(pids.get(1)).toBe(latePid);
  });

  it('replaces a worker killed with -9: the restart is logged and counted, and the service keeps answering', async () => {
    const { server, base, dir } = await startReady({ PREDICTION_LOG_FLUSH_MS: '100' });
    const before = workerPids(server);
    const workerLog = join(dir, logFileName(dayOf(new Date()), `${defaultHost()}-1`));

    // Traffic until worker 1's log file holds some lines.
    for (let i = 0; !existsSync(workerLog) || readFileSync(workerLog, 'utf8') === ''; i++) {
      expect((await predictOnFreshConnection(base, rows[i % rows.length], `before-${i}`)).status).toBe(200);
      if (i > 200) throw new Error(`${workerLog} was never written`);
    }

    process.kill(before.get(1)!, 'SIGKILL');
    const crash = await server.waitForLog((l) => /^HTTP worker 1 exited unexpectedly/.test(String(l.msg)));
    // What a kill -9 in the middle of an append leaves; the replacement must cut it before it appends.
    appendFileSync(workerLog, '{"ts":"2026-11-24T10:00:0');
    expect(crash).toMatchObject({
      level: 'error',
      pid: server.child.pid,
      worker: 1,
      workerPid: before.get(1),
      signal: 'SIGKILL',
      delayMs: 100,
      service: 'ml-inference',
    });
    expect(typeof crash.time).toBe('string');
    expect(typeof crash.version).toBe('string');

    // While worker 1 is replaced, worker 0 answers every request, and the group is not ready.
    let answered = 0;
    let notReady = 0;
    const isBack = (l: Record<string, unknown>) => l.msg === 'all 2 HTTP workers ready again';
    for (let i = 0; !server.logLines.some(isBack); i++) {
      expect((await predictOnFreshConnection(base, rows[i % rows.length], `during-${i}`)).status).toBe(200);
      answered++;
      if ((await readiness(base)).status === 503) notReady++;
      if (i > 2000) throw new Error('worker 1 did not come back');
    }
    expect(answered).toBeGreaterThan(0);
    expect(notReady).toBeGreaterThan(0);

    const after = workerPids(server);
    expect(after.get(0)).toBe(before.get(0));
    expect(after.get(1)).not.toBe(before.get(1));
    expect(server.logLines.find((l) => l.msg === 'HTTP worker 1 restarted')?.workerPid).toBe(after.get(1));

    const exposition = (await onFreshConnection(`${base}/metrics`)).body;
    expect(sample(exposition, 'http_worker_restarts_total')).toBe(1);

    // The replacement takes over the slot's prediction log: the torn line is gone, its own lines follow.
    const ids = Array.from({ length: 6 }, (_, i) => `after-${i}`);
    for (const [i, id] of ids.entries())
      expect((await predictOnFreshConnection(base, rows[i], id)).status).toBe(200);
    await answeredBy(server, ids);
    const byReplacement = ids.filter((id) => answeringPids(server, [id]).has(after.get(1)!));
    expect(byReplacement.length).toBeGreaterThan(0);
    server.child.kill('SIGTERM');
    expect(await server.exitCode()).toBe(0);
    const lines = readFileSync(workerLog, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.every((line) => parseRecords(line).length > 0)).toBe(true);
    const logged = new Set(lines.map((line) => parseRecords(line)[0]?.request_id));
    // The predecessor's lines are still there, before the replacement's.
    expect([...logged].some((id) => id?.startsWith('before-'))).toBe(true);
    for (const id of byReplacement) expect(logged.has(id)).toBe(true);
  });

  it('drains every worker on SIGTERM: requests in flight are answered and logged, then the primary exits 0', async () => {
    // Only the shutdown flush can write these: the interval is far longer than the test.
    const { server, base, dir } = await startReady({ PREDICTION_LOG_FLUSH_MS: '60000' });
    const ids = Array.from({ length: 20 }, (_, i) => `drain-${i}`);
    for (const [i, id] of ids.entries())
      expect((await predictOnFreshConnection(base, rows[i], id)).status).toBe(200);

    // Two uploads on two new connections, one per worker, still sending when SIGTERM reaches the primary.
    const inFlight = ['in-flight-a', 'in-flight-b'].map((id) => {
      const body = JSON.stringify({ features: rows[0] });
      const req = httpRequest(`${base}/predict`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'x-request-id': id },
      });
      req.write(body.slice(0, 20));
      return {
        id,
        finish: () => req.end(body.slice(20)),
        status: new Promise<number>((resolve, reject) => {
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
        }),
      };
    });
    // Both uploads have reached a worker (its request line is logged only when it finishes).
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l.msg === 'SIGTERM received: stopping 2 HTTP workers');
    await new Promise((r) => setTimeout(r, 300));
    for (const upload of inFlight) upload.finish();
    expect(await Promise.all(inFlight.map((upload) => upload.status))).toEqual([200, 200]);
    expect(await server.exitCode()).toBe(0);

    const pids = new Set(workerPids(server).values());
    const draining = server.logLines.filter((l) => l.msg === 'SIGTERM received: draining');
    expect(new Set(draining.map((l) => l.pid))).toEqual(pids);
    expect(server.logLines.filter((l) => /^HTTP worker \d stopped$/.test(String(l.msg)))).toHaveLength(2);
    expect(server.logLines.at(-1)).toMatchObject({ context: 'HttpPrimary', msg: 'all HTTP workers stopped' });

    // One log file per worker; together they hold every answered prediction, in-flight ones included.
    const logs = (await listLogFiles(dir)).filter((f) => f.kind === 'log');
    expect(logs.map((f) => f.host).sort()).toEqual([`${defaultHost()}-0`, `${defaultHost()}-1`]);
    const byFile = logs.map((f) =>
      readFileSync(join(dir, f.name), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => parseRecords(l)[0]?.request_id),
    );
    for (const ids of byFile) expect(ids.length).toBeGreaterThan(0);
    expect(byFile.flat().sort()).toEqual([...ids, 'in-flight-a', 'in-flight-b'].sort());
    // Each worker drained an upload of its own.
    expect(byFile.map((ids) => ids.filter((id) => id?.startsWith('in-flight')).length)).toEqual([1, 1]);
  });

  it('shows the whole group in /metrics, whichever worker is scraped, in a form promtool accepts', async () => {
    const { server, base } = await startReady();
    const ids = Array.from({ length: 12 }, (_, i) => `metrics-${i}`);
    for (const [i, id] of ids.entries())
      expect((await predictOnFreshConnection(base, rows[i], id)).status).toBe(200);
    expect((await answeredBy(server, ids)).size).toBe(2);

    // Consecutive connections go to alternate workers: both serve scrapes, and both see the same totals.
    for (let scrape = 0; scrape < 4; scrape++) {
      const answer = await onFreshConnection(`${base}/metrics`);
      expect(answer.status).toBe(200);
      const text = answer.body;
      expect(sample(text, 'http_requests_total{method="POST",route="/predict",status="200"}')).toBe(12);
      const predictions = text
        .split('\n')
        .filter((l) => l.startsWith('model_predictions_total{'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      expect(predictions).toBe(12);
      // A gauge is not summed into nonsense: loaded in both workers is 1.
      expect(sample(text, 'model_loaded{model="seed_gbc",version="1"}')).toBe(1);
      expect(sample(text, 'http_worker_restarts_total')).toBe(0);
      expect(text.match(/^# TYPE http_requests_total /gm)).toHaveLength(1);
      expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
    }
  });

  it('gives the drift check the same counts and PSI from two workers’ log files as from one process', async () => {
    const traffic = shiftFeatures(sampleRows(rows, 240, 11), [3], 1, rows);
    const cluster = await startReady({ PREDICTION_LOG_FLUSH_MS: '60000' });
    const single = await (async () => {
      const running = start({ HTTP_WORKERS: '1', PREDICTION_LOG_FLUSH_MS: '60000' });
      await running.server.waitForLog((l) => l.msg === 'ready');
      return running;
    })();
    for (const [i, row] of traffic.entries()) {
      expect((await predictOnFreshConnection(cluster.base, row, `row-${i}`)).status).toBe(200);
      expect((await predictOnFreshConnection(single.base, row, `row-${i}`)).status).toBe(200);
    }
    for (const { server } of [cluster, single]) {
      server.child.kill('SIGTERM');
      expect(await server.exitCode()).toBe(0);
    }

    const profile = parseReferenceProfile(readFileSync(REFERENCE_PATH, 'utf8'), REFERENCE_PATH);
    const counter = new BinCounter(profile);
    const today = dayOf(new Date());
    const count = (dir: string) => countLogDays(dir, 'seed_gbc', '1', counter, [today]);
    const merged = await count(cluster.dir);
    const alone = await count(single.dir);
    expect(merged.sources).toEqual({ summaries: 2, tails: 0, raw_files: 0 });
    expect(alone.sources).toEqual({ summaries: 1, tails: 0, raw_files: 0 });
    expect(merged.counts.n).toBe(traffic.length);
    expect(merged.counts).toEqual(alone.counts);

    const inputs: DriftInputs = {
      model: 'seed_gbc',
      version: '1',
      window: { from: today, to: today, days: [today] },
      reference: { kind: 'reference.json' },
      thresholds: { warn: 0.1, alert: 0.2, min_samples: 10 },
      sources: merged.sources,
      generatedAt: new Date(),
      sampleRate: 1,
      durationMs: 0,
    };
    const report = (counts: typeof merged.counts) => buildDriftReport(profile, counts, inputs);
    expect(report(merged.counts).features).toEqual(report(alone.counts).features);
    expect(report(merged.counts).prediction).toEqual(report(alone.counts).prediction);
    expect(report(merged.counts).drifted_features).toContain('f3');
  });
});

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
