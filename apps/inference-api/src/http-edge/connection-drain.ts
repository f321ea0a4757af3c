import { Injectable } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Node's response for the request a connection is serving (`socket._httpMessage`, stable since Node 0.x). */
type ServingSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Takes the app's HTTP server down without dropping a request. From `begin` on, every response — the fast lane's
 * and Express' alike — carries `Connection: close`, so a kept-alive client learns from an answer, not from a reset,
 * that it must reconnect (to another replica, once the endpoints have caught up). `close` then stops accepting
 * connections, closes the idle ones, and resolves once every request in flight has been answered and its
 * connection closed.
 */
@Injectable()
export class ConnectionDrain {
  private server?: Server;
  /** Open connections: at `begin`, the response each is preparing must still be marked. */
  private readonly sockets = new Set<ServingSocket>();
  private draining = false;

  /**
   * Tracks connections, not requests: a kept-alive connection carries thousands of requests, and the prediction
   * routes' hot path then pays nothing for the drain.
   */
  install(server: Server): void {
    this.server = server;
    const sockets = this.sockets;
    function forget(this: ServingSocket): void {
      sockets.delete(this);
    }
    server.on('connection', (socket: ServingSocket) => {
      sockets.add(socket);
      socket.once('close', forget);
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Every response not yet started, and every later one, closes its connection; the server still accepts. */
  begin(): void {
    if (this.draining || this.server === undefined) return;
    this.draining = true;
    // Node writes `Connection: close` instead of keep-alive and closes the socket once the response is sent. Goes
    // first among the request listeners, before the fast lane or Express can answer.
    this.server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.shouldKeepAlive = false;
    });
    for (const socket of this.sockets) {
      const res = socket._httpMessage;
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
  }

  /**
   * Stops accepting connections and closes idle ones (Node's `server.close` does both; a connection whose request
   * is still arriving is not idle); resolves once the last connection has closed.
   */
  close(): Promise<void> {
    this.begin();
    const server = this.server;
    // Not listening: SIGTERM while a replacement worker loads its models, before it listens.
    if (!server?.listening) return Promise.resolve();
    const closed = new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
    // A connection that never sent a byte is not idle to Node, and a closed server no longer times out its headers:
    // one a load balancer opened ahead of use would hold the drain until SHUTDOWN_TIMEOUT_MS. It gets the headers
    // timeout it would have had, then is closed; a request that was on its way still arrives and is answered.
    const silent = setTimeout(() => {
      for (const socket of this.sockets) if (socket.bytesRead === 0) socket.destroy();
    }, server.headersTimeout);
    silent.unref();
    return closed.finally(() => clearTimeout(silent));
  }
}
