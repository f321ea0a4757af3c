import { Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from '@app/observability';

export interface HttpServerSettings {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Node checks its request timeouts on a timer (every 30 s by default): a 10 s limit must not mean 40. */
function checkingIntervalMs({ headersTimeoutMs, requestTimeoutMs }: HttpServerSettings): number {
  return Math.max(100, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
}

/** What Node's HTTP parser or its timeouts reject, before any request object exists. */
function problemOf(error: NodeJS.ErrnoException): { status: number; detail: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        detail:
          'The request line and headers are larger than the server accepts (16 KB); a model name or header is too long.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        detail:
          'The request did not arrive in time (HTTP_HEADERS_TIMEOUT_MS for the headers, HTTP_REQUEST_TIMEOUT_MS for the whole request).',
      };
    default:
      // The parser's reason ("Invalid header value char", "Invalid method") names what was wrong, and nothing else.
      return {
        status: 400,
        detail: `The request is not valid HTTP/1.1: ${error.message.replace(/^Parse Error: /, '')}.`,
      };
  }
}

/**
 * Answers what never becomes a request (a header block over Node's limit, bad chunking, a smuggling attempt, a
 * slow client timing out) with problem+json and closes the socket, instead of Node's bare status line. Nothing is
 * written on a socket whose response has started, or that is gone.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, detail } = problemOf(error);
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The server's own timeouts (Node's defaults let a client hold a socket for five minutes) and client errors. */
export function configureHttpServer(server: Server, settings: HttpServerSettings): void {
  server.headersTimeout = settings.headersTimeoutMs;
  server.requestTimeout = settings.requestTimeoutMs;
  server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  // Read by Node when the server starts listening; the server exists (created by Nest) but does not listen yet.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    checkingIntervalMs(settings);
  server.removeAllListeners('clientError');
  server.on('clientError', answerClientError);
}
