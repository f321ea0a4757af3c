import {
  credentials,
  type Client,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { resolve } from 'node:path';

/** The vendored .proto the server serves: the client is built from the same file, as a user's would be. */
export const OPEN_INFERENCE_PROTO = resolve(__dirname, '../../proto/open_inference_grpc.proto');

/**
 * The client's own reading of the .proto, written here rather than taken from the server's code: field names as in
 * the file, int64 as numbers, defaults filled in, bytes as Buffers.
 */
const CLIENT_LOADER: Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

const inferenceDefinition = loadSync(OPEN_INFERENCE_PROTO, CLIENT_LOADER);
const healthDefinition = loadSync(healthProtoPath, CLIENT_LOADER);

function serviceConstructor(definition: object, path: string): ServiceClientConstructor {
  let node: unknown = loadPackageDefinition(definition as Parameters<typeof loadPackageDefinition>[0]);
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ServiceClientConstructor;
}

const InferenceService = serviceConstructor(inferenceDefinition, 'inference.GRPCInferenceService');
const HealthService = serviceConstructor(healthDefinition, 'grpc.health.v1.Health');

/** ModelInferRequest as bytes, for a load generator that sends prebuilt messages (bench/grpc-load.ts). */
export function serializeModelInferRequest(request: object): Buffer {
  const method = inferenceDefinition['inference.GRPCInferenceService'] as unknown as Record<
    string,
    { requestSerialize(value: object): Buffer }
  >;
  return method.ModelInfer.requestSerialize(request);
}

/** How a unary call ended: its response, or its status code and details. */
export type CallResult<T> =
  | { ok: true; response: T; metadata: Metadata }
  | { ok: false; code: status; codeName: string; details: string };

/** Metadata from plain pairs; values are sent as given. */
function metadataOf(pairs: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(pairs)) metadata.set(key, value);
  return metadata;
}

/**
 * A client of `inference.GRPCInferenceService` and `grpc.health.v1.Health` on one channel-per-service, as a team's
 * own client would be: grpc-js with the stubs proto-loader builds from the .proto.
 */
export class OpenInferenceGrpcClient {
  private readonly inference: Client;
  private readonly health: Client;

  constructor(readonly address: string) {
    this.inference = new InferenceService(address, credentials.createInsecure());
    this.health = new HealthService(address, credentials.createInsecure());
  }

  /** One unary call of the inference service, e.g. `call('ModelInfer', request, { 'x-api-key': key })`. */
  call<T = Record<string, unknown>>(
    method: string,
    request: object,
    metadata: Record<string, string> = {},
  ): Promise<CallResult<T>> {
    return this.unary<T>(this.inference, method, request, metadata);
  }

  /** The health service's Check: the status name (SERVING, NOT_SERVING), or the failed call. */
  async check(service = ''): Promise<CallResult<{ status: string }>> {
    return this.unary<{ status: string }>(this.health, 'Check', { service });
  }

  /** The health service's Watch: every status it streams, until the stream ends or `stop` is called. */
  watch(service = ''): { statuses: string[]; ended: Promise<{ code: status }>; stop(): void } {
    const stream = (
      this.health as unknown as Record<string, (request: object) => NodeJS.EventEmitter & { cancel(): void }>
    ).Watch({ service });
    const statuses: string[] = [];
    stream.on('data', (message: { status: string }) => statuses.push(message.status));
    const ended = new Promise<{ code: status }>((resolve) => {
      stream.on('status', (result: { code: status }) => resolve({ code: result.code }));
    });
    // A cancelled stream emits an error too; the status above says how it ended.
    stream.on('error', () => undefined);
    return { statuses, ended, stop: () => stream.cancel() };
  }

  close(): void {
    this.inference.close();
    this.health.close();
  }

  private unary<T>(
    client: Client,
    method: string,
    request: object,
    metadata: Record<string, string> = {},
  ): Promise<CallResult<T>> {
    const stub = (client as unknown as Record<string, UnaryStub>)[method];
    if (typeof stub !== 'function') throw new Error(`the service has no method ${method}`);
    return new Promise((resolve) => {
      let received = new Metadata();
      const call = stub.call(
        client,
        request,
        metadataOf(metadata),
        { deadline: Date.now() + 20_000 },
        (error: ServiceError | null, response?: unknown) => {
          if (error) {
            resolve({ ok: false, code: error.code, codeName: status[error.code], details: error.details });
          } else {
            resolve({ ok: true, response: response as T, metadata: received });
          }
        },
      );
      call.on('metadata', (metadata: Metadata) => {
        received = metadata;
      });
    });
  }
}

type UnaryStub = (
  request: object,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response?: unknown) => void,
) => NodeJS.EventEmitter;
