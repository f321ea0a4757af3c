import type { ProblemDocument } from './problem-details.filter';

/** The protocol's `$inference_error_response` (and its metadata twins). */
export interface OpenInferenceError {
  error: string;
}

/**
 * Whether a path belongs to the Open Inference Protocol (V2) REST API, whose clients (Triton's, KServe's,
 * MLServer's) read errors as `{"error": "..."}`. Case-insensitive, as Express routes.
 */
export function isOpenInferencePath(path: string): boolean {
  const lower = path.toLowerCase();
  return lower === '/v2' || lower.startsWith('/v2/');
}

/**
 * A problem as the protocol answers it: the detail as `error`, the status kept (401, 404, 413, 503 mean the same
 * there), but 422 becomes 400: the protocol answers every request it cannot serve with 400, and its clients know no
 * 422. The request id stays in the X-Request-Id header.
 */
export function openInferenceError(problem: ProblemDocument): { status: number; body: OpenInferenceError } {
  return { status: problem.status === 422 ? 400 : problem.status, body: { error: problem.detail } };
}
