import { binaryTensorDataOf } from '../http-edge/binary-tensor-body';
import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { IncomingMessage } from 'node:http';
import { InferenceRequest, InferenceResponse } from './open-inference.dto';

/** The header of Triton's binary tensor data extension, as Triton writes it on a response. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

/**
 * The binary tensor data after the request's JSON header (the body guard cut it off): undefined for a plain JSON
 * body, possibly empty when the request sent Inference-Header-Content-Length.
 */
export const BinaryTensorData = createParamDecorator(
  (_: unknown, context: ExecutionContext): Buffer | undefined =>
    binaryTensorDataOf(context.switchToHttp().getRequest<IncomingMessage>()),
);

const BINARY_REQUEST = [
  "With Triton's binary tensor data extension (what tritonclient.http sends by default), the body is the JSON",
  'inference request, whose length in bytes `Inference-Header-Content-Length` gives, followed by the raw bytes of',
  'every input that has `parameters.binary_data_size` instead of `data`, in input order: little-endian, row-major,',
  'each input exactly shape × datatype bytes (an FP32 [32, 10] input is 1280). Content-Type',
  'application/octet-stream, or none. BODY_LIMIT covers the whole body.',
].join(' ');

const BINARY_RESPONSE = [
  'When the request sets `parameters.binary_data_output: true` (every output) or `parameters.binary_data: true` on',
  'an output (which wins over the request-wide setting), those outputs come back as binary tensor data: the body is',
  'the JSON response, in which they have `parameters.binary_data_size` and no `data`, followed by their raw bytes in',
  'output order; `Inference-Header-Content-Length` gives the JSON length and Content-Type is',
  'application/octet-stream. Otherwise the response is JSON.',
].join(' ');

/** The request and response forms of an infer route in the OpenAPI document: JSON, or Triton's binary form. */
export function BinaryTensorRequestDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(InferenceResponse),
    ApiConsumes('application/json', 'application/octet-stream'),
    ApiBody({ type: InferenceRequest, description: `The inference request as JSON. ${BINARY_REQUEST}` }),
    ApiHeader({
      name: INFERENCE_HEADER_CONTENT_LENGTH,
      required: false,
      description:
        'Bytes of JSON at the start of a body that carries binary tensor data after it (Triton binary tensor data extension).',
      schema: { type: 'integer', minimum: 1 },
    }),
    ApiOkResponse({
      description: `The outputs. ${BINARY_RESPONSE}`,
      headers: {
        [INFERENCE_HEADER_CONTENT_LENGTH]: {
          description: 'Bytes of JSON at the start of a binary response; absent from a JSON response.',
          schema: { type: 'integer' },
        },
      },
      content: {
        'application/json': { schema: { $ref: getSchemaPath(InferenceResponse) } },
        'application/octet-stream': {
          schema: {
            type: 'string',
            format: 'binary',
            description:
              'The JSON response (outputs with parameters.binary_data_size), then the raw output tensors.',
          },
        },
      },
    }),
  );
}
