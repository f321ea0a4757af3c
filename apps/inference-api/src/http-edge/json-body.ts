import { AppConfig } from '@app/config';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import {
  MalformedJsonError,
  PayloadTooLargeError,
  RequestAbortedError,
  UnsupportedMediaTypeError,
} from './body-errors';
import {
  BINARY_TENSOR_DATA_METADATA,
  checkBinaryRepresentation,
  inferenceHeaderLength,
  inHeader,
  splitBinaryBody,
} from './binary-tensor-body';
import { parseByteSize, DomainError } from '@app/observability';
import { parseJsonBody, passesBodyScan } from './parse-json';

/** Methods whose body this service reads; a body on any other method is ignored, as Express does. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** `application/json` and structured-syntax JSON types such as `application/merge-patch+json`. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/** A body the fast lane has read already, handed over with its request. */
const READ_BODY = Symbol('json-body.read');

type BodyCarrier = IncomingMessage & { [READ_BODY]?: Buffer };

/**
 * Hands the bytes of a body someone has already read (the fast lane, which then passes the request on) to this
 * middleware, which parses and checks them as if it had read them itself.
 */
export function handOverBody(req: IncomingMessage, raw: Buffer): void {
  (req as BodyCarrier)[READ_BODY] = raw;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(raw: Buffer): string {
  try {
    return decoder.decode(raw);
  } catch {
    throw new MalformedJsonError('the body is not valid UTF-8');
  }
}

/** What a route that takes binary tensor data adds to its 415: a binary body without its header is the usual slip. */
const BINARY_BODY_HINT =
  ' Binary tensor data (Triton binary tensor data extension) needs Inference-Header-Content-Length, the length of the JSON header before it.';

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Rejects what this parser cannot read before reading anything.
 * @param hint appended to the 415 for a body that is not JSON (what else the route would take)
 */
export function checkRepresentation(req: IncomingMessage, hint = ''): void {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding "${encoding}" is not supported; send the body uncompressed.`,
    );
  }
  const header = req.headers['content-type'];
  const [mediaType, ...parameters] = (header ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    const got = header === undefined ? 'no Content-Type' : `"${header}"`;
    throw new UnsupportedMediaTypeError(
      `The body must be JSON sent as Content-Type: application/json; got ${got}.${hint}`,
    );
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length);
  if (charset !== undefined && !['utf-8', 'utf8', '"utf-8"'].includes(charset)) {
    throw new UnsupportedMediaTypeError(`JSON bodies must be UTF-8; got charset=${charset}.`);
  }
}

/**
 * Reads the body with body-parser's own reader (raw-body), stopping at `limit` bytes: a client cannot make the process
 * buffer more than that. Its errors become the app's: 413 over the limit, 400 for a body cut short.
 */
async function readBody(req: Request, limit: number, limitText: string): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit });
  } catch (error) {
    // What is left of an oversized body keeps flowing and is discarded, so the connection can be reused.
    req.resume();
    throw (error as { type?: unknown }).type === 'entity.too.large'
      ? new PayloadTooLargeError(limitText)
      : new RequestAbortedError();
  }
}

/**
 * The app's JSON body parser in place of Express' (the app is created with `bodyParser: false`): body-parser's
 * reader, and JSON.parse with the checks below, so that every failure is a DomainError answered as problem+json by
 * ProblemDetailsFilter (or the protocol's error form under /v2): 413 over BODY_LIMIT, 415 for a body that is not
 * UTF-8 JSON, 400 for malformed JSON (with its position) or a body cut short, 422 for non-finite numbers (each named
 * with its path), nesting past JSON_MAX_DEPTH and prototype keys. It reads after authentication (JsonBodyGuard),
 * takes the bytes the fast lane has read already, and cuts Triton's binary tensor data from its JSON header.
 * `read` sets `req.body`; a request without a body keeps `req.body` undefined.
 */
@Injectable()
export class JsonBody {
  private readonly limit: number;
  private readonly limitText: string;
  private readonly maxDepth: number;

  constructor(config: AppConfig) {
    this.limitText = config.get('BODY_LIMIT');
    this.limit = parseByteSize(this.limitText);
    this.maxDepth = config.get('JSON_MAX_DEPTH');
  }

  /** BODY_LIMIT in bytes. */
  get limitBytes(): number {
    return this.limit;
  }

  /**
   * The body's bytes as JSON, or the DomainError the client gets: 400 for bad UTF-8 or syntax, 422 for NaN & co.
   * and for nesting past JSON_MAX_DEPTH.
   */
  decode(raw: Buffer): unknown {
    return parseJsonBody(utf8(raw), this.maxDepth);
  }

  /**
   * The fast lane's parse: the text and `JSON.parse` alone (it throws at bad UTF-8 or syntax, not a DomainError).
   * `decode` then scans the whole value for non-finite numbers, nesting and prototype keys; a caller whose own checks
   * cannot rule those out runs `passesScan` before trusting the value (the lane's row checks rule them out for rows
   * of numbers, and the scan cost a 32-row request 5 % of its CPU).
   */
  parseUnscanned(raw: Buffer): { text: string; value: unknown } {
    const text = utf8(raw);
    return { text, value: JSON.parse(text) as unknown };
  }

  /** True when `decode` would accept this parsed value as it is. */
  passesScan(value: unknown): boolean {
    return passesBodyScan(value, this.maxDepth);
  }

  /**
   * Sets `req.body` from the request's JSON body. With `binaryTensorData` (a route that takes Triton's binary tensor
   * data extension) and an `Inference-Header-Content-Length` header, the body is that many bytes of JSON, which
   * become `req.body`, followed by binary tensor data, which `binaryTensorDataOf(req)` gives; the same limit covers
   * both.
   */
  async read(req: Request, { binaryTensorData = false }: { binaryTensorData?: boolean } = {}): Promise<void> {
    if (!BODY_METHODS.has(req.method) || !hasBody(req)) return;
    const handedOver = (req as BodyCarrier)[READ_BODY];
    // `readableEnded`: someone else (a body parser left on) has consumed the stream; waiting would hang.
    if (handedOver === undefined && req.readableEnded) return;
    const headerLength = binaryTensorData ? inferenceHeaderLength(req) : undefined;
    if (headerLength === undefined) checkRepresentation(req, binaryTensorData ? BINARY_BODY_HINT : '');
    else checkBinaryRepresentation(req);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limit) throw new PayloadTooLargeError(this.limitText);

    const raw = handedOver ?? (await readBody(req, this.limit, this.limitText));
    if (headerLength === undefined) {
      if (raw.length > 0) req.body = this.decode(raw);
      return;
    }
    const header = splitBinaryBody(req, raw, headerLength);
    try {
      req.body = this.decode(header);
    } catch (error) {
      throw error instanceof DomainError ? inHeader(error, headerLength) : error;
    }
  }
}

/**
 * Reads the body once a request has been routed and authenticated, before the pipes need it: a caller without a
 * valid key is refused from its headers (401) and never makes the server read or parse up to BODY_LIMIT, and
 * requests no handler takes (404) are never read. A guard rather than an interceptor because an interceptor puts
 * every request of the Nest pipeline through RxJS (≈ 70 µs here); register it as an APP_GUARD right after the
 * authentication guard, which Nest runs first.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  constructor(
    private readonly body: JsonBody,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const binaryTensorData =
      this.reflector.get<boolean | undefined>(BINARY_TENSOR_DATA_METADATA, context.getHandler()) === true;
    await this.body.read(context.switchToHttp().getRequest<Request>(), { binaryTensorData });
    return true;
  }
}
