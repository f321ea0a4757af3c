import { connect, Socket } from 'node:net';
import { workerPids } from './support/fresh-connection';
import { freePort, ServerProcess } from './support/server-process';

/** What came back on a raw socket before the server closed it. */
interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  closedAfterMs: number;
}

function parse(text: string, closedAfterMs: number): RawAnswer {
  const [head, body = ''] = text.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head, body, closedAfterMs };
}

/** Sends `chunks` on a raw socket, `gapMs` apart, and collects everything until the server closes it. */
function rawExchange(port: number, chunks: string[], gapMs = 0): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (data: Buffer) => (text += data.toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parse(text, Date.now() - started));
    });
    let next = 0;
    const send = () => {
      if (next >= chunks.length || socket.destroyed) return;
      socket.write(chunks[next++]);
      timer = setTimeout(send, gapMs);
    };
    socket.on('connect', send);
  });
}

const problemOf = (answer: RawAnswer) => {
  expect(answer.headers).toMatch(/\r\nContent-Type: application\/problem\+json; charset=utf-8\r\n/i);
  expect(answer.headers).toMatch(/\r\nConnection: close/i);
  const problem = JSON.parse(answer.body) as { status: number; title: string; detail: string };
  expect(problem.status).toBe(answer.status);
  return problem;
};

/**
 * The built service (`npm run build` first) as one process, and as a node:cluster primary with two HTTP workers
 * sharing the port: each worker must answer at the edge as the single process does.
 */
describe.each([1, 2])(
  'the HTTP edge with HTTP_WORKERS=%i: what never becomes a request, and clients that are too slow',
  (workers) => {
    const port = freePort();
    let server: ServerProcess;
    let pids: number[] = [];

    beforeAll(async () => {
      server = ServerProcess.start({
        PORT: String(port),
        HTTP_WORKERS: String(workers),
        MODEL_REPOSITORY: './models',
        HTTP_HEADERS_TIMEOUT_MS: '600',
        HTTP_REQUEST_TIMEOUT_MS: '1200',
        PREDICTION_LOG_ENABLED: 'false',
        DRIFT_SCHEDULE_ENABLED: 'false',
      });
      await server.waitForLog((line) => line.msg === 'ready', 30_000);
      pids = [server.child.pid!, ...workerPids(server).values()];
      expect(pids).toHaveLength(workers === 1 ? 1 : workers + 1);
    }, 40_000);
    afterAll(() => {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    });

    /**
     * The same exchange on one connection per HTTP worker, all at once: the cluster's primary hands consecutive
     * connections to the workers in turn, so each worker answers one.
     */
    const onEveryWorker = (chunks: string[], gapMs = 0) =>
      Promise.all(Array.from({ length: workers }, () => rawExchange(port, chunks, gapMs)));

    it('answers a 20 KB header block with 431 problem+json', async () => {
      for (const answer of await onEveryWorker([
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ])) {
        expect(answer.status).toBe(431);
        expect(problemOf(answer).detail).toMatch(/larger than the server accepts/);
      }
    });

    it('answers a 17,000-character model name with 431 problem+json', async () => {
      for (const answer of await onEveryWorker([
        `POST /v1/models/${'m'.repeat(17_000)}:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      ])) {
        expect(answer.status).toBe(431);
        problemOf(answer);
      }
    });

    it.each([
      ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n'],
      ['bad chunking', 'POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      [
        'a smuggling attempt (Content-Length and Transfer-Encoding)',
        'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
    ])('answers %s with 400 problem+json', async (_, raw) => {
      for (const answer of await onEveryWorker([raw])) {
        expect(answer.status).toBe(400);
        expect(problemOf(answer).detail).toMatch(/^The request is not valid HTTP\/1\.1: /);
      }
    });

    it('closes a client sending its headers a byte at a time with 408, at HTTP_HEADERS_TIMEOUT_MS', async () => {
      const request = 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n';
      for (const answer of await onEveryWorker(request.split(''), 100)) {
        expect(answer.status).toBe(408);
        expect(problemOf(answer).detail).toMatch(/HTTP_HEADERS_TIMEOUT_MS/);
        // 600 ms, checked every 150 ms; far below the 5 s the body would have taken.
        expect(answer.closedAfterMs).toBeGreaterThanOrEqual(550);
        expect(answer.closedAfterMs).toBeLessThan(2500);
      }
    });

    it('closes a client trickling its body at HTTP_REQUEST_TIMEOUT_MS', async () => {
      const body = '{"features":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}';
      const head = `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      for (const answer of await onEveryWorker([head, ...body.split('')], 100)) {
        expect(answer.status).toBe(408);
        expect(problemOf(answer).detail).toMatch(/HTTP_REQUEST_TIMEOUT_MS/);
        expect(answer.closedAfterMs).toBeLessThan(3500);
      }
    });

    it('keeps /health answering within a second while 100 slow clients hold sockets, and closes them all', async () => {
      const sockets: Socket[] = [];
      const closed: Array<Promise<void>> = [];
      for (let i = 0; i < 100; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        // Read what the server sends, or the socket never sees its end.
        socket.resume();
        socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n'));
        closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
        sockets.push(socket);
      }
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
      // Every slow socket is closed by the server, not left to the client.
      await Promise.all(closed);
      expect(sockets.every((socket) => socket.destroyed)).toBe(true);
    });
  },
);
