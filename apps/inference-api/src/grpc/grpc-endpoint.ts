import { AppConfig } from '@app/config';
import { parseByteSize } from '@app/observability';
import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { Injectable } from '@nestjs/common';
import { type GrpcOptions, Transport } from '@nestjs/microservices';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GrpcCallLog } from './grpc-call-log';
import { GrpcHealth } from './grpc-health';
import { ModelInferLane } from './model-infer-lane';
import { LOADER_OPTIONS, PROTO_PACKAGE } from './open-inference.messages';

const PROTO_FILE = join('proto', 'open_inference_grpc.proto');

/**
 * The vendored .proto (proto/ at the repository root, /app/proto in the image), found by walking up from this
 * file: from apps/…/grpc in the sources, dist/apps/…/grpc when built by tsc, and dist/ in the image's bundle.
 */
export function openInferenceProtoPath(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${PROTO_FILE} not found in ${from} or any folder above it`);
  }
}

/** `host:port` as grpc-js parses it: an IPv6 host in brackets. */
function address(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The gRPC side of the hybrid app: the options Nest's gRPC transport is connected with (bootstrap.ts), and the
 * grpc-js server it then creates, which server.ts drains on SIGTERM. On the one server: the protocol's service
 * (OpenInferenceGrpcController), the health service (GrpcHealth), and GrpcCallLog around every call.
 */
@Injectable()
export class GrpcEndpoint {
  private server?: Server;
  private definition?: PackageDefinition;

  constructor(
    private readonly config: AppConfig,
    private readonly health: GrpcHealth,
    private readonly calls: GrpcCallLog,
    private readonly lane: ModelInferLane,
  ) {}

  get enabled(): boolean {
    return this.config.get('GRPC_ENABLED');
  }

  get address(): string {
    return address(this.config.get('HOST'), this.config.get('GRPC_PORT'));
  }

  microserviceOptions(): GrpcOptions {
    return {
      transport: Transport.GRPC,
      options: {
        package: PROTO_PACKAGE,
        protoPath: openInferenceProtoPath(),
        loader: LOADER_OPTIONS,
        url: this.address,
        // What BODY_LIMIT is to a REST body; grpc-js refuses a larger message with RESOURCE_EXHAUSTED.
        maxReceiveMessageLength: parseByteSize(this.config.get('BODY_LIMIT')),
        channelOptions: { interceptors: [this.calls.interceptor] },
        // Nest's own close (app.close) then waits for calls in flight instead of cutting them.
        gracefulShutdown: true,
        // Called once the server is bound, before the protocol's service is added to it.
        onLoadPackageDefinition: (definition: PackageDefinition, server: Server) => {
          this.server = server;
          this.definition = definition;
          this.health.addTo(server);
        },
      },
    };
  }

  /** Nest's transport has added the services (startAllMicroservices): ModelInfer takes the fast lane, when it is on. */
  started(): void {
    if (this.server === undefined || this.definition === undefined || !this.lane.enabled) return;
    this.lane.install(this.server, this.definition);
  }

  /**
   * The models have loaded, or SIGTERM has come (the registry is stopping): the health service says so at once
   * rather than at its next refresh. Calls are still answered either way.
   */
  readinessChanged(): void {
    this.health.refresh();
  }

  /**
   * Stops accepting calls (clients get GOAWAY: new calls go to a new connection, elsewhere) and resolves once every
   * call in flight has been answered. Watch streams are ended first: they would never end by themselves.
   */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.health.close();
    await new Promise<void>((resolve, reject) =>
      server.tryShutdown((error) => (error ? reject(error) : resolve())),
    );
  }
}
