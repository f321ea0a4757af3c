import { request } from 'node:http';
import type { ServerProcess } from './server-process';

export interface Answer {
  status: number;
  body: string;
}

/**
 * One HTTP request on a connection of its own (no keep-alive agent). The cluster primary hands each new
 * connection to the next HTTP worker in turn, so consecutive calls reach the workers alternately, where `fetch`
 * would reuse one pooled connection and one worker.
 */
export function onFreshConnection(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function predictOnFreshConnection(
  base: string,
  features: number[],
  requestId: string,
): Promise<Answer> {
  return onFreshConnection(`${base}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ features }),
  });
}

/** The pid of each HTTP worker slot, as the primary last logged it (a restart replaces it). */
export function workerPids(server: ServerProcess): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of server.logLines)
    if (line.context === 'HttpPrimary' && /^HTTP worker \d+ (started|restarted)$/.test(String(line.msg)))
      pids.set(line.worker as number, line.workerPid as number);
  return pids;
}

/** The pid of the process that answered each request id, from the request log lines. */
export function answeringPids(server: ServerProcess, requestIds: readonly string[]): Set<number> {
  const wanted = new Set(requestIds);
  const pids = new Set<number>();
  for (const line of server.logLines) {
    const id = (line.req as { id?: string } | undefined)?.id;
    if (id !== undefined && wanted.has(id)) pids.add(line.pid as number);
  }
  return pids;
}
