import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { DestinationStream, LevelWithSilent, SerializedRequest, SerializedResponse } from 'pino';
import type { Options } from 'pino-http';
import pretty from 'pino-pretty';
import { problemOf } from '../problems/problem-record';
import { assignRequestId } from './request-id';

export interface LoggingSettings {
  level: LevelWithSilent;
  pretty: boolean;
  service: string;
  version: string;
}

/** Probes and scrapes arrive every few seconds and say nothing about traffic: no request line for them. */
export const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/**
 * Header paths censored wherever someone logs a request or its headers by hand. The request serializer
 * below already logs no headers at all; this is the second line of defence.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'headers["set-cookie"]',
];

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0];
  // Express matches "/health/" like "/health", so the log should too.
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * 4xx is the client's mistake, so info; a deliberate 5xx (a model still loading, shutting down) is worth a
 * warning; only an unexpected failure is an error, and ProblemDetailsFilter has logged its stack already.
 */
function levelOf(_req: IncomingMessage, res: ServerResponse, error?: Error): LevelWithSilent {
  const problem = problemOf(res);
  if (error !== undefined || res.statusCode >= 500) return problem?.unexpected === false ? 'warn' : 'error';
  return 'info';
}

/** The request line names the problem (code and detail) so one line says why a request failed. */
function withProblem(res: ServerResponse, value: Record<string, unknown>): Record<string, unknown> {
  const problem = problemOf(res);
  if (problem === undefined) return value;
  // The filter described (and, if unexpected, logged) the failure: pino-http's synthetic
  // "failed with status code 500" error and its stack would only repeat it.
  const line: Record<string, unknown> = { ...value, problem: { code: problem.code, detail: problem.detail } };
  delete line.err;
  return line;
}

/** pino-http options: lean JSON request lines with a request id, service and version on every line. */
export function pinoHttpOptions(settings: LoggingSettings): Options {
  return {
    level: settings.level,
    base: { service: settings.service, version: settings.version, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    genReqId: assignRequestId,
    // Logs made while handling a request carry `reqId` only; the request line itself has method, url, status.
    quietReqLogger: true,
    serializers: {
      req: (req: SerializedRequest) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: SerializedResponse) => ({ statusCode: res.statusCode }),
    },
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has(pathOf(req.url)) },
    customLogLevel: levelOf,
    customSuccessObject: (_req, res, value: Record<string, unknown>) => withProblem(res, value),
    customErrorObject: (_req, res, _error, value: Record<string, unknown>) => withProblem(res, value),
  };
}

/**
 * stdout, synchronously so the last lines before a crash or `process.exit` are not lost; pino-pretty in the same
 * thread for a terminal (a worker-thread transport would be faster, but pretty output is for laptops only).
 */
export function stdoutDestination(settings: Pick<LoggingSettings, 'pretty'>): DestinationStream {
  if (settings.pretty) {
    return pretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,service,version',
      sync: true,
    });
  }
  return pino.destination({ dest: 1, sync: true });
}
