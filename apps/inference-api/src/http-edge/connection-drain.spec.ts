import express from 'express';
import { once } from 'node:events';
import { Agent, createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { ConnectionDrain } from './connection-drain';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/**
 * The server as the app builds it: Express behind a lane of its own that answers `/raw` with `writeHead`, the way
 * the prediction fast lane does. `/slow` and `/raw?slow` wait until `release()`, so a request can be in flight.
 */
function appServer() {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const app = express();
  app.get('/express', (_req, res) => {
    res.json({ from: 'express' });
  });
  app.get('/slow', (_req, res) => {
    void released.then(() => res.json({ from: 'express', slow: true }));
  });
  const server = createServer(app);
  server.keepAliveTimeout = 60_000;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith('/raw')) return void app(req, res);
    const answer = () => {
      const body = JSON.stringify({ from: 'lane' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url === '/raw?slow') void released.then(answer);
    else answer();
  });
  const drain = new ConnectionDrain();
  drain.install(server);
  return { server, drain, release };
}

function get(port: number, path: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ConnectionDrain', () => {
  let server: Server;
  let drain: ConnectionDrain;
  let release: () => void;
  let port: number;
  let agent: Agent;

  beforeEach(async () => {
    ({ server, drain, release } = appServer());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => {
    release();
    agent.destroy();
    server.closeAllConnections();
    server.close();
  });

  it('keeps connections alive until it begins, then closes them after each answer, the lane’s and Express’', async () => {
    expect(await get(port, '/raw', agent)).toMatchObject({ status: 200, connection: 'keep-alive' });
    expect(await get(port, '/express', agent)).toMatchObject({ status: 200, connection: 'keep-alive' });
    // Two requests in flight on connections of their own when the drain begins: their answers close them too.
    const laneInFlight = get(port, '/raw?slow', new Agent({ keepAlive: true }));
    const expressInFlight = get(port, '/slow', new Agent({ keepAlive: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));

    drain.begin();
    expect(drain.isDraining).toBe(true);
    const kept = Object.values(agent.freeSockets).flat()[0]!;
    const keptClosed = once(kept, 'close');
    expect(await get(port, '/raw', agent)).toMatchObject({ status: 200, connection: 'close' });
    await keptClosed;
    expect(await get(port, '/express', agent)).toMatchObject({ status: 200, connection: 'close' });
    release();
    expect(await laneInFlight).toMatchObject({ status: 200, connection: 'close', body: '{"from":"lane"}' });
    expect(await expressInFlight).toMatchObject({ status: 200, connection: 'close' });
    // Still accepting: the listener closes only in close().
    expect(server.listening).toBe(true);
  });

  it('on close stops accepting, closes idle connections, and resolves once the requests in flight are answered', async () => {
    await get(port, '/raw', agent);
    const idle = Object.values(agent.freeSockets).flat()[0]!;
    const idleClosed = once(idle, 'close');
    // Kept alive by its client: only the drain's `Connection: close` ends its connection after the answer.
    const inFlight = get(port, '/slow', new Agent({ keepAlive: true }));
    // A connection accepted just before the listener closes, whose request has not arrived yet: not idle.
    const early = connect(port, '127.0.0.1');
    await once(server, 'connection');
    await new Promise((resolve) => setTimeout(resolve, 50));

    let closed = false;
    const closing = drain.close().then(() => (closed = true));
    await idleClosed;
    await expect(get(port, '/raw', false)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    let earlyAnswer = '';
    early.setEncoding('utf8');
    early.on('data', (chunk: string) => (earlyAnswer += chunk));
    early.write('GET /raw HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await once(early, 'end');
    expect(earlyAnswer).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\{"from":"lane"\}$/);

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    expect(await inFlight).toMatchObject({ status: 200, connection: 'close' });
    await closing;
    expect(server.listening).toBe(false);
  });

  it('closes a connection that never sent a byte once the headers timeout has passed', async () => {
    server.headersTimeout = 300;
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    await once(server, 'connection');
    const started = Date.now();
    const silentClosed = once(silent, 'close');
    await drain.close();
    await silentClosed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('resolves at once when the server never listened', async () => {
    const idle = new ConnectionDrain();
    idle.install(createServer());
    await expect(idle.close()).resolves.toBeUndefined();
  });
});
