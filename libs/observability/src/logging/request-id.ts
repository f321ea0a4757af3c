import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * What an upstream proxy's id must look like to be trusted: anything else (too long, spaces, control characters,
 * several ids joined by Node into "a, b") could forge or bloat log lines, so it is replaced.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Keeps a sane incoming `X-Request-Id` so one id follows a request through every
 * service, otherwise makes a UUID; echoes it in the response. RequestLog stores it as `req.id`.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFrom(req.headers['x-request-id']);
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** The id a request goes by: the one it came with when sane, a fresh UUID otherwise (also gRPC's `x-request-id`). */
export function requestIdFrom(incoming: unknown): string {
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
