import type { ServerResponse } from 'node:http';

/**
 * A 200 with JSON text, as Express' `res.json` sends it less the ETag (the app turns ETags off: predictions are not
 * cacheable): for the handlers that write their own response and the fast lane, so both send the same bytes.
 */
export function sendJson(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
