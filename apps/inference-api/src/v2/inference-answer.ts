import type { InferenceAnswer } from '@app/inference';
import type { ServerResponse } from 'node:http';
import { INFERENCE_HEADER_CONTENT_LENGTH } from './binary-tensor-data';

/**
 * Writes an inference answer, for the controller and the fast lane alike: JSON as Express' `res.json` sends it (less
 * the ETag, off in this app), or Triton's binary form with the JSON header's length in Inference-Header-Content-Length.
 */
export function sendInferenceAnswer(res: ServerResponse, answer: InferenceAnswer): void {
  res.writeHead(
    200,
    answer.binary
      ? {
          'Content-Type': 'application/octet-stream',
          [INFERENCE_HEADER_CONTENT_LENGTH]: answer.headerLength,
          'Content-Length': answer.body.byteLength,
        }
      : {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(answer.body),
        },
  );
  res.end(answer.body);
}
