import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LevelWithSilent, Logger } from 'pino';
import { problemOf } from '../problems/problem-record';
import { assignRequestId } from './request-id';

/** The root pino logger of the app (the one nestjs-pino's Logger writes through). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * Probes and scrapes arrive every few seconds and say nothing about traffic: no request line for them (nor for the
 * Open Inference Protocol's probes, which a cluster may point its probes at instead).
 */
export const UNLOGGED_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/ready',
  '/metrics',
  '/v2/health/live',
  '/v2/health/ready',
]);

/** Marks a request whose line is already arranged, so the lane and the Nest middleware never log it twice. */
const TRACKED = Symbol('request-log.tracked');

type TrackedRequest = IncomingMessage & { id?: unknown; [TRACKED]?: true };

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0];
  // Express matches "/health/" like "/health", so the log should too.
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Query parameters whose values are credentials when a client puts them in the URL by mistake. */
const SECRET_PARAMETER =
  /^(?:api[_-]?key|key|token|access[_-]?token|secret|password|auth|authorization|signature|sig)$/i;

/** The URL as logged: values of credential-like query parameters become `[redacted]`. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const parameters = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape is logged as sent; only a recognisable name is redacted.
      }
      return equals >= 0 && SECRET_PARAMETER.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, query)}?${parameters.join('&')}`;
}

/**
 * How much of the URL and of a problem's detail a request line keeps. The client decides how long both are (a URL up
 * to the 16 KB header limit; an unknown key of up to BODY_LIMIT, which the detail quotes): cut, a request line stays
 * under 4 KB, the size up to which a write to a pipe is atomic. HTTP workers share the primary's stdout, and longer
 * lines written by two of them at once interleave into lines that are not JSON.
 */
const LOGGED_URL_LENGTH = 512;
const LOGGED_DETAIL_LENGTH = 512;

function cut(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}… (${text.length} characters)` : text;
}

/**
 * 4xx is the client's mistake, so info; a deliberate 5xx (a model still loading, shutting down) is worth a
 * warning; only an unexpected failure is an error, and ProblemDetailsFilter has logged its stack already.
 */
function levelOf(res: ServerResponse): LevelWithSilent {
  if (res.statusCode < 500) return 'info';
  return problemOf(res)?.unexpected === false ? 'warn' : 'error';
}

/**
 * One JSON line per request, written once when its response is over: method, url, status, time and request id,
 * plus the problem's code and detail when it failed. Nothing per request but the id and one listener: no child
 * logger, no AsyncLocalStorage scope (pino-http's machinery cost more than everything else on the request path).
 * Lines logged while handling a request carry its id only where the code passes it (`request_id`).
 */
@Injectable()
export class RequestLog {
  /**
   * The root logger without its redaction (REDACTED_PATHS): a request line is built here from the request's method,
   * URL (its credentials already cut by redactUrl) and status, and never holds headers, so the redaction had
   * nothing to find, yet it cost as much as the rest of the line, which every request pays. Created once, not per request.
   */
  private readonly logger: Logger;

  constructor(@Inject(ROOT_LOGGER) root: Logger) {
    this.logger = root.child({}, { redact: { paths: [] } });
  }

  /**
   * Gives the request its id (`req.id`, echoed as X-Request-Id) and arranges its line. Idempotent: the fast
   * lane begins a request and may then hand it to the Nest pipeline, whose middleware calls this again.
   * @param startedAt when the request arrived (`performance.now()`), if it was taken earlier
   */
  begin(req: IncomingMessage, res: ServerResponse, startedAt = performance.now()): string {
    const tracked = req as TrackedRequest;
    if (tracked[TRACKED]) return typeof tracked.id === 'string' ? tracked.id : '';
    tracked[TRACKED] = true;
    const id = assignRequestId(req, res);
    tracked.id = id;
    if (this.logger.level !== 'silent' && !UNLOGGED_PATHS.has(pathOf(req.url))) {
      res.once('close', () => this.write(req, res, id, startedAt));
    }
    return id;
  }

  private write(req: IncomingMessage, res: ServerResponse, id: string, startedAt: number): void {
    const finished = res.writableFinished;
    const level = finished ? levelOf(res) : 'warn';
    if (!this.logger.isLevelEnabled(level)) return;
    const problem = problemOf(res);
    this.logger[level](
      {
        reqId: id,
        req: { id, method: req.method, url: cut(redactUrl(req.url ?? '/'), LOGGED_URL_LENGTH) },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - startedAt),
        ...(problem === undefined
          ? {}
          : { problem: { code: problem.code, detail: cut(problem.detail, LOGGED_DETAIL_LENGTH) } }),
      },
      finished ? 'request completed' : 'request aborted',
    );
  }
}

/** RequestLog for every request that reaches the Nest pipeline; the first middleware, so every answer is logged. */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  constructor(private readonly log: RequestLog) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    this.log.begin(req, res);
    next();
  }
}
