import type { ServerResponse } from 'node:http';

/** What the request log line says about a failed request: the problem's code and detail, not the whole body. */
export interface ProblemRecord {
  code: string;
  detail: string;
  /** True when the failure was not a deliberate DomainError/HttpException: a bug or a broken dependency. */
  unexpected: boolean;
}

// A WeakMap rather than a property on `res.locals`: typed, and invisible to everything else.
const records = new WeakMap<ServerResponse, ProblemRecord>();

/** Called by ProblemDetailsFilter so the request log line can say why the request failed. */
export function recordProblem(res: ServerResponse, record: ProblemRecord): void {
  records.set(res, record);
}

export function problemOf(res: ServerResponse): ProblemRecord | undefined {
  return records.get(res);
}
