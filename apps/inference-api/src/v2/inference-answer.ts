import type { InferenceAnswer } from '@app/inference';
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http-edge/send-json';
import { INFERENCE_HEADER_CONTENT_LENGTH } from './binary-tensor-data';

/**
 * Writes an inference answer, for the controller and the fast lane alike: JSON as the other routes send it, or
 * Triton's binary form with the JSON header's length in Inference-Header-Content-Length.
 */
export function sendInferenceAnswer(res: ServerResponse, answer: InferenceAnswer): void {
  if (!answer.binary) return sendJson(res, answer.body);
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    [INFERENCE_HEADER_CONTENT_LENGTH]: answer.headerLength,
    'Content-Length': answer.body.byteLength,
  });
  res.end(answer.body);
}
