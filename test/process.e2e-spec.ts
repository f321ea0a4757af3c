import { writeFileSync, mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from './support/server-process';

/** The built service as a process: boot failures, JSON logs, graceful shutdown. Needs `npm run build` first. */
describe('the service process', () => {
  const started: ServerProcess[] = [];
  const start = (env: Record<string, string>) => {
    const server = ServerProcess.start(env);
    started.push(server);
    return server;
  };
  afterEach(() => started.splice(0).forEach((s) => s.kill()));

  it('refuses to start on a bad environment, one line per bad variable, exit 1', async () => {
    const server = start({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      NODE_ENV: 'production',
      API_KEYS: 'too-short',
    });
    expect(await server.exitCode()).toBe(1);
    const lines = server.stderr.filter((line) => line !== '');
    // Exactly one line per bad variable, nothing else (no banner, no stack, no colours).
    expect(lines).toEqual([
      expect.stringMatching(/^invalid environment: PORT="eighty": /),
      expect.stringMatching(/^invalid environment: LOG_LEVEL="loud": /),
      expect.stringMatching(/^invalid environment: API_KEYS=<redacted>: /),
    ]);
    expect(server.stdout.filter((line) => line !== '')).toEqual([]);
    expect(lines.join('\n')).not.toContain('too-short');
  });

  it('refuses to start in production without API keys', async () => {
    const server = start({ NODE_ENV: 'production', PORT: String(freePort()) });
    expect(await server.exitCode()).toBe(1);
    expect(server.stderr.join('\n')).toMatch(/API_KEYS=unset: required when NODE_ENV=production/);
  });

  // HTTP_WORKERS unset is the default, one process per core (a cluster on any machine with two); 1 is one process.
  const processModels = [
    ['by default', {}],
    ['with HTTP_WORKERS=1', { HTTP_WORKERS: '1' }],
  ] as const;

  describe.each(processModels)('%s', (_, processes) => {
    it.each([
      ['a missing file', () => '/nonexistent/model.onnx', /\/nonexistent\/model\.onnx.*ENOENT/],
      [
        'a corrupt file',
        () => {
          const path = join(mkdtempSync(join(tmpdir(), 'corrupt-')), 'broken.onnx');
          writeFileSync(path, Buffer.from('this is not a protobuf model at all'));
          return path;
        },
        /broken\.onnx/,
      ],
    ])('stops with a non-zero exit and names the file for %s', async (_, makePath, pattern) => {
      const server = start({ ...processes, MODEL_PATH: makePath(), PORT: String(freePort()) });
      const code = await server.exitCode();
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      const fatal = server.logLines.find((line) => line.level === 'fatal');
      expect(String(fatal?.msg)).toMatch(pattern);
    });

    it('logs JSON lines with request ids, keeps secrets and probes out, and drains on SIGTERM with exit 0', async () => {
      const port = freePort();
      const key = 'secret-key-0123456789abcdef';
      const server = start({
        ...processes,
        PORT: String(port),
        MODEL_REPOSITORY: './models',
        API_KEYS: key,
        NODE_ENV: 'production',
      });
      await server.waitForLog((line) => line.msg === 'ready');
      // A process that starts alone listens before it loads, so readiness can say 503 while loading (one that
      // starts while another serves loads first). Compared within that process: each gathers its lines for
      // LOG_FLUSH_MS, so the lines of different processes reach stdout in batches, not in time order.
      const first = await server.waitForLog((l) => String(l.msg).startsWith('listening'));
      await server.waitForLog((l) => l.pid === first.pid && String(l.msg).includes('loaded'));
      const own = server.logLines.filter((l) => l.pid === first.pid);
      expect(own.findIndex((l) => String(l.msg).startsWith('listening'))).toBeLessThan(
        own.findIndex((l) => String(l.msg).includes('loaded')),
      );

      const base = `http://127.0.0.1:${port}`;
      await fetch(`${base}/health`);
      await fetch(`${base}/ready`);
      const answer = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'x-request-id': 'trace-abc.123',
        },
        body: JSON.stringify({ features: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] }),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-request-id')).toBe('trace-abc.123');
      const generated = await fetch(`${base}/v1/models`, {
        headers: { 'x-api-key': key, 'x-request-id': 'bad id with spaces' },
      });
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

      const requestLine = await server.waitForLog(
        (l) => (l.req as { id?: string } | undefined)?.id === 'trace-abc.123',
      );
      expect(requestLine).toMatchObject({
        req: { method: 'POST', url: '/predict' },
        res: { statusCode: 200 },
      });
      expect(typeof requestLine.responseTime).toBe('number');
      expect(server.stdout.join('\n')).not.toContain(key);
      expect(
        server.logLines.some((l) =>
          ['/health', '/ready'].includes((l.req as { url?: string } | undefined)?.url ?? ''),
        ),
      ).toBe(false);

      // A request still uploading when SIGTERM arrives is answered, then the process exits 0.
      const inFlight = new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${base}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('{"features":[0.1,0.2,0.3,0.4,0.5,');
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => req.end('0.6,0.7,0.8,0.9,1.0]}'), 300);
        }, 100);
      });
      expect(await inFlight).toBe(200);
      expect(await server.exitCode()).toBe(0);
    });
  });
});
