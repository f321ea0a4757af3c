import { requestIdFrom } from '@app/observability';
import {
  Metadata,
  type ServerInterceptingCall,
  type ServerInterceptor,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Level } from 'pino';
import { GrpcMetrics } from './grpc-metrics';
import { grpcStatusName } from './grpc-status';
import { QUALIFIED_INFERENCE_SERVICE } from './open-inference.messages';

const REQUEST_ID_KEY = 'x-request-id';

/** The call's request id, as GrpcCallLog put it in the metadata the handlers get. */
export function requestIdOf(metadata: Metadata | undefined): string {
  const [id] = metadata?.get(REQUEST_ID_KEY) ?? [];
  return typeof id === 'string' ? id : '';
}

/**
 * Probes arrive every few seconds and say nothing about traffic: counted, but no log line, as the HTTP probes
 * (/health, /ready, /v2/health/*) have none.
 */
const UNLOGGED_METHODS: ReadonlySet<string> = new Set([
  'grpc.health.v1.Health/Check',
  'grpc.health.v1.Health/Watch',
  `${QUALIFIED_INFERENCE_SERVICE}/ServerLive`,
  `${QUALIFIED_INFERENCE_SERVICE}/ServerReady`,
]);

/** As RequestLog keeps a line under the 4 KB a pipe writes atomically: the client decides how long a detail is. */
const LOGGED_DETAIL_LENGTH = 512;

function cut(text: string): string {
  return text.length > LOGGED_DETAIL_LENGTH
    ? `${text.slice(0, LOGGED_DETAIL_LENGTH)}… (${text.length} characters)`
    : text;
}

/** A client's mistake is info; a deliberate refusal to serve now is a warning; a failure of the server an error. */
function levelOf(code: GrpcStatus): Extract<Level, 'info' | 'warn' | 'error'> {
  switch (code) {
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
    case GrpcStatus.DATA_LOSS:
    case GrpcStatus.UNIMPLEMENTED:
      return 'error';
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return 'warn';
    default:
      return 'info';
  }
}

/** The model a call of the inference service is about, from its request message. */
function modelOf(method: string, message: unknown): string | undefined {
  if (!method.startsWith(`${QUALIFIED_INFERENCE_SERVICE}/`) || typeof message !== 'object' || !message) {
    return undefined;
  }
  // ModelInfer names it `model_name`; ModelReady and ModelMetadata `name`.
  const { model_name: inferred, name } = message as { model_name?: unknown; name?: unknown };
  const model = method === `${QUALIFIED_INFERENCE_SERVICE}/ModelInfer` ? inferred : name;
  return typeof model === 'string' && model !== '' ? model : undefined;
}

/**
 * What RequestLog and HttpMetrics are to HTTP requests, for every gRPC call that reaches a handler, the health
 * service's included: it gives the call its request id (a sane incoming `x-request-id`, or a fresh UUID), which the
 * handlers read from the metadata and the response echoes; counts and times the call by method and status code; and
 * writes one JSON line when its status is sent: method, model, status code, duration, request id, and the detail
 * of a failure. Never a key: no metadata is logged.
 */
@Injectable()
export class GrpcCallLog {
  constructor(
    private readonly log: PinoLogger,
    private readonly metrics: GrpcMetrics,
  ) {}

  /** Given to the grpc-js server, which runs it around every call. */
  readonly interceptor: ServerInterceptor = (descriptor, call) => {
    const startedAt = performance.now();
    const method = descriptor.path.replace(/^\//, '');
    let requestId = '';
    let model: string | undefined;
    let ended = false;
    const end = (code: GrpcStatus, details: string | undefined, cancelled = false) => {
      if (ended) return;
      ended = true;
      const seconds = (performance.now() - startedAt) / 1000;
      this.metrics.observe(method, grpcStatusName(code), seconds);
      if (!UNLOGGED_METHODS.has(method))
        this.write({ method, code, details, requestId, model, seconds, cancelled });
    };
    // grpc-js answers some calls itself, beneath every interceptor: a message over the size limit
    // (RESOURCE_EXHAUSTED), bytes that are no request message (INTERNAL). It sends those statuses through the call's
    // own sendStatus, as it sends every other, so that method, not the responder's, sees them all; the stream's
    // close that follows would otherwise read as the client cancelling.
    //
    // The three methods are wrapped on the call itself rather than with a ServerInterceptingCall, whose layers of
    // listeners and responders (queues, and closures per event and per message both ways) every call paid for to
    // change three things.
    const start = call.start.bind(call);
    const sendMetadata = call.sendMetadata.bind(call);
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (status) => {
      end(status.code, status.details);
      sendStatus(status);
    };
    call.sendMetadata = (metadata) => {
      if (requestId !== '') metadata.set(REQUEST_ID_KEY, requestId);
      sendMetadata(metadata);
    };
    call.start = (listener) =>
      start({
        onReceiveMetadata: (metadata) => {
          requestId = requestIdFrom(metadata.get(REQUEST_ID_KEY)[0]);
          metadata.set(REQUEST_ID_KEY, requestId);
          listener.onReceiveMetadata(metadata);
        },
        onReceiveMessage: (message) => {
          model = modelOf(method, message);
          listener.onReceiveMessage(message);
        },
        onReceiveHalfClose: () => listener.onReceiveHalfClose(),
        onCancel: () => {
          end(GrpcStatus.CANCELLED, 'cancelled by the client', true);
          listener.onCancel();
        },
      });
    // The typings ask for a ServerInterceptingCall; grpc-js uses what an interceptor returns through the interface.
    return call as ServerInterceptingCall;
  };

  private write(call: {
    method: string;
    code: GrpcStatus;
    details: string | undefined;
    requestId: string;
    model: string | undefined;
    seconds: number;
    cancelled: boolean;
  }): void {
    const logger = this.log.logger;
    const level = levelOf(call.code);
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        reqId: call.requestId,
        grpc: { method: call.method, code: grpcStatusName(call.code), status: call.code },
        ...(call.model === undefined ? {} : { model: call.model }),
        responseTime: Math.round(call.seconds * 1000),
        ...(call.code === GrpcStatus.OK || call.details === undefined
          ? {}
          : { problem: { detail: cut(call.details) } }),
      },
      call.cancelled ? 'call cancelled' : 'call completed',
    );
  }
}
