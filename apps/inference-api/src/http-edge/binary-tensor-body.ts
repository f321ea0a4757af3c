import { SetMetadata } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '@app/observability';
import { UnsupportedMediaTypeError } from './body-errors';

/*
 * Triton's binary tensor data extension: a body that is a JSON inference header followed by raw tensor bytes, the
 * header's length in `Inference-Header-Content-Length`. Only routes that opt in (AcceptsBinaryTensorData) read a
 * body this way; on every other route that header means nothing and the body must be JSON.
 */

/** The request header that gives the JSON header's length in bytes; Node lower-cases header names. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/** The metadata key AcceptsBinaryTensorData sets, for the body guard's Reflector. */
export const BINARY_TENSOR_DATA_METADATA = 'http-edge:accepts-binary-tensor-data';

/** The route reads a body that carries binary tensor data after its JSON header, when the request says so. */
export const AcceptsBinaryTensorData = (): MethodDecorator & ClassDecorator =>
  SetMetadata(BINARY_TENSOR_DATA_METADATA, true);

/** The bytes after a request's JSON header, kept on the request for the route to read. */
const BINARY_TENSOR_DATA = Symbol('binary-tensor-body.data');

type BinaryCarrier = IncomingMessage & { [BINARY_TENSOR_DATA]?: Buffer };

/**
 * The binary tensor data that followed the request's JSON header: undefined when the request sent no
 * `Inference-Header-Content-Length` (a plain JSON body), possibly empty when it did.
 */
export function binaryTensorDataOf(req: IncomingMessage): Buffer | undefined {
  return (req as BinaryCarrier)[BINARY_TENSOR_DATA];
}

/** A body in the binary form that cannot be cut into its JSON header and its tensor data. */
export class MalformedBinaryBodyError extends DomainError {
  constructor(detail: string) {
    super({ code: 'malformed-binary-body', status: 400, title: 'Malformed binary tensor body', detail });
  }
}

const HEADER_NAME = 'Inference-Header-Content-Length';

/**
 * The JSON header's length the request announces, or undefined when it announces none. Whole decimal bytes only:
 * `12abc`, `-1` or `1e3` would otherwise be read as some other number by a lenient parse.
 */
export function inferenceHeaderLength(req: IncomingMessage): number | undefined {
  const value = req.headers[INFERENCE_HEADER_CONTENT_LENGTH];
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value.join(',') : value).trim();
  if (!/^\d{1,15}$/.test(text)) {
    throw new MalformedBinaryBodyError(
      `${HEADER_NAME} must be the length of the JSON inference header in bytes, a whole number; got ${JSON.stringify(text)}.`,
    );
  }
  const length = Number(text);
  if (length === 0) {
    // Triton's "raw binary request": a body of one input's bytes, its shape guessed from their count. Not served:
    // the model's input is [rows, features], and guessing rows from a byte count hides a client's mistakes.
    throw new MalformedBinaryBodyError(
      `${HEADER_NAME} is 0 (a raw binary request without a JSON header), which this server does not take; send the JSON inference header first and give its length.`,
    );
  }
  return length;
}

/** Media types a binary body may come as: Triton's own, none (tritonclient sends none), or a JSON type. */
const BINARY_MEDIA_TYPE = /^(?:application\/octet-stream|application\/(?:[a-z0-9!#$&^_.-]+\+)?json)?$/;

/** What a body in the binary form must be before any of it is read: uncompressed, and not some other format. */
export function checkBinaryRepresentation(req: IncomingMessage): void {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding "${encoding}" is not supported; send the body uncompressed.`,
    );
  }
  const header = req.headers['content-type'];
  const mediaType = (header ?? '').split(';')[0].trim().toLowerCase();
  if (!BINARY_MEDIA_TYPE.test(mediaType)) {
    throw new UnsupportedMediaTypeError(
      `A body with ${HEADER_NAME} is a JSON header followed by binary tensor data, sent as Content-Type: application/octet-stream (or without one); got "${header}".`,
    );
  }
}

/**
 * Cuts a body into its JSON header (the first `headerLength` bytes) and the binary tensor data after it, which
 * `binaryTensorDataOf` then gives the route. Views, not copies.
 */
export function splitBinaryBody(req: IncomingMessage, raw: Buffer, headerLength: number): Buffer {
  if (headerLength > raw.length) {
    throw new MalformedBinaryBodyError(
      `${HEADER_NAME} is ${headerLength} but the body has only ${raw.length} bytes; it must give the length of the JSON header at the start of the body.`,
    );
  }
  (req as BinaryCarrier)[BINARY_TENSOR_DATA] = raw.subarray(headerLength);
  return raw.subarray(0, headerLength);
}

/** A failure to read the JSON header, said as such: a miscounted header length is the usual cause. */
export function inHeader(error: DomainError, headerLength: number): DomainError {
  return new DomainError({
    code: error.code,
    status: error.status,
    title: error.title,
    detail: `${error.detail} (in the JSON inference header, the first ${headerLength} bytes of the body as ${HEADER_NAME} says)`,
    ...(error.errors === undefined ? {} : { errors: error.errors }),
  });
}
