import { Injectable } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

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
  /** Requests whose response may not have started: those `begin` must still mark. */
  private readonly unanswered = new Set<ServerResponse>();
  private draining = false;

  /**
   * Call after every other request listener is in place (the fast lane replaces Express' own): this one goes first,
   * so it sees each request before anything can answer it.
   */
  install(server: Server): void {
    this.server = server;
    const unanswered = this.unanswered;
    // A response emits 'close' once, when it is sent or its connection is gone. One listener for all responses
    // (`this` is the response): the prediction routes' hot path allocates nothing for the drain.
    function forget(this: ServerResponse): void {
      unanswered.delete(this);
    }
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) {
        res.shouldKeepAlive = false;
        return;
      }
      unanswered.add(res);
      res.on('close', forget);
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Every response not yet started, and every later one, closes its connection; the server still accepts. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    // Node writes `Connection: close` instead of keep-alive and closes the socket once the response is sent.
    for (const res of this.unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
    this.unanswered.clear();
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
    return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }
}
