import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadResult, runBounded } from './load';
import { API_KEY, findOrInstall, ROOT } from './support';

/*
 * Load on the Open Inference Protocol over gRPC: ModelInfer calls sent by h2load (nghttp2's HTTP/2 load generator,
 * C, Debian's nghttp2-client), each the same prebuilt gRPC-framed ModelInferRequest. A Node gRPC client able to keep
 * 16 calls in flight would take a core of the two this machine has from the server it measures.
 *
 * h2load sees HTTP/2, not gRPC: every gRPC answer is HTTP 200, a refused call included (its status is in the
 * trailers). So the calls are counted by the server itself: grpc_requests_total from its /metrics, before and after.
 */

const METHOD = 'inference.GRPCInferenceService/ModelInfer';
const PROTO = join(ROOT, 'proto/open_inference_grpc.proto');

export interface GrpcLoadSpec {
  /** `host:port` of the service's gRPC server. */
  address: string;
  /**
   * The same service's HTTP base (`http://127.0.0.1:3000`), whose /metrics counts the calls by status. Absent for
   * the bare gRPC server, which refuses nothing: its calls are those h2load saw answered.
   */
  metricsBase?: string;
  /** HTTP/2 connections; the cluster primary hands each to the next HTTP worker, as wrk's connections. */
  connections: number;
  /** Calls in flight on each connection (HTTP/2 streams): connections × streams calls at once. */
  streamsPerConnection: number;
  durationS: number;
  /** The ModelInferRequest every call sends, as the .proto names its fields. */
  request: object;
  /** Where the body and h2load's per-request log are written. */
  scratchDir: string;
}

/** The 32 rows as a ModelInferRequest with raw contents, as Triton's gRPC client sends them: FP32, little-endian. */
export function rawModelInferRequest(model: string, inputName: string, rows: readonly number[][]): object {
  const values = rows.flat();
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return {
    model_name: model,
    inputs: [{ name: inputName, datatype: 'FP32', shape: [rows.length, rows[0].length] }],
    raw_input_contents: [bytes],
  };
}

/** The request as the bytes of one gRPC message: not compressed, its length (big-endian), the protobuf. */
function grpcFrame(request: object): { message: Buffer; frame: Buffer } {
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const service = definition['inference.GRPCInferenceService'] as unknown as Record<
    string,
    { requestSerialize(value: object): Buffer }
  >;
  const message = service.ModelInfer.requestSerialize(request);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return { message, frame: Buffer.concat([prefix, message]) };
}

/** One call with these bytes and this key before the load: a refused call would be measured as a fast one. */
async function expectOk(address: string, message: Buffer): Promise<void> {
  const identity = (value: Buffer) => value;
  const Client = makeGenericClientConstructor(
    {
      ModelInfer: {
        path: `/${METHOD}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    'ModelInfer',
  );
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${API_KEY}`);
  try {
    const error = await new Promise<ServiceError | null>((resolve) =>
      (
        client as unknown as {
          ModelInfer(m: Buffer, md: Metadata, cb: (e: ServiceError | null) => void): void;
        }
      ).ModelInfer(message, metadata, (e) => resolve(e)),
    );
    if (error) throw new Error(`${METHOD} on ${address}: ${status[error.code]} ${error.details}`);
  } finally {
    client.close();
  }
}

/** grpc_requests_total of ModelInfer, by status code name, from the service's own exposition. */
async function callsByCode(metricsBase: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${metricsBase}/metrics`)).text();
  const counts = new Map<string, number>();
  const series = new RegExp(`^grpc_requests_total\\{method="${METHOD}",code="([A-Z_]+)"\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const match = series.exec(line);
    if (match) counts.set(match[1], Number(match[2]));
  }
  return counts;
}

/**
 * Runs the load and reads its figures: calls answered OK per second (counted by the server), p50 and p99 of every
 * call (h2load's request log), and the calls that failed. Calls in flight when the duration ends are cut by h2load
 * (CANCELLED on the server): neither a success nor a failure.
 */
export async function grpcLoad(spec: GrpcLoadSpec): Promise<LoadResult> {
  const h2load = findH2load();
  const { message, frame } = grpcFrame(spec.request);
  await expectOk(spec.address, message);
  const bodyFile = join(spec.scratchDir, 'grpc-model-infer.body');
  const logFile = join(spec.scratchDir, 'grpc-h2load.log');
  writeFileSync(bodyFile, frame);
  writeFileSync(logFile, '');
  const before =
    spec.metricsBase === undefined ? new Map<string, number>() : await callsByCode(spec.metricsBase);
  const args = [
    `--clients=${spec.connections}`,
    `--max-concurrent-streams=${spec.streamsPerConnection}`,
    '--threads=1',
    `--duration=${spec.durationS}`,
    `--data=${bodyFile}`,
    '--header=content-type: application/grpc',
    '--header=te: trailers',
    `--header=authorization: Bearer ${API_KEY}`,
    `--log-file=${logFile}`,
    `http://${spec.address}/${METHOD}`,
  ];
  const { stdout, stderr, code } = await runBounded(h2load, args, (spec.durationS + 20) * 1000);
  if (code !== 0) throw new Error(`h2load ${args.join(' ')} failed (exit ${code}): ${stderr || stdout}`);
  const after = spec.metricsBase === undefined ? undefined : await callsByCode(spec.metricsBase);
  const delta = (name: string) => (after?.get(name) ?? 0) - (before.get(name) ?? 0);
  let refused = 0;
  for (const name of after?.keys() ?? []) if (name !== 'OK' && name !== 'CANCELLED') refused += delta(name);

  const durationS = Number(/finished in ([\d.]+)s/.exec(stdout)?.[1] ?? spec.durationS);
  const counts =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  if (!counts) throw new Error(`h2load printed no request counts:\n${stdout}`);
  const [, , done, succeeded, failed, errored, timeout] = counts.map(Number);
  const latencies = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    // start time (µs), HTTP status, time to the last byte (µs)
    .map((line) => Number(line.split('\t')[2]) / 1000)
    .sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  const errors = { connect: errored, read: failed, write: 0, status: refused, timeout };
  return {
    requests: done,
    durationS,
    reqPerSec: (after === undefined ? succeeded : delta('OK')) / durationS,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    errors,
    failed: Object.values(errors).reduce((a, b) => a + b, 0),
  };
}

/** h2load on PATH, or installed from Debian's nghttp2-client when running as root with apt. */
export function findH2load(): string {
  const found = findOrInstall('h2load', 'nghttp2-client');
  if (!found) {
    throw new Error('h2load is not installed and could not be installed: apt-get install -y nghttp2-client');
  }
  return found;
}
