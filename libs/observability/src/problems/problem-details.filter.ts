import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { DomainError, FieldProblem } from './domain-error';
import { RequestLog } from '../logging/request-log';
import { HttpMetrics } from '../metrics/http-metrics.middleware';
import { isOpenInferencePath, openInferenceError } from './open-inference-error';
import { recordProblem } from './problem-record';

/** Where a DomainError's `type` points; the code is the last segment. */
export const PROBLEM_TYPE_BASE = 'https://ml-inference.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 body this service answers every failure with. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  request_id?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

interface Problem {
  document: ProblemDocument;
  headers: Readonly<Record<string, string>>;
  code: string;
  unexpected: boolean;
}

const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'request_id', 'errors']);
/** Nest's own members of an HttpException response, which the problem's standard members replace. */
function isNestMember(key: string, value: unknown): boolean {
  // `error` is Nest's status phrase when a string; Terminus uses it for the failed indicators, which are kept.
  return key === 'statusCode' || key === 'message' || (key === 'error' && typeof value === 'string');
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** `message` of an HttpException response is a string or, for Nest's default ValidationPipe, a list. */
function detailOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message) && message.every((item) => typeof item === 'string')) return message.join('; ');
  return exception.message;
}

/**
 * Members of an HttpException's response object other than Nest's own become problem extension members,
 * e.g. Terminus' `info`/`error`/`details` on a 503 from /ready. A string member `status` (Terminus' "error")
 * cannot stay: `status` is the number.
 */
function extensionsOf(exception: HttpException): Record<string, unknown> {
  const response = exception.getResponse();
  if (typeof response !== 'object' || response === null) return {};
  return Object.fromEntries(
    Object.entries(response).filter(([key, value]) => !isNestMember(key, value) && !RESERVED.has(key)),
  );
}

function toProblem(exception: unknown, instance: string, requestId: string | undefined): Problem {
  const base = { instance, ...(requestId === undefined ? {} : { request_id: requestId }) };
  if (exception instanceof DomainError) {
    return {
      document: {
        type: `${PROBLEM_TYPE_BASE}${exception.code}`,
        title: exception.title,
        status: exception.status,
        detail: exception.detail,
        ...base,
        ...(exception.errors === undefined ? {} : { errors: exception.errors }),
      },
      headers: exception.headers,
      code: exception.code,
      unexpected: false,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    // A plain HTTP error means no more than its status code: RFC 9457's `about:blank`, titled with the phrase.
    return {
      document: {
        ...extensionsOf(exception),
        type: 'about:blank',
        title: statusText(status),
        status,
        detail: detailOf(exception),
        ...base,
      },
      headers: {},
      code: `http-${status}`,
      unexpected: false,
    };
  }
  return {
    document: {
      type: 'about:blank',
      title: statusText(500),
      status: 500,
      // Nothing of the error itself: its message may carry paths, SQL or tokens. The id finds it in the log.
      detail: 'The server failed to handle the request. Quote the request id when reporting it.',
      ...base,
    },
    headers: {},
    code: 'internal-error',
    unexpected: true,
  };
}

/**
 * Answers a failed request with its problem document: what ProblemDetailsFilter does for the Nest pipeline, and
 * the fast lane for a prediction that fails after the lane took it. Unexpected errors are logged with their stack.
 */
export function answerWithProblem(
  exception: unknown,
  req: IncomingMessage & { id?: unknown },
  res: ServerResponse,
  logger: Pick<Logger, 'error'>,
): void {
  // RequestLog (LoggingModule) sets it; without LoggingModule the problem simply has no request_id.
  const requestId = typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : undefined;
  const path = pathOf(req);
  const problem = toProblem(exception, path, requestId);

  if (problem.unexpected) {
    logger.error({ err: exception, request_id: requestId }, 'unhandled error');
  }
  recordProblem(res, {
    code: problem.code,
    detail: problem.document.detail,
    unexpected: problem.unexpected,
  });

  if (res.headersSent) {
    // Part of a response is out already: a problem body cannot follow it, so end the broken response.
    res.destroy();
    return;
  }
  // One failure, two representations: the Open Inference Protocol's routes answer in its own error form.
  const answer = isOpenInferencePath(path)
    ? { ...openInferenceError(problem.document), contentType: 'application/json' }
    : { status: problem.document.status, body: problem.document, contentType: PROBLEM_CONTENT_TYPE };
  const body = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', `${answer.contentType}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The request's path without its query, as Express' `req.path` gives it. */
function pathOf(req: IncomingMessage): string {
  const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/**
 * Answers every failure with `application/problem+json` (RFC 9457). DomainErrors get a `type` URI naming
 * their code; other HttpExceptions (unknown route, guards, Nest's built-ins) get `about:blank`; anything
 * else is a 500 whose cause goes to the log at error level, with its stack, and never to the client.
 * Under `/v2` the same problem is answered in the Open Inference Protocol's `{"error": "..."}` form instead.
 * Expected failures are not logged here: the request log line carries their status, code and detail.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  constructor(
    @Optional() private readonly requestLog?: RequestLog,
    @Optional() private readonly httpMetrics?: HttpMetrics,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    // A request can fail before the middleware saw it (Express decoding a route parameter such as `%zz`): it still
    // gets its id, its request line and its count. Both calls do nothing for a request already begun.
    this.requestLog?.begin(req, res);
    this.httpMetrics?.begin(req, res);
    answerWithProblem(exception, req, res, this.logger);
  }
}
