import { expect } from '@jest/globals';
import {
  Metadata,
  type ServerInterceptingCallInterface,
  type ServerMethodDefinition,
  type StatusObject,
  status as GrpcStatus,
} from '@grpc/grpc-js';

type SentStatus = Pick<StatusObject, 'code' | 'details'>;
/** What grpc-js's call is started with: the handler's listener, one argument per event. */
type CallListener = Parameters<ServerInterceptingCallInterface['start']>[0];
import type { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { GrpcCallLog } from './grpc-call-log';
import { GrpcMetrics } from './grpc-metrics';

const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';

/** The part of grpc-js's own call the interceptor wraps, recording what reaches it. */
class RecordingCall {
  listener?: CallListener;
  sentMetadata: Metadata[] = [];
  statuses: SentStatus[] = [];

  start(listener: CallListener): void {
    this.listener = listener;
  }

  sendMetadata(metadata: Metadata): void {
    this.sentMetadata.push(metadata);
  }

  sendStatus(status: SentStatus): void {
    this.statuses.push(status);
  }
}

/** What a handler's listener heard. */
function handlerListener() {
  const heard: { metadata: Metadata[]; messages: unknown[]; halfClosed: number; cancelled: number } = {
    metadata: [],
    messages: [],
    halfClosed: 0,
    cancelled: 0,
  };
  const listener: CallListener = {
    onReceiveMetadata: (metadata) => heard.metadata.push(metadata),
    onReceiveMessage: (message) => heard.messages.push(message),
    onReceiveHalfClose: () => heard.halfClosed++,
    onCancel: () => heard.cancelled++,
  };
  return { heard, listener };
}

function callLog() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const registry = new Registry();
  const labelNames = ['method', 'code'] as const;
  const calls = new Counter({
    name: 'grpc_requests_total',
    help: 'calls',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'grpc_request_duration_seconds',
    help: 'durations',
    labelNames,
    registers: [registry],
  });
  const log = new GrpcCallLog({ logger } as unknown as PinoLogger, new GrpcMetrics(calls, duration));
  const counted = async (method: string, code: string) => {
    const metric = await registry.getSingleMetric('grpc_requests_total')!.get();
    return metric.values.find((v) => v.labels.method === method && v.labels.code === code)?.value ?? 0;
  };
  return { log, lines, counted };
}

function intercept(log: GrpcCallLog, path = MODEL_INFER) {
  const call = new RecordingCall();
  const intercepted = log.interceptor(
    { path } as ServerMethodDefinition<unknown, unknown>,
    call as unknown as ServerInterceptingCallInterface,
  );
  return { call, intercepted };
}

/** A call of `path` through a fresh call log, started by a handler whose listener records what it hears. */
function startedCall(path = MODEL_INFER) {
  const logged = callLog();
  const { call, intercepted } = intercept(logged.log, path);
  const { heard, listener } = handlerListener();
  intercepted.start(listener);
  return { ...logged, call, intercepted, heard };
}

describe('GrpcCallLog', () => {
  it('gives a call a fresh request id, hands it to the handler, echoes it, and logs one line at its status', async () => {
    const { lines, counted, call, intercepted, heard } = startedCall();

    call.listener!.onReceiveMetadata(new Metadata());
    call.listener!.onReceiveMessage({ model_name: 'seed_gbc' });
    call.listener!.onReceiveHalfClose();
    const [metadata] = heard.metadata;
    const [requestId] = metadata.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(heard.messages).toEqual([{ model_name: 'seed_gbc' }]);
    expect(heard.halfClosed).toBe(1);

    intercepted.sendMetadata(new Metadata());
    expect(call.sentMetadata[0].get('x-request-id')).toEqual([requestId]);
    intercepted.sendStatus({ code: GrpcStatus.OK, details: 'OK' });
    expect(call.statuses).toEqual([{ code: GrpcStatus.OK, details: 'OK' }]);

    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'call completed',
        reqId: requestId,
        model: 'seed_gbc',
        grpc: { method: 'inference.GRPCInferenceService/ModelInfer', code: 'OK', status: 0 },
      }),
    ]);
    expect(await counted('inference.GRPCInferenceService/ModelInfer', 'OK')).toBe(1);
  });

  it("keeps the client's own sane request id, and logs a refusal's detail", async () => {
    const { lines, counted, call, intercepted, heard } = startedCall();
    const incoming = new Metadata();
    incoming.set('x-request-id', 'client-chosen-id');
    call.listener!.onReceiveMetadata(incoming);
    expect(heard.metadata[0].get('x-request-id')).toEqual(['client-chosen-id']);

    intercepted.sendStatus({ code: GrpcStatus.INVALID_ARGUMENT, details: 'input "x" is unknown' });
    expect(lines).toEqual([
      expect.objectContaining({
        reqId: 'client-chosen-id',
        grpc: expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
        problem: { detail: 'input "x" is unknown' },
      }),
    ]);
    expect(await counted('inference.GRPCInferenceService/ModelInfer', 'INVALID_ARGUMENT')).toBe(1);
  });

  it('logs a cancelled call once, as cancelled, and the handler hears of it', async () => {
    const { lines, counted, call, intercepted, heard } = startedCall();
    call.listener!.onReceiveMetadata(new Metadata());
    call.listener!.onCancel();
    expect(heard.cancelled).toBe(1);
    // A status the handler still sends after the client left counts nothing more.
    intercepted.sendStatus({ code: GrpcStatus.OK, details: 'OK' });

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'call cancelled', level: 40, grpc: { code: 'CANCELLED' } });
    expect(await counted('inference.GRPCInferenceService/ModelInfer', 'CANCELLED')).toBe(1);
    expect(await counted('inference.GRPCInferenceService/ModelInfer', 'OK')).toBe(0);
  });

  it('counts the probes without a line, as the HTTP probes have none', async () => {
    const { lines, counted, call, intercepted } = startedCall('/grpc.health.v1.Health/Check');
    call.listener!.onReceiveMetadata(new Metadata());
    intercepted.sendStatus({ code: GrpcStatus.OK, details: 'OK' });
    expect(lines).toEqual([]);
    expect(await counted('grpc.health.v1.Health/Check', 'OK')).toBe(1);
  });
});
